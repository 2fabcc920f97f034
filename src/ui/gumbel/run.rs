//! The Gumbel-Softmax widget's run state: the annealing clock with its live
//! samples, the estimates at the current τ, the bias–variance sweep and the
//! mini optimisation.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::experiments::Backend;
use crate::experiments::gumbel::{
    self, Estimates, Gumbel, GumbelConfig, LiveSampler, Optimisation, SweepPoint,
};
use crate::experiments::registry::RunError;
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault, run_here};

/// Samples per temperature of the bias–variance sweep.
const SWEEP_GPU: u32 = 1 << 20;
pub(crate) const SWEEP_CPU: u32 = 1 << 15;
/// Live samples drawn per tick, and ticks per second.
const LIVE_PER_TICK: u32 = 30;
const TICK_MS: u64 = 80;

/// Estimates shown at the current τ, and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shown {
    pub(super) estimates: Estimates,
    pub(super) backend: Backend,
    pub(super) samples: u32,
    pub(super) tau: f64,
    pub(super) batch: u32,
    pub(super) objective: gumbel::Objective,
}

/// The sweep's points, the samples per τ, and the backend it ran on.
pub(super) type Swept = Option<(Vec<SweepPoint>, u32, Backend)>;

async fn estimate(cfg: GumbelConfig, backend: Backend) -> Result<Shown, RunError> {
    let (estimates, cfg, backend) = run_here::<Gumbel>(&cfg, backend).await?;
    Ok(Shown {
        estimates,
        backend,
        samples: cfg.samples,
        tau: cfg.tau,
        batch: cfg.batch,
        objective: cfg.objective,
    })
}

async fn sweep(cfg: GumbelConfig, backend: Backend) -> Result<(Vec<SweepPoint>, u32), RunError> {
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        return Ok((gumbel::sweep(&cfg, SWEEP_GPU, &on).await?, SWEEP_GPU));
    }
    Ok((
        crate::ui::worker::gumbel_sweep(&cfg, SWEEP_CPU).await,
        SWEEP_CPU,
    ))
}

/// Live samples at τ(t), drawn on the annealing clock; the clock advances
/// `tick` while annealing.
pub(super) fn live_samples(
    cfg: Memo<GumbelConfig>,
    playing: RwSignal<bool>,
    tick: RwSignal<u32>,
    tau_now: Memo<f64>,
    needed: bool,
) -> RwSignal<LiveSampler> {
    let live = RwSignal::new(LiveSampler::default());
    let logits_key = Memo::new(move |_| cfg.with(|c| (c.logits.clone(), c.seed)));
    Effect::new(move |_| {
        let k = logits_key.with(|(l, _)| l.len());
        live.update(|l| l.reset(k));
    });
    Effect::new(move |prev: Option<f64>| {
        let t = tau_now.get();
        if prev.is_some_and(|p| p != t) {
            live.update(LiveSampler::reset_soft);
        }
        t
    });
    crate::ui::animation_clock(playing, TICK_MS, move || {
        let c = cfg.get_untracked();
        if c.anneal > 0.0 {
            tick.update(|t| *t = t.saturating_add(1));
        }
        // (A figure embed without the sample panels only anneals τ.)
        if needed {
            let tau = tau_now.get_untracked();
            live.update(|l| l.advance(&c, tau, LIVE_PER_TICK));
        }
    });
    live
}

/// Runs the pending estimate unless one is in flight; after each run, the next pending one.
fn pump(
    ctx: BackendCtx,
    busy: StoredValue<bool>,
    pending: StoredValue<Option<(GumbelConfig, Backend)>>,
    shown: RwSignal<Option<Shown>>,
) {
    // (Also reached after an await: the widget may be gone by then.)
    if busy.try_get_value() != Some(false) {
        return;
    }
    let Some(Some((cfg, backend))) = pending.try_get_value() else {
        return;
    };
    pending.set_value(None);
    busy.set_value(true);
    spawn_local(async move {
        match estimate(cfg, backend).await {
            Ok(s) => {
                record_computed(s.backend);
                shown.set(Some(s));
            }
            Err(e) => report_gpu_fault(ctx, &e),
        }
        busy.set_value(false);
        pump(ctx, busy, pending, shown);
    });
}

/// Estimates at the current τ: one run in flight, the latest request wins.
pub(super) fn estimates(
    ctx: BackendCtx,
    cfg: Memo<GumbelConfig>,
    tau_now: Memo<f64>,
    backend: Memo<Backend>,
    needed: bool,
) -> RwSignal<Option<Shown>> {
    let shown = RwSignal::new(None::<Shown>);
    if !needed {
        return shown;
    }
    let busy = StoredValue::new(false);
    let pending = StoredValue::new(None::<(GumbelConfig, Backend)>);
    Effect::new(move |_| {
        let c = GumbelConfig {
            tau: tau_now.get(),
            ..cfg.get()
        };
        pending.set_value(Some((c, backend.get())));
        pump(ctx, busy, pending, shown);
    });
    shown
}

/// Bias–variance sweep: independent of τ and of the annealing (not of
/// `batch`, the RLOO batch); the latest config wins.
pub(super) fn bias_variance_sweep(
    ctx: BackendCtx,
    cfg: Memo<GumbelConfig>,
    backend: Memo<Backend>,
    needed: bool,
) -> RwSignal<Swept> {
    // (The fields it ignores take their defaults, so the key is a valid config.)
    let sweep_key = Memo::new(move |_| {
        let d = GumbelConfig::default();
        cfg.with(|c| GumbelConfig {
            tau: d.tau,
            anneal: d.anneal,
            lr: d.lr,
            steps: d.steps,
            samples: d.samples,
            ..c.clone()
        })
    });
    let swept = RwSignal::new(None::<(Vec<SweepPoint>, u32, Backend)>);
    if !needed {
        return swept;
    }
    let sweep_gen = StoredValue::new(0u64);
    Effect::new(move |_| {
        let c = sweep_key.get();
        let b = backend.get();
        let this = sweep_gen.get_value() + 1;
        sweep_gen.set_value(this);
        spawn_local(async move {
            let r = sweep(c, b).await;
            if sweep_gen.try_get_value() != Some(this) {
                return;
            }
            match r {
                Ok((points, n)) => swept.set(Some((points, n, b))),
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });
    swept
}

/// Mini optimisation (CPU: steps × batch samples per estimator), in the compute
/// worker; a newer config replaces the pending one.
pub(super) fn optimisation(cfg: Memo<GumbelConfig>, needed: bool) -> LocalResource<Optimisation> {
    LocalResource::new(move || {
        let c = cfg.get();
        async move {
            if !needed {
                // A figure embed without this panel: never computed.
                return std::future::pending().await;
            }
            crate::ui::worker::gumbel_optimise(&c).await
        }
    })
}
