//! The guidance widget's panels: point clouds over the tilted target's filled
//! contours, distance against w, moments against the target's, and CADS.

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::{Runs, SWEEP_W, Sweep};
use crate::experiments::Backend;
use crate::experiments::guidance::{GridDensity, GuidanceConfig, GuidanceReport, GuidedSampler};
use crate::experiments::papers;
use crate::ui::charts::{LinePlot, Series, short};
use crate::ui::pages::paper_anchor;

const COLORS: [&str; 3] = ["#0072B2", "#D55E00", "#009E73"];
const NAMES: [&str; 3] = ["CFG-DDIM", "CFG-DDPM", "PCG"];
/// The clouds' side, in SVG units.
const S: f64 = 240.0;

/// One square view shared by the three clouds, in data units.
#[derive(Debug, Clone, Copy, PartialEq)]
struct View {
    lo: [f64; 2],
    size: f64,
}

impl View {
    /// The square around the target's grid and the 1st–99th percentiles of
    /// every cloud's coordinates (a diverging outlier does not shrink the rest), padded 8 %.
    fn of(reports: &[GuidanceReport], grid: Option<&GridDensity>) -> Self {
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        for d in 0..2 {
            let mut v: Vec<f64> = reports
                .iter()
                .flat_map(|r| r.points.iter().map(move |p| f64::from(p[d])))
                .filter(|x| x.is_finite())
                .collect();
            v.sort_by(f64::total_cmp);
            if !v.is_empty() {
                lo[d] = v[v.len() / 100];
                hi[d] = v[v.len() - 1 - v.len() / 100];
            }
            if let Some(g) = grid {
                lo[d] = lo[d].min(g.lo[d]);
                hi[d] = hi[d].max(g.lo[d] + g.size);
            }
            if !(lo[d].is_finite() && hi[d].is_finite()) {
                (lo[d], hi[d]) = (-3.0, 3.0);
            }
        }
        let size = ((hi[0] - lo[0]).max(hi[1] - lo[1]) * 1.08).max(1e-3);
        let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
        Self {
            lo: [centre[0] - size / 2.0, centre[1] - size / 2.0],
            size,
        }
    }

    fn px(&self, x: f64) -> f64 {
        (x - self.lo[0]) / self.size * S
    }

    fn py(&self, y: f64) -> f64 {
        S - (y - self.lo[1]) / self.size * S
    }
}

/// Dots per SVG path: a cloud is a few paths, not one element per point (a
/// cloud of 700 circles and a 48² grid of rects was a ~100 ms DOM task), and
/// overlaps between paths still darken where samples crowd.
const DOTS_PER_PATH: usize = 96;
/// Path coordinates are integers in tenths of an SVG unit (drawn through
/// `scale(0.1)`): formatting floats was most of the rest of that task.
const TENTHS: f64 = 10.0;
/// The dots' radius, in tenths of an SVG unit.
const DOT_R: i32 = 13;

/// `v` in tenths of an SVG unit.
fn tenths(v: f64) -> i32 {
    (v * TENTHS).round() as i32
}

/// The density as five filled levels (of its peak: from 10 %, in steps of
/// 20 %), one path per level: its cells never overlap, so the union is exact.
fn contours(g: &GridDensity, v: View) -> impl IntoView + use<> {
    use std::fmt::Write;
    let top = g
        .mass
        .iter()
        .copied()
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let h = g.cell();
    let mut levels = vec![String::new(); 5];
    let mut cells = 0;
    for (c, m) in g.mass.iter().enumerate() {
        if m / top >= 0.1 {
            cells += 1;
            let level = ((m / top) * 5.0).floor().min(4.0) as usize;
            let x = g.lo[0] + (c % g.res) as f64 * h;
            let y = g.lo[1] + (c / g.res) as f64 * h;
            // Corners rounded once each, so neighbouring cells share edges exactly.
            let (x0, x1) = (tenths(v.px(x)), tenths(v.px(x + h)));
            let (y0, y1) = (tenths(v.py(y + h)), tenths(v.py(y)));
            let _ = write!(levels[level], "M{x0} {y0}H{x1}V{y1}H{x0}z");
        }
    }
    let paths = levels
        .into_iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(level, d)| {
            let opacity = 0.12 + 0.12 * level as f64;
            view! { <path d=d fill="#7B3294" fill-opacity=opacity /> }
        })
        .collect_view();
    view! { <g class="contours" data-cells=cells transform="scale(0.1)">{paths}</g> }
}

/// The finite points as dots, [`DOTS_PER_PATH`] to a path; returns the count too.
fn dots(points: &[[f32; 2]], v: View, color: &'static str) -> (usize, impl IntoView + use<>) {
    use std::fmt::Write;
    let finite: Vec<(i32, i32)> = points
        .iter()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .map(|p| (tenths(v.px(f64::from(p[0]))), tenths(v.py(f64::from(p[1])))))
        .collect();
    let (r, d2) = (DOT_R, 2 * DOT_R);
    let view = finite
        .chunks(DOTS_PER_PATH)
        .map(|chunk| {
            let mut d = String::with_capacity(chunk.len() * 40);
            for (x, y) in chunk {
                let _ = write!(
                    d,
                    "M{} {y}a{r} {r} 0 1 0 {d2} 0a{r} {r} 0 1 0 -{d2} 0",
                    x - r
                );
            }
            view! { <path d=d fill=color fill-opacity="0.55" /> }
        })
        .collect_view();
    (finite.len(), view)
}

#[component]
fn Cloud(i: usize, report: GuidanceReport, grid: Option<GridDensity>, v: View) -> impl IntoView {
    let (count, dots) = dots(&report.points, v, COLORS[i]);
    let d = report.swd_to_target.map_or("—".to_string(), short);
    view! {
        <figure class="plot" data-testid=format!("cloud-{}", GuidedSampler::ALL[i].as_str())>
            <svg viewBox=format!("0 0 {S} {S}") role="img" aria-label=format!("{} samples over the tilted target", NAMES[i])>
                <rect x="0" y="0" width=S height=S fill="none" stroke="#ccc" />
                {grid.as_ref().map(|g| contours(g, v))}
                <g class="dots" data-points=count transform="scale(0.1)">{dots}</g>
            </svg>
            <figcaption>
                <span class="caption-title">{format!("{} · distance {}", NAMES[i], d)}</span>
            </figcaption>
        </figure>
    }
}

#[component]
pub(super) fn SamplesPanel(cfg: Memo<GuidanceConfig>, runs: RwSignal<Runs>) -> impl IntoView {
    view! {
        <Panel id="samples">
            <h2>"Samples over the tilted target, at the same w and seed"</h2>
            {move || match runs.get() {
                None => view! { <p class="running">"Sampling…"</p> }.into_any(),
                Some((reports, b)) => {
                    let grid = reports.first().and_then(|r| r.grid.clone());
                    let missing = grid.is_none();
                    let v = View::of(&reports, grid.as_ref());
                    let c = cfg.get_untracked();
                    let meta = format!(
                        "w = {}, {} steps, {} schedule of w, on {}",
                        short(c.w),
                        c.steps,
                        c.w_schedule.as_str(),
                        if b == Backend::Gpu { "WebGPU" } else { "the CPU" },
                    );
                    view! {
                        <p class="meta" data-testid="samples-meta">{meta}</p>
                        <div class="panels" style="grid-template-columns: repeat(auto-fit, minmax(min(100%, 220px), 1fr))" data-backend=b.as_str()>
                            {reports.into_iter().enumerate().map(|(i, r)| view! { <Cloud i report=r grid=grid.clone() v /> }).collect_view()}
                        </div>
                        {missing.then(|| view! { <p class="note">"At this w the tilted target p(x|c)^w p(x)^(1−w) is not normalisable (its precision w/s_c² + (1 − w)/s_u² is ≤ 0): there is nothing for guidance to sample."</p> })}
                    }.into_any()
                }
            }}
            <p class="explain">
                {move || format!("Shaded: the tilted target p(x|c)^w p(x)^(1−w) at w = {} (five levels of its exact density on a 48² grid over its mean ± 4 standard deviations; its moments and samples come from a closed form for the Gaussian pair, a normalised 400² grid for the mixture). Dots: 700 samples of each sampler from the same initial noise. ", short(cfg.with(|c| c.w)))}
                "DDIM follows the probability-flow ODE of the guided score and lands too narrow; DDPM follows its reverse SDE and lands elsewhere; PCG runs a DDIM step on p(x|c) and corrects with Langevin on the power γ′ = 2w − 1. At w = 1 all three sample p(x|c). Below w = ½ the corrector's power is negative, p(x|c)^γ′ p(x)^(1−γ′) need not be normalisable, and PCG's Langevin steps can run away — which the distance plot shows at w = 0."
                " " {paper_anchor(papers::BRADLEY_NAKKIRAN_2025)}
            </p>
        </Panel>
    }
}

#[component]
pub(super) fn DistancePanel(cfg: Memo<GuidanceConfig>, swept: RwSignal<Sweep>) -> impl IntoView {
    view! {
        <Panel id="distance">
            <h2>"Distance to the tilted target against w"</h2>
            {move || match swept.get() {
                None => view! { <p class="running">"Sweeping w…"</p> }.into_any(),
                Some((curves, b)) => {
                    let series = curves
                        .into_iter()
                        .enumerate()
                        .map(|(i, points)| Series { name: NAMES[i], color: COLORS[i], dashed: false, points, band: Vec::new() })
                        .collect();
                    view! {
                        <div data-backend=b.as_str()>
                            <LinePlot series x_label="guidance weight w" y_label="sliced W2 to target"
                                marker_x=cfg.with(|c| c.w) title="Sliced Wasserstein distance to p(x|c)^w p(x)^(1−w)".to_string() />
                        </div>
                    }.into_any()
                }
            }}
            <p class="explain">
                {format!("Each point: min(n, 2048) samples per sampler at w ∈ {SWEEP_W:?} against as many samples of the exact tilted target (64 directions). ")}
                "At w = 1 the distance is Monte Carlo noise only; away from it none of the samplers reaches the target, and the gap grows with w. The vertical line is the slider's w. Where a w has no normalisable target the point is missing."
            </p>
        </Panel>
    }
}

fn row(name: &'static str, mean: [f64; 2], std: [f64; 2], cov_xy: f64) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{name}</th>
            <td>{format!("{}, {}", short(mean[0]), short(mean[1]))}</td>
            <td>{format!("{}, {}", short(std[0]), short(std[1]))}</td>
            <td>{short(cov_xy)}</td>
        </tr>
    }
}

#[component]
pub(super) fn MomentsPanel(runs: RwSignal<Runs>) -> impl IntoView {
    view! {
        <Panel id="moments">
            <h2>"Moments against the target's"</h2>
            {move || runs.get().map(|(reports, b)| {
                let target = reports.first().and_then(|r| r.target);
                view! {
                    // Scrolls inside the panel on a phone, never the page.
                    <div class="table-scroll">
                    <table class="moments estimators" data-backend=b.as_str() data-testid="moments-table">
                        <thead><tr><th>""</th><th scope="col">"mean"</th><th scope="col">"std (x, y)"</th><th scope="col">"cov xy"</th></tr></thead>
                        <tbody>
                            {target.map(|t| row("tilted target", t.mean, t.std, t.cov[1]))}
                            {reports.iter().enumerate().map(|(i, r)| row(NAMES[i], r.samples_mean, r.samples_std, r.samples_cov[1])).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <p class="note">{format!(
                        "Monte Carlo standard error of a mean ≈ {}; score evaluations per particle: DDIM {}, DDPM {}, PCG {}.",
                        short(reports.first().map_or(0.0, |r| r.mean_se[0].max(r.mean_se[1]))),
                        reports[0].nfe, reports[1].nfe, reports[2].nfe,
                    )}</p>
                }
            })}
            <p class="explain">
                "For the Gaussian pair everything is linear: the guided score is −K(t)x + k(t), so each sampler's output is Gaussian and its moments solve linear ODEs — different ones for the ODE and the SDE, and neither ends at the tilted target's."
                " " {paper_anchor(papers::BRADLEY_NAKKIRAN_2025)}
            </p>
        </Panel>
    }
}

#[component]
pub(super) fn CadsPanel(runs: RwSignal<Runs>) -> impl IntoView {
    let spread = |s: [f64; 2]| (s[0] * s[0] + s[1] * s[1]).sqrt();
    view! {
        <Panel id="cads">
            <h2>"Diversity at this w, and condition annealing (CADS)"</h2>
            {move || runs.get().map(|(reports, b)| view! {
                <p data-backend=b.as_str() data-testid="diversity">
                    {format!(
                        "Spread √(σx² + σy²) of class c's samples — target {}, DDIM {}, DDPM {}, PCG {}.",
                        reports[0].target.map_or("not normalisable".to_string(), |t| short(spread(t.std))),
                        short(spread(reports[0].samples_std)),
                        short(spread(reports[1].samples_std)),
                        short(spread(reports[2].samples_std)),
                    )}
                </p>
            })}
            <p class="explain">
                "CADS anneals the condition the network sees, ĉ = √γ(t)·c + s·√(1 − γ(t))·n with a piecewise-linear γ between τ₁ and τ₂, to give back the diversity high w takes away. "
                <strong>"Not drawn here:"</strong>
                " CADS needs a denoiser that reads its condition as a continuous input. The exact scores of this page take a discrete class, and a noisy one-hot vector has no exact conditional score, so annealing them would be made up. The lab's class-conditional MLP denoiser for gmm8 does read a real-valued class input, and CADS runs on it from the command line ("
                <code>"gradlab guidance --dataset gmm8 --score mlp --w 6 --cads 1"</code>
                ", against "<code>"--cads 0"</code>"); that path runs on the CPU only (no GPU kernel) and the page's one-shot runs do not load the network, so this panel does not show it. The spreads above show the collapse with w that CADS is meant to undo."
                " " {paper_anchor(papers::SADAT_CADS_2024)}
            </p>
        </Panel>
    }
}
