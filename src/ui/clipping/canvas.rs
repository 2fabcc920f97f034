//! The clipping widget's canvas: the objective's contours with every
//! estimator's trajectory drawn over them, frame by frame, and their key.

use leptos::prelude::*;

use super::run::Paths;
use super::{METHOD_COLORS, method_label};
use crate::experiments::clipping::{
    self, ClippingConfig, METHODS, Objective, contour_grid, view_window,
};
use crate::ui::charts::{canvas_context, context_2d};
use crate::ui::contours::{ContourPicture, contour_picture, draw_contour_picture};
use crate::ui::export::PlotExport;

/// The contour grid's side, in samples (interpolated to every pixel).
const N: usize = 120;
/// The canvas side, in CSS pixels.
const SIZE: f64 = 420.0;

/// Maps a point of `obj`'s view window to canvas pixels (clamped just outside the canvas).
fn to_px(obj: Objective) -> impl Fn([f32; 2]) -> (f64, f64) {
    let (xr, yr) = view_window(obj);
    move |p: [f32; 2]| {
        let (x, y) = (
            (f64::from(p[0]) - xr[0]) / (xr[1] - xr[0]) * SIZE,
            (yr[1] - f64::from(p[1])) / (yr[1] - yr[0]) * SIZE,
        );
        (x.clamp(-5.0, SIZE + 5.0), y.clamp(-5.0, SIZE + 5.0))
    }
}

/// Path segments `from..upto` (point indices) of every estimator.
fn draw_paths(
    ctx: &web_sys::CanvasRenderingContext2d,
    objective: Memo<Objective>,
    paths: Memo<Paths>,
    from: usize,
    upto: usize,
) {
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
}

/// The start (■) and the optimum (★).
fn draw_marks(ctx: &web_sys::CanvasRenderingContext2d, objective: Memo<Objective>) {
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
}

/// The objective's banded log-contours: 12 bands from light (low) to
/// darker (high), smooth at the pixel, with their boundaries traced.
fn draw_contours(ctx: &web_sys::CanvasRenderingContext2d, pic: &ContourPicture) {
    draw_contour_picture(
        ctx,
        pic,
        |band| format!("hsl(225, 35%, {}%)", 97.0 - band as f64 * 4.2),
        "rgba(40, 52, 110, 0.28)",
    );
}

/// The objective as banded log-contours, the optimum, and the trajectories up to `frame`.
#[component]
pub(super) fn ContourCanvas(
    cfg: Memo<ClippingConfig>,
    paths: Memo<Paths>,
    frame: RwSignal<usize>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let objective = Memo::new(move |_| cfg.with(|c| c.objective));
    let grid = Memo::new(move |_| contour_picture(&contour_grid(objective.get(), N), N, SIZE, 12));
    // The canvas holds the contours and the paths up to `drawn`: a new
    // frame draws only the segments since then (a replay costs the same per
    // frame at step 10 and at step 1,000); anything else redraws it whole.
    let drawn = StoredValue::new(0usize);
    let redraw = Trigger::new();
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
        draw_contours(&ctx, &g);
        draw_paths(&ctx, objective, paths, 0, upto);
        draw_marks(&ctx, objective);
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
        let Some(ctx) = canvas.get_untracked().and_then(|el| context_2d(&el)) else {
            return;
        };
        draw_paths(&ctx, objective, paths, from.saturating_sub(1), upto);
        draw_marks(&ctx, objective);
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

/// The trajectories' key: one colour per estimator.
#[component]
pub(super) fn MethodLegend() -> impl IntoView {
    view! {
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
    }
}
