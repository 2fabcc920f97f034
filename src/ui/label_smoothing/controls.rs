//! The label-smoothing widget's controls: the config's fields, play and
//! restart with the run's progress, and the choice of test example.

use std::sync::Arc;

use leptos::prelude::*;

use super::canvases::TestData;
use super::plots::MetricsTable;
use crate::experiments::Backend;
use crate::experiments::config::Param;
use crate::experiments::label_smoothing::{DatasetId, LabelSmoothingConfig, Snapshot};
use crate::ui::controls::{self, SetField};
use crate::ui::query::Control;

/// The config's fields: data set, the losses' parameters, the network and training.
#[component]
pub(super) fn LsControls(cfg: Memo<LabelSmoothingConfig>, set_field: SetField) -> impl IntoView {
    let slider =
        move |key, label, range, value| controls::slider(cfg, set_field, key, label, range, value);
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    view! {
        <div class="controls stacked ls-controls">
            {controls::select(cfg, set_field, "dataset", "data set", [DatasetId::Gauss8, DatasetId::Blobs3, DatasetId::Spirals3, DatasetId::Moons, DatasetId::Circles].iter().map(|d| d.as_str()).collect(), |c| c.dataset.render())}
            {slider("smoothing", "smoothing ε", (0.0, 0.5, 0.01), |c| c.smoothing)}
            {slider("maxsup", "MaxSup α (0 = off)", (0.0, 1.0, 0.05), |c| c.maxsup)}
            {slider("noise", "label noise", (0.0, 0.5, 0.01), |c| c.noise)}
            <div class="ls-row">
                {number("tsla", "TSLA: ε off from step (0 = never)", |c| c.tsla.render())}
                {number("hidden", "hidden widths", |c| c.hidden.render())}
            </div>
            <div class="ls-row">
                {number("steps", "steps", |c| c.steps.render())}
                {number("lr", "learning rate", |c| c.lr.render())}
                {number("seed", "seed", |c| c.seed.render())}
            </div>
        </div>
    }
}

/// Chooses the test example of the logit view.
#[component]
pub(super) fn ExamplePicker(
    example: RwSignal<usize>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
    test_data: RwSignal<Option<Arc<TestData>>>,
) -> impl IntoView {
    let n = move || {
        test_data
            .with(|t| t.as_ref().map_or(1, |t| t.y.len()))
            .max(1)
    };
    // The next example some model gets wrong (where the error-enhancement term acts).
    let next_wrong = move |_| {
        let start = example.get_untracked();
        let found = snap.with_untracked(|s| {
            let s = s.as_ref()?;
            let c = s.classes;
            let total = s.test_labels.len();
            (1..=total).map(|d| (start + d) % total).find(|&i| {
                s.models.iter().any(|m| {
                    let row = &m.logits[i * c..(i + 1) * c];
                    let arg = row
                        .iter()
                        .enumerate()
                        .fold(
                            (0, f32::NEG_INFINITY),
                            |b, (k, &v)| if v > b.1 { (k, v) } else { b },
                        )
                        .0;
                    arg as u32 != s.test_labels[i]
                })
            })
        });
        if let Some(i) = found {
            example.set(i);
        }
    };
    view! {
        <div class="buttons ls-picker">
            <button data-testid="example-prev" on:click=move |_| example.update(|e| *e = (*e + n() - 1) % n())>"◀"</button>
            <label class="ls-inline">
                <span>"test example"</span>
                <input type="number" min="0" data-testid="example" aria-label="test example"
                    prop:max=move || (n() - 1).to_string()
                    prop:value=move || example.get().to_string()
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).trim().parse::<usize>() {
                            example.set(v.min(n() - 1));
                        }
                    } />
            </label>
            <button data-testid="example-next" on:click=move |_| example.update(|e| *e = (*e + 1) % n())>"▶"</button>
            <button data-testid="example-wrong" on:click=next_wrong>"next misclassified"</button>
            <span class="muted">{move || {
                let label = test_data.with(|t| t.as_ref().and_then(|t| t.y.get(example.get()).copied()));
                let at = test_data.with(|t| t.as_ref().and_then(|t| {
                    let i = example.get();
                    t.x.get(2 * i..2 * i + 2).map(|p| (p[0], p[1]))
                }));
                match (label, at) {
                    (Some(y), Some((a, b))) => format!("true class {} · at ({a:.2}, {b:.2})", y + 1),
                    _ => String::new(),
                }
            }}</span>
        </div>
    }
}

/// Step k of n with play/pause and restart, the metrics, and what they mean.
#[component]
pub(super) fn RunPanel(
    step: RwSignal<u32>,
    total: Memo<u32>,
    playing: RwSignal<bool>,
    restarts: RwSignal<u32>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
    computed_on: RwSignal<Option<Backend>>,
    thread: RwSignal<Option<String>>,
) -> impl IntoView {
    let finished = move || {
        step.get() >= total.get()
            && snap.with(|s| s.as_ref().is_some_and(|s| s.step >= total.get()))
    };
    view! {
        <section class="panel">
            <h2>{move || format!("Step {} of {}", step.get(), total.get())}</h2>
            <progress class="ls-progress" max=move || total.get().to_string() value=move || step.get().to_string()></progress>
            <Control name="controls">
            <div class="buttons ls-buttons">
                <button data-testid="play" on:click=move |_| playing.update(|p| *p = !*p)>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                </button>
                <button data-testid="restart" on:click=move |_| {
                    restarts.update(|r| *r += 1);
                    playing.set(true);
                }>"Restart"</button>
                <span class="muted" data-testid="ls-state">{move || if finished() { "finished" } else if playing.get() { "training…" } else { "paused" }}</span>
            </div>
            </Control>
            <MetricsTable snap computed_on thread />
            <p class="explain">
                "All models share the initial weights, the data and every minibatch; only the loss differs. Metrics are on the clean test set; ECE uses 15 equal-width bins; AURC is the area under the risk–coverage curve (lower is better); “ln” after logit normalisation."
            </p>
        </section>
    }
}
