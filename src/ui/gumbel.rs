//! The Gumbel-Softmax widget: draggable logits, a temperature with optional
//! annealing, live samples, five gradient estimators, their bias and
//! variance against τ, and a mini optimisation with each.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, gpu_compute, report_gpu_fault, run_here, use_active_backend};
use super::charts::{BarPlot, LinePlot, Series, SimplexPlot, category_color, short};
use super::pages::paper_anchor;
use super::query::{ConfigNotes, Control, use_config, use_set_config};
use super::share::ShareBar;
use crate::experiments::Backend;
use crate::experiments::config::Config;
use crate::experiments::gumbel::{
    self, ESTIMATORS, Estimates, Gumbel, GumbelConfig, LiveSampler, Optimisation, SweepPoint,
    softmax,
};
use crate::experiments::papers;
use crate::experiments::registry::RunError;
/// Samples per temperature of the bias–variance sweep.
const SWEEP_GPU: u32 = 1 << 20;
const SWEEP_CPU: u32 = 1 << 15;
/// Live samples drawn per tick, and ticks per second.
const LIVE_PER_TICK: u32 = 30;
const TICK_MS: u64 = 80;
/// The logit bars' vertical range.
const THETA_VIEW: f64 = 5.0;

const ESTIMATOR_COLORS: [&str; 5] = ["var(--ink)", "#D55E00", "#E69F00", "#0072B2", "#009E73"];

/// Estimates shown at the current τ, and where they came from.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    estimates: Estimates,
    backend: Backend,
    samples: u32,
    tau: f64,
}

async fn estimate(cfg: GumbelConfig, backend: Backend) -> Result<Shown, RunError> {
    let (estimates, cfg, backend) = run_here::<Gumbel>(&cfg, backend).await?;
    Ok(Shown {
        estimates,
        backend,
        samples: cfg.samples,
        tau: cfg.tau,
    })
}

async fn sweep(cfg: GumbelConfig, backend: Backend) -> Result<(Vec<SweepPoint>, u32), RunError> {
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        return Ok((gumbel::sweep(&cfg, SWEEP_GPU, &on).await?, SWEEP_GPU));
    }
    Ok((
        super::worker::gumbel_sweep(&cfg, SWEEP_CPU).await,
        SWEEP_CPU,
    ))
}

#[component]
pub fn GumbelWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<GumbelConfig>();
    let set_config = use_set_config::<GumbelConfig>();
    let backend = use_active_backend();

    // Annealing clock: ticks since the last restart.
    let playing = RwSignal::new(true);
    let tick = RwSignal::new(0u32);
    let tau_now = Memo::new(move |_| cfg.with(|c| c.tau_at(f64::from(tick.get()))));

    // Live samples.
    let live = RwSignal::new(LiveSampler::default());
    let logits_key = Memo::new(move |_| cfg.with(|c| (c.logits.clone(), c.seed)));
    Effect::new(move |_| {
        let k = logits_key.with(|(l, _)| l.len());
        live.update(|l| l.reset(k));
    });
    Effect::new(move |prev: Option<f64>| {
        let t = tau_now.get();
        if prev.is_some_and(|p| p != t) {
            live.update(LiveSampler::reset_soft);
        }
        t
    });
    super::animation_clock(playing, TICK_MS, move || {
        let c = cfg.get_untracked();
        if c.anneal > 0.0 {
            tick.update(|t| *t = t.saturating_add(1));
        }
        let tau = tau_now.get_untracked();
        live.update(|l| l.advance(&c, tau, LIVE_PER_TICK));
    });

    // Estimates at the current τ: one run in flight, the latest request wins.
    let shown = RwSignal::new(None::<Shown>);
    let busy = StoredValue::new(false);
    let pending = StoredValue::new(None::<(GumbelConfig, Backend)>);
    fn pump(
        ctx: BackendCtx,
        busy: StoredValue<bool>,
        pending: StoredValue<Option<(GumbelConfig, Backend)>>,
        shown: RwSignal<Option<Shown>>,
    ) {
        // (Also reached after an await: the widget may be gone by then.)
        if busy.try_get_value() != Some(false) {
            return;
        }
        let Some(Some((cfg, backend))) = pending.try_get_value() else {
            return;
        };
        pending.set_value(None);
        busy.set_value(true);
        spawn_local(async move {
            match estimate(cfg, backend).await {
                Ok(s) => shown.set(Some(s)),
                Err(e) => report_gpu_fault(ctx, &e),
            }
            busy.set_value(false);
            pump(ctx, busy, pending, shown);
        });
    }
    Effect::new(move |_| {
        let c = GumbelConfig {
            tau: tau_now.get(),
            ..cfg.get()
        };
        pending.set_value(Some((c, backend.get())));
        pump(ctx, busy, pending, shown);
    });

    // Bias–variance sweep: independent of τ and of the annealing.
    // (The fields it ignores take their defaults, so the key is a valid config.)
    let sweep_key = Memo::new(move |_| {
        let d = GumbelConfig::default();
        cfg.with(|c| GumbelConfig {
            tau: d.tau,
            anneal: d.anneal,
            lr: d.lr,
            steps: d.steps,
            batch: d.batch,
            samples: d.samples,
            ..c.clone()
        })
    });
    let swept = RwSignal::new(None::<(Vec<SweepPoint>, u32, Backend)>);
    let sweep_gen = StoredValue::new(0u64);
    Effect::new(move |_| {
        let c = sweep_key.get();
        let b = backend.get();
        let this = sweep_gen.get_value() + 1;
        sweep_gen.set_value(this);
        spawn_local(async move {
            let r = sweep(c, b).await;
            if sweep_gen.try_get_value() != Some(this) {
                return;
            }
            match r {
                Ok((points, n)) => swept.set(Some((points, n, b))),
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });

    // Mini optimisation (CPU: 5 × steps × batch samples), in the compute
    // worker; a newer config replaces the pending one.
    let optimised = LocalResource::new(move || {
        let c = cfg.get();
        async move { super::worker::gumbel_optimise(&c).await }
    });

    let draft = RwSignal::new(None::<Vec<f64>>);
    let set_c = set_config.clone();
    let update = move |f: Box<dyn FnOnce(&mut GumbelConfig)>| {
        let mut c = cfg.get_untracked();
        f(&mut c);
        let _ = c.reconcile();
        set_c(&c);
    };
    let set_field = {
        let update = update.clone();
        move |key: &'static str, value: String| {
            update(Box::new(move |c| {
                let _ = c.set(key, &value, false);
            }))
        }
    };

    let (table_set, table_update) = (set_field.clone(), update.clone());
    view! {
        <article class="widget" data-testid="gumbel-widget">
            <header class="widget-head">
                <h1>"Gumbel-Softmax"</h1>
                <p class="claim">
                    "Adding Gumbel noise to logits and taking the argmax samples a category exactly; replacing the argmax by a softmax at temperature τ makes the sample differentiable. The price is bias, which shrinks as τ → 0 while the variance of the gradient grows."
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
                <section class="panel">
                    <h2>"Logits θ and weights w"</h2>
                    <LogitBars cfg draft update=update.clone() />
                    <Control name="logits,weights">
                        <CategoryTable cfg set_field=table_set update=table_update />
                    </Control>
                    <p class="explain">
                        "Drag a bar to change a logit; the dots above are the category probabilities softmax(θ). The objective is f(z) = Σ w_k z_k, so its expectation under the categorical is Σ p_k w_k, and the estimators below try to find its gradient from samples."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
                </section>
                <section class="panel">
                    <h2>"Temperature"</h2>
                    <TemperatureControls cfg tau_now playing tick set_field=set_field.clone() />
                    <p class="explain">
                        "At high τ a relaxed sample is close to the uniform average of the corners; as τ → 0 it becomes one-hot and equals the hard sample. Annealing lowers τ during training, as the paper does, to trade early low variance for late low bias."
                        " " {paper_anchor(papers::JANG_2017)}
                    </p>
                </section>
            </div>
            <div class="panels two">
                <section class="panel">
                    <h2>"Samples, live"</h2>
                    {move || {
                        if cfg.with(|c| c.k()) == 3 {
                            view! {
                                <SimplexPlot
                                    points=Signal::derive(move || live.with(|l| l.recent.iter().cloned().collect()))
                                    probs=Signal::derive(move || cfg.with(|c| softmax(&c.logits)))
                                    sharpness=Signal::derive(move || live.with(LiveSampler::corner_sharpness))
                                    title=format!("Relaxed samples on the simplex (τ = {})", short(tau_now.get()))
                                />
                            }
                                .into_any()
                        } else {
                            view! {
                                <p class="muted simplex-note">
                                    "The simplex view needs K = 3 categories; remove or add categories to see it."
                                </p>
                            }
                                .into_any()
                        }
                    }}
                    <p class="explain">
                        "Each dot is one relaxed sample y = softmax((θ + g)/τ), coloured by its hard sample argmax(θ + g). Lower τ and watch the cloud collapse onto the corners, in the proportions softmax(θ)."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
                </section>
                <section class="panel">
                    <h2>"Hard and relaxed samples against softmax(θ)"</h2>
                    {move || {
                        let (freq, mean, n) = live.with(|l| (l.hard_freq(), l.soft_mean(), l.drawn()));
                        let probs = cfg.with(|c| softmax(&c.logits));
                        view! {
                            <BarPlot
                                bars=freq
                                marks=probs.clone()
                                bar_label="hard-sample frequency"
                                mark_label="softmax(θ)"
                                title=format!("{} hard samples", n)
                            />
                            <BarPlot
                                bars=mean
                                marks=probs
                                bar_label="mean relaxed sample"
                                mark_label="softmax(θ)"
                                title=format!("Mean relaxed sample at τ = {}", short(tau_now.get()))
                            />
                        }
                    }}
                    <p class="explain">
                        "The Gumbel-max trick makes hard samples exact: their frequencies converge to softmax(θ) at every τ. The mean relaxed sample does not; it is pulled towards uniform and only reaches softmax(θ) as τ → 0."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
                </section>
            </div>
            <section class="panel">
                <h2>"Gradient estimators of ∇θ E[f(z)] at the current τ"</h2>
                {move || match shown.get() {
                    None => view! { <p class="running">"Estimating…"</p> }.into_any(),
                    Some(s) => view! { <EstimatorTable s /> }.into_any(),
                }}
                <p class="explain">
                    "REINFORCE multiplies the reward by the score e_h − p and is unbiased but noisy; subtracting a baseline (here the mean reward Σ p w) keeps it unbiased and cuts the noise. Gumbel-Softmax differentiates the relaxed sample: low variance but biased at τ > 0. Straight-through uses the hard sample forward and the relaxed gradient backward; for a linear f its gradient is exactly Gumbel-Softmax's, since ∂f/∂z = w everywhere."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
            </section>
            <section class="panel">
                <h2>"Bias and variance against τ"</h2>
                {move || match swept.get() {
                    None => view! { <p class="running">"Sweeping τ…"</p> }.into_any(),
                    Some((points, n, b)) => view! { <SweepPlots points n backend=b tau=tau_now.get() /> }.into_any(),
                }}
                <p class="explain">
                    "Each point is a Monte Carlo estimate over many samples. The unbiased REINFORCE estimators sit at the Monte Carlo noise floor whatever τ; Gumbel-Softmax's bias falls as τ falls while its variance climbs, roughly as 1/τ."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
            </section>
            <section class="panel">
                <h2>"Mini optimisation: minimise E[f(z)] with each estimator"</h2>
                {move || optimised.get().map(|o| view! { <OptimisationPlot o=o cfg=cfg.get_untracked() /> })}
                <OptimisationControls cfg set_field=set_field.clone() />
                <p class="explain">
                    "Every run starts from the same logits and sees the same Gumbel noise, so the curves differ only by the estimator. The objective drawn is the exact E[f(z)] = Σ p w at the current logits; the best attainable value is min w."
                    " " {paper_anchor(papers::JANG_2017)}
                </p>
            </section>
            <section class="explain">
                <p class="papers-inline">{paper_anchor(papers::JANG_2017)} {paper_anchor(papers::MADDISON_2017)}</p>
            </section>
        </article>
    }
}

/// Draggable logit bars (commit on release) with the probabilities above them.
#[component]
fn LogitBars(
    cfg: Memo<GumbelConfig>,
    draft: RwSignal<Option<Vec<f64>>>,
    update: impl Fn(Box<dyn FnOnce(&mut GumbelConfig)>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    const W: f64 = 360.0;
    const H: f64 = 200.0;
    const TOP: f64 = 26.0;
    const BOTTOM: f64 = 22.0;
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let dragging = StoredValue::new(None::<usize>);
    let logits = move || {
        draft
            .get()
            .unwrap_or_else(|| cfg.with(|c| c.logits.clone()))
    };
    let y_of = |v: f64| {
        let mid = TOP + (H - TOP - BOTTOM) / 2.0;
        mid - v.clamp(-THETA_VIEW, THETA_VIEW) / THETA_VIEW * (H - TOP - BOTTOM) / 2.0
    };
    let value_at = move |ev: &web_sys::PointerEvent| -> Option<(usize, f64)> {
        let el = svg.get()?;
        let rect = el.get_bounding_client_rect();
        let k = cfg.with(|c| c.k());
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * W;
        let y = (f64::from(ev.client_y()) - rect.top()) / rect.height() * H;
        let i = ((x / W) * k as f64).floor().clamp(0.0, (k - 1) as f64) as usize;
        let mid = TOP + (H - TOP - BOTTOM) / 2.0;
        let v = (mid - y) / ((H - TOP - BOTTOM) / 2.0) * THETA_VIEW;
        Some((i, (v.clamp(-THETA_VIEW, THETA_VIEW) * 20.0).round() / 20.0))
    };
    let set_draft = move |i: usize, v: f64| {
        let mut l = draft
            .get_untracked()
            .unwrap_or_else(|| cfg.get_untracked().logits);
        if let Some(slot) = l.get_mut(i) {
            *slot = v;
        }
        draft.set(Some(l));
    };
    let commit = move || {
        if let Some(l) = draft.get_untracked() {
            update(Box::new(move |c| c.logits = l));
        }
        draft.set(None);
        dragging.set_value(None);
    };
    let commit2 = commit.clone();
    view! {
        <svg
            node_ref=svg
            class="logit-bars"
            viewBox=format!("0 0 {W} {H}")
            role="img"
            aria-label="Logits as draggable bars"
            data-testid="logit-bars"
            on:pointerdown=move |ev| {
                if let Some((i, v)) = value_at(&ev) {
                    dragging.set_value(Some(i));
                    set_draft(i, v);
                    if let Some(el) = svg.get() {
                        let _ = el.set_pointer_capture(ev.pointer_id());
                    }
                }
            }
            on:pointermove=move |ev| {
                if let (Some(i), Some((_, v))) = (dragging.get_value(), value_at(&ev)) {
                    set_draft(i, v);
                }
            }
            on:pointerup=move |_| commit()
            on:pointercancel=move |_| commit2()
        >
            <line class="axis" x1=0 y1=y_of(0.0) x2=W y2=y_of(0.0) />
            {move || {
                let l = logits();
                let k = l.len();
                let p = softmax(&l);
                let bw = W / k as f64;
                l.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let (y0, y1) = (y_of(0.0), y_of(v));
                        let color = category_color(i);
                        view! {
                            <rect
                                class="logit"
                                x=i as f64 * bw + bw * 0.2
                                y=y0.min(y1)
                                width=bw * 0.6
                                height=(y1 - y0).abs().max(1.5)
                                fill=color
                            />
                            <circle cx=i as f64 * bw + bw / 2.0 cy=TOP - 12.0 r=3.0 + 9.0 * p[i].sqrt() fill=color opacity="0.85" />
                            <text class="tick" x=i as f64 * bw + bw / 2.0 y=H - 6.0 text-anchor="middle">
                                {format!("θ{} = {}", i + 1, short(v))}
                            </text>
                        }
                    })
                    .collect_view()
            }}
        </svg>
    }
}

/// Numeric entry for θ and w per category, and K.
#[component]
fn CategoryTable(
    cfg: Memo<GumbelConfig>,
    set_field: impl Fn(&'static str, String) + Clone + Send + Sync + 'static,
    update: impl Fn(Box<dyn FnOnce(&mut GumbelConfig)>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let set_list = move |field: &'static str, i: usize, value: String| {
        let c = cfg.get_untracked();
        let mut list = if field == "logits" {
            c.logits
        } else {
            c.weights
        };
        if let (Some(slot), Ok(v)) = (list.get_mut(i), value.trim().parse::<f64>()) {
            *slot = v;
        }
        let text = list
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",");
        set_field(field, text);
    };
    let add = {
        let update = update.clone();
        move |_| {
            update(Box::new(|c| {
                if c.k() < 16 {
                    c.logits.push(0.0);
                    c.weights.push(0.0);
                }
            }))
        }
    };
    let remove = move |_| {
        update(Box::new(|c| {
            if c.k() > 2 {
                c.logits.pop();
                c.weights.pop();
            }
        }))
    };
    view! {
        <div class="category-table">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"k"</th>
                        <th scope="col">"θ_k"</th>
                        <th scope="col">"w_k"</th>
                        <th scope="col">"p_k"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let c = cfg.get();
                        let p = softmax(&c.logits);
                        (0..c.k())
                            .map(|i| {
                                let s1 = set_list.clone();
                                let s2 = set_list.clone();
                                view! {
                                    <tr>
                                        <th scope="row">{i + 1}</th>
                                        <td>
                                            <input type="number" step="0.1" aria-label=format!("logit {}", i + 1)
                                                prop:value=c.logits[i].to_string()
                                                on:change=move |ev| s1("logits", i, event_target_value(&ev)) />
                                        </td>
                                        <td>
                                            <input type="number" step="0.5" aria-label=format!("weight {}", i + 1)
                                                prop:value=c.weights[i].to_string()
                                                on:change=move |ev| s2("weights", i, event_target_value(&ev)) />
                                        </td>
                                        <td class="num">{format!("{:.3}", p[i])}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
            <div class="buttons">
                <button on:click=add disabled=move || cfg.with(|c| c.k() >= 16)>"+ category"</button>
                <button on:click=remove disabled=move || cfg.with(|c| c.k() <= 2)>"− category"</button>
            </div>
        </div>
    }
}

/// τ on a log slider, the annealing schedule, play/pause.
#[component]
fn TemperatureControls(
    cfg: Memo<GumbelConfig>,
    tau_now: Memo<f64>,
    playing: RwSignal<bool>,
    tick: RwSignal<u32>,
    set_field: impl Fn(&'static str, String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let s1 = set_field.clone();
    let s2 = set_field.clone();
    let s3 = set_field;
    view! {
        <div class="controls stacked">
            <Control name="tau">
            <label class="wide">
                <span>{move || format!("τ = {}", short(cfg.get().tau))}</span>
                <input
                    type="range"
                    min="0"
                    max="1000"
                    data-testid="tau"
                    aria-label="Temperature τ (log scale, 0.05 to 10)"
                    prop:value=move || {
                        let t = cfg.get().tau;
                        (((t.ln() - 0.05f64.ln()) / (10f64.ln() - 0.05f64.ln())) * 1000.0).round().to_string()
                    }
                    on:input=move |ev| {
                        let f = event_target_value(&ev).parse::<f64>().unwrap_or(500.0) / 1000.0;
                        let tau = (0.05f64.ln() + f * (10f64.ln() - 0.05f64.ln())).exp();
                        s1("tau", format!("{:.4}", tau));
                    }
                />
            </label>
            </Control>
            <Control name="anneal">
            <label>
                <span>{move || format!("annealing rate r = {}", short(cfg.get().anneal))}</span>
                <input
                    type="range"
                    min="0"
                    max="0.1"
                    step="0.002"
                    aria-label="Annealing rate r (0 turns annealing off)"
                    prop:value=move || cfg.get().anneal.to_string()
                    on:input=move |ev| {
                        tick.set(0);
                        s2("anneal", event_target_value(&ev));
                    }
                />
            </label>
            </Control>
            <Control name="tau-min">
            <label>
                <span>"τ_min"</span>
                <input
                    type="number"
                    min="0.05"
                    max="10"
                    step="0.05"
                    prop:value=move || cfg.get().tau_min.to_string()
                    on:change=move |ev| s3("tau-min", event_target_value(&ev))
                />
            </label>
            </Control>
            <Control name="anneal">
            <div class="buttons">
                <button on:click=move |_| playing.update(|p| *p = !*p) aria-pressed=move || playing.get().to_string()>
                    {move || if playing.get() { "Pause" } else { "Play" }}
                </button>
                <button on:click=move |_| tick.set(0)>"Restart schedule"</button>
            </div>
            </Control>
            <p class="meta" data-testid="tau-now">
                {move || {
                    let c = cfg.get();
                    if c.anneal > 0.0 {
                        format!(
                            "τ(t) = max({}, {}·e^(−{}·t)); now t = {}, τ = {}",
                            short(c.tau_min),
                            short(c.tau),
                            short(c.anneal),
                            tick.get(),
                            short(tau_now.get()),
                        )
                    } else {
                        format!("τ = {} (annealing off)", short(tau_now.get()))
                    }
                }}
            </p>
        </div>
    }
}

#[component]
fn EstimatorTable(s: Shown) -> impl IntoView {
    let g = &s.estimates.grad;
    let n = f64::from(s.samples);
    let k = g.exact.len();
    let header = (0..k)
        .map(|i| view! { <th scope="col">{format!("∂/∂θ{}", i + 1)}</th> })
        .collect_view();
    let exact_row = g
        .exact
        .iter()
        .map(|v| view! { <td>{format!("{v:+.4}")}</td> })
        .collect_view();
    let rows = [
        &g.reinforce,
        &g.reinforce_baseline,
        &g.gumbel_softmax,
        &g.straight_through,
    ]
    .into_iter()
    .zip(ESTIMATORS)
    .enumerate()
    .map(|(e, (st, name))| {
        let cells = st
            .mean
            .iter()
            .zip(&st.var)
            .map(|(m, v)| view! { <td>{format!("{m:+.4}")}<small>{format!(" ± {:.4}", (v / n).sqrt())}</small></td> })
            .collect_view();
        view! {
            <tr>
                <th scope="row"><i class="dot" style=format!("background:{}", ESTIMATOR_COLORS[e + 1])></i>{name}</th>
                {cells}
                <td>{format!("{:.2e}", st.bias(&g.exact))}</td>
                <td>{format!("{:.3}", st.total_var())}</td>
            </tr>
        }
    })
    .collect_view();
    view! {
        <div class="table-scroll">
            <table class="moments estimators" data-testid="estimators">
                <thead>
                    <tr>
                        <th scope="col">"estimator"</th>
                        {header}
                        <th scope="col">"‖bias‖"</th>
                        <th scope="col">"Σ var"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <th scope="row"><i class="dot" style=format!("background:{}", ESTIMATOR_COLORS[0])></i>"exact"</th>
                        {exact_row}
                        <td>"0"</td>
                        <td>"0"</td>
                    </tr>
                    {rows}
                </tbody>
            </table>
        </div>
        <p class="meta" data-testid="estimates-meta">
            {format!(
                "Mean ± standard error over {} samples on {} at τ = {}.",
                s.samples,
                match s.backend { Backend::Gpu => "WebGPU", Backend::Cpu => "the CPU" },
                short(s.tau),
            )}
        </p>
    }
}

#[component]
fn SweepPlots(points: Vec<SweepPoint>, n: u32, backend: Backend, tau: f64) -> impl IntoView {
    let series = |f: &dyn Fn(&SweepPoint, usize) -> f64| -> Vec<Series> {
        (0..4)
            .map(|e| Series {
                name: ESTIMATORS[e],
                color: ESTIMATOR_COLORS[e + 1],
                dashed: e == 3,
                points: points.iter().map(|p| (p.tau, f(p, e))).collect(),
                ..Series::default()
            })
            .collect()
    };
    let mut bias = series(&|p, e| p.bias[e]);
    // The Monte Carlo noise floor of an unbiased estimator (REINFORCE's SE).
    bias.push(Series {
        name: "MC noise (REINFORCE SE)",
        color: "var(--muted)",
        dashed: true,
        points: points.iter().map(|p| (p.tau, p.bias_se[0])).collect(),
        ..Series::default()
    });
    let var = series(&|p, e| p.var[e]);
    view! {
        <div class="plots">
            <LinePlot series=bias log_x=true log_y=true x_label="τ" y_label="‖E[ĝ] − ∇‖" marker_x=tau title="Bias".to_string() />
            <LinePlot series=var log_x=true log_y=true x_label="τ" y_label="Σ Var[ĝ]" marker_x=tau title="Variance per sample".to_string() />
        </div>
        <p class="meta" data-testid="sweep-meta">
            {format!(
                "{} samples per τ on {}.",
                n,
                match backend { Backend::Gpu => "WebGPU", Backend::Cpu => "the CPU (WebGPU would take 1,048,576)" },
            )}
        </p>
    }
}

#[component]
fn OptimisationPlot(o: Optimisation, cfg: GumbelConfig) -> impl IntoView {
    let series = o
        .names
        .iter()
        .zip(&o.curves)
        .enumerate()
        .map(|(e, (name, curve))| Series {
            name,
            color: ESTIMATOR_COLORS[e],
            dashed: e == 4,
            points: curve
                .iter()
                .enumerate()
                .map(|(t, v)| (t as f64, *v))
                .collect(),
            ..Series::default()
        })
        .collect::<Vec<_>>();
    view! {
        <LinePlot
            series
            x_label="step"
            y_label="E[f(z)]"
            hline=(o.optimum, "min w")
            title=format!("{} steps, lr {}, {} samples per step", cfg.steps, short(cfg.lr), cfg.batch)
        />
    }
}

#[component]
fn OptimisationControls(
    cfg: Memo<GumbelConfig>,
    set_field: impl Fn(&'static str, String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let (s1, s2, s3, s4) = (
        set_field.clone(),
        set_field.clone(),
        set_field.clone(),
        set_field,
    );
    view! {
        <div class="controls">
            <Control name="lr">
            <label>
                <span>"learning rate"</span>
                <input type="number" min="0.0001" max="10" step="0.05" prop:value=move || cfg.get().lr.to_string()
                    on:change=move |ev| s1("lr", event_target_value(&ev)) />
            </label>
            </Control>
            <Control name="steps">
            <label>
                <span>"steps"</span>
                <input type="number" min="1" max="5000" step="50" prop:value=move || cfg.get().steps.to_string()
                    on:change=move |ev| s2("steps", event_target_value(&ev)) />
            </label>
            </Control>
            <Control name="batch">
            <label>
                <span>"samples per step"</span>
                <input type="number" min="1" max="1024" prop:value=move || cfg.get().batch.to_string()
                    on:change=move |ev| s3("batch", event_target_value(&ev)) />
            </label>
            </Control>
            <Control name="seed">
            <label>
                <span>"seed"</span>
                <input type="number" min="0" data-testid="seed" prop:value=move || cfg.get().seed.to_string()
                    on:change=move |ev| s4("seed", event_target_value(&ev)) />
            </label>
            </Control>
        </div>
    }
}
