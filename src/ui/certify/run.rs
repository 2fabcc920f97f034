//! The certify widget's run: one report per config, the latest wins.
//! A CPU run is split over the worker pool (`worker::certify_run`): the
//! heat-map pixels, the requested points and the test points, each range
//! in a worker. MLP runs go there even with WebGPU on: the MLP trains and
//! its true radius is searched on the CPU, which must not block the page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::experiments::Backend;
use crate::experiments::certify::{Certify, CertifyConfig, CertifyReport, Model};
use crate::experiments::registry::{Experiment, RunError};
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault, run_here};

/// A report, the config it ran (bounded on the CPU) and where.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shown {
    pub(super) report: CertifyReport,
    pub(super) cfg: CertifyConfig,
    pub(super) backend: Backend,
    /// The GPU was asked for but the MLP sent the run to the CPU.
    pub(super) mlp_on_cpu: bool,
}

async fn compute(cfg: CertifyConfig, backend: Backend) -> Result<Shown, RunError> {
    let mlp_on_cpu = backend == Backend::Gpu && cfg.model == Model::Mlp;
    let asked = if mlp_on_cpu { Backend::Cpu } else { backend };
    let (report, cfg, backend) = if asked == Backend::Gpu && gpu_compute().is_some() {
        run_here::<Certify>(&cfg, asked).await?
    } else {
        let cfg = Certify::page_cpu_config(&cfg);
        let report = crate::ui::worker::certify_run(&cfg).await?;
        (report, cfg, Backend::Cpu)
    };
    Ok(Shown {
        report,
        cfg,
        backend,
        mlp_on_cpu,
    })
}

/// The report shown and whether a newer run is in flight.
pub(super) fn certify_runs(
    ctx: BackendCtx,
    cfg: Memo<CertifyConfig>,
    backend: Memo<Backend>,
) -> (RwSignal<Option<Shown>>, RwSignal<bool>) {
    let shown = RwSignal::new(None::<Shown>);
    let pending = RwSignal::new(false);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let c = cfg.get();
        let b = backend.get();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        pending.set(true);
        spawn_local(async move {
            let r = compute(c, b).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            pending.set(false);
            match r {
                Ok(s) => {
                    record_computed(s.backend);
                    shown.set(Some(s));
                }
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });
    (shown, pending)
}
