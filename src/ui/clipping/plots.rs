//! The clipping widget's plots: the noise's tail, the Monte Carlo over many
//! runs, and clipping's stationary bias under asymmetric noise.

use leptos::prelude::*;

use super::run::Shown;
use super::{METHOD_COLORS, method_label};
use crate::experiments::Backend;
use crate::experiments::clipping::{self, ClippingConfig, ClippingReport};
use crate::ui::charts::{LinePlot, Series, short};

/// The density of log10 ‖ξ‖ over 20,000 draws of the chosen noise.
#[component]
pub(super) fn NoisePlot(cfg: Memo<ClippingConfig>) -> impl IntoView {
    let histogram = Memo::new(move |_| cfg.with(|c| clipping::noise_norm_histogram(c, 20_000)));
    move || {
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
    }
}

/// The Monte Carlo's plot once there is one, and a note while a run is in flight.
#[component]
pub(super) fn MonteCarloStatus(
    report: RwSignal<Shown>,
    pending: RwSignal<Option<Backend>>,
) -> impl IntoView {
    view! {
        {move || match report.get() {
            None => view! { <p class="running">"Running…"</p> }.into_any(),
            Some((r, b)) => view! { <MonteCarloPlot r backend=b /> }.into_any(),
        }}
        {move || pending.get().map(|b| view! {
            <p class="running" data-testid="mc-pending">
                {format!("Updating on {}…", match b { Backend::Gpu => "WebGPU", Backend::Cpu => "the CPU" })}
            </p>
        })}
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

/// The fixed point of clipped SGD against the threshold, with the current threshold marked.
#[component]
pub(super) fn BiasPlot(cfg: Memo<ClippingConfig>) -> impl IntoView {
    let scale = Memo::new(move |_| cfg.with(|c| c.scale));
    let fixed_points = Memo::new(move |_| clipping::fixed_point_curve(scale.get()));
    move || {
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
    }
}
