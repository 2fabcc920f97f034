//! The label-smoothing widget's plots and tables: the metrics, the published
//! findings, what the loss sees on one example, calibration and selective
//! classification.

use std::sync::Arc;

use leptos::prelude::*;

use super::{lognorm_name, model_color, model_name, model_title};
use crate::experiments::Backend;
use crate::experiments::label_smoothing::{FINDINGS, LabelSmoothingConfig, LogitView, Snapshot};
use crate::ui::charts::{LinePlot, Series, category_color, short};
use crate::ui::export::PlotExport;

/// The published effects whose `effect` is listed, and whether the default shows them.
#[component]
pub(super) fn Findings(effects: &'static [&'static str]) -> impl IntoView {
    view! {
        <ul class="ls-findings">
            {FINDINGS.iter().filter(|f| effects.contains(&f.effect)).map(|f| view! {
                <li data-testid="finding" data-effect=f.effect data-holds=f.holds.to_string()>
                    <span class="ls-check" aria-hidden="true">{if f.holds { "✓" } else { "✗" }}</span>
                    {f.text}
                </li>
            }).collect_view()}
        </ul>
    }
}

/// Accuracy, NLL, ECE and AURC per model, and where they were computed.
#[component]
pub(super) fn MetricsTable(
    snap: RwSignal<Option<Arc<Snapshot>>>,
    computed_on: RwSignal<Option<Backend>>,
    thread: RwSignal<Option<String>>,
) -> impl IntoView {
    let cell = |v: f32, digits: usize| format!("{v:.digits$}");
    view! {
        <div class="table-scroll">
        <table class="moments ls-metrics" data-testid="ls-metrics"
            data-step=move || snap.with(|s| s.as_ref().map_or(0, |s| s.step)).to_string()
            data-ece=move || snap.with(|s| s.as_ref().map(|s| s.models.iter().map(|m| format!("{:.4}", m.ece)).collect::<Vec<_>>().join(",")).unwrap_or_default())>
            <thead>
                <tr><th>"model"</th><th>"acc"</th><th>"NLL"</th><th>"ECE"</th><th>"AURC"</th><th title="AURC after logit normalisation">"AURC ln"</th></tr>
            </thead>
            <tbody>
                {move || snap.get().map(|s| s.models.iter().map(|m| {
                    let title = model_name(m.kind);
                    view! {
                        <tr data-testid="ls-row" data-kind=m.kind.as_str()>
                            <td><span class="dot" style=format!("background:{}", model_color(m.kind))></span>{title}</td>
                            <td>{format!("{:.1} %", 100.0 * m.test_acc)}</td>
                            <td>{cell(m.nll, 3)}</td>
                            <td data-testid="ece">{cell(m.ece, 4)}</td>
                            <td>{cell(m.aurc, 4)}</td>
                            <td>{cell(m.aurc_lognorm, 4)}</td>
                        </tr>
                    }
                }).collect_view())}
            </tbody>
        </table>
        </div>
        <p class="meta">"computed on "
            <span data-testid="ls-backend">{move || computed_on.get().map(|b| match b { Backend::Gpu => "WebGPU", Backend::Cpu => "CPU" }).unwrap_or("—")}</span>
            {move || (computed_on.get() == Some(Backend::Cpu)).then(|| view! { <span class="muted" data-testid="compute-thread">{move || thread.get().map(|t| format!(" · {t}"))}</span> })}
        </p>
    }
}

/// Logits, p against q, the gradient p − q and the MaxSup decomposition, per model.
#[component]
pub(super) fn LogitPanel(
    example: RwSignal<usize>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
    cfg: Memo<LabelSmoothingConfig>,
) -> impl IntoView {
    move || {
        let views = snap.with(|s| s.as_ref().and_then(|s| s.logit_view(example.get())));
        let Some(views) = views else {
            return view! { <p class="running">"Training…"</p> }.into_any();
        };
        let range = |f: fn(&LogitView) -> &Vec<f32>| {
            let (lo, hi) = views
                .iter()
                .flat_map(|v| f(v).iter())
                .fold((0f64, 0f64), |(a, b), &x| {
                    (a.min(f64::from(x)), b.max(f64::from(x)))
                });
            (lo, hi.max(lo + 1e-6))
        };
        let pr = (0.0, 1.0);
        let gr = range(|v| &v.softmax_minus_q);
        let gr = {
            let m = gr.0.abs().max(gr.1.abs()).max(1e-3);
            (-m, m)
        };
        let cols = views.len();
        view! {
            <div class="ls-grid" style=format!("--n: {cols}") data-testid="logit-view" data-example=example.get().to_string()>
                {views.into_iter().map(|v| {
                    let title = cfg.with(|c| model_title(v.kind, c));
                    let d = &v.decomposition;
                    let label = v.label as usize;
                    // Logits per model (their scales differ by an order of magnitude).
                    let zr = {
                        let (lo, hi) = v.logits.iter().fold((0f64, 0f64), |(a, b), &x| (a.min(f64::from(x)), b.max(f64::from(x))));
                        (lo, hi.max(lo + 1e-6))
                    };
                    let kind = v.kind.as_str();
                    view! {
                        <div class="ls-model" data-kind=kind>
                            <h3><span class="dot" style=format!("background:{}", model_color(v.kind))></span>{title}</h3>
                            <ClassBars values=v.logits.iter().map(|&x| f64::from(x)).collect() marks=vec![] label range=zr
                                title="logits z".to_string() export_name=format!("logits-{kind}") />
                            <ClassBars values=v.probs.iter().map(|&x| f64::from(x)).collect() marks=v.target.iter().map(|&x| f64::from(x)).collect() label range=pr
                                title="p (bars) · target q (marks)".to_string() export_name=format!("probs-{kind}") />
                            <ClassBars values=v.softmax_minus_q.iter().map(|&x| f64::from(x)).collect() marks=vec![] label range=gr
                                title="gradient p − q".to_string() export_name=format!("gradient-{kind}") />
                            <table class="moments ls-decomp">
                                <tbody>
                                    <tr><th>"loss"</th><td>{format!("{:.3}", v.loss)}</td></tr>
                                    <tr><th>"smoothing term ε·(z_y − z̄)"</th><td>{format!("{:.3}", d.smoothing_term)}</td></tr>
                                    <tr><th>"… regularisation"</th><td>{format!("{:.3}", d.regularisation)}</td></tr>
                                    <tr><th>"… error enhancement"</th><td data-testid="error-enhancement">{format!("{:.3}", d.error_enhancement)}</td></tr>
                                    <tr><th>"MaxSup term α·(max z − z̄)"</th><td>{format!("{:.3}", d.maxsup_term)}</td></tr>
                                </tbody>
                            </table>
                        </div>
                    }
                }).collect_view()}
            </div>
        }
        .into_any()
    }
}

/// Signed bars, one per class, on a shared range; the true class is marked.
#[component]
fn ClassBars(
    values: Vec<f64>,
    marks: Vec<f64>,
    label: usize,
    range: (f64, f64),
    title: String,
    export_name: String,
) -> impl IntoView {
    const W: f64 = 240.0;
    const H: f64 = 96.0;
    const L: f64 = 34.0;
    const R: f64 = 6.0;
    const T: f64 = 8.0;
    const B: f64 = 16.0;
    let (lo, hi) = range;
    let y_of = move |v: f64| T + (hi - v.clamp(lo, hi)) / (hi - lo) * (H - T - B);
    let k = values.len().max(1);
    let pw = (W - L - R) / k as f64;
    let zero = y_of(0.0);
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let x = L + i as f64 * pw;
            let (y0, y1) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
            let mark = marks.get(i).map(|&m| {
                let y = y_of(m);
                view! { <line class="mark" x1=x + pw * 0.1 y1=y x2=x + pw * 0.9 y2=y /> }
            });
            view! {
                <rect x=x + pw * 0.18 y=y0 width=pw * 0.64 height=(y1 - y0).max(0.5) fill=category_color(i)
                    fill-opacity=if i == label { "1" } else { "0.45" } />
                {mark}
                <text class="tick" x=x + pw / 2.0 y=H - 4.0 text-anchor="middle"
                    font-weight=if i == label { "700" } else { "400" }>{if i == label { format!("{}✓", i + 1) } else { (i + 1).to_string() }}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="plot ls-bars">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone()>
                <line class="axis" x1=L y1=zero x2=W - R y2=zero />
                <line class="axis" x1=L y1=T x2=L y2=H - B />
                <text class="tick" x=L - 4.0 y=y_of(hi) + 3.0 text-anchor="end">{short(hi)}</text>
                <text class="tick" x=L - 4.0 y=y_of(lo) + 3.0 text-anchor="end">{short(lo)}</text>
                {bars}
            </svg>
            <figcaption>
                <span class="caption-title">{title}</span>
                <PlotExport name=export_name />
            </figcaption>
        </figure>
    }
}

/// Accuracy against confidence per bin, every model, with the diagonal.
#[component]
pub(super) fn ReliabilityPlot(snap: RwSignal<Option<Arc<Snapshot>>>) -> impl IntoView {
    view! {
        <div data-testid="reliability"
            data-step=move || snap.with(|s| s.as_ref().map_or(-1, |s| i64::from(s.step))).to_string()
            data-ece=move || snap.with(|s| s.as_ref().map(|s| s.models.iter().map(|m| format!("{:.4}", m.ece)).collect::<Vec<_>>().join(",")).unwrap_or_default())>
            {move || match snap.get() {
                None => view! { <p class="running">"Training…"</p> }.into_any(),
                Some(s) => {
                    let mut series = vec![Series {
                        name: "perfect calibration",
                        color: "var(--muted)",
                        dashed: true,
                        points: vec![(0.0, 0.0), (1.0, 1.0)],
                        ..Series::default()
                    }];
                    series.extend(s.models.iter().map(|m| Series {
                        name: model_name(m.kind),
                        color: model_color(m.kind),
                        points: m
                            .reliability
                            .iter()
                            .filter(|b| b.count > 0)
                            .map(|b| (f64::from(b.confidence), f64::from(b.accuracy)))
                            .collect(),
                        ..Series::default()
                    }));
                    view! {
                        <LinePlot series x_label="confidence (mean per bin)" y_label="accuracy"
                            title=format!("Reliability at step {}", s.step) export_name="reliability" />
                        <p class="meta ls-center legend ls-values">"ECE (15 bins):"
                            {s.models.iter().map(|m| view! { <span class="key"><span class="dot" style=format!("background:{}", model_color(m.kind))></span>{format!("{:.4}", m.ece)}</span> }).collect_view()}
                        </p>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}

/// Selective risk against coverage, with and without logit normalisation.
#[component]
pub(super) fn RiskCoveragePlot(snap: RwSignal<Option<Arc<Snapshot>>>) -> impl IntoView {
    view! {
        <div data-testid="risk-coverage"
            data-step=move || snap.with(|s| s.as_ref().map_or(-1, |s| i64::from(s.step))).to_string()
            data-aurc=move || snap.with(|s| s.as_ref().map(|s| s.models.iter().map(|m| format!("{:.5}", m.aurc)).collect::<Vec<_>>().join(",")).unwrap_or_default())>
            {move || match snap.get() {
                None => view! { <p class="running">"Training…"</p> }.into_any(),
                Some(s) => {
                    let thin = |v: &[(f32, f32)]| -> Vec<(f64, f64)> {
                        let stride = v.len().div_ceil(200).max(1);
                        let mut out: Vec<(f64, f64)> = v
                            .iter()
                            .step_by(stride)
                            .map(|&(c, r)| (f64::from(c), f64::from(r)))
                            .collect();
                        if let Some(&(c, r)) = v.last()
                            && out.last().is_none_or(|l| l.0 != f64::from(c))
                        {
                            out.push((f64::from(c), f64::from(r)));
                        }
                        out
                    };
                    let mut series = Vec::new();
                    for m in &s.models {
                        series.push(Series {
                            name: model_name(m.kind),
                            color: model_color(m.kind),
                            points: thin(&m.risk_coverage),
                            ..Series::default()
                        });
                        series.push(Series {
                            name: lognorm_name(m.kind),
                            color: model_color(m.kind),
                            dashed: true,
                            points: thin(&m.risk_coverage_lognorm),
                            ..Series::default()
                        });
                    }
                    view! {
                        <LinePlot series x_label="coverage" y_label="selective risk"
                            title=format!("Risk–coverage at step {}", s.step) export_name="risk-coverage" />
                        <p class="meta ls-center legend ls-values">"AURC → with logit normalisation:"
                            {s.models.iter().map(|m| view! { <span class="key"><span class="dot" style=format!("background:{}", model_color(m.kind))></span>{format!("{:.4} → {:.4}", m.aurc, m.aurc_lognorm)}</span> }).collect_view()}
                        </p>
                    }
                    .into_any()
                }
            }}
        </div>
    }
}
