//! The training race on spirals3: backprop, fwd, guess and spsa train one MLP
//! side by side (in the compute worker, on the CPU), with each one's decision
//! regions and test accuracy against the forward passes spent.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::estimator_color;
use crate::experiments::Backend;
use crate::experiments::zo::race::{REGION_HALF, REGION_SIDE, WELL_AHEAD};
use crate::experiments::zo::{Estimator, RACE_ESTIMATORS, RaceFrame, Verdict, ZoConfig};
use crate::ui::backend::record_computed;
use crate::ui::charts::{LinePlot, Series, canvas_context, category_color};
use crate::ui::figure::Panel;
use crate::ui::worker::{Fault, RaceSession};

/// Canvas side of a decision-region map, in CSS pixels.
const MAP: f64 = 150.0;
/// Race time per slice on the main thread (where no compute worker runs), in ms.
const MAIN_SLICE_MS: f64 = 8.0;
/// Test points drawn over each map.
const OVERLAY: usize = 300;

/// The test points over the maps.
#[derive(Debug, Clone, PartialEq)]
struct TestPoints {
    x: Vec<f32>,
    y: Vec<u32>,
}

#[component]
pub(super) fn RacePanel(cfg: Memo<ZoConfig>) -> impl IntoView {
    let frame = RwSignal::new(None::<Arc<RaceFrame>>);
    let regions = RwSignal::new(vec![None::<Arc<Vec<f32>>>; RACE_ESTIMATORS.len()]);
    let points = RwSignal::new(None::<Arc<TestPoints>>);
    let place = RwSignal::new(String::new());
    let failed = RwSignal::new(None::<String>);
    let generation = StoredValue::new(0u64);
    // Only the fields the race reads: a drag of the 2-D point does not restart it.
    let key = Memo::new(move |_| {
        cfg.with(|c| {
            (
                c.hidden.clone(),
                c.minibatch,
                c.train,
                c.test,
                c.step_rule,
                c.spsa_c.to_bits(),
                c.race_lr.to_bits(),
                c.budget,
                c.batch,
                c.seed,
            )
        })
    });
    Effect::new(move |_| {
        key.track();
        let c = cfg.get_untracked();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        frame.set(None);
        failed.set(None);
        regions.set(vec![None; RACE_ESTIMATORS.len()]);
        spawn_local(race_loop(
            c, this, generation, frame, regions, points, place, failed,
        ));
    });
    view! {
        <Panel id="race">
            <h2>"A training race on spirals3"</h2>
            <p class="running" data-testid="zo-race-meta">
                {move || status(frame.get().as_deref(), &place.get(), failed.get())}
            </p>
            <div class="race-maps" data-testid="zo-race-maps">
                {RACE_ESTIMATORS.iter().enumerate().map(|(i, &e)| view! {
                    <RaceMap index=i estimator=e frame regions points />
                }).collect_view()}
            </div>
            <div data-testid="zo-race-chart" class="race-chart">
                {move || chart(frame.get().as_deref())}
            </div>
            <p class="running" data-testid="zo-race-verdict">
                {move || frame.get().map(|f| {
                    let v = Verdict::of(&f);
                    if f.finished { v.text() } else { format!("So far: {}", v.text()) }
                })}
            </p>
            <p class="explain">
                {format!("Fournier et al. report that a forward gradient along a guessed direction — the gradient of a local loss from a linear head on each hidden layer — comes much closer to backprop than the forward gradient along a random direction: backprop ahead, guess well ahead of fwd. Here one ReLU network (widths `hidden`) learns spirals3 by plain SGD from the same initial weights on the same minibatches with backprop (exact gradient), fwd ((∇L·v)v, v ~ N(0, I) over all P parameters, ∇L·v by forward-mode dual numbers), guess (per point and hidden layer, (∇L·u/‖u‖²)u with u the local head's gradient, as in the authors' code; the output layer gets its exact gradient) and spsa ([L(θ + cΔ) − L(θ − cΔ)]/(2c) Δ). Each spends the same budget of forward passes, counted in multiply–adds: a backprop step costs about 3 forward passes, a fwd step about 1 + 2 per direction (the primal once, a tangent per direction), a guess step about 3.5, an spsa step 2 per direction. Under the scaled step rule backprop and guess step η (a projection is never longer than the gradient) and fwd and spsa η/κ, κ ≈ P/b (their E‖ĝ‖² ≈ P‖∇L‖²/b), the best constant step on a quadratic as in the dimension sweep above; `step-rule=shared` gives every estimator η, and fwd and spsa then diverge at the default η. \"Well ahead\" means by more than {:.0} points of test accuracy. The race runs on the CPU, in the compute worker.", 100.0 * WELL_AHEAD)}
            </p>
        </Panel>
    }
}

/// What the meta line says.
fn status(f: Option<&RaceFrame>, place: &str, failed: Option<String>) -> String {
    if let Some(why) = failed {
        return format!("The race stopped: {why}");
    }
    let Some(f) = f else {
        return "Starting the race on the CPU…".into();
    };
    let spent = f
        .lanes
        .iter()
        .map(|l| l.passes.min(f.budget))
        .fold(f64::INFINITY, f64::min);
    let steps = f
        .lanes
        .iter()
        .map(|l| format!("{} {}", l.estimator.as_str(), l.step))
        .collect::<Vec<_>>()
        .join(", ");
    if f.finished {
        format!(
            "Finished: {:.0} forward passes each (steps: {steps}); the race runs on the CPU ({place}).",
            f.budget
        )
    } else {
        format!(
            "Racing: {spent:.0} of {:.0} forward passes each (steps: {steps}); the race runs on the CPU ({place}).",
            f.budget
        )
    }
}

/// The race, slice after slice, until it finishes or a newer one replaces it.
#[allow(clippy::too_many_arguments)]
async fn race_loop(
    c: ZoConfig,
    this: u64,
    generation: StoredValue<u64>,
    frame: RwSignal<Option<Arc<RaceFrame>>>,
    regions: RwSignal<Vec<Option<Arc<Vec<f32>>>>>,
    points: RwSignal<Option<Arc<TestPoints>>>,
    place: RwSignal<String>,
    failed: RwSignal<Option<String>>,
) {
    let current = move || generation.try_get_value() == Some(this);
    // A stopped worker is replaced once by the main thread.
    for _attempt in 0..2 {
        let started = RaceSession::start(&c).await;
        if !current() {
            return;
        }
        let (session, first) = match started {
            Ok(s) => s,
            Err(Fault::WorkerStopped(_)) => continue,
            Err(Fault::Job(why)) => {
                failed.set(Some(why));
                return;
            }
        };
        place.set(session.0.place());
        record_computed(Backend::Cpu);
        let mut f = first;
        loop {
            if !f.test_x.is_empty() {
                points.set(Some(Arc::new(TestPoints {
                    x: std::mem::take(&mut f.test_x),
                    y: std::mem::take(&mut f.test_y),
                })));
            }
            regions.update(|r| {
                for (i, lane) in f.lanes.iter_mut().enumerate() {
                    if let Some(reg) = lane.region.take() {
                        r[i] = Some(Arc::new(reg.0));
                    }
                }
            });
            let finished = f.finished;
            frame.set(Some(Arc::new(f)));
            if finished {
                return;
            }
            crate::ui::yield_to_browser().await;
            if !current() {
                return;
            }
            match session.advance(session.0.slice_ms(MAIN_SLICE_MS)).await {
                Ok(next) if current() => f = next,
                Ok(_) => return,
                Err(Fault::WorkerStopped(_)) => break,
                Err(Fault::Job(why)) => {
                    failed.set(Some(why));
                    return;
                }
            }
        }
    }
}

/// One estimator's decision regions, with test points on top.
#[component]
fn RaceMap(
    index: usize,
    estimator: Estimator,
    frame: RwSignal<Option<Arc<RaceFrame>>>,
    regions: RwSignal<Vec<Option<Arc<Vec<f32>>>>>,
    points: RwSignal<Option<Arc<TestPoints>>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let region = Memo::new(move |_| regions.with(|r| r[index].clone()));
    Effect::new(move |_| {
        let r = region.get();
        let pts = points.get();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, MAP, MAP) else {
            return;
        };
        if let Some(r) = &r {
            let cell = MAP / REGION_SIDE as f64;
            for (i, &v) in r.iter().enumerate() {
                let (row, col) = (i / REGION_SIDE, i % REGION_SIDE);
                let class = v.floor().clamp(0.0, 2.0) as usize;
                let p = f64::from(v - v.floor());
                let (x0, y0) = ((col as f64 * cell).round(), (row as f64 * cell).round());
                let (x1, y1) = (
                    ((col + 1) as f64 * cell).round(),
                    ((row + 1) as f64 * cell).round(),
                );
                // Confidence from 1/3 (palest) to 1 (strongest).
                ctx.set_global_alpha(0.08 + 0.5 * ((p - 1.0 / 3.0) * 1.5).clamp(0.0, 1.0));
                ctx.set_fill_style_str(category_color(class));
                ctx.fill_rect(x0, y0, x1 - x0, y1 - y0);
            }
        }
        ctx.set_global_alpha(0.9);
        if let Some(t) = &pts {
            let step = (t.y.len() / OVERLAY).max(1);
            let half = f64::from(REGION_HALF);
            for (p, &y) in t.x.chunks_exact(2).zip(&t.y).step_by(step) {
                let px = (f64::from(p[0]) / half + 1.0) * MAP / 2.0;
                let py = (1.0 - f64::from(p[1]) / half) * MAP / 2.0;
                ctx.set_fill_style_str(category_color(y as usize));
                ctx.begin_path();
                let _ = ctx.arc(px, py, 1.8, 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
        }
    });
    let caption = move || {
        frame.with(|f| {
            let acc = f
                .as_ref()
                .and_then(|f| f.lanes.get(index))
                .and_then(|l| l.curve.last())
                .map_or(String::new(), |p| format!(": {:.0} %", 100.0 * p.1));
            format!("{}{acc}", estimator.as_str())
        })
    };
    view! {
        <figure class="race-map" data-testid=format!("zo-race-map-{}", estimator.as_str())>
            <canvas node_ref=canvas class="race-canvas" role="img"
                aria-label=move || format!("decision regions of {}", caption())
                data-drawn=move || region.get().is_some().to_string()></canvas>
            <figcaption style=format!("color: {}", estimator_color(estimator))>{caption}</figcaption>
        </figure>
    }
}

/// Test accuracy against forward passes spent, one curve per estimator.
fn chart(f: Option<&RaceFrame>) -> impl IntoView + use<> {
    let series: Vec<Series> = f
        .map(|f| {
            f.lanes
                .iter()
                .map(|l| Series {
                    name: l.estimator.as_str(),
                    color: estimator_color(l.estimator),
                    points: l
                        .curve
                        .iter()
                        .map(|&(p, a)| (f64::from(p), f64::from(a)))
                        .collect(),
                    ..Series::default()
                })
                .collect()
        })
        .unwrap_or_default();
    view! {
        <LinePlot series x_label="forward passes spent" y_label="test accuracy" hline=(1.0 / 3.0, "chance") title="Test accuracy on held-out spirals3".to_string() />
    }
}
