//! The Gumbel-Softmax widget's plots: live samples on the simplex and
//! against softmax(θ), the estimators' table, their bias and variance
//! against τ, and the mini optimisation.

use leptos::prelude::*;

use super::run::Shown;
use crate::experiments::Backend;
use crate::experiments::gumbel::{
    ESTIMATORS, GumbelConfig, LiveSampler, Optimisation, SweepPoint, in_chart_order, softmax,
};
use crate::ui::charts::{BarPlot, LinePlot, Series, SimplexPlot, short};

/// Exact, then [`ESTIMATORS`] (Okabe–Ito colours).
const ESTIMATOR_COLORS: [&str; 6] = [
    "var(--ink)",
    "#D55E00",
    "#E69F00",
    "#CC79A7",
    "#0072B2",
    "#009E73",
];
/// Straight-through's index in [`ESTIMATORS`], drawn dashed: it shares
/// Gumbel-Softmax's backward pass, and for a linear f its whole gradient.
const STRAIGHT_THROUGH: usize = 4;

/// Relaxed samples on the simplex, its K corners drawn as a regular K-gon.
#[component]
pub(super) fn LiveSimplex(
    cfg: Memo<GumbelConfig>,
    live: RwSignal<LiveSampler>,
    tau_now: Memo<f64>,
) -> impl IntoView {
    move || {
        let k = cfg.with(|c| c.k());
        let what = if k <= 3 {
            "Relaxed samples on the simplex".to_string()
        } else {
            format!("Relaxed samples on the simplex, projected onto its {k} corners")
        };
        view! {
            <SimplexPlot
                points=Signal::derive(move || live.with(|l| l.recent.iter().cloned().collect()))
                probs=Signal::derive(move || cfg.with(|c| softmax(&c.logits)))
                sharpness=Signal::derive(move || live.with(LiveSampler::corner_sharpness))
                title=format!("{what} (τ = {})", short(tau_now.get()))
            />
        }
    }
}

/// Hard-sample frequencies and the mean relaxed sample, against softmax(θ).
#[component]
pub(super) fn SampleBars(
    cfg: Memo<GumbelConfig>,
    live: RwSignal<LiveSampler>,
    tau_now: Memo<f64>,
) -> impl IntoView {
    move || {
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
    }
}

/// Each estimator's mean ± standard error per logit, its bias and total variance.
#[component]
pub(super) fn EstimatorTable(s: Shown) -> impl IntoView {
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
    let rows = in_chart_order(g)
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
                "Mean ± standard error over {} samples on {} at τ = {}, {} objective; RLOO over {} batches of {} (its Σ var is {} × the variance of a batch's estimate).",
                s.samples,
                match s.backend { Backend::Gpu => "WebGPU", Backend::Cpu => "the CPU" },
                short(s.tau),
                s.objective,
                s.samples / s.batch,
                s.batch,
                s.batch,
            )}
        </p>
    }
}

/// Bias and variance of each estimator against τ, with the current τ marked.
#[component]
pub(super) fn SweepPlots(
    points: Vec<SweepPoint>,
    n: u32,
    backend: Backend,
    tau: f64,
) -> impl IntoView {
    let series = |f: &dyn Fn(&SweepPoint, usize) -> f64| -> Vec<Series> {
        (0..ESTIMATORS.len())
            .map(|e| Series {
                name: ESTIMATORS[e],
                color: ESTIMATOR_COLORS[e + 1],
                dashed: e == STRAIGHT_THROUGH,
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

/// E[f(z)] along the mini optimisation, one curve per estimator.
#[component]
pub(super) fn OptimisationPlot(o: Optimisation, cfg: GumbelConfig) -> impl IntoView {
    let series = o
        .names
        .iter()
        .zip(&o.curves)
        .enumerate()
        .map(|(e, (name, curve))| Series {
            name,
            color: ESTIMATOR_COLORS[e],
            dashed: e == STRAIGHT_THROUGH + 1,
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
