//! The widget's controls: the settings panel, and the playback controls
//! (play, restart, display toggles and the timeline) under the canvas.

use leptos::prelude::*;

use super::drawing::DrawingTools;
use super::run::RunState;
use crate::experiments::config::Param;
use crate::experiments::diffusion::{
    DiffusionConfig, DiffusionData, Drawing, SamplerKind, ScheduleKind, ScoreKind, SkipOrder,
};
use crate::ui::controls::{self, SetField};
use crate::ui::query::Control;

/// The settings panel: every field of the config, with the drawing tools
/// for the reader's own data.
#[component]
pub(super) fn DiffusionControls(
    cfg: Memo<DiffusionConfig>,
    set_field: SetField,
    /// Writes a whole config (an imported mixture).
    apply_config: Callback<DiffusionConfig>,
    drawing: RwSignal<Drawing>,
    drawing_note: RwSignal<Option<String>>,
) -> impl IntoView {
    let select = move |key, label, options, value| {
        controls::select(cfg, set_field, key, label, options, value)
    };
    let slider =
        move |key, label, range, value| controls::slider(cfg, set_field, key, label, range, value);
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    let datasets: Vec<&'static str> = DiffusionData::ALL.iter().map(|d| d.as_str()).collect();
    let scores: Vec<&'static str> = ScoreKind::ALL.iter().map(|d| d.as_str()).collect();
    let samplers: Vec<&'static str> = SamplerKind::ALL.iter().map(|d| d.as_str()).collect();
    let schedules: Vec<&'static str> = ScheduleKind::ALL.iter().map(|d| d.as_str()).collect();
    let import_text = RwSignal::new(String::new());
    view! {
        <div class="controls diffusion-controls">
            {select("dataset", "data set", datasets, |c| c.dataset.render())}
            {select("score", "score source", scores, |c| c.score.render())}
            {move || (cfg.with(|c| c.score) == ScoreKind::Smoothed).then(|| view! {
                {slider("smoothing", "smoothing σ", (0.0, 0.3, 0.005), |c| c.smoothing)}
                <p class="muted" data-testid="smoothing-note">{smoothing_note()}</p>
            })}
            {select("sampler", "sampler", samplers, |c| c.sampler.render())}
            {move || (cfg.with(|c| c.sampler) == SamplerKind::Ddim).then(|| slider("eta", "η", (0.0, 1.0, 0.05), |c| c.eta))}
            {move || (cfg.with(|c| c.sampler) == SamplerKind::Langevin).then(|| view! {
                {number("langevin-steps", "Langevin steps per level", |c| c.langevin_steps.render())}
                {slider("langevin-delta", "Langevin step δ", (0.01, 1.0, 0.01), |c| c.langevin_delta)}
            })}
            {move || (cfg.with(|c| c.sampler) == SamplerKind::Ge).then(|| slider("ge-gamma", "GE γ", (0.0, 4.0, 0.1), |c| c.ge_gamma))}
            {select("schedule", "schedule", schedules, |c| c.schedule.render())}
            {number("steps", "steps", |c| c.steps.render())}
            {number("sigmas", "noise levels σ (override schedule and steps)", |c| c.sigmas.render())}
            <FewerCallControls cfg set_field />
            {number("n", "particles", |c| c.n.render())}
            {slider("guidance", "guidance w", (0.0, 15.0, 0.25), |c| c.guidance)}
            {controls::checkbox(cfg, set_field, "project", "adaptive projected guidance (APG)", |c| c.project)}
            {move || cfg.with(|c| c.project).then(|| view! {
                {slider("apg-eta", "APG parallel weight η", (0.0, 1.0, 0.05), |c| c.apg_eta)}
                {slider("apg-r", "APG rescaling r (0 = off)", (0.0, 5.0, 0.1), |c| c.apg_r)}
                {slider("apg-beta", "APG momentum β", (-0.95, 0.95, 0.05), |c| c.apg_beta)}
                <p class="muted" data-testid="apg-note">{APG_NOTE}</p>
            })}
            {number("train", "training points", |c| c.train.render())}
            {number("seed", "seed", |c| c.seed.render())}
            {move || (cfg.with(|c| c.dataset) == DiffusionData::Custom).then(|| slider("gmm-std", "component std", (0.01, 0.5, 0.01), |c| c.gmm_std))}
            {move || matches!(cfg.with(|c| c.dataset), DiffusionData::Drawn | DiffusionData::Custom).then(|| view! {
                <DrawingTools cfg apply_config drawing drawing_note import_text />
            })}
        </div>
    }
}

/// Skipping (FSampler) and teleportation: the predictor, its pattern, the
/// protected windows, and where to teleport to.
#[component]
fn FewerCallControls(cfg: Memo<DiffusionConfig>, set_field: SetField) -> impl IntoView {
    let orders: Vec<&'static str> = SkipOrder::ALL.iter().map(|d| d.as_str()).collect();
    let number = move |key, label, value| controls::number(cfg, set_field, key, label, value);
    view! {
        {controls::select(cfg, set_field, "skip", "skip calls (ε extrapolation)", orders, |c| c.skip.render())}
        {move || (cfg.with(|c| c.skip) != SkipOrder::None).then(|| view! {
            {controls::checkbox(cfg, set_field, "skip-adaptive", "adaptive (skip where h3 and h2 agree)", |c| c.skip_adaptive)}
            {number("skip-every", "skip every k-th step", |c| c.skip_every.render())}
            {number("protect-first", "never skip the first", |c| c.protect_first.render())}
            {number("protect-last", "never skip the last", |c| c.protect_last.render())}
        })}
        {number("teleport", "teleport (fraction of steps < 1, or σ_s ≥ 1)", |c| c.teleport.render())}
    }
}

/// What the smoothing σ means, and how many perturbations average it.
fn smoothing_note() -> String {
    let n = crate::experiments::diffusion::SMOOTH_PAIRS;
    format!(
        "σ is the paper's: it perturbs the noisy point x_t on the path x_t = t·x₁ + (1 − t)·x₀, so σ/t in data units (large at high noise, σ at the data). The average uses {} perturbations ({n} antithetic pairs ±z), drawn once per particle and fixed for its whole trajectory.",
        2 * n
    )
}

/// What APG does, in the widget's units.
const APG_NOTE: &str = "APG (Sadat et al.): Δ = D_c − D_u, averaged with reverse momentum β along each particle's trajectory, rescaled to ‖Δ‖ ≤ r, and its part parallel to D_c weighted by η: D_c + (w − 1)(Δ⊥ + ηΔ∥). The paper measures r on the denoised image (all its pixels); here on the 2-D denoised point, in data units (the data span about 2 units). In 2-D, parallel to D_c means radial about the origin. η = 1, r = 0 (off), β = 0 is CFG. The paper's claim: high guidance scales without oversaturation.";

/// Play/pause, restart, the trails and score-field toggles, and the
/// timeline that scrubs back through the run's steps.
#[component]
pub(super) fn PlaybackControls(
    cfg: Memo<DiffusionConfig>,
    set_field: SetField,
    run: RunState,
) -> impl IntoView {
    let RunState {
        frame,
        playing,
        scrub,
        restarts,
        ..
    } = run;
    let restart = move |_| {
        restarts.update(|r| *r += 1);
        playing.set(true);
    };
    view! {
        <Control name="controls">
        <div class="buttons">
            <button data-testid="play" on:click=move |_| playing.update(|p| *p = !*p)>
                {move || if playing.get() { "Pause" } else { "Play" }}
            </button>
            <button data-testid="restart" on:click=restart>"Restart"</button>
            {controls::checkbox(cfg, set_field, "trails", "trails", |c| c.trails)}
            {controls::checkbox(cfg, set_field, "field", "score field", |c| c.field)}
        </div>
        <label class="timeline">
            <span>"timeline"</span>
            <input
                type="range"
                min="0"
                data-testid="timeline"
                aria-label="Timeline: the step shown"
                prop:max=move || frame.with(|f| f.as_ref().map_or(0, |f| f.step)).to_string()
                prop:value=move || scrub.get().or_else(|| frame.with(|f| f.as_ref().map(|f| f.step))).unwrap_or(0).to_string()
                on:input=move |ev| {
                    let v = event_target_value(&ev).parse::<usize>().unwrap_or(0);
                    let now = frame.with_untracked(|f| f.as_ref().map_or(0, |f| f.step));
                    playing.set(false);
                    scrub.set(if v >= now { None } else { Some(v) });
                }
            />
        </label>
        </Control>
    }
}
