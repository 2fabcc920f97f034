//! Small SVG plots. They only map numbers an experiment computed to pixels.

use leptos::prelude::*;

use crate::experiments::rng::VariateSummary;

const W: f64 = 320.0;
const H: f64 = 190.0;
const PAD_L: f64 = 34.0;
const PAD_R: f64 = 8.0;
const PAD_T: f64 = 10.0;
const PAD_B: f64 = 24.0;

fn fmt_tick(v: f64) -> String {
    if v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A density histogram (bars) against the exact density (line).
#[component]
pub fn HistogramPlot(summary: VariateSummary, label: &'static str) -> impl IntoView {
    let h = &summary.histogram;
    let n = h.density.len().max(1);
    let y_max = h
        .density
        .iter()
        .chain(summary.exact_density.iter())
        .fold(0.0f64, |m, &v| m.max(v))
        .max(1e-9)
        * 1.08;
    let pw = W - PAD_L - PAD_R;
    let ph = H - PAD_T - PAD_B;
    let x_of = move |i: f64| PAD_L + i / n as f64 * pw;
    let y_of = move |v: f64| PAD_T + ph * (1.0 - v / y_max);
    let bars = h
        .density
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let x = x_of(i as f64);
            let y = y_of(d);
            view! {
                <rect
                    class="bar"
                    x=format!("{x:.2}")
                    y=format!("{y:.2}")
                    width=format!("{:.2}", pw / n as f64 - 0.6)
                    height=format!("{:.2}", (PAD_T + ph - y).max(0.0))
                />
            }
        })
        .collect_view();
    let curve = summary
        .exact_density
        .iter()
        .enumerate()
        .map(|(i, &d)| format!("{:.2},{:.2}", x_of(i as f64 + 0.5), y_of(d)))
        .collect::<Vec<_>>()
        .join(" ");
    let (lo, hi) = (h.lo, h.hi);
    let ticks = [lo, 0.5 * (lo + hi), hi]
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let x = x_of(i as f64 * n as f64 / 2.0);
            view! {
                <text class="tick" x=format!("{x:.1}") y=format!("{:.1}", H - 6.0) text-anchor="middle">
                    {fmt_tick(v)}
                </text>
            }
        })
        .collect_view();
    let y_label = format!("{:.2}", y_max / 1.08);
    view! {
        <figure class="plot">
            <svg
                viewBox=format!("0 0 {W} {H}")
                role="img"
                aria-label=format!("{label}: sample histogram against the exact density")
            >
                <line class="axis" x1=PAD_L y1=PAD_T + ph x2=W - PAD_R y2=PAD_T + ph />
                <line class="axis" x1=PAD_L y1=PAD_T x2=PAD_L y2=PAD_T + ph />
                <text class="tick" x=PAD_L - 4.0 y=format!("{:.1}", y_of(y_max / 1.08) + 4.0) text-anchor="end">
                    {y_label}
                </text>
                <text class="tick" x=PAD_L - 4.0 y=PAD_T + ph text-anchor="end">
                    "0"
                </text>
                {bars}
                <polyline class="exact" points=curve />
                {ticks}
            </svg>
            <figcaption>{label}</figcaption>
        </figure>
    }
}
