//! Where the saliency widget computes. The MLP always trains in the compute
//! worker (a CPU run of the config); with WebGPU the page then computes the
//! Monte Carlo fields of that network on the GPU, without training again.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::experiments::Backend;
use crate::experiments::registry::{Experiment, RunError};
use crate::experiments::saliency::{
    self, PAGE_CPU_STEPS, Saliency, SaliencyConfig, SaliencyReport,
};
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault};

/// The report shown and where it was computed.
pub(super) type Shown = Option<(SaliencyReport, Backend)>;

async fn compute(
    cfg: SaliencyConfig,
    backend: Backend,
) -> Result<(SaliencyReport, Backend), RunError> {
    let page = SaliencyConfig {
        panels: true,
        steps: cfg.steps.min(PAGE_CPU_STEPS),
        ..cfg
    };
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        // Train in the worker: a CPU run of the smallest field returns the network.
        let trained = crate::ui::worker::run::<Saliency>(&SaliencyConfig {
            panels: false,
            grid: 2,
            samples: 1,
            ..page.clone()
        })
        .await?;
        let r = saliency::report(&page, trained.net, trained.train_accuracy, &on).await?;
        return Ok((r, Backend::Gpu));
    }
    let c = Saliency::page_cpu_config(&page);
    Ok((crate::ui::worker::run::<Saliency>(&c).await?, Backend::Cpu))
}

/// Runs every config change (latest wins): the report shown and the backend of a run in flight.
pub(super) fn runs(
    ctx: BackendCtx,
    cfg: Memo<SaliencyConfig>,
    backend: Memo<Backend>,
) -> (RwSignal<Shown>, RwSignal<Option<Backend>>) {
    let report = RwSignal::new(None::<(SaliencyReport, Backend)>);
    let pending = RwSignal::new(None::<Backend>);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let c = cfg.get();
        let b = backend.get();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        pending.set(Some(b));
        spawn_local(async move {
            let r = compute(c, b).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            pending.set(None);
            match r {
                Ok(v) => {
                    record_computed(v.1);
                    report.set(Some(v));
                }
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });
    (report, pending)
}
