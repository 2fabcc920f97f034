//! The fewer-calls panels: sample quality against real score calls for DDIM,
//! Heun and GE with and without skipping and teleportation (a Pareto plot),
//! a same-seed overlay of a full and a cheaper run with each particle's
//! deviation, and a strip marking each step as real, skipped or teleported.
//! Every run is a one-shot run of the experiment in the compute worker; the
//! page only draws what comes back.

use leptos::prelude::*;

use crate::ui::figure::Panel;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::experiments::Backend;
use crate::experiments::diffusion::{
    COMPARE_PARTICLES, Diffusion, DiffusionConfig, DiffusionReport, PARETO_SAMPLERS, PointSet,
    SamplerKind, Trick, deviations,
};
use crate::experiments::papers;
use crate::ui::backend::record_computed;
use crate::ui::charts::{LinePlot, Series, canvas_context, category_color, short};
use crate::ui::pages::paper_anchor;
use crate::ui::worker::Fault;

/// One point of the Pareto plot.
#[derive(Clone, Debug, PartialEq)]
struct ParetoPoint {
    sampler: SamplerKind,
    trick: Trick,
    calls: f64,
    swd: f64,
}

/// The overlay's two runs and each particle's deviation.
#[derive(Clone, Debug, PartialEq)]
struct Overlay {
    full: DiffusionReport,
    cheap: DiffusionReport,
    cheap_cfg: DiffusionConfig,
    deviation: Vec<f32>,
}

/// The panels' signals.
#[derive(Clone, Copy)]
pub(super) struct FewerState {
    pareto: RwSignal<Vec<ParetoPoint>>,
    floor: RwSignal<Option<f64>>,
    overlay: RwSignal<Option<Overlay>>,
    blocker: RwSignal<Option<String>>,
    /// Runs of the current comparison still to come.
    pending: RwSignal<usize>,
    generation: StoredValue<u64>,
}

/// Starts the comparison runs whenever the reader's run changes (display
/// toggles aside), dropping the answers of older ones.
pub(super) fn drive(run_key: Memo<DiffusionConfig>, drawn: Memo<PointSet>) -> FewerState {
    let st = FewerState {
        pareto: RwSignal::new(Vec::new()),
        floor: RwSignal::new(None),
        overlay: RwSignal::new(None),
        blocker: RwSignal::new(None),
        pending: RwSignal::new(0),
        generation: StoredValue::new(0),
    };
    if !crate::ui::figure::needs_any(&["pareto", "overlay", "calls"]) {
        // A figure embed without the comparison panels: no comparison runs.
        return st;
    }
    let key = Memo::new(move |_| run_key.with(DiffusionConfig::comparison_base));
    Effect::new(move |_| {
        let c = key.get();
        let d = drawn.get_untracked();
        let this = st.generation.get_value() + 1;
        st.generation.set_value(this);
        st.pareto.set(Vec::new());
        st.floor.set(None);
        st.overlay.set(None);
        st.blocker.set(c.comparison_blocker().map(str::to_string));
        if c.comparison_blocker().is_some() {
            st.pending.set(0);
            return;
        }
        spawn_local(compare(st, c, d, this));
    });
    st
}

/// The overlay's pair, the noise floor, then the Pareto runs, one at a time.
async fn compare(st: FewerState, c: DiffusionConfig, drawn: PointSet, this: u64) {
    let live = move || st.generation.try_get_value() == Some(this);
    let runs = c.pareto_runs();
    st.pending.set(runs.len() + 3);
    // Whole runs, unsliced: only in the compute worker, never on the main thread.
    let off_main = move |cfg: DiffusionConfig| async move {
        match crate::ui::worker::run_in_worker::<Diffusion>(&cfg).await {
            Err(Fault::WorkerStopped(why)) => {
                if live() {
                    st.blocker.set(Some(format!(
                        "The comparisons run in the compute worker, which is not running here ({why}); the live run above goes on on the main thread."
                    )));
                    st.pending.set(0);
                }
                None
            }
            // A run that failed in the worker is left out of the comparison.
            r => Some(r),
        }
    };
    let (full_cfg, cheap_cfg) = c.overlay_runs();
    let Some(full) = off_main(full_cfg).await else {
        return;
    };
    let Some(cheap) = off_main(cheap_cfg.clone()).await else {
        return;
    };
    if !live() {
        return;
    }
    if let (Ok(full), Ok(cheap)) = (full, cheap) {
        let deviation = deviations(&full.samples, &cheap.samples);
        st.overlay.set(Some(Overlay {
            full,
            cheap,
            cheap_cfg,
            deviation,
        }));
        record_computed(Backend::Cpu);
    }
    st.pending.update(|p| *p = p.saturating_sub(2));
    let (a, b) = c.floor_samples(&drawn);
    let train = c.training_set(&drawn).points;
    let m = crate::ui::worker::diffusion_metrics(&b, &a, &train, c.delta).await;
    if !live() {
        return;
    }
    st.floor.set(Some(m.swd));
    st.pending.update(|p| *p = p.saturating_sub(1));
    for (sampler, trick, cfg) in runs {
        let Some(r) = off_main(cfg).await else {
            return;
        };
        if !live() {
            return;
        }
        if let Ok(r) = r {
            st.pareto.update(|v| {
                v.push(ParetoPoint {
                    sampler,
                    trick,
                    calls: r.nfe_real,
                    swd: r.metrics.swd,
                })
            });
            record_computed(Backend::Cpu);
        }
        st.pending.update(|p| *p = p.saturating_sub(1));
    }
}

/// The series name of a sampler × trick (names must be `'static`).
fn series_name(s: SamplerKind, t: Trick) -> &'static str {
    const NAMES: [[&str; 4]; 3] = [
        ["DDIM", "DDIM + skip", "DDIM + teleport", "DDIM + both"],
        ["Heun", "Heun + skip", "Heun + teleport", "Heun + both"],
        ["GE", "GE + skip", "GE + teleport", "GE + both"],
    ];
    let i = PARETO_SAMPLERS.iter().position(|k| *k == s).unwrap_or(0);
    let j = Trick::ALL.iter().position(|k| *k == t).unwrap_or(0);
    NAMES[i][j]
}

fn progress(st: FewerState) -> impl IntoView {
    move || {
        let p = st.pending.get();
        (p > 0).then(|| view! { <p class="muted" role="status">{format!("{p} comparison runs to go (in the compute worker)…")}</p> })
    }
}

/// Quality against real score calls.
#[component]
pub(super) fn ParetoPanel(st: FewerState) -> impl IntoView {
    let series = move || {
        let pts = st.pareto.get();
        let mut out = Vec::new();
        for (i, s) in PARETO_SAMPLERS.into_iter().enumerate() {
            for (j, t) in Trick::ALL.into_iter().enumerate() {
                let mut points: Vec<(f64, f64)> = pts
                    .iter()
                    .filter(|p| p.sampler == s && p.trick == t)
                    .map(|p| (p.calls.max(1.0), p.swd))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                if points.is_empty() {
                    continue;
                }
                out.push(Series {
                    name: series_name(s, t),
                    color: category_color(if j >= 2 { i + 4 } else { i }),
                    dashed: j % 2 == 1,
                    points,
                    ..Series::default()
                });
            }
        }
        out
    };
    view! {
        <Panel id="pareto" testid="diffusion-pareto">
            <h2>"Quality per score call"</h2>
            {move || st.blocker.get().map(|b| view! { <p class="notes" data-testid="pareto-blocked">{b}</p> })}
            {progress(st)}
            {move || {
                let s = series();
                let title = || "Distance to fresh data against real calls".to_string();
                let x_label = "real score calls per particle";
                (!s.is_empty()).then(|| match st.floor.get() {
                    Some(f) => view! {
                        <LinePlot series=s log_x=true log_y=true x_label y_label="SWD"
                            hline=(f, "two fresh data samples") title=title() />
                    }
                    .into_any(),
                    None => view! {
                        <LinePlot series=s log_x=true log_y=true x_label y_label="SWD" title=title() />
                    }
                    .into_any(),
                })
            }}
            <p class="explain">
                {format!("Each line is one sampler at 4, 8, 16 and 32 steps ({COMPARE_PARTICLES} particles, the reader's data, score and seed); dashed lines skip calls (the reader's predictor, h2 where off, every k-th step, first and last steps protected), light lines teleport the first steps (the reader's fraction, 20% where off). The dashed grey line is the distance between two fresh data samples: no sampler can do better. ")}
                "The papers' claims: GE samples well in 5–10 calls; FSampler saves 15–25% of calls at high similarity; teleporting skips 15–30% of the steps. "
                <strong>"At the defaults (gmm8, exact score) and at this scale: "</strong>
                "every sampler reaches a plateau near SWD 0.045 by about 8 calls, which more calls do not lower (two fresh data samples of this size differ by about 0.02). Below 8 calls GE beats DDIM at 4 calls (0.097 against 0.126) and teleporting the first 20% lowers it further (0.073 with 3 calls): GE and teleportation buy quality per call where calls are scarce. Heun's first point (4 steps, 7 calls) is already on the plateau, and teleporting one of its 4 steps makes it worse (0.084). Skipping saves a quarter to a third of the calls only once a run has 16 or more steps, and there the full run is already on the plateau, so skipping gains nothing over simply taking fewer steps; at 4 steps the protected head and tail leave nothing to skip. "
                {paper_anchor(papers::PERMENTER_YUAN_2024)} " " {paper_anchor(papers::VLADIMIR_2025)} " " {paper_anchor(papers::WANG_VASTOLA_2024)}
            </p>
        </Panel>
    }
}

/// Half-width of the overlay's view, in data units.
const OVERLAY_EXTENT: f64 = 2.5;
const OVERLAY_SIZE: f64 = 320.0;

fn draw_overlay(canvas: &web_sys::HtmlCanvasElement, o: &Overlay) {
    let Some(ctx) = canvas_context(canvas, OVERLAY_SIZE, OVERLAY_SIZE) else {
        return;
    };
    let px = |v: f32| (f64::from(v) + OVERLAY_EXTENT) / (2.0 * OVERLAY_EXTENT) * OVERLAY_SIZE;
    let py = |v: f32| (OVERLAY_EXTENT - f64::from(v)) / (2.0 * OVERLAY_EXTENT) * OVERLAY_SIZE;
    ctx.clear_rect(0.0, 0.0, OVERLAY_SIZE, OVERLAY_SIZE);
    ctx.set_line_width(1.0);
    ctx.set_stroke_style_str("rgba(213, 94, 0, 0.55)");
    ctx.begin_path();
    for (a, b) in o.full.samples.iter().zip(&o.cheap.samples) {
        ctx.move_to(px(a[0]), py(a[1]));
        ctx.line_to(px(b[0]), py(b[1]));
    }
    ctx.stroke();
    for (pts, color) in [
        (&o.full.samples, "rgba(120, 120, 120, 0.8)"),
        (&o.cheap.samples, "rgba(0, 114, 178, 0.8)"),
    ] {
        ctx.set_fill_style_str(color);
        for p in pts.iter() {
            ctx.fill_rect(px(p[0]) - 1.0, py(p[1]) - 1.0, 2.0, 2.0);
        }
    }
}

/// The same starting noise through the full run and a cheaper one.
#[component]
pub(super) fn OverlayPanel(st: FewerState) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let o = st.overlay.get();
        if let (Some(el), Some(o)) = (canvas.get(), o) {
            draw_overlay(el.unchecked_ref(), &o);
        }
    });
    let summary = move || {
        st.overlay.with(|o| {
            o.as_ref().map(|o| {
                let n = o.deviation.len().max(1) as f64;
                let mean = o.deviation.iter().map(|&d| f64::from(d)).sum::<f64>() / n;
                let max = o.deviation.iter().fold(0.0f32, |m, &d| m.max(d));
                let c = &o.cheap_cfg;
                format!(
                    "{} with {} steps: every call, {} real calls (SWD {}) against skip {} and teleport {}, {} real + {} predicted calls (SWD {}). Each particle moved by {} on average, {} at most.",
                    c.sampler.as_str(),
                    c.steps,
                    short(o.full.nfe_real),
                    short(o.full.metrics.swd),
                    c.skip.as_str(),
                    short(c.teleport),
                    short(o.cheap.nfe_real),
                    short(o.cheap.nfe_skipped),
                    short(o.cheap.metrics.swd),
                    short(mean),
                    short(f64::from(max)),
                )
            })
        })
    };
    view! {
        <Panel id="overlay" testid="diffusion-overlay">
            <h2>"Full run against a cheaper run, same noise"</h2>
            {progress(st)}
            <canvas node_ref=canvas class="overlay-canvas" width="320" height="320"
                style="width: 100%; max-width: 320px; aspect-ratio: 1"
                aria-label="Grey: the full run's samples; blue: the cheaper run's; orange lines join each particle's two ends"></canvas>
            <p data-testid="overlay-summary">{summary}</p>
            <p class="explain">
                "Grey: the run with every call; blue: the same particles (same seed, same starting noise) with the reader's skipping and teleport (h2 and 20% where both are off); an orange line joins each particle's two endpoints. Deterministic samplers map noise to data one to one, so the lines show exactly what the saved calls cost each sample."
            </p>
        </Panel>
    }
}

/// Which steps of the cheaper run called the denoiser.
#[component]
pub(super) fn CallsPanel(st: FewerState) -> impl IntoView {
    let cells = move || {
        st.overlay.with(|o| {
            let Some(o) = o.as_ref() else {
                return Vec::new();
            };
            let tele = o.cheap.teleported_steps;
            let steps = &o.cheap.skipped_per_step;
            let total = (tele + steps.len()).max(1);
            let w = 320.0 / total as f64;
            // Below 2 units a box per step cannot be told apart (at 1,000
            // steps 2,000 SVG nodes made a 65 ms main-thread task): a run
            // of equal steps is then one box, its steps in `data-steps`.
            let merge = w < 2.0;
            let mut runs: Vec<(usize, usize, &'static str, &'static str, f64)> = Vec::new();
            for k in 0..total {
                let (kind, fill, opacity) = if k < tele {
                    ("teleported", "#999999", 0.5)
                } else {
                    let f = steps[k - tele];
                    if f > 0.0 {
                        ("skipped", "#E69F00", 0.3 + 0.7 * f)
                    } else {
                        ("real", "#0072B2", 1.0)
                    }
                };
                match runs.last_mut() {
                    Some(r) if merge && r.2 == kind && (r.4 - opacity).abs() < 0.05 => r.1 += 1,
                    _ => runs.push((k, 1, kind, fill, opacity)),
                }
            }
            let out: Vec<_> = runs
                .into_iter()
                .map(|(k, n, kind, fill, opacity)| {
                    let title = if n == 1 {
                        format!("step {}: {kind}", k + 1)
                    } else {
                        format!("steps {}–{}: {kind}", k + 1, k + n)
                    };
                    view! {
                        <rect x=(k as f64 * w).to_string() y="2" width=(n as f64 * w - 1.0).max(0.5).to_string() height="20"
                            fill=fill opacity=opacity.to_string() data-kind=kind data-steps=n>
                            <title>{title}</title>
                        </rect>
                    }
                })
                .collect();
            out
        })
    };
    let counts = move || {
        st.overlay.with(|o| {
            o.as_ref().map(|o| {
                format!(
                    "{} teleported, {} real calls and {} predicted per particle.",
                    o.cheap.teleported_steps,
                    short(o.cheap.nfe_real),
                    short(o.cheap.nfe_skipped)
                )
            })
        })
    };
    view! {
        <Panel id="calls" testid="diffusion-calls">
            <h2>"Real, skipped and teleported steps"</h2>
            <svg viewBox="0 0 320 24" class="call-strip" data-testid="call-strip" role="img"
                aria-label="One box per step of the cheaper run: blue a real call, orange a predicted ε, grey teleported">
                {cells}
            </svg>
            <p data-testid="call-counts">{counts}</p>
            <p class="explain">
                "Blue: the denoiser was called; orange: ε was extrapolated from the last real calls (FSampler: 2ε_n − ε_{n−1} and its higher orders, its norm capped at 1.5× the last real one; under the adaptive gate a box's shade is the fraction of particles that skipped); grey: the step was replaced by the Gaussian model's exact solution (Wang & Vastola). The first and last steps never skip: the first have no history, the last set the fine detail."
            </p>
        </Panel>
    }
}
