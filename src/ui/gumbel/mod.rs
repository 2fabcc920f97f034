//! The Gumbel-Softmax widget: draggable logits, a temperature with optional
//! annealing, live samples, six gradient estimators, their bias and
//! variance against τ, and a mini optimisation with each.

mod controls;
mod plots;
pub(crate) mod run;

use leptos::prelude::*;

use crate::ui::figure::{Panel, needs, needs_any};

use super::backend::{BackendCtx, use_active_backend};
use super::controls::select;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, Control, use_config, use_set_config};
use super::share::ShareBar;
use crate::experiments::config::Param;
use crate::experiments::gumbel::{GumbelConfig, Objective};
use crate::experiments::papers;
use controls::{CategoryTable, LogitBars, OptimisationControls, TemperatureControls};
use plots::{EstimatorTable, LiveSimplex, OptimisationPlot, SampleBars, SweepPlots};

#[component]
pub fn GumbelWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<GumbelConfig>();
    let set_config = use_set_config::<GumbelConfig>();
    let backend = use_active_backend(
        <crate::experiments::gumbel::Gumbel as crate::experiments::registry::Experiment>::INFO.id,
    );

    // Annealing clock: ticks since the last restart.
    let playing = RwSignal::new(true);
    let tick = RwSignal::new(0u32);
    let tau_now = Memo::new(move |_| cfg.with(|c| c.tau_at(f64::from(tick.get()))));

    // Live samples.
    let live = run::live_samples(
        cfg,
        playing,
        tick,
        tau_now,
        needs_any(&["samples", "sample-bars"]),
    );
    // Estimates at the current τ: one run in flight, the latest request wins.
    let shown = run::estimates(ctx, cfg, tau_now, backend, needs("estimators"));
    // Bias–variance sweep: independent of τ and of the annealing.
    let swept = run::bias_variance_sweep(ctx, cfg, backend, needs("bias-variance"));
    // Mini optimisation (CPU: steps × batch samples per estimator), in the compute
    // worker; a newer config replaces the pending one.
    let optimised = run::optimisation(cfg, needs("optimisation"));

    let draft = RwSignal::new(None::<Vec<f64>>);
    let (update, set_field) = controls::setters(cfg, set_config.clone());

    view! {
        <article class="widget" data-testid="gumbel-widget">
            <header class="widget-head">
                <h1>"Gumbel-Softmax"</h1>
                <p class="claim">
                    "Adding Gumbel noise to logits and taking the argmax samples a category exactly; replacing the argmax by a softmax at temperature τ makes the sample differentiable. The price is bias at every τ > 0, which shrinks as τ → 0 while the variance of the gradient grows. Straight-through, which keeps the hard sample in the forward pass, is biased too, and differs from Gumbel-Softmax once the objective is not linear."
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="gumbel"
                json=Signal::derive(move || shown.with(|s| s.as_ref().map(|s| serde_json::to_string(&s.estimates).unwrap_or_default())))
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&GumbelConfig::default())
                }
            />
            <div class="panels two">
                <Panel id="logits">
                    <h2>"Logits θ and weights w"</h2>
                    <LogitBars cfg draft update />
                    <Control name="logits,weights">
                        <CategoryTable cfg set_field update />
                    </Control>
                    <div class="controls">
                        {select(cfg, set_field, "objective", "objective f(z)", Objective::ALL.iter().map(|o| o.as_str()).collect(), |c| c.objective.render())}
                    </div>
                    <p class="explain" data-testid="objective-explain">
                        {move || match cfg.with(|c| c.objective) {
                            Objective::Quadratic => "The objective is f(z) = Σ w_k z_k² (quadratic). ",
                            Objective::Linear => "The objective is f(z) = Σ w_k z_k (linear). ",
                        }}
                        "Drag a bar to change a logit; the dots above are the category probabilities softmax(θ). The linear and the quadratic f agree on one-hot z, so under the categorical both have expectation Σ p_k w_k and the same gradient, which the estimators below try to find from samples; on a relaxed sample they differ, and so do the estimators that differentiate f there."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
                </Panel>
                <Panel id="temperature">
                    <h2>"Temperature"</h2>
                    <TemperatureControls cfg tau_now playing tick set_field />
                    <p class="explain">
                        "At high τ a relaxed sample is close to the uniform average of the corners; as τ → 0 it becomes one-hot and equals the hard sample. Annealing lowers τ during training, as the paper does, to trade early low variance for late low bias."
                        " " {paper_anchor(papers::JANG_2017)}
                    </p>
                </Panel>
            </div>
            <div class="panels two">
                <Panel id="samples">
                    <h2>"Samples, live"</h2>
                    <LiveSimplex cfg live tau_now />
                    <p class="explain">
                        "Each dot is one relaxed sample y = softmax((θ + g)/τ), coloured by its hard sample argmax(θ + g). Lower τ and watch the cloud collapse onto the corners, in the proportions softmax(θ)."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
                </Panel>
                <Panel id="sample-bars">
                    <h2>"Hard and relaxed samples against softmax(θ)"</h2>
                    <SampleBars cfg live tau_now />
                    <p class="explain">
                        "The Gumbel-max trick makes hard samples exact: their frequencies converge to softmax(θ) at every τ. The mean relaxed sample does not; it is pulled towards uniform and only reaches softmax(θ) as τ → 0."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
                </Panel>
            </div>
            <Panel id="estimators">
                <h2>"Gradient estimators of ∇θ E[f(z)] at the current τ"</h2>
                {move || match shown.get() {
                    None => view! { <p class="running">"Estimating…"</p> }.into_any(),
                    Some(s) => view! { <EstimatorTable s /> }.into_any(),
                }}
                <p class="explain">
                    "REINFORCE multiplies the reward f(h) = w_h by the score e_h − p: unbiased but noisy. The oracle baseline subtracts the exact mean reward Σ p w: still unbiased, much less noisy, but it is the expectation being differentiated, which no practitioner has. The practical baseline is leave-one-out (RLOO): the samples are taken in consecutive batches of B = `batch`, and each sample's baseline is the mean reward of the other B − 1 in its batch; it stays unbiased. "
                    "Gumbel-Softmax differentiates f at the relaxed sample y, J_y(θ)ᵀ∇f(y): low variance, biased at τ > 0. Straight-through evaluates f at the hard sample and backpropagates through y, J_y(θ)ᵀ∇f(h): biased as well. For the linear f, ∇f = w everywhere and the two are identical; for the quadratic f, ∇f(z) = 2 w ⊙ z, and they differ."
                    " " {paper_anchor(papers::JANG_2017)} " " {paper_anchor(papers::KOOL_2019)}
                </p>
            </Panel>
            <Panel id="bias-variance">
                <h2>"Bias and variance against τ"</h2>
                {move || match swept.get() {
                    None => view! { <p class="running">"Sweeping τ…"</p> }.into_any(),
                    Some((points, n, b)) => view! { <SweepPlots points n backend=b tau=tau_now.get() /> }.into_any(),
                }}
                <p class="explain">
                    "Each point is a Monte Carlo estimate over many samples. The unbiased REINFORCE estimators (no baseline, oracle, leave-one-out) sit at the Monte Carlo noise floor whatever τ. Gumbel-Softmax's bias shrinks towards 0 as τ → 0 (not always steadily: the bias is a vector, and with the quadratic f its length can dip at a moderate τ) while its variance climbs, roughly as 1/τ. Straight-through (dashed) lies on Gumbel-Softmax's curves only for the linear f; for the quadratic f compare the two: neither is unbiased at τ > 0."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
            </Panel>
            <Panel id="optimisation">
                <h2>"Mini optimisation: minimise E[f(z)] with each estimator"</h2>
                {move || optimised.get().map(|o| view! { <OptimisationPlot o=o cfg=cfg.get_untracked() /> })}
                <OptimisationControls cfg set_field />
                <p class="explain">
                    "Every run starts from the same logits and sees the same Gumbel noise, so the curves differ only by the estimator; a step's samples are RLOO's leave-one-out batch. The objective drawn is the exact E[f(z)] = Σ p w at the current logits; the best attainable value is min w."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
            </Panel>
            <section class="explain">
                <p class="papers-inline">{paper_anchor(papers::JANG_2017)} {paper_anchor(papers::MADDISON_2017)} {paper_anchor(papers::KOOL_2019)}</p>
            </section>
        </article>
    }
}
