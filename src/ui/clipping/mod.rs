//! The clipping-vs-median widget: trajectories of eight estimators over the
//! objective's contours, the noise's tail, a Monte Carlo over many runs, and
//! clipping's stationary bias under asymmetric noise.

mod canvas;
mod controls;
mod plots;
mod run;

use leptos::prelude::*;

use crate::ui::figure::{Panel, needs};

use super::backend::{BackendCtx, use_active_backend};
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::clipping::{ClippingConfig, Method};
use crate::experiments::papers;
use canvas::{ContourCanvas, MethodLegend};
use controls::{ClippingControls, ReplayButtons};
use plots::{BiasPlot, MonteCarloStatus, NoisePlot};

const METHOD_COLORS: [&str; 8] = [
    "#8A8A8A", "#D55E00", "#E69F00", "#CC79A7", "#0072B2", "#56B4E9", "#009E73", "#7B3294",
];

fn method_label(m: Method) -> &'static str {
    match m {
        Method::Mean => "mean (SGD)",
        Method::ClipNorm => "clip global norm",
        Method::ClipCoord => "clip coordinates",
        Method::ClipSample => "clip per sample",
        Method::Median => "coordinate median",
        Method::GeoMedian => "geometric median",
        Method::Mom => "median of means",
        Method::MedianIter => "median across iterations",
    }
}

#[component]
pub fn ClippingWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<ClippingConfig>();
    let set_config = use_set_config::<ClippingConfig>();
    let backend = use_active_backend(
        <crate::experiments::clipping::Clipping as crate::experiments::registry::Experiment>::INFO
            .id,
    );

    // Trajectories of run 0 (computed in the compute worker), revealed step by step.
    let (paths, frame, playing) = run::replay(cfg, needs("trajectories"));
    // Monte Carlo: latest config wins.
    let (report, pending) = run::monte_carlo_runs(ctx, cfg, backend, needs("monte-carlo"));

    let set_field = use_set_field(cfg);

    view! {
        <article class="widget" data-testid="clipping-widget">
            <header class="widget-head">
                <h1>"Clipping is a median"</h1>
                <p class="claim">
                    "With heavy-tailed gradient noise the minibatch mean is a poor estimate of the gradient: one huge sample moves it anywhere. Clipping, medians and median-of-means are robust — and clipping turns out to estimate a median, which differs from the mean when the noise is asymmetric."
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="clipping"
                json=Signal::derive(move || report.with(|r| r.as_ref().map(|(r, _)| serde_json::to_string(r).unwrap_or_default())))
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&ClippingConfig::default())
                }
            />
            <ClippingControls cfg set_field />
            <div class="panels two">
                <Panel id="trajectories">
                    <h2>"Trajectories from the same start, with the same noise"</h2>
                    <ContourCanvas cfg paths frame />
                    <MethodLegend />
                    <ReplayButtons playing frame />
                    <p class="explain">
                        "Each line is run 0 of one estimator: x ← x − lr·ĝ, where ĝ combines the batch's sample gradients ∇f(x) + ξ. Under Cauchy-like noise the plain mean jumps whenever one sample is huge; the robust estimators ignore it. "
                        {paper_anchor(papers::SCHAIPP_2024)}
                    </p>
                </Panel>
                <Panel id="noise">
                    <h2>"The noise and its tail"</h2>
                    <NoisePlot cfg />
                    <p class="explain">
                        "On a log scale a light tail is a narrow bump; Student-t with few degrees of freedom, α-stable noise with small α and corrupted workers put mass decades to the right. Those rare huge samples are what the mean cannot ignore. "
                        {paper_anchor(papers::PASCANU_2013)}
                    </p>
                </Panel>
            </div>
            <Panel id="monte-carlo">
                <h2>"Monte Carlo: distance to the optimum over many runs"</h2>
                <MonteCarloStatus report pending />
                <p class="explain">
                    "Every estimator runs from the same start on each of the independent noise streams; the line is the median distance ‖x − x*‖ over the runs and the band spans the 10th to 90th percentiles. The robust estimators converge where the mean stalls at the noise floor its outliers set. "
                    {paper_anchor(papers::SCHAIPP_2024)}
                </p>
            </Panel>
            <Panel id="bias">
                <h2>"Clipping's bias under asymmetric noise"</h2>
                <BiasPlot cfg />
                <p class="explain">
                    "With zero-mean but skewed noise, clipped SGD does not settle at the minimiser 0: its fixed point solves E[clip(x + ξ, c)] = 0. For large c that is the mean's root, 0; as c shrinks it moves to −median(ξ) = s(1 − ln 2), the median's root. The dotted line marks the current threshold. "
                    {paper_anchor(papers::KOLOSKOVA_2023)}
                </p>
            </Panel>
        </article>
    }
}
