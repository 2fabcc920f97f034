//! The label-smoothing widget's canvases: the input plane shown, each
//! model's decision regions with the test points, and its penultimate-layer
//! clusters.

use std::sync::Arc;

use leptos::prelude::*;

use super::{model_color, model_name, model_title};
use crate::experiments::label_smoothing::{
    LabelSmoothingConfig, ModelKind, Snapshot, softmax_rows,
};
use crate::ui::charts::{canvas_context, category_color};
use crate::ui::export::PlotExport;

/// Canvas side in CSS pixels (decision regions, clusters).
const CANVAS: f64 = 260.0;
/// Test points drawn over the decision regions.
const OVERLAY_POINTS: usize = 600;

/// The square of the input plane shown: the test set's bounding box, padded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct View {
    cx: f64,
    cy: f64,
    half: f64,
}

impl View {
    /// The padded bounding square of the points `x` (pairs), or the unit square if none is finite.
    pub(super) fn of(x: &[f32]) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in x.chunks_exact(2) {
            for d in 0..2 {
                let v = f64::from(p[d]);
                if v.is_finite() {
                    lo[d] = lo[d].min(v);
                    hi[d] = hi[d].max(v);
                }
            }
        }
        if !lo[0].is_finite() || !lo[1].is_finite() {
            return Self {
                cx: 0.0,
                cy: 0.0,
                half: 1.0,
            };
        }
        let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0 * 1.08).max(1e-3);
        Self {
            cx: (lo[0] + hi[0]) / 2.0,
            cy: (lo[1] + hi[1]) / 2.0,
            half,
        }
    }

    /// The centres of a `side`×`side` grid over the square (pairs, row-major from the top-left).
    pub(super) fn grid(&self, side: usize) -> Vec<f32> {
        let mut g = Vec::with_capacity(side * side * 2);
        for r in 0..side {
            for c in 0..side {
                let fx = (c as f64 + 0.5) / side as f64 * 2.0 - 1.0;
                let fy = 1.0 - (r as f64 + 0.5) / side as f64 * 2.0;
                g.push((self.cx + fx * self.half) as f32);
                g.push((self.cy + fy * self.half) as f32);
            }
        }
        g
    }

    /// A point of the plane in canvas pixels.
    fn px(&self, x: f32, y: f32) -> (f64, f64) {
        (
            ((f64::from(x) - self.cx) / self.half + 1.0) * CANVAS / 2.0,
            (1.0 - (f64::from(y) - self.cy) / self.half) * CANVAS / 2.0,
        )
    }
}

/// One model's decision regions: the predicted class and its probability per cell.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Region {
    side: usize,
    step: u32,
    cells: Vec<(u8, f32)>,
}

impl Region {
    /// The regions from a grid's logits (`classes` per cell) at `step`.
    pub(super) fn of(logits: &[f32], classes: usize, side: usize, step: u32) -> Self {
        let probs = softmax_rows(logits, classes);
        let cells = probs
            .chunks_exact(classes.max(1))
            .map(|p| {
                let (k, v) = p
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                (k as u8, v)
            })
            .collect();
        Self { side, step, cells }
    }
}

/// The test set and the plane it is shown in.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TestData {
    pub(super) x: Vec<f32>,
    pub(super) y: Vec<u32>,
    pub(super) view: View,
}

/// One model's decision regions with the test points on top.
#[component]
pub(super) fn RegionCanvas(
    index: usize,
    kind: ModelKind,
    cfg: Memo<LabelSmoothingConfig>,
    regions: RwSignal<Vec<Option<Arc<Region>>>>,
    test_data: RwSignal<Option<Arc<TestData>>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let region = Memo::new(move |_| regions.with(|r| r.get(index).cloned().flatten()));
    Effect::new(move |_| {
        let r = region.get();
        let t = test_data.get();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, CANVAS, CANVAS) else {
            return;
        };
        if let Some(r) = &r {
            let cell = CANVAS / r.side as f64;
            let k = cfg.with_untracked(|c| c.dataset.classes()).max(2) as f32;
            for (i, &(c, p)) in r.cells.iter().enumerate() {
                let (row, col) = (i / r.side, i % r.side);
                // Cells on whole CSS pixels, so neighbours neither overlap nor leave seams.
                let (x0, y0) = ((col as f64 * cell).round(), (row as f64 * cell).round());
                let (x1, y1) = (
                    ((col + 1) as f64 * cell).round(),
                    ((row + 1) as f64 * cell).round(),
                );
                // Confidence from 1/K (palest) to 1 (strongest).
                let a = 0.08 + 0.5 * ((p - 1.0 / k) / (1.0 - 1.0 / k)).clamp(0.0, 1.0);
                ctx.set_global_alpha(f64::from(a));
                ctx.set_fill_style_str(category_color(c as usize));
                ctx.fill_rect(x0, y0, x1 - x0, y1 - y0);
            }
            ctx.set_global_alpha(1.0);
        }
        if let Some(t) = &t {
            let n = t.y.len();
            let stride = n.div_ceil(OVERLAY_POINTS).max(1);
            ctx.set_stroke_style_str("rgba(255,255,255,0.85)");
            ctx.set_line_width(0.8);
            for i in (0..n).step_by(stride) {
                let (x, y) = t.view.px(t.x[2 * i], t.x[2 * i + 1]);
                ctx.set_fill_style_str(category_color(t.y[i] as usize));
                ctx.begin_path();
                let _ = ctx.arc(x, y, 2.6, 0.0, std::f64::consts::TAU);
                ctx.fill();
                ctx.stroke();
            }
        }
    });
    let name = format!("regions-{}", kind.as_str());
    view! {
        <figure class="plot ls-canvas-fig">
            <h3><span class="dot" style=format!("background:{}", model_color(kind))></span>{move || cfg.with(|c| model_title(kind, c))}</h3>
            <canvas node_ref=canvas class="ls-canvas" role="img" aria-label=format!("Decision regions of the {} model", model_name(kind))
                data-testid="regions" data-kind=kind.as_str()
                data-step=move || region.with(|r| r.as_ref().map_or(-1, |r| i64::from(r.step))).to_string()></canvas>
            <figcaption>
                <span class="caption-title">{move || region.with(|r| r.as_ref().map_or("computing…".to_string(), |r| format!("step {}", r.step)))}</span>
                <PlotExport name=name />
            </figcaption>
        </figure>
    }
}

/// One model's penultimate-layer projection, coloured by class.
#[component]
pub(super) fn ClusterCanvas(
    index: usize,
    kind: ModelKind,
    cfg: Memo<LabelSmoothingConfig>,
    snap: RwSignal<Option<Arc<Snapshot>>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let has_projection = Memo::new(move |_| cfg.with(|c| c.dataset.classes() >= 3));
    Effect::new(move |_| {
        let s = snap.get();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, CANVAS, CANVAS) else {
            return;
        };
        let Some(p) = s
            .as_ref()
            .and_then(|s| s.models.get(index))
            .and_then(|m| m.projection.as_ref())
        else {
            return;
        };
        let finite = || {
            p.points
                .iter()
                .filter(|q| q[0].is_finite() && q[1].is_finite())
        };
        let pts: Vec<f32> = finite().flat_map(|q| [q[0], q[1]]).collect();
        let view = View::of(&pts);
        ctx.set_stroke_style_str("rgba(128,128,140,0.25)");
        ctx.set_line_width(1.0);
        let (ox, oy) = view.px(0.0, 0.0);
        ctx.begin_path();
        ctx.move_to(ox, 0.0);
        ctx.line_to(ox, CANVAS);
        ctx.move_to(0.0, oy);
        ctx.line_to(CANVAS, oy);
        ctx.stroke();
        ctx.set_global_alpha(0.7);
        for (q, &y) in p.points.iter().zip(&p.labels) {
            if !q[0].is_finite() || !q[1].is_finite() {
                continue;
            }
            let (x, yy) = view.px(q[0], q[1]);
            ctx.set_fill_style_str(category_color(y as usize));
            ctx.begin_path();
            let _ = ctx.arc(x, yy, 2.2, 0.0, std::f64::consts::TAU);
            ctx.fill();
        }
        ctx.set_global_alpha(1.0);
    });
    let name = format!("clusters-{}", kind.as_str());
    view! {
        <figure class="plot ls-canvas-fig">
            <h3><span class="dot" style=format!("background:{}", model_color(kind))></span>{move || cfg.with(|c| model_title(kind, c))}</h3>
            <Show when=move || has_projection.get() fallback=|| view! { <p class="simplex-note muted ls-canvas">"Needs three or more classes (choose gauss8, blobs3 or spirals3)."</p> }>
                <canvas node_ref=canvas class="ls-canvas" role="img" aria-label=format!("Penultimate-layer clusters of the {} model", model_name(kind))
                    data-testid="clusters" data-kind=kind.as_str()
                    data-step=move || snap.with(|s| s.as_ref().map_or(-1, |s| i64::from(s.step))).to_string()></canvas>
            </Show>
            <figcaption>
                <span class="legend">
                    {move || snap.with(|s| s.as_ref().and_then(|s| s.models.get(index)).and_then(|m| m.projection.as_ref()).map(|p| p.classes)).map(|cls| {
                        cls.into_iter().map(|c| view! {
                            <span class="key"><i class="ls-swatch" style=format!("background:{}", category_color(c as usize))></i>{format!("class {}", c + 1)}</span>
                        }).collect_view()
                    })}
                </span>
                <PlotExport name=name />
            </figcaption>
        </figure>
    }
}
