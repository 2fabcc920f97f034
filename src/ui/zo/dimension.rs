//! The price of the dimension: each estimator on ½‖x‖² at its best constant
//! step, in d = 2, 16, 128, 1024, against the exact expected loss; and the law
//! of |cos(ĝ, ∇f)| of the forward gradient against its exact density.

use leptos::prelude::*;

use crate::ui::figure::Panel;
use leptos::task::spawn_local;

use super::estimator_color;
use crate::experiments::Backend;
use crate::experiments::zo::view::{
    COS_BINS, SWEEP_DIMS, SWEEP_ESTIMATORS, cos_law, page_cos_draws, sweep_config,
    sweep_expectation,
};
use crate::experiments::zo::{DescentReport, Estimator, Zo, ZoConfig};
use crate::ui::backend::{BackendCtx, record_computed, report_gpu_fault, run_here};
use crate::ui::charts::{LinePlot, Series};

/// One finished run of the sweep.
#[derive(Clone, PartialEq)]
struct Done {
    d: u32,
    est: Estimator,
    report: DescentReport,
    cfg: ZoConfig,
    backend: Backend,
}

/// One dimension's measured and exact |cos| densities.
type Law = (u32, Vec<f64>, Vec<f64>, u32);

#[component]
pub(super) fn DimensionPanel(
    ctx: BackendCtx,
    cfg: Memo<ZoConfig>,
    backend: Memo<Backend>,
) -> impl IntoView {
    let done = RwSignal::new(Vec::<Done>::new());
    let laws = RwSignal::new(Vec::<Law>::new());
    let generation = StoredValue::new(0u64);
    // Only the fields the sweep reads.
    let key = Memo::new(move |_| {
        cfg.with(|c| (c.steps, c.runs, c.batch, c.seed, c.guess_noise.to_bits()))
    });
    Effect::new(move |_| {
        key.track();
        let c = cfg.get_untracked();
        let b = backend.get();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        done.set(Vec::new());
        laws.set(Vec::new());
        spawn_local(async move {
            for d in SWEEP_DIMS {
                for est in SWEEP_ESTIMATORS {
                    let sc = sweep_config(&c, d, est);
                    let r = run_here::<Zo>(&sc, b).await;
                    if generation.try_get_value() != Some(this) {
                        return;
                    }
                    match r {
                        Ok((report, ran, on)) => {
                            record_computed(on);
                            done.update(|v| {
                                v.push(Done {
                                    d,
                                    est,
                                    report,
                                    cfg: ran,
                                    backend: on,
                                })
                            });
                        }
                        Err(e) => {
                            report_gpu_fault(ctx, &e);
                            return;
                        }
                    }
                }
            }
            // The |cos| law on the main thread, one dimension per slice (≈ 2¹⁷ components each).
            for d in SWEEP_DIMS {
                crate::ui::yield_to_browser().await;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                let n = page_cos_draws(d);
                let (measured, exact) = cos_law(d, n, c.seed);
                laws.update(|v| v.push((d, measured, exact, n)));
            }
        });
    });
    let total = SWEEP_DIMS.len() * SWEEP_ESTIMATORS.len();
    view! {
        <Panel id="dimension">
            <h2>"The price of the dimension"</h2>
            <p class="running" data-testid="zo-sweep-meta">
                {move || done.with(|v| {
                    let on = v.last().map_or("", |d| if d.backend == Backend::Gpu { " on WebGPU" } else { " on the CPU" });
                    let runs = v.last().map_or(0, |d| d.cfg.runs);
                    if v.len() < total {
                        format!("Running {} of {total} descents{on}…", v.len() + 1)
                    } else {
                        format!("{total} descents of {runs} runs each{on}.")
                    }
                })}
            </p>
            <div class="panels two" data-testid="zo-sweep">
                {move || SWEEP_DIMS.iter().map(|&d| loss_plot(d, &done.get())).collect_view()}
            </div>
            <p class="explain">
                "Each estimator descends f = ½‖x‖² from (1, …, 1)/√d with its best constant step η* = 1/κ, where E‖ĝ‖² = κ‖∇f‖² (κ = d + 2 for fwd, d for spsa and sphere, 1 for backprop; guess uses η = 1, a step to the minimum along the guessed direction). Solid: the mean loss over the runs; dashed: the exact expectation f₀(1 − 2η + κη²)^t (losses below 10⁻¹² are not drawn: the f32 iterates reach their rounding there). At η* it is f₀(1 − 1/κ)^t: a direction-only estimator needs about d times as many steps as the gradient. The guess u = ∇f + s·n keeps a cosine with ∇f of about ‖∇f‖/√(‖∇f‖² + s²d), so it pays the dimension too unless s shrinks (Fournier et al.'s local-loss guesses do better than random directions for this reason)."
            </p>
            <div class="panels two" data-testid="zo-cos">
                {move || laws.get().into_iter().map(cos_plot).collect_view()}
            </div>
            <p class="explain">
                "|cos(ĝ, ∇f)| of single forward gradients against its exact law: v/‖v‖ is uniform on the sphere, so the density of |cos| is ∝ (1 − t²)^((d−3)/2), with mean Γ(d/2)/(√π Γ((d+1)/2)) ≈ √(2/(πd)). These draws run on the CPU in the page, a few thousand per dimension."
            </p>
        </Panel>
    }
}

/// The lowest loss drawn.
const FLOOR: f64 = 1e-12;

/// The legend entry of an estimator's exact expectation.
fn exact_name(e: Estimator) -> &'static str {
    match e {
        Estimator::Backprop => "backprop, exact",
        Estimator::Fwd => "fwd, exact",
        Estimator::Spsa => "spsa, exact",
        Estimator::Sphere => "sphere, exact",
        _ => "exact",
    }
}

fn loss_plot(d: u32, done: &[Done]) -> impl IntoView + use<> {
    let mut series = Vec::new();
    for r in done.iter().filter(|r| r.d == d) {
        let name = r.est.as_str();
        let color = estimator_color(r.est);
        series.push(Series {
            name,
            color,
            points: r
                .report
                .loss
                .mean
                .iter()
                .enumerate()
                .map(|(t, &y)| (t as f64, y))
                .collect(),
            ..Series::default()
        });
        if let Some(exp) = sweep_expectation(&r.cfg, d, r.est) {
            series.push(Series {
                name: exact_name(r.est),
                color,
                dashed: true,
                points: exp
                    .iter()
                    .enumerate()
                    .map(|(t, &y)| (t as f64, y))
                    .collect(),
                ..Series::default()
            });
        }
    }
    // f32 iterates bottom out near 1e-12: below it the curves show rounding, not the estimator.
    for s in &mut series {
        s.points.retain(|p| p.1 >= FLOOR);
    }
    view! {
        <div data-testid=format!("zo-loss-{d}")>
            <LinePlot series log_y=true x_label="step t" y_label="loss" title=format!("d = {d}") />
        </div>
    }
}

fn cos_plot((d, measured, exact, n): Law) -> impl IntoView {
    let x = |i: usize| (i as f64 + 0.5) / COS_BINS as f64;
    let series = vec![
        Series {
            name: "forward gradient",
            color: "#0072B2",
            points: measured
                .iter()
                .enumerate()
                .map(|(i, &y)| (x(i), y))
                .collect(),
            ..Series::default()
        },
        Series {
            name: "exact law",
            color: "var(--ink)",
            dashed: true,
            points: exact.iter().enumerate().map(|(i, &y)| (x(i), y)).collect(),
            ..Series::default()
        },
    ];
    view! {
        <div data-testid=format!("zo-cos-{d}")>
            <LinePlot series x_label="|cos(ĝ, ∇f)|" y_label="density" title=format!("d = {d}, {n} draws") />
        </div>
    }
}
