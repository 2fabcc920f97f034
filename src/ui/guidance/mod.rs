//! The guidance widget: DDIM, DDPM and PCG samples at one w over the tilted
//! target p(x|c)^w p(x)^(1−w), their distance to it against w, their moments
//! against its, and what condition annealing (CADS) would need.

mod plots;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, record_computed, report_gpu_fault, run_here, use_active_backend};
use super::controls::{self, SetField};
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::Backend;
use crate::experiments::config::Param;
use crate::experiments::guidance::{Guidance, GuidanceConfig, GuidanceData, GuidanceReport};
use crate::experiments::guidance::{GuidedSampler, ScheduleKind, WSchedule};
use crate::experiments::papers;
use crate::experiments::registry::RunError;
use plots::{CadsPanel, DistancePanel, MomentsPanel, SamplesPanel};

/// Samples drawn per cloud, and the contour grid's resolution.
const CLOUD_POINTS: u32 = 700;
const GRID: u32 = 48;
/// The guidance weights of the distance sweep, and its particles per point.
pub(super) const SWEEP_W: [f64; 7] = [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0];
const SWEEP_N: u32 = 2048;

/// One report per sampler ([`GuidedSampler::ALL`] order), and where they ran.
pub(super) type Runs = Option<(Vec<GuidanceReport>, Backend)>;
/// Per sampler, (w, sliced Wasserstein distance) along [`SWEEP_W`].
pub(super) type Sweep = Option<(Vec<Vec<(f64, f64)>>, Backend)>;

async fn per_sampler(
    cfg: &GuidanceConfig,
    backend: Backend,
) -> Result<(Vec<GuidanceReport>, Backend), RunError> {
    let mut out = Vec::new();
    let mut on = backend;
    for s in GuidedSampler::ALL {
        let c = GuidanceConfig {
            sampler: *s,
            ..cfg.clone()
        };
        let (r, _, b) = run_here::<Guidance>(&c, backend).await?;
        on = b;
        out.push(r);
    }
    Ok((out, on))
}

async fn sweep(
    cfg: GuidanceConfig,
    backend: Backend,
) -> Result<(Vec<Vec<(f64, f64)>>, Backend), RunError> {
    let mut curves = vec![Vec::new(); GuidedSampler::ALL.len()];
    let mut on = backend;
    for w in SWEEP_W {
        let c = GuidanceConfig {
            w,
            n: cfg.n.min(SWEEP_N),
            points: 0,
            grid: 0,
            ..cfg.clone()
        };
        let (reports, b) = per_sampler(&c, backend).await?;
        on = b;
        for (curve, r) in curves.iter_mut().zip(reports) {
            if let Some(d) = r.swd_to_target {
                curve.push((w, d));
            }
        }
    }
    Ok((curves, on))
}

/// Reruns `job` whenever `key` changes; the latest run wins. Never runs
/// where no shown panel `needed` it (a figure embed of other panels).
fn latest<K, T, F, Fut>(
    ctx: BackendCtx,
    key: Memo<K>,
    backend: Memo<Backend>,
    needed: bool,
    job: F,
) -> RwSignal<Option<(T, Backend)>>
where
    K: Clone + PartialEq + Send + Sync + 'static,
    T: Send + Sync + 'static,
    F: Fn(K, Backend) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<(T, Backend), RunError>> + 'static,
{
    let out = RwSignal::new(None);
    if !needed {
        return out;
    }
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (k, b) = (key.get(), backend.get());
        let this = generation.get_value() + 1;
        generation.set_value(this);
        spawn_local(async move {
            let r = job(k, b).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            match r {
                Ok(v) => {
                    record_computed(v.1);
                    out.set(Some(v));
                }
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });
    out
}

#[component]
fn GuidanceControls(cfg: Memo<GuidanceConfig>, set_field: SetField) -> impl IntoView {
    let select = move |key, label, options, value| {
        controls::select(cfg, set_field, key, label, options, value)
    };
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    let pair = move || {
        (cfg.with(|c| c.dataset) == GuidanceData::GaussianPair).then(|| {
            view! {
                {number("cond-mean", "m_c", |c: &GuidanceConfig| format!("{},{}", c.cond_mean[0], c.cond_mean[1]))}
                {number("cond-std", "s_c", |c: &GuidanceConfig| c.cond_std.to_string())}
                {number("uncond-mean", "m_u", |c: &GuidanceConfig| format!("{},{}", c.uncond_mean[0], c.uncond_mean[1]))}
                {number("uncond-std", "s_u", |c: &GuidanceConfig| c.uncond_std.to_string())}
            }
        })
    };
    view! {
        <div class="controls">
            {controls::slider(cfg, set_field, "w", "guidance weight w", (0.0, 8.0, 0.25), |c| c.w)}
            {select("w-schedule", "schedule of w", WSchedule::ALL.iter().map(|o| o.as_str()).collect(), |c| c.w_schedule.render())}
            {select("dataset", "data", GuidanceData::ALL.iter().map(|o| o.as_str()).collect(), |c| c.dataset.render())}
            {number("class", "class c", |c| c.class.to_string())}
            {pair}
            {select("schedule", "β schedule", ScheduleKind::ALL.iter().map(|o| o.as_str()).collect(), |c| c.schedule.render())}
            {number("steps", "steps", |c| c.steps.to_string())}
            {number("n", "particles", |c| c.n.to_string())}
            {number("corrector-steps", "PCG corrector steps K", |c| c.corrector_steps.to_string())}
            {number("corrector-delta", "PCG step δ", |c| c.corrector_delta.to_string())}
            {number("seed", "seed", |c| c.seed.to_string())}
        </div>
    }
}

#[component]
pub fn GuidanceWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<GuidanceConfig>();
    let set_config = use_set_config::<GuidanceConfig>();
    let set_field = use_set_field(cfg);
    let backend = use_active_backend(
        <crate::experiments::guidance::Guidance as crate::experiments::registry::Experiment>::INFO
            .id,
    );

    let shown_cfg = Memo::new(move |_| GuidanceConfig {
        points: CLOUD_POINTS,
        grid: GRID,
        ..cfg.get()
    });
    let needs_runs = crate::ui::figure::needs_any(&["samples", "moments", "cads"]);
    let runs = latest(ctx, shown_cfg, backend, needs_runs, |c, b| async move {
        per_sampler(&c, b).await
    });
    // The sweep does not depend on w: a w change only moves its marker.
    let sweep_cfg = Memo::new(move |_| GuidanceConfig {
        w: GuidanceConfig::default().w,
        ..cfg.get()
    });
    let needs_sweep = crate::ui::figure::needs("distance");
    let swept = latest(ctx, sweep_cfg, backend, needs_sweep, sweep);

    view! {
        <article class="widget" data-testid="guidance-widget">
            <header class="widget-head">
                <h1>"What classifier-free guidance samples"</h1>
                <p class="claim">
                    "Guidance with weight w replaces the score by s_w = w·s(x|c) + (1 − w)·s(x), and is often said to sample the tilted distribution p(x|c)^w·p(x)^(1−w). It does not: on data whose scores are exact, CFG with DDIM (the probability-flow ODE) and CFG with DDPM (the reverse SDE) at the same w give two different distributions, and neither is the tilted one. In the SDE limit, CFG-DDPM is a DDIM step on p(x|c) followed by Langevin on the power γ′ = 2w − 1 — a predictor-corrector (PCG)."
                    " " {paper_anchor(papers::BRADLEY_NAKKIRAN_2025)}
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="guidance"
                json=Signal::derive(move || runs.with(|r| r.as_ref().map(|(r, _)| serde_json::to_string(r).unwrap_or_default())))
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&GuidanceConfig::default())
                }
            />
            <GuidanceControls cfg set_field />
            <SamplesPanel cfg runs />
            <div class="panels two">
                <DistancePanel cfg swept />
                <MomentsPanel runs />
            </div>
            <CadsPanel runs />
            <section class="explain">
                <p class="papers-inline">
                    {paper_anchor(papers::BRADLEY_NAKKIRAN_2025)} " " {paper_anchor(papers::HO_SALIMANS_2022)} " "
                    {paper_anchor(papers::SADAT_CADS_2024)} " " {paper_anchor(papers::WANG_CFG_SCHEDULERS_2024)} " "
                    {paper_anchor(papers::YEHEZKEL_2025)}
                </p>
            </section>
        </article>
    }
}
