//! The clipping widget's run state: run 0's trajectories replayed frame by
//! frame, and the Monte Carlo over many runs (latest config wins).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::experiments::Backend;
use crate::experiments::clipping::{Clipping, ClippingConfig, ClippingReport, Method};
use crate::experiments::registry::{Experiment, RunError};
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault};

/// Steps of the drawn trajectories at most.
const PATH_STEPS: u32 = 1000;
const FRAME_MS: u64 = 40;

/// Run 0 of every estimator: its points, step by step.
pub(super) type Paths = Vec<(Method, Vec<[f32; 2]>)>;

/// The Monte Carlo's latest report and the backend it ran on.
pub(super) type Shown = Option<(ClippingReport, Backend)>;

async fn monte_carlo(
    cfg: ClippingConfig,
    backend: Backend,
) -> Result<(ClippingReport, Backend), RunError> {
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        return Ok((Clipping::run(&cfg, &on).await?, Backend::Gpu));
    }
    let runs = Clipping::page_cpu_config(&cfg).runs;
    Ok((
        crate::ui::worker::clipping_monte_carlo(&cfg, runs).await,
        Backend::Cpu,
    ))
}

/// Trajectories of run 0 (computed in the compute worker), revealed step by
/// step: the paths, the frame shown, and whether the replay plays.
pub(super) fn replay(
    cfg: Memo<ClippingConfig>,
    needed: bool,
) -> (Memo<Paths>, RwSignal<usize>, RwSignal<bool>) {
    let computed = LocalResource::new(move || {
        let c = ClippingConfig {
            steps: cfg.with(|c| c.steps.min(PATH_STEPS)),
            ..cfg.get()
        };
        async move {
            if !needed {
                // A figure embed without the trajectories: never computed.
                return std::future::pending().await;
            }
            crate::ui::worker::clipping_paths(&c).await
        }
    });
    let paths = Memo::new(move |_| computed.get().unwrap_or_default());
    let frame = RwSignal::new(0usize);
    let playing = RwSignal::new(true);
    Effect::new(move |_| {
        paths.track();
        frame.set(0);
    });
    crate::ui::animation_clock(playing, FRAME_MS, move || {
        let len = paths.with_untracked(|p| p.first().map_or(0, |(_, v)| v.len()));
        let stride = (len / 150).max(1);
        if frame.get_untracked() < len {
            frame.update(|f| *f = (*f + stride).min(len));
        }
    });
    (paths, frame, playing)
}

/// Monte Carlo: latest config wins. The report shown, and the backend of a
/// run in flight.
pub(super) fn monte_carlo_runs(
    ctx: BackendCtx,
    cfg: Memo<ClippingConfig>,
    backend: Memo<Backend>,
    needed: bool,
) -> (RwSignal<Shown>, RwSignal<Option<Backend>>) {
    let report = RwSignal::new(None::<(ClippingReport, Backend)>);
    let pending = RwSignal::new(None::<Backend>);
    if !needed {
        return (report, pending);
    }
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let c = cfg.get();
        let b = backend.get();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        pending.set(Some(b));
        spawn_local(async move {
            let r = monte_carlo(c, b).await;
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
