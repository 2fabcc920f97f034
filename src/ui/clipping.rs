//! The clipping-vs-median widget: trajectories of eight estimators over the
//! objective's contours, the noise's tail, a Monte Carlo over many runs, and
//! clipping's stationary bias under asymmetric noise.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::backend::{BackendCtx, gpu_compute, report_gpu_fault, use_active_backend};
use super::charts::{LinePlot, Series, canvas_context, short};
use super::controls::{self, SetField};
use super::export::PlotExport;
use super::pages::paper_anchor;
use super::query::{ConfigNotes, Control, use_config, use_set_config, use_set_field};
use super::share::ShareBar;
use crate::experiments::Backend;
use crate::experiments::clipping::{
    self, Clipping, ClippingConfig, ClippingReport, METHODS, Method, Noise, Norm, Objective,
    contour_grid, view_window,
};
use crate::experiments::config::Param;
use crate::experiments::papers;
use crate::experiments::registry::{Experiment, RunError};

/// Steps of the drawn trajectories at most.
const PATH_STEPS: u32 = 1000;
const FRAME_MS: u64 = 40;

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

async fn monte_carlo(
    cfg: ClippingConfig,
    backend: Backend,
) -> Result<(ClippingReport, Backend), RunError> {
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        return Ok((Clipping::run(&cfg, &on).await?, Backend::Gpu));
    }
    let runs = Clipping::page_cpu_config(&cfg).runs;
    Ok((
        super::worker::clipping_monte_carlo(&cfg, runs).await,
        Backend::Cpu,
    ))
}

#[component]
pub fn ClippingWidget() -> impl IntoView {
    let ctx = expect_context::<BackendCtx>();
    let (cfg, notes) = use_config::<ClippingConfig>();
    let set_config = use_set_config::<ClippingConfig>();
    let backend = use_active_backend();

    // Trajectories of run 0 (computed in the compute worker), revealed step by step.
    let computed = LocalResource::new(move || {
        let c = ClippingConfig {
            steps: cfg.with(|c| c.steps.min(PATH_STEPS)),
            ..cfg.get()
        };
        async move { super::worker::clipping_paths(&c).await }
    });
    let paths = Memo::new(move |_| computed.get().unwrap_or_default());
    let frame = RwSignal::new(0usize);
    let playing = RwSignal::new(true);
    Effect::new(move |_| {
        paths.track();
        frame.set(0);
    });
    super::animation_clock(playing, FRAME_MS, move || {
        let len = paths.with_untracked(|p| p.first().map_or(0, |(_, v)| v.len()));
        let stride = (len / 150).max(1);
        if frame.get_untracked() < len {
            frame.update(|f| *f = (*f + stride).min(len));
        }
    });

    // Monte Carlo: latest config wins.
    let report = RwSignal::new(None::<(ClippingReport, Backend)>);
    let pending = RwSignal::new(None::<Backend>);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let c = cfg.get();
        let b = backend.get();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        pending.set(Some(b));
        spawn_local(async move {
            let r = monte_carlo(c, b).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            pending.set(None);
            match r {
                Ok(v) => report.set(Some(v)),
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });

    let histogram = Memo::new(move |_| cfg.with(|c| clipping::noise_norm_histogram(c, 20_000)));
    let scale = Memo::new(move |_| cfg.with(|c| c.scale));
    let fixed_points = Memo::new(move |_| clipping::fixed_point_curve(scale.get()));

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
                <section class="panel">
                    <h2>"Trajectories from the same start, with the same noise"</h2>
                    <ContourCanvas cfg paths frame />
                    <div class="legend method-legend">
                        {METHODS
                            .iter()
                            .enumerate()
                            .map(|(i, m)| {
                                view! {
                                    <span class="key"><i style=format!("background:{}", METHOD_COLORS[i])></i>{method_label(*m)}</span>
                                }
                            })
                            .collect_view()}
                    </div>
                    <Control name="controls">
                    <div class="buttons">
                        <button on:click=move |_| playing.update(|p| *p = !*p)>
                            {move || if playing.get() { "Pause" } else { "Play" }}
                        </button>
                        <button on:click=move |_| frame.set(0)>"Replay"</button>
                    </div>
                    </Control>
                    <p class="explain">
                        "Each line is run 0 of one estimator: x ← x − lr·ĝ, where ĝ combines the batch's sample gradients ∇f(x) + ξ. Under Cauchy-like noise the plain mean jumps whenever one sample is huge; the robust estimators ignore it. "
                        {paper_anchor(papers::SCHAIPP_2024)}
                    </p>
                </section>
                <section class="panel">
                    <h2>"The noise and its tail"</h2>
                    {move || {
                        let h = histogram.get();
                        let w = h.bin_width();
                        let pts: Vec<(f64, f64)> = h
                            .density
                            .iter()
                            .enumerate()
                            .map(|(i, d)| (h.lo + (i as f64 + 0.5) * w, *d))
                            .collect();
                        view! {
                            <LinePlot
                                series=vec![Series { name: "density of log10 ‖ξ‖", color: "var(--accent)", points: pts, ..Series::default() }]
                                x_label="log10 ‖ξ‖ (noise norm, scale 1)"
                                y_label="density"
                                title=format!("{} noise, 20,000 draws", cfg.get().noise)
                            />
                        }
                    }}
                    <p class="explain">
                        "On a log scale a light tail is a narrow bump; Student-t with few degrees of freedom, α-stable noise with small α and corrupted workers put mass decades to the right. Those rare huge samples are what the mean cannot ignore. "
                        {paper_anchor(papers::PASCANU_2013)}
                    </p>
                </section>
            </div>
            <section class="panel">
                <h2>"Monte Carlo: distance to the optimum over many runs"</h2>
                {move || match report.get() {
                    None => view! { <p class="running">"Running…"</p> }.into_any(),
                    Some((r, b)) => view! { <MonteCarloPlot r backend=b /> }.into_any(),
                }}
                {move || pending.get().map(|b| view! {
                    <p class="running" data-testid="mc-pending">
                        {format!("Updating on {}…", match b { Backend::Gpu => "WebGPU", Backend::Cpu => "the CPU" })}
                    </p>
                })}
                <p class="explain">
                    "Every estimator runs from the same start on each of the independent noise streams; the line is the median distance ‖x − x*‖ over the runs and the band spans the 10th to 90th percentiles. The robust estimators converge where the mean stalls at the noise floor its outliers set. "
                    {paper_anchor(papers::SCHAIPP_2024)}
                </p>
            </section>
            <section class="panel">
                <h2>"Clipping's bias under asymmetric noise"</h2>
                {move || {
                    let s = scale.get();
                    let c = cfg.get().threshold;
                    let pts = fixed_points.get();
                    view! {
                        <LinePlot
                            series=vec![Series { name: "fixed point x*(c) of clipped SGD", color: "#D55E00", points: pts, ..Series::default() }]
                            log_x=true
                            x_label="clipping threshold c"
                            y_label="x*(c)"
                            marker_x=c
                            hline=(s * (1.0 - std::f64::consts::LN_2), "−median(ξ)")
                            title=format!("f(x) = x²/2, noise ξ = {}·(E − 1), E ~ Exp(1)", short(s))
                        />
                    }
                }}
                <p class="explain">
                    "With zero-mean but skewed noise, clipped SGD does not settle at the minimiser 0: its fixed point solves E[clip(x + ξ, c)] = 0. For large c that is the mean's root, 0; as c shrinks it moves to −median(ξ) = s(1 − ln 2), the median's root. The dotted line marks the current threshold. "
                    {paper_anchor(papers::KOLOSKOVA_2023)}
                </p>
            </section>
        </article>
    }
}

#[component]
fn ClippingControls(cfg: Memo<ClippingConfig>, set_field: SetField) -> impl IntoView {
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

/// The objective as banded log-contours, the optimum, and the trajectories up to `frame`.
#[component]
fn ContourCanvas(
    cfg: Memo<ClippingConfig>,
    paths: Memo<Vec<(Method, Vec<[f32; 2]>)>>,
    frame: RwSignal<usize>,
) -> impl IntoView {
    const N: usize = 90;
    const SIZE: f64 = 420.0;
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let objective = Memo::new(move |_| cfg.with(|c| c.objective));
    let grid = Memo::new(move |_| contour_grid(objective.get(), N));
    // The canvas holds the contours and the paths up to `drawn`: a new
    // frame draws only the segments since then (a replay costs the same per
    // frame at step 10 and at step 1,000); anything else redraws it whole.
    let drawn = StoredValue::new(0usize);
    let redraw = Trigger::new();
    let to_px = move |obj: Objective| {
        let (xr, yr) = view_window(obj);
        move |p: [f32; 2]| {
            let (x, y) = (
                (f64::from(p[0]) - xr[0]) / (xr[1] - xr[0]) * SIZE,
                (yr[1] - f64::from(p[1])) / (yr[1] - yr[0]) * SIZE,
            );
            (x.clamp(-5.0, SIZE + 5.0), y.clamp(-5.0, SIZE + 5.0))
        }
    };
    // Path segments `from..upto` (point indices) of every estimator.
    let draw_paths = move |ctx: &web_sys::CanvasRenderingContext2d, from: usize, upto: usize| {
        let px = to_px(objective.get_untracked());
        paths.with_untracked(|all| {
            ctx.set_line_width(1.6);
            ctx.set_global_alpha(0.85);
            for (i, (_, path)) in all.iter().enumerate() {
                ctx.set_stroke_style_str(METHOD_COLORS[i]);
                ctx.begin_path();
                for (j, p) in path.iter().enumerate().take(upto.max(1)).skip(from) {
                    let (x, y) = px(*p);
                    if j == from {
                        ctx.move_to(x, y)
                    } else {
                        ctx.line_to(x, y)
                    }
                }
                ctx.stroke();
            }
            ctx.set_global_alpha(1.0);
        });
    };
    let draw_marks = move |ctx: &web_sys::CanvasRenderingContext2d| {
        let obj = objective.get_untracked();
        let px = to_px(obj);
        let (sx, sy) = px(clipping::start(obj));
        ctx.set_fill_style_str("#222");
        ctx.fill_rect(sx - 4.0, sy - 4.0, 8.0, 8.0);
        let o = clipping::optimum(obj);
        let (ox, oy) = px([o[0] as f32, o[1] as f32]);
        ctx.set_fill_style_str("#e8590c");
        ctx.begin_path();
        for k in 0..10 {
            let r = if k % 2 == 0 { 9.0 } else { 4.0 };
            let a = std::f64::consts::PI * (f64::from(k) / 5.0 - 0.5);
            let (x, y) = (ox + r * a.cos(), oy + r * a.sin());
            if k == 0 {
                ctx.move_to(x, y)
            } else {
                ctx.line_to(x, y)
            }
        }
        ctx.close_path();
        ctx.fill();
    };
    // Whole redraws: a new objective or new paths.
    Effect::new(move |_| {
        let g = grid.get();
        paths.track();
        redraw.track();
        let upto = frame.get_untracked();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, SIZE, SIZE) else {
            return;
        };
        let (lo, hi) = g
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        let cell = SIZE / N as f64;
        // 12 bands from light (low) to darker (high); each band is one path of row runs.
        let band_of = |v: f64| (((v - lo) / (hi - lo).max(1e-9)) * 12.0).floor().min(11.0) as usize;
        let mut runs: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); 12];
        for row in 0..N {
            let mut col = 0;
            while col < N {
                let band = band_of(g[row * N + col]);
                let start = col;
                while col < N && band_of(g[row * N + col]) == band {
                    col += 1;
                }
                runs[band].push((row, start, col));
            }
        }
        for (band, cells) in runs.iter().enumerate() {
            ctx.set_fill_style_str(&format!("hsl(225, 35%, {}%)", 97.0 - band as f64 * 4.2));
            ctx.begin_path();
            for &(row, from, to) in cells {
                ctx.rect(
                    from as f64 * cell,
                    row as f64 * cell,
                    (to - from) as f64 * cell + 0.6,
                    cell + 0.6,
                );
            }
            ctx.fill();
        }
        draw_paths(&ctx, 0, upto);
        draw_marks(&ctx);
        drawn.set_value(upto);
    });
    // A later frame: only the new segments (and the marks on top again).
    Effect::new(move |_| {
        let upto = frame.get();
        let from = drawn.get_value();
        if upto < from {
            // The replay restarted: draw it whole.
            redraw.notify();
            return;
        }
        if upto == from {
            return;
        }
        let Some(el) = canvas.get_untracked() else {
            return;
        };
        let ctx = el.get_context("2d").ok().flatten().and_then(|c| {
            wasm_bindgen::JsCast::dyn_into::<web_sys::CanvasRenderingContext2d>(c).ok()
        });
        let Some(ctx) = ctx else { return };
        draw_paths(&ctx, from.saturating_sub(1), upto);
        draw_marks(&ctx);
        drawn.set_value(upto);
    });
    view! {
        <figure class="plot">
            <canvas
                node_ref=canvas
                class="contour-canvas"
                role="img"
                aria-label="Objective contours with each estimator's trajectory"
                data-testid="contours"
                data-frame=move || frame.get().to_string()
            ></canvas>
            <figcaption>
                <span class="caption-title">
                    {move || format!("{} — start ■, optimum ★, step {}", objective.get(), frame.get().saturating_sub(1))}
                </span>
                <PlotExport name="trajectories" />
            </figcaption>
        </figure>
    }
}

#[component]
fn MonteCarloPlot(r: ClippingReport, backend: Backend) -> impl IntoView {
    let steps: Vec<f64> = r.steps.iter().map(|&s| f64::from(s)).collect();
    let series: Vec<Series> = r
        .summaries
        .iter()
        .enumerate()
        .map(|(i, (m, s))| Series {
            name: method_label(*m),
            color: METHOD_COLORS[i],
            dashed: false,
            points: steps
                .iter()
                .copied()
                .zip(s.curve.iter().map(|v| v.max(1e-6)))
                .collect(),
            band: s
                .curve_p10
                .iter()
                .zip(&s.curve_p90)
                .map(|(a, b)| (a.max(1e-6), b.max(1e-6)))
                .collect(),
        })
        .collect();
    let table = r
        .summaries
        .iter()
        .enumerate()
        .map(|(i, (m, s))| {
            view! {
                <tr>
                    <th scope="row"><i class="dot" style=format!("background:{}", METHOD_COLORS[i])></i>{method_label(*m)}</th>
                    <td>{short(s.final_dist_median)}</td>
                    <td>{short(s.final_dist_p90)}</td>
                </tr>
            }
        })
        .collect_view();
    let diverged = r.diverged();
    let warning = (!diverged.is_empty()).then(|| {
        let names = diverged.iter().map(|m| method_label(*m)).collect::<Vec<_>>().join(", ");
        view! {
            <p class="notes" role="status" data-testid="diverged">
                {format!("Diverged: {names} — the runs ran into the |x| ≤ 1000 wall that keeps them finite. Lower the learning rate or press Reset.")}
            </p>
        }
    });
    view! {
        {warning}
        <div class="plots mc">
            <LinePlot series log_y=true x_label="step" y_label="‖x − x*‖" title="Median and 10–90 % band over runs".to_string() />
            <div class="table-scroll">
                <table class="moments" data-testid="mc-table">
                    <thead>
                        <tr><th scope="col">"estimator"</th><th scope="col">"final median"</th><th scope="col">"final 90 %"</th></tr>
                    </thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
        </div>
        <p class="meta" data-testid="mc-meta">
            {format!(
                "{} runs per estimator on {}.",
                r.runs,
                match backend { Backend::Gpu => "WebGPU", Backend::Cpu => "the CPU (WebGPU runs the full count)" },
            )}
        </p>
    }
}
