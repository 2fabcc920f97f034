//! The "Same seed, same numbers" widget: draws of the counter-based
//! generator on the active backend, against the exact laws, with a live
//! CPU-vs-GPU comparison of the same draws.

use leptos::prelude::*;

use crate::ui::figure::Panel;
use leptos::task::spawn_local;

use super::backend::{
    BackendCtx, gpu_compute, record_computed, report_gpu_fault, use_active_backend,
};
use super::charts::HistogramPlot;
use super::now_ms;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, Control, use_config, use_set_config, use_set_field};
use crate::experiments::Backend;
use crate::experiments::registry::{Experiment, RunError};
use crate::experiments::rng::{
    Agreement, Rng, RngConfig, VariateSummary, agreement, draw_cpu_sliced, summaries_sliced,
};

/// What one run shows.
#[derive(Debug, Clone, PartialEq)]
struct RngView {
    backend: Backend,
    count: u32,
    summaries: [VariateSummary; 3],
    first_words: Vec<u32>,
    /// CPU against GPU for the same config, when WebGPU is up.
    agreement: Option<Agreement>,
    ms: f64,
}

async fn run(cfg: RngConfig, backend: Backend) -> Result<RngView, RunError> {
    // The CPU draws are the reference the GPU's are compared with (at most
    // 2^20 draws, once per config change), in slices between frames.
    let (cpu, cpu_ms) = draw_cpu_sliced(&cfg, now_ms, super::yield_to_browser).await;
    let gpu_draws = match gpu_compute() {
        Some(on) => {
            let t1 = now_ms();
            Some((Rng::run(&cfg, &on).await?, now_ms() - t1))
        }
        None => None,
    };
    let (shown, backend, ms) = match (backend, &gpu_draws) {
        (Backend::Gpu, Some((g, ms))) => (g, Backend::Gpu, *ms),
        _ => (&cpu, Backend::Cpu, cpu_ms),
    };
    Ok(RngView {
        backend,
        count: cfg.count,
        summaries: summaries_sliced(shown, super::yield_to_browser).await,
        first_words: shown.u32.iter().take(6).copied().collect(),
        agreement: gpu_draws.as_ref().map(|(g, _)| agreement(&cpu, g)),
        ms,
    })
}

fn fmt_count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[component]
pub fn RngWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<RngConfig>();
    let backend = use_active_backend(
        <crate::experiments::rng::Rng as crate::experiments::registry::Experiment>::INFO.id,
    );
    let set_config = use_set_config::<RngConfig>();
    let shown = RwSignal::new(None::<RngView>);
    let generation = StoredValue::new(0u64);

    Effect::new(move |_| {
        let cfg = cfg.get();
        let backend = backend.get();
        let this_run = generation.get_value() + 1;
        generation.set_value(this_run);
        spawn_local(async move {
            let result = run(cfg, backend).await;
            if generation.try_get_value() != Some(this_run) {
                return; // a newer config superseded this run
            }
            match result {
                Ok(v) => {
                    record_computed(v.backend);
                    shown.set(Some(v));
                }
                // The GPU failed mid-run: say so and rerun on the CPU (the status change reruns us).
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });

    // Lenient: an out-of-range entry is clamped, never rejected.
    let set_field = use_set_field(cfg);
    let new_seed = {
        let set_config = set_config.clone();
        move |_| {
            let mut c = cfg.get_untracked();
            c.seed = (js_sys::Math::random() * 1e6) as u32;
            set_config(&c);
        }
    };
    let reset = move |_| set_config(&RngConfig::default());

    view! {
        <article class="widget" data-testid="rng-widget">
            <header class="widget-head">
                <h1>"Same seed, same numbers"</h1>
                <p class="claim">
                    "A counter-based generator makes every draw a pure function of (seed, stream, index), so the CPU and the GPU produce the same variates in any order."
                </p>
            </header>
            <ConfigNotes notes />
            <Control name="controls">
            <div class="controls">
                <Control name="seed">
                <label>
                    <span>"Seed"</span>
                    <input
                        type="number"
                        min="0"
                        max="4294967295"
                        prop:value=move || cfg.get().seed.to_string()
                        on:change=move |ev| set_field.run(("seed", event_target_value(&ev)))
                        data-testid="seed"
                    />
                </label>
                </Control>
                <Control name="stream">
                <label>
                    <span>"Stream"</span>
                    <input
                        type="number"
                        min="0"
                        max="4294967295"
                        prop:value=move || cfg.get().stream.to_string()
                        on:change=move |ev| set_field.run(("stream", event_target_value(&ev)))
                    />
                </label>
                </Control>
                <Control name="count">
                <label class="wide">
                    <span>{move || format!("Draws: {}", fmt_count(cfg.get().count as usize))}</span>
                    <input
                        type="range"
                        min="10"
                        max="20"
                        step="1"
                        prop:value=move || (31 - cfg.get().count.leading_zeros()).to_string()
                        on:input=move |ev| {
                            let log2: u32 = event_target_value(&ev).parse().unwrap_or(14);
                            set_field.run(("count", (1u32 << log2.min(20)).to_string()))
                        }
                        aria-label="Number of draws (log scale)"
                    />
                </label>
                </Control>
                <div class="buttons">
                    <button on:click=new_seed>"New seed"</button>
                    <button on:click=reset>"Reset"</button>
                </div>
            </div>
            </Control>
            {move || match shown.get() {
                None => view! { <p class="running">"Drawing…"</p> }.into_any(),
                Some(v) => view! { <RngResults v /> }.into_any(),
            }}
            <section class="explain">
                <p>
                    "Each 32-bit word comes from Philox4x32-10 applied to the counter (index / 4) under the key (seed, stream); its top 23 bits give a uniform strictly inside (0, 1), which the normal quantile (AS 241) and −ln(−ln u) turn into normal and Gumbel draws. Both backends run the same floating-point operations in the same order, so they agree bit for bit, and every later experiment inherits that: change the backend and the numbers stay."
                </p>
                <p class="papers-inline">
                    {Rng::INFO.papers.iter().map(|p| paper_anchor(*p)).collect_view()}
                </p>
            </section>
        </article>
    }
}

#[component]
fn RngResults(v: RngView) -> impl IntoView {
    let agreement = match &v.agreement {
        Some(a) => {
            let ok = a.holds();
            view! {
                <p class="agreement" class:ok=ok data-testid="agreement" data-identical=a.identical_words data-count=a.count>
                    <strong>{if ok { "CPU = GPU. " } else { "CPU ≠ GPU! " }}</strong>
                    {format!(
                        "{} / {} words bit-identical; largest variate difference {}.",
                        fmt_count(a.identical_words),
                        fmt_count(a.count),
                        match a.max_scaled_diff {
                            0.0 => "0".to_string(),
                            d if d.is_finite() => format!("{d:.1e}"),
                            _ => "not finite (a NaN or ∞ in one backend)".to_string(),
                        },
                    )}
                </p>
            }
            .into_any()
        }
        None => view! {
            <p class="agreement" data-testid="agreement">
                "The CPU-vs-GPU comparison needs WebGPU; these draws come from the CPU."
            </p>
        }
        .into_any(),
    };
    let where_ = match v.backend {
        Backend::Gpu => "WebGPU",
        Backend::Cpu => "the CPU",
    };
    let words = v
        .first_words
        .iter()
        .map(|w| format!("{w:08x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let [uniform, normal, gumbel] = v.summaries.clone();
    let rows = v
        .summaries
        .iter()
        .map(|s| {
            view! {
                <tr>
                    <th scope="row">{s.name}</th>
                    <td>{format!("{:.4}", s.mean)}</td>
                    <td>{format!("{:.4}", s.exact_mean)}</td>
                    <td>{format!("{:.4}", s.var)}</td>
                    <td>{format!("{:.4}", s.exact_var)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Panel id="moments">
        <h2>"Agreement and moments"</h2>
        {agreement}
        <p class="meta" data-testid="computed-on">
            {format!(
                "{} draws on {} in {:.1} ms. First words: {words}",
                fmt_count(v.count as usize),
                where_,
                v.ms,
            )}
        </p>
        <table class="moments">
            <thead>
                <tr>
                    <th scope="col">"variate"</th>
                    <th scope="col">"sample mean"</th>
                    <th scope="col">"exact mean"</th>
                    <th scope="col">"sample variance"</th>
                    <th scope="col">"exact variance"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        </Panel>
        <Panel id="histograms">
        <h2>"Histograms against the exact densities"</h2>
        <div class="plots">
            <HistogramPlot summary=uniform label="Uniform (0, 1)" />
            <HistogramPlot summary=normal label="Normal (0, 1)" />
            <HistogramPlot summary=gumbel label="Gumbel (0, 1)" />
        </div>
        </Panel>
    }
}
