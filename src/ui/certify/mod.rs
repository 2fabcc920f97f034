//! The randomized-smoothing widget: a base classifier's regions beside the
//! smoothed classifier's p_A heat map, CERTIFY at a clicked point with the
//! true radius drawn beside the certificate, and certified accuracy for hard
//! votes and soft smoothing.

mod canvas;
mod panels;
mod run;

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::backend::{BackendCtx, use_active_backend};
use super::controls::{self, SetField};
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::certify::config::DatasetId;
use crate::experiments::certify::{CertifyConfig, Model, Smoothing, Transform};
use crate::experiments::config::Param;
use crate::experiments::papers;
use canvas::{CERT_COLOR, MapCanvas, TRUE_COLOR};
use panels::{AccuracyPlot, CertificateTable, backend_note};
use run::Shown;

/// The config's fields.
#[component]
fn CertifyControls(cfg: Memo<CertifyConfig>, set_field: SetField) -> impl IntoView {
    let select = move |key, label, options, value| {
        controls::select(cfg, set_field, key, label, options, value)
    };
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    let log_slider = move |key, label, range, value| {
        controls::log_slider(cfg, set_field, key, label, range, value)
    };
    let model_fields = move || {
        match cfg.with(|c| c.model) {
        Model::Linear => view! {
            {number("w", "normal w", |c: &CertifyConfig| c.w.render())}
            {number("b", "offset b", |c: &CertifyConfig| c.b.render())}
        }
        .into_any(),
        Model::Disk => number("radius", "disk radius r", |c: &CertifyConfig| c.radius.render()).into_any(),
        Model::Mlp => view! {
            {select("dataset", "data set", DatasetId::ALL.iter().map(|o| o.as_str()).collect(), |c: &CertifyConfig| c.dataset.render())}
            {number("train-steps", "training steps", |c: &CertifyConfig| c.train_steps.render())}
        }
        .into_any(),
    }
    };
    view! {
        <div class="controls">
            {select("model", "base classifier f", Model::ALL.iter().map(|o| o.as_str()).collect(), |c| c.model.render())}
            {model_fields}
            {select("transform", "noise", Transform::ALL.iter().map(|o| o.as_str()).collect(), |c| c.transform.render())}
            {log_slider("sigma", "σ", (0.05, 4.0), |c| c.sigma)}
            {log_slider("sigma-angle", "σ_θ (rad)", (0.01, 1.0), |c| c.sigma_angle)}
            {log_slider("n", "samples n", (100.0, 1_000_000.0), |c| f64::from(c.n))}
            {number("n0", "selection n₀", |c| c.n0.render())}
            {number("alpha", "level α", |c| c.alpha.render())}
            {select("smoothing", "smoothing", Smoothing::ALL.iter().map(|o| o.as_str()).collect(), |c| c.smoothing.render())}
            {log_slider("temp", "temperature T", (0.01, 100.0), |c| c.temp)}
            {number("points", "points x,y;x,y", |c| c.points.render())}
            {number("test-points", "test points", |c| c.test_points.render())}
            {number("map-n", "samples per pixel", |c| c.map_n.render())}
            {number("grid", "grid", |c| c.grid.render())}
            {number("seed", "seed", |c| c.seed.render())}
        </div>
    }
}

/// The `regions` panel: base regions beside the p_A heat map; a click certifies there.
#[component]
fn RegionsPanel(
    shown: RwSignal<Option<Shown>>,
    pending: RwSignal<bool>,
    set_field: SetField,
) -> impl IntoView {
    let on_pick =
        Callback::new(move |(x, y): (f64, f64)| set_field.run(("points", format!("{x},{y}"))));
    view! {
        <Panel id="regions">
            <h2>"Base classifier f and the smoothed classifier's p_A"</h2>
            <div class="panels two">
                <MapCanvas shown heat=false on_pick testid="base-map" title="f: the base classifier's regions" />
                <MapCanvas shown heat=true on_pick testid="heat-map" title="g: top class, shaded by p̂_A; washed out = CERTIFY abstains" />
            </div>
            <p class="running" data-testid="certify-status">
                {move || if pending.get() { "Computing…".to_string() } else { shown.with(|s| s.as_ref().map(backend_note).unwrap_or_default()) }}
            </p>
            <p class="explain">
                "Click either map to certify that point. The smoothed classifier g(x) = argmax_c P(f(x + ε) = c), ε ~ N(0, σ²I), takes the class the noisy copies of x vote for most; its colour here is that class, strong where the vote p_A is near 1 and faint near ½. In the washed-out region CERTIFY's lower bound p̲_A at this many samples is at most ½, so it abstains. "
                {paper_anchor(papers::COHEN_2019)}
            </p>
        </Panel>
    }
}

/// The `certificate` panel: every certificate with the true radius beside it.
#[component]
fn CertificatePanel(shown: RwSignal<Option<Shown>>) -> impl IntoView {
    view! {
        <Panel id="certificate">
            <h2>"Certified radius beside the true radius"</h2>
            <div class="legend">
                <span class="key"><i class="swatch-on-map" style=format!("background:{CERT_COLOR}")></i>"certified: σΦ⁻¹(p̲_A)"</span>
                <span class="key"><i style=format!("background:{TRUE_COLOR}")></i>"true: distance to g's boundary (dashed)"</span>
            </div>
            {move || shown.get().map(|s| view! { <CertificateTable s /> })}
            <p class="explain">
                "CERTIFY draws n₀ noisy copies to pick the class c_A, then n more to bound p_A from below at level α (one-sided Clopper–Pearson), and certifies the radius R = σΦ⁻¹(p̲_A): no perturbation shorter than R changes g's prediction. In 2-D the truth can be found: the distance from x to g's decision boundary, searched along rays. For a half-plane the two agree as n → ∞ (the bound is tight); for a disk or a network the certificate falls short of the truth. Under rotation, g smooths the angle with θ ~ N(0, σ_θ²) and the certificate is an angle σ_θΦ⁻¹(p̲_A), drawn as an arc about the origin. "
                {paper_anchor(papers::COHEN_2019)} " " {paper_anchor(papers::KORZH_2023)} " " {paper_anchor(papers::CLOPPER_PEARSON_1934)}
            </p>
        </Panel>
    }
}

/// The `accuracy` panel: certified accuracy against radius, hard against soft.
#[component]
fn AccuracyPanel(shown: RwSignal<Option<Shown>>) -> impl IntoView {
    view! {
        <Panel id="accuracy">
            <h2>"Certified accuracy: hard votes and soft smoothing"</h2>
            {move || shown.get().map(|s| view! { <AccuracyPlot s /> })}
            <p class="explain">
                "The fraction of the data set's test points that CERTIFY classifies correctly with a radius at least r (abstentions count as wrong; for the half-plane and the disk the labels are f's own). Soft smoothing averages softmax or sparsemax of the noisy logits at temperature T instead of counting votes, and bounds the mean with an empirical-Bernstein bound, which is tighter when the average varies little. The two curves compare two certificates on the same points, so each is at α/2 (Bonferroni): the better one still holds at α. The paper claims soft maps at a tuned temperature beat hard votes; the sentence above says what this run measured. "
                {paper_anchor(papers::DELATTRE_2024)} " " {paper_anchor(papers::MAURER_PONTIL_2009)}
            </p>
        </Panel>
    }
}

#[component]
pub fn CertifyWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<CertifyConfig>();
    let set_config = use_set_config::<CertifyConfig>();
    let backend = use_active_backend(
        <crate::experiments::certify::Certify as crate::experiments::registry::Experiment>::INFO.id,
    );
    let (shown, pending) = run::certify_runs(ctx, cfg, backend);
    let set_field = use_set_field(cfg);
    view! {
        <article class="widget" data-testid="certify-widget">
            <header class="widget-head">
                <h1>"Certified robustness by randomized smoothing"</h1>
                <p class="claim">
                    "Classify the Gaussian-noised copies of a point and take the majority: the smoothed classifier provably keeps its answer within an ℓ2 radius σΦ⁻¹(p̲_A). In two dimensions the smoothed classifier's true robust radius can be found, so every certificate is drawn beside the radius it under-states."
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="certify"
                json=Signal::derive(move || shown.with(|s| s.as_ref().map(|s| serde_json::to_string(&s.report).unwrap_or_default())))
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&CertifyConfig::default())
                }
            />
            <CertifyControls cfg set_field />
            <RegionsPanel shown pending set_field />
            <CertificatePanel shown />
            <AccuracyPanel shown />
            <section class="explain">
                <p>
                    "A note on dimension: in 2-D the certified radius is a sizeable fraction of the data's scale; in d dimensions the same σ buries the input in noise of norm σ√d, which is why dual randomized smoothing certifies over lower-dimensional halves. Nothing here is high-dimensional. "
                    {paper_anchor(papers::XIA_2024)}
                </p>
            </section>
        </article>
    }
}
