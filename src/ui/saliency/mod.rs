//! The attribution-smoothing widget: every method's attribution field over
//! the decision regions of a small ReLU network trained live (in the compute
//! worker), a ring plot of the certified cosine bound against an exhaustive
//! search, and SmoothGrad's noise against its exact Gaussian blur.

mod draw;
mod field;
mod noise;
mod ring;
mod run;

use leptos::prelude::*;

use crate::experiments::saliency::{PAGE_CPU_GRID, PAGE_CPU_SAMPLES, PAGE_CPU_STEPS};

use super::backend::{BackendCtx, use_active_backend};
use super::charts::short;
use super::controls::{self, SetField};
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::Backend;
use crate::experiments::config::Param;
use crate::experiments::papers;
use crate::experiments::saliency::{Method, Model, SaliencyConfig};
use field::FieldPanel;
use noise::NoisePanel;
use ring::RingPanel;
use run::Shown;

fn method_label(m: Method) -> &'static str {
    match m {
        Method::Grad => "gradient",
        Method::SmoothGrad => "SmoothGrad",
        Method::SmoothGradSq => "SmoothGrad²",
        Method::Eg => "expected gradients",
        Method::Uniform => "uniform ball",
    }
}

/// The config's fields.
#[component]
fn SaliencyControls(cfg: Memo<SaliencyConfig>, set_field: SetField) -> impl IntoView {
    let select = move |key, label, options, value| {
        controls::select(cfg, set_field, key, label, options, value)
    };
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    let slider =
        move |key, label, range, value| controls::slider(cfg, set_field, key, label, range, value);
    view! {
        <div class="controls">
            {select("model", "network", Model::ALL.iter().map(|o| o.as_str()).collect(), |c| c.model.render())}
            {select("dataset", "data", ["moons", "spirals3", "gauss8", "blobs3", "circles"].to_vec(), |c| c.dataset.render())}
            {select("method", "probe's method", Method::ALL.iter().map(|o| o.as_str()).collect(), |c| c.method.render())}
            {controls::log_slider(cfg, set_field, "sigma", "noise σ", (0.01, 2.0), |c| c.sigma)}
            {slider("samples", "samples n", (1.0, 200.0, 1.0), |c| f64::from(c.samples))}
            {slider("radius", "ball radius r", (0.02, 1.0, 0.01), |c| c.radius)}
            {slider("eps", "perturbation ε", (0.0, 0.5, 0.005), |c| c.eps)}
            {number("at", "probe x", |c| c.at.render())}
            {number("width", "hidden units", |c| c.width.to_string())}
            {number("steps", "training steps", |c| c.steps.to_string())}
            {number("grid", "grid", |c| c.grid.to_string())}
            {number("w", "unit's w", |c| c.w.render())}
            {number("b", "unit's b", |c| c.b.to_string())}
            {number("seed", "seed", |c| c.seed.to_string())}
        </div>
    }
}

/// The probe's numbers: the chosen method's estimate and closed form, and completeness.
#[component]
fn ProbeSummary(report: RwSignal<Shown>, pending: RwSignal<Option<Backend>>) -> impl IntoView {
    let where_ = |b: Backend| {
        if b == Backend::Gpu {
            "WebGPU"
        } else {
            "the CPU"
        }
    };
    let meta = move || {
        if let Some(b) = pending.get() {
            return format!("computing on {}…", where_(b));
        }
        report.with(|r| match r {
            None => "computing…".to_string(),
            Some((r, b)) => format!(
                "computed on {}; network trained in the compute worker{}",
                where_(*b),
                r.train_accuracy.map_or(String::new(), |a| format!(
                    ", training accuracy {:.1} %",
                    100.0 * a
                ))
            ),
        })
    };
    let rows = move || {
        report.with(|r| {
            let Some((r, _)) = r else { return Vec::new() };
            let v = |a: [f64; 2]| format!("({}, {})", short(a[0]), short(a[1]));
            let c = &r.completeness;
            vec![
                ("attribution at the probe".to_string(), v(r.attribution)),
                (
                    "closed form".to_string(),
                    r.exact.map_or("none (Monte Carlo only)".into(), v),
                ),
                ("class attributed".to_string(), r.class.to_string()),
                (
                    "EG completeness Σ EG_i vs S_c(x) − E S_c(x′)".to_string(),
                    format!(
                        "{} vs {} (± {} SE)",
                        short(c.sum),
                        short(c.target),
                        short(c.se)
                    ),
                ),
            ]
        })
    };
    view! {
        <div class="panel">
            <p class="meta" data-testid="saliency-meta">{meta}</p>
            <table data-testid="probe-table">
                <tbody>
                    {move || rows().into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn SaliencyWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<SaliencyConfig>();
    let set_config = use_set_config::<SaliencyConfig>();
    let backend = use_active_backend(
        <crate::experiments::saliency::Saliency as crate::experiments::registry::Experiment>::INFO
            .id,
    );
    let set_field = use_set_field(cfg);
    let (report, pending) = run::runs(ctx, cfg, backend);
    view! {
        <article class="widget" data-testid="saliency-widget">
            <header class="widget-head">
                <h1>"Attribution smoothing"</h1>
                <p class="claim">
                    "A ReLU network's gradient is a mosaic of constant pieces, so raw saliency jumps at every kink. Averaging it over input noise (SmoothGrad), over paths from data baselines (expected gradients) or over a ball (uniform smoothing) gives smoother attributions; the ball's average moves at most in proportion to how far its disc moves, which certifies a lower bound on the cosine under any ‖δ‖ ≤ ε. In 2-D the whole field is visible and the certificate can be checked against an exhaustive search. "
                    {paper_anchor(papers::SMILKOV_2017)}" · "{paper_anchor(papers::ERION_2021)}
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="saliency"
                json=Signal::derive(move || report.with(|r| r.as_ref().map(|(r, _)| serde_json::to_string(r).unwrap_or_default())))
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&SaliencyConfig::default())
                }
            />
            <SaliencyControls cfg set_field />
            <p class="explain">{format!("The page's CPU runs take at most a {g} × {g} grid, {PAGE_CPU_SAMPLES} samples per point and {PAGE_CPU_STEPS} training steps; WebGPU runs take the grid and samples asked for.", g = PAGE_CPU_GRID)}</p>
            <ProbeSummary report pending />
            <FieldPanel report cfg set_field />
            <div class="panels two">
                <RingPanel report />
                <NoisePanel report />
            </div>
        </article>
    }
}
