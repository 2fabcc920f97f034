//! The readouts beside the particles: the metrics table and the distance
//! over the run, and the noise schedule with the shown level marked.

use leptos::prelude::*;

use super::run::{Frame, RunState};
use crate::experiments::Backend;
use crate::experiments::diffusion::{self as dexp, DiffusionConfig, Level, Metrics, TRAIN_STEPS};
use crate::experiments::papers;
use crate::ui::charts::{LinePlot, Series, short};
use crate::ui::pages::paper_anchor;

/// The "How close to the data" panel: the metrics, the distance to fresh
/// data over the run, and what they measure.
#[component]
pub(super) fn MetricsPanel(run: RunState) -> impl IntoView {
    let RunState {
        metrics,
        nfe,
        frame,
        thread,
        swd_curve,
        ..
    } = run;
    view! {
        <section class="panel" data-panel="metrics">
            <h2>"How close to the data"</h2>
            <MetricsTable metrics nfe frame thread />
            {move || {
                let pts = swd_curve.get();
                (pts.len() > 1).then(|| view! {
                    <LinePlot
                        series=vec![Series { name: "sliced Wasserstein distance to fresh data", color: "var(--accent)", points: pts, ..Series::default() }]
                        x_label="step"
                        y_label="SWD"
                        title="Distance to fresh data over the run".to_string()
                    />
                })
            }}
            <p class="explain">
                "The sliced Wasserstein distance compares the particles with fresh samples of the data (points the scores never saw) along 64 directions; two independent data samples of the same size sit near the noise floor. A sample within δ of a training point counts as memorised — fresh data shows how often that happens by chance. "
                {paper_anchor(papers::SCARVELIS_2025)}
            </p>
        </section>
    }
}

/// The "noise schedule" panel: the schedule's curves, and what they mean.
#[component]
pub(super) fn SchedulePanel(cfg: Memo<DiffusionConfig>, run: RunState) -> impl IntoView {
    let RunState {
        levels,
        frame,
        scrub,
        ..
    } = run;
    view! {
        <section class="panel" data-panel="schedule">
            <h2>"The noise schedule"</h2>
            <ScheduleView cfg levels frame scrub />
            <p class="explain">
                "x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε. The linear schedule of DDPM destroys the signal early; the cosine schedule of Improved DDPM keeps it longer. The sampler visits the marked levels, from pure noise (left) to data (right). "
                {paper_anchor(papers::HO_2020)} " " {paper_anchor(papers::NICHOL_2021)}
            </p>
        </section>
    }
}

/// The live metrics, the score evaluations, and where the run computes.
#[component]
fn MetricsTable(
    metrics: RwSignal<Option<Metrics>>,
    nfe: RwSignal<u64>,
    frame: RwSignal<Option<Frame>>,
    thread: RwSignal<Option<String>>,
) -> impl IntoView {
    let on_cpu = move || frame.with(|f| f.as_ref().is_some_and(|f| f.backend == Backend::Cpu));
    view! {
        <table class="metrics" data-testid="diffusion-metrics">
            <tbody>
                <tr><th>"sliced Wasserstein to fresh data"</th><td data-testid="swd">{move || metrics.get().map(|m| short(m.swd)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"memorised (within δ of a training point)"</th><td data-testid="memorized">{move || metrics.get().map(|m| format!("{:.1} %", 100.0 * m.memorized)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"… fresh data, for comparison"</th><td>{move || metrics.get().map(|m| format!("{:.1} %", 100.0 * m.memorized_fresh)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"memorised (nearest training point < ⅓ of the second nearest, Gu et al.)"</th><td data-testid="memorized-ratio">{move || metrics.get().map(|m| format!("{:.1} %", 100.0 * m.memorized_ratio)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"… fresh data, for comparison"</th><td>{move || metrics.get().map(|m| format!("{:.1} %", 100.0 * m.memorized_ratio_fresh)).unwrap_or_else(|| "—".into())}</td></tr>
                <tr><th>"score evaluations per particle"</th><td data-testid="nfe">{move || nfe.get().to_string()}</td></tr>
                <tr><th>"computed on"</th><td>
                    <span data-testid="diffusion-backend">{move || frame.get().map(|f| match f.backend { Backend::Gpu => "WebGPU", Backend::Cpu => "CPU" }).unwrap_or("—")}</span>
                    {move || on_cpu().then(|| view! { <span class="muted" data-testid="compute-thread">{move || thread.get().map(|t| format!(" · {t}"))}</span> })}
                </td></tr>
            </tbody>
        </table>
    }
}

/// √ᾱ and √(1 − ᾱ) over the training steps, with the sampler's levels marked.
#[component]
fn ScheduleView(
    cfg: Memo<DiffusionConfig>,
    levels: Memo<Vec<Level>>,
    frame: RwSignal<Option<Frame>>,
    scrub: RwSignal<Option<usize>>,
) -> impl IntoView {
    // The curves change with the schedule only; the marker with every step.
    let kind = Memo::new(move |_| cfg.with(|c| c.schedule));
    let sched = Memo::new(move |_| dexp::schedule(kind.get(), TRAIN_STEPS));
    let curve = move |f: fn(f64) -> f64| -> Vec<(f64, f64)> {
        sched.with(|s| {
            s.alphas_cumprod
                .iter()
                .enumerate()
                .step_by(10)
                .map(|(t, &a)| (t as f64, f(a)))
                .collect()
        })
    };
    move || {
        let signal = curve(f64::sqrt);
        let noise = curve(|a| (1.0 - a).sqrt());
        let shown = scrub
            .get()
            .or_else(|| frame.with(|f| f.as_ref().map(|f| f.step)));
        let marker = shown.map(|k| {
            let l = levels.with(|l| l[k.min(l.len() - 1)]);
            // The training step with this ᾱ (on the VP path): nearest in the table.
            let abar = f64::from(l.a * l.a) / f64::from(l.a * l.a + l.v).max(1e-12);
            sched.with(|s| {
                s.alphas_cumprod
                    .iter()
                    .position(|&a| a <= abar)
                    .unwrap_or(0)
            }) as f64
        });
        let series = vec![
            Series {
                name: "signal √ᾱ",
                color: "var(--accent)",
                points: signal,
                ..Series::default()
            },
            Series {
                name: "noise √(1 − ᾱ)",
                color: "#D55E00",
                points: noise,
                ..Series::default()
            },
        ];
        let title = format!("{} schedule, T = 1000", kind.get().as_str());
        match marker {
            Some(m) => view! { <LinePlot series x_label="training step t" y_label="scale" marker_x=m title /> }.into_any(),
            None => view! { <LinePlot series x_label="training step t" y_label="scale" title /> }.into_any(),
        }
    }
}
