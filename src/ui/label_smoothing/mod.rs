//! The label-smoothing widget: two or three tiny classifiers (hard labels,
//! smoothed labels, MaxSup) train side by side from the same seed and data,
//! live, with their logits on one example, penultimate-layer clusters,
//! calibration, selective classification and decision regions.

mod canvases;
mod controls;
mod plots;
mod run;

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::backend::{BackendCtx, use_active_backend};
use super::charts::short;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::label_smoothing::{
    DatasetId, LabelSmoothing, LabelSmoothingConfig, ModelKind, Report,
};
use crate::experiments::papers;
use crate::experiments::registry::Experiment;
use canvases::{ClusterCanvas, RegionCanvas};
use controls::{ExamplePicker, LsControls, RunPanel};
use plots::{Findings, LogitPanel, ReliabilityPlot, RiskCoveragePlot};
use run::RunState;

/// One colour per model, the same in every panel.
fn model_color(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Hard => "#3b5bdb",
        ModelKind::Smoothed => "#D55E00",
        ModelKind::MaxSup => "#009E73",
    }
}

fn model_name(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Hard => "hard labels",
        ModelKind::Smoothed => "label smoothing",
        ModelKind::MaxSup => "MaxSup",
    }
}

fn lognorm_name(k: ModelKind) -> &'static str {
    match k {
        ModelKind::Hard => "hard · lognorm",
        ModelKind::Smoothed => "smoothing · lognorm",
        ModelKind::MaxSup => "MaxSup · lognorm",
    }
}

/// The model's name with its loss parameter, e.g. "label smoothing (ε = 0.2)".
fn model_title(k: ModelKind, c: &LabelSmoothingConfig) -> String {
    match k {
        ModelKind::Hard => "hard labels".into(),
        ModelKind::Smoothed if c.tsla > 0 => {
            format!(
                "label smoothing (ε = {}, off from step {})",
                short(c.smoothing),
                c.tsla
            )
        }
        ModelKind::Smoothed => format!("label smoothing (ε = {})", short(c.smoothing)),
        ModelKind::MaxSup => format!("MaxSup (α = {})", short(c.maxsup)),
    }
}

/// Says why the published effects may not show away from the default setting.
#[component]
fn OffDefaultNote(cfg: Memo<LabelSmoothingConfig>) -> impl IntoView {
    let off_default =
        Memo::new(move |_| cfg.with(|c| c.dataset != DatasetId::Gauss8 || c.noise > 0.0));
    view! {
        {move || off_default.get().then(|| view! {
            <p class="agreement" role="status" data-testid="off-default-note">
                "The published effects below are only verified at the default setting (gauss8, no label noise). "
                {move || cfg.with(|c| {
                    let mut why = Vec::new();
                    if matches!(c.dataset, DatasetId::Blobs3 | DatasetId::Spirals3) {
                        why.push("blobs3 and spirals3 are nearly separable, so AURC is close to 0 for every model and the effects barely show.");
                    }
                    if c.noise > 0.0 {
                        why.push("With label noise the calibration effect can fail: calibration is scored on the clean test labels.");
                    }
                    why.join(" ")
                })}
            </p>
        })}
    }
}

#[component]
pub fn LabelSmoothingWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<LabelSmoothingConfig>();
    let set_config = use_set_config::<LabelSmoothingConfig>();
    let backend = use_active_backend(<crate::experiments::label_smoothing::LabelSmoothing as crate::experiments::registry::Experiment>::INFO.id);

    let run = RunState::new(ctx);
    let kinds = Memo::new(move |_| cfg.with(LabelSmoothingConfig::kinds));
    // (Re)start whenever the config, the backend or Restart changes: latest config wins.
    run.restart_on_change(cfg, backend);
    // The animation clock: one bounded job per tick, nothing while paused or hidden.
    run.drive();
    let RunState {
        playing,
        restarts,
        step,
        computed_on,
        snap,
        diverged,
        regions,
        test_data,
        example,
        thread,
        ..
    } = run;

    let report = Signal::derive(move || {
        let b = computed_on.get()?;
        snap.with(|s| {
            s.as_ref()
                .and_then(|s| serde_json::to_string(&Report::from_snapshot(s, b)).ok())
        })
    });

    let set_field = use_set_field(cfg);

    let total = Memo::new(move |_| cfg.with(|c| c.steps));

    view! {
        <article class="widget" data-testid="label-smoothing-widget" data-step=move || step.get().to_string()>
            <header class="widget-head">
                <h1>"Label smoothing"</h1>
                <p class="claim">
                    "Train with soft targets (1 − ε)·onehot + ε/K instead of hard labels, and the classifier becomes better calibrated and its classes cluster tightly — yet it ranks its own mistakes worse, so selective classification suffers. Three tiny networks train side by side from the same seed, data and minibatches."
                </p>
            </header>
            <ConfigNotes notes />
            {move || diverged.get().map(|m| view! { <p class="notes" role="status" data-testid="diverged">{m}</p> })}
            <OffDefaultNote cfg />
            <ShareBar
                name="label-smoothing"
                json=report
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&LabelSmoothingConfig::default())
                }
            />
            <div class="panels ls-top">
                <section class="panel">
                    <h2>"Settings"</h2>
                    <LsControls cfg set_field />
                </section>
                <RunPanel step total playing restarts snap computed_on thread />
            </div>
            <Panel id="regions" class="ls-section">
                <h2>"Decision regions"</h2>
                <div class="ls-grid" style=move || format!("--n: {}", kinds.with(Vec::len))>
                    {move || kinds.get().into_iter().enumerate().map(|(i, k)| view! {
                        <RegionCanvas index=i kind=k cfg regions test_data />
                    }).collect_view()}
                </div>
                <p class="explain">
                    "The predicted class over the input plane; paler where the model is less confident. Dots are test points, coloured by their true class."
                </p>
            </Panel>
            <Panel id="loss" class="ls-section">
                <h2>"What the loss sees on one example"</h2>
                <ExamplePicker example snap test_data />
                <LogitPanel example snap cfg />
                <p class="explain">
                    "Smoothing adds ε·(z_y − mean z) to the cross-entropy. MaxSup splits it: the regularisation part pulls the true logit towards the others it beats; the error-enhancement part (nonzero only on a misclassified example) pushes the true logit further below the classes that beat it. MaxSup keeps only the first, penalising α·(max z − mean z). "
                    {paper_anchor(papers::ZHOU_2025)}
                </p>
            </Panel>
            <Panel id="clusters" class="ls-section">
                <h2>"Penultimate-layer clusters"</h2>
                <div class="ls-grid" style=move || format!("--n: {}", kinds.with(Vec::len))>
                    {move || kinds.get().into_iter().enumerate().map(|(i, k)| view! {
                        <ClusterCanvas index=i kind=k cfg snap />
                    }).collect_view()}
                </div>
                <p class="explain">
                    "Test points of three classes, projected onto the plane through those classes' templates (their rows of the last weight matrix). Label smoothing pulls each class into a tight cluster, equidistant from the others, and erases how close examples are to other classes. "
                    {paper_anchor(papers::MULLER_2019)}
                </p>
            </Panel>
            <div class="panels two">
                <Panel id="reliability">
                    <h2>"Calibration"</h2>
                    <ReliabilityPlot snap />
                    <Findings effects=&["ece"] />
                    <p class="explain">"Accuracy against confidence in 15 bins; a calibrated model lies on the diagonal. Hard labels make a network over-confident; smoothing pulls it back. " {paper_anchor(papers::MULLER_2019)}</p>
                </Panel>
                <Panel id="selective">
                    <h2>"Selective classification"</h2>
                    <RiskCoveragePlot snap />
                    <Findings effects=&["aurc", "lognorm"] />
                    <p class="explain">"Keep only the most confident fraction (coverage) of the test set and measure the error among those kept. Solid: max-softmax confidence; dashed: after logit normalisation. " {paper_anchor(papers::XIA_2025)}</p>
                </Panel>
            </div>
            <section class="explain">
                <p class="papers-inline">
                    {LabelSmoothing::INFO.papers.iter().map(|p| view! { {paper_anchor(*p)} " " }).collect_view()}
                </p>
            </section>
        </article>
    }
}
