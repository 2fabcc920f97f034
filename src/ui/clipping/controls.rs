//! The clipping widget's controls: the config's fields and the replay buttons.

use leptos::prelude::*;

use crate::experiments::clipping::{ClippingConfig, Noise, Norm, Objective};
use crate::experiments::config::Param;
use crate::ui::controls::{self, SetField};
use crate::ui::query::Control;

/// The config's fields: objective, noise and its parameter, and the estimators' settings.
#[component]
pub(super) fn ClippingControls(cfg: Memo<ClippingConfig>, set_field: SetField) -> impl IntoView {
    let select = move |key, label, options, value| {
        controls::select(cfg, set_field, key, label, options, value)
    };
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    let log_slider = move |key, label, range, value| {
        controls::log_slider(cfg, set_field, key, label, range, value)
    };
    let noise_param = move || match cfg.with(|c| c.noise) {
        Noise::StudentT => log_slider(
            "df",
            "degrees of freedom ν",
            (1.0, 30.0),
            |c: &ClippingConfig| c.df,
        )
        .into_any(),
        Noise::Stable => log_slider("alpha", "stability α", (0.5, 2.0), |c: &ClippingConfig| {
            c.alpha
        })
        .into_any(),
        Noise::Corrupted => number("fraction", "corrupted fraction", |c: &ClippingConfig| {
            c.fraction.to_string()
        })
        .into_any(),
        Noise::Gaussian | Noise::Skewed => view! { <span></span> }.into_any(),
    };
    view! {
        <div class="controls">
            {select("objective", "objective", Objective::ALL.iter().map(|o| o.as_str()).collect(), |c| c.objective.render())}
            {select("noise", "noise", Noise::ALL.iter().map(|o| o.as_str()).collect(), |c| c.noise.render())}
            {noise_param}
            {log_slider("scale", "noise scale s", (0.01, 100.0), |c| c.scale)}
            {controls::checkbox(cfg, set_field, "state-dependent", "scale grows with ‖x − x*‖", |c| c.state_dependent)}
            {log_slider("threshold", "threshold c", (0.001, 1000.0), |c| c.threshold)}
            {log_slider("lr", "learning rate", (0.0001, 1.0), |c| c.lr)}
            {number("batch", "batch", |c| c.batch.to_string())}
            {number("groups", "MoM groups", |c| c.groups.to_string())}
            {select("norm", "clip norm", Norm::ALL.iter().map(|o| o.as_str()).collect(), |c| c.norm.render())}
            {number("steps", "steps", |c| c.steps.to_string())}
            {number("runs", "runs", |c| c.runs.to_string())}
            {number("seed", "seed", |c| c.seed.to_string())}
        </div>
    }
}

/// Play/pause and replay of the trajectories.
#[component]
pub(super) fn ReplayButtons(playing: RwSignal<bool>, frame: RwSignal<usize>) -> impl IntoView {
    view! {
        <Control name="controls">
        <div class="buttons">
            <button on:click=move |_| playing.update(|p| *p = !*p)>
                {move || if playing.get() { "Pause" } else { "Play" }}
            </button>
            <button on:click=move |_| frame.set(0)>"Replay"</button>
        </div>
        </Control>
    }
}
