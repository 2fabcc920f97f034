//! The tiny-diffusion widget: particles flow from noise to a 2D data set as
//! an animation, under a chosen score source, sampler, schedule and guidance,
//! with the score field, trails, a timeline and live metrics. The reader can
//! drag the components of a custom mixture or draw their own data, which
//! stays in the browser's storage.

mod canvas;
mod controls;
mod drawing;
mod explain;
mod fewer;
mod plots;
mod run;
mod store;

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::backend::{BackendCtx, use_active_backend};
use super::charts::short;
use super::controls::SetField;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, use_config, use_set_config, with_field};
use super::share::ShareBar;
use crate::experiments::config::Config;
use crate::experiments::diffusion::{Diffusion, DiffusionConfig, Drawing, ScoreArrows};
use crate::experiments::registry::Experiment;
use canvas::{ParticleCanvas, score_field};
use controls::{DiffusionControls, PlaybackControls};
use drawing::{DrawingNote, keep_mixture, open_stored_mixture};
use explain::{explain_sampler, explain_score};
use plots::{MetricsPanel, SchedulePanel};
use run::RunState;
use store::DrawingStore;

#[component]
pub fn DiffusionWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<DiffusionConfig>();
    let set_config = use_set_config::<DiffusionConfig>();
    let backend = use_active_backend(<crate::experiments::diffusion::Diffusion as crate::experiments::registry::Experiment>::INFO.id);

    let store = DrawingStore::open();
    // The drawing tools (in the settings panel) find the whole store here.
    provide_context(store);
    let DrawingStore {
        drawing,
        note: drawing_note,
        ..
    } = store;
    // Runs restart when the drawn points change, not when a stored mixture does.
    let drawn_points = Memo::new(move |_| drawing.with(Drawing::point_set));

    let run = RunState::new(cfg);
    // The particles feed these figures; the schedule needs no run, and the
    // fewer-calls comparisons run only where one of their panels is shown.
    if crate::ui::figure::needs_any(&["particles", "metrics"]) {
        run::drive(ctx, run, backend, drawn_points);
    }
    let fewer_state = fewer::drive(run.run_key, drawn_points);
    let field = score_field(cfg, run);

    let set_field = {
        let set_config = set_config.clone();
        Callback::new(move |(key, value): (&'static str, String)| {
            let c = with_field(&cfg.get_untracked(), key, &value);
            set_config(&c);
            if key == "gmm-std" {
                keep_mixture(store, &c);
            }
        })
    };
    let apply_config = {
        let set_config = set_config.clone();
        Callback::new(move |c: DiffusionConfig| set_config(&c))
    };
    open_stored_mixture(cfg, drawing, set_config.clone());
    let set_gmm = {
        let set_config = set_config.clone();
        Callback::new(move |means: Vec<[f32; 2]>| {
            let mut c = cfg.get_untracked();
            c.gmm = means
                .iter()
                .flat_map(|p| {
                    [
                        (f64::from(p[0]) * 100.0).round() / 100.0,
                        (f64::from(p[1]) * 100.0).round() / 100.0,
                    ]
                })
                .collect();
            let _ = c.reconcile();
            set_config(&c);
            keep_mixture(store, &c);
        })
    };

    view! {
        <article class="widget" data-testid="diffusion-widget">
            <header class="widget-head">
                <h1>"Tiny diffusion"</h1>
                <p class="claim">
                    "A diffusion model turns noise into data by following the score ∇log p of the data blurred by noise, from very blurred to sharp. Swap where the score comes from and how the particles step, and watch what is learnt, what is memorised, and what guidance does."
                </p>
            </header>
            <ConfigNotes notes />
            <ShareBar
                name="diffusion"
                json=Signal::derive(move || run.report.get())
                on_reset={
                    let set_config = set_config.clone();
                    move || set_config(&DiffusionConfig::default())
                }
            />
            <div class="panels two diffusion-layout">
                <ParticlesPanel cfg run set_field field store set_gmm />
                <section class="panel">
                    <h2>"Settings"</h2>
                    <DiffusionControls cfg set_field apply_config drawing drawing_note />
                </section>
            </div>
            <div class="panels two">
                <MetricsPanel run />
                <SchedulePanel cfg run />
            </div>
            <div class="panels two">
                <fewer::ParetoPanel st=fewer_state />
                <fewer::OverlayPanel st=fewer_state />
            </div>
            <fewer::CallsPanel st=fewer_state />
            <section class="explain">
                <p class="papers-inline">
                    {Diffusion::INFO.papers.iter().map(|p| view! { {paper_anchor(*p)} " " }).collect_view()}
                </p>
            </section>
        </article>
    }
}

/// The particles panel: the step and noise level shown, the canvas, the
/// run's messages, the playback controls, and what the score source and
/// sampler do.
#[component]
fn ParticlesPanel(
    cfg: Memo<DiffusionConfig>,
    run: RunState,
    set_field: SetField,
    field: Memo<Option<ScoreArrows>>,
    store: DrawingStore,
    /// Moves the custom mixture's components to these means.
    set_gmm: Callback<Vec<[f32; 2]>>,
) -> impl IntoView {
    let RunState {
        runner,
        frame,
        scrub,
        levels,
        train_set,
        message,
        ..
    } = run;
    view! {
        <Panel id="particles">
            <h2>{move || {
                frame.with(|f| match f {
                    Some(f) => format!(
                        "Particles at step {} of {} · σ = {}",
                        scrub.get().unwrap_or(f.step),
                        f.total,
                        short(f64::from(levels.with(|l| l[scrub.get().unwrap_or(f.step).min(f.total)].sigma())))
                    ),
                    None => "Particles".into(),
                })
            }}</h2>
            <ParticleCanvas cfg runner frame scrub field store train_set set_gmm />
            {move || message.get().map(|m| view! { <p class="notes" role="status" data-testid="diffusion-message">{m}</p> })}
            <DrawingNote store />
            <PlaybackControls cfg set_field run />
            <p class="explain">
                {move || explain_score(cfg.with(|c| c.score))}
                " "
                {move || explain_sampler(cfg.with(|c| c.sampler))}
            </p>
        </Panel>
    }
}
