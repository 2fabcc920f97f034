//! The gradients-without-backpropagation widget: single estimates around a
//! draggable point, and the price of the dimension.

mod dimension;
mod gfm;
mod point;
mod race;

use leptos::prelude::*;

use crate::ui::figure::needs;

use super::backend::{BackendCtx, use_active_backend};
use super::controls::{number, select};
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::config::Param;
use crate::experiments::papers;
use crate::experiments::zo::{Estimator, StepRule, ZoConfig, ZoObjective};
use dimension::DimensionPanel;
use gfm::GfmPanel;
use point::PointPanel;
use race::RacePanel;

/// Each estimator's colour (Okabe–Ito).
pub(super) fn estimator_color(e: Estimator) -> &'static str {
    match e {
        Estimator::Backprop => "var(--ink)",
        Estimator::Fwd => "#0072B2",
        Estimator::Guess => "#CC79A7",
        Estimator::Spsa => "#D55E00",
        Estimator::Gauss => "#E69F00",
        Estimator::Sphere => "#009E73",
        Estimator::SphereVr => "#56B4E9",
    }
}

#[component]
pub fn ZoWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<ZoConfig>();
    let set_config = use_set_config::<ZoConfig>();
    let set_field = use_set_field(cfg);
    let backend = use_active_backend(
        <crate::experiments::zo::Zo as crate::experiments::registry::Experiment>::INFO.id,
    );
    let report_json = RwSignal::new(None::<String>);

    view! {
        <article class="widget" data-testid="zo-widget">
            <header class="widget-head">
                <h1>"Gradients without backpropagation"</h1>
                <p class="claim">
                    "An estimator that sees only a directional derivative (the forward gradient) or two function values (SPSA, Gaussian and sphere smoothing) is unbiased, or unbiased for a smoothed f, but its variance grows with the dimension d: a step along one random direction carries about 1/d of the gradient. A good guess of the direction buys much of that back. "
                    {paper_anchor(papers::FOURNIER_2023)} " " {paper_anchor(papers::CHEN_XU_LUO_2023)}
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="zo"
                json=Signal::derive(move || report_json.get())
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&ZoConfig::default())
                }
            />
            <div class="controls">
                {select(cfg, set_field, "objective", "objective f", ZoObjective::ALL.iter().map(|o| o.as_str()).collect(), |c| c.objective.render())}
                {select(cfg, set_field, "estimator", "estimator", Estimator::ALL.iter().map(|o| o.as_str()).collect(), |c| c.estimator.render())}
                {number(cfg, set_field, "batch", "directions per estimate b", |c| c.batch.render())}
                {number(cfg, set_field, "samples", "single estimates", |c| c.samples.render())}
                {number(cfg, set_field, "mu", "μ (gauss), c (spsa)", |c| c.mu.render())}
                {number(cfg, set_field, "delta", "δ (sphere)", |c| c.delta.render())}
                {number(cfg, set_field, "guess-noise", "guess noise s", |c| c.guess_noise.render())}
                {number(cfg, set_field, "steps", "steps T", |c| c.steps.render())}
                {number(cfg, set_field, "runs", "runs", |c| c.runs.render())}
                {number(cfg, set_field, "dim", "d (GFM panel)", |c| c.dim.render())}
                {number(cfg, set_field, "lr", "step η (GFM panel)", |c| c.lr.render())}
                {number(cfg, set_field, "big-batch", "GFM⁺ big batch", |c| c.big_batch.render())}
                {number(cfg, set_field, "epoch", "GFM⁺ epoch m", |c| c.epoch.render())}
                {number(cfg, set_field, "seed", "seed", |c| c.seed.render())}
                {number(cfg, set_field, "race-lr", "race: step η", |c| c.race_lr.render())}
                {number(cfg, set_field, "budget", "race: forward passes", |c| c.budget.render())}
                {number(cfg, set_field, "minibatch", "race: minibatch B", |c| c.minibatch.render())}
                {select(cfg, set_field, "step-rule", "race: step rule", StepRule::ALL.iter().map(|o| o.as_str()).collect(), |c| c.step_rule.render())}
                {number(cfg, set_field, "spsa-c", "race: spsa c", |c| c.spsa_c.render())}
            </div>
            {move || (cfg.with(|c| c.objective) == ZoObjective::Mlp).then(|| view! {
                <p class="running" data-testid="zo-mlp-note">"The objective mlp is the training race's network (see the race below, and `gradlab zo --objective mlp`); the single-estimate panel draws the quadratic instead."</p>
            })}
            // Each panel computes its own; a figure embed mounts only its own.
            {needs("point").then(|| view! { <PointPanel ctx cfg backend set_field report_json /> })}
            {needs("dimension").then(|| view! { <DimensionPanel ctx cfg backend /> })}
            {needs("gfm").then(|| view! { <GfmPanel cfg /> })}
            {needs("race").then(|| view! { <RacePanel cfg /> })}
            <section class="explain">
                <p class="papers-inline">
                    {paper_anchor(papers::FOURNIER_2023)} {paper_anchor(papers::CHEN_XU_LUO_2023)}
                    {paper_anchor(papers::BAYDIN_2022)} {paper_anchor(papers::NESTEROV_SPOKOINY_2017)}
                    {paper_anchor(papers::SPALL_1992)}
                </p>
            </section>
        </article>
    }
}
