//! The two maps: the base classifier's regions, and the smoothed
//! classifier's p_A heat map with the abstention region, the test points,
//! and at every certified point its certified and true-radius circles (arcs
//! about the origin under rotation). A click on either map certifies there.

use leptos::prelude::*;

use super::run::Shown;
use crate::experiments::certify::{CertifyReport, Transform};
use crate::ui::charts::{canvas_context, category_color};
use crate::ui::export::PlotExport;

/// The canvas side, in CSS pixels.
pub(super) const SIZE: f64 = 360.0;
/// Colour of the certified radius; the true radius is drawn dashed in [`TRUE_COLOR`].
pub(super) const CERT_COLOR: &str = "#111";
pub(super) const TRUE_COLOR: &str = "#d6336c";

fn to_px(view: f64) -> impl Fn(f64, f64) -> (f64, f64) {
    move |x, y| {
        (
            (x + view) / (2.0 * view) * SIZE,
            (view - y) / (2.0 * view) * SIZE,
        )
    }
}

fn draw_cells(ctx: &web_sys::CanvasRenderingContext2d, r: &CertifyReport, heat: bool) {
    let m = &r.map;
    let g = m.grid as usize;
    let cell = SIZE / g as f64;
    for k in 0..g * g {
        let (i, j) = (k % g, k / g);
        // Row j is y ascending: draw it from the bottom.
        let (x, y) = (i as f64 * cell, SIZE - (j + 1) as f64 * cell);
        if heat {
            let pa = f64::from(m.pa[k]);
            ctx.set_fill_style_str(category_color(m.class[k] as usize));
            // Opacity from p_A: ½ (or less) faint, 1 solid.
            ctx.set_global_alpha((0.12 + 0.88 * ((pa - 0.5) / 0.5).clamp(0.0, 1.0)).min(1.0));
            ctx.fill_rect(x, y, cell + 0.5, cell + 0.5);
            if m.abstain[k] {
                // Washed out (not grey: one of the eight class colours is grey).
                ctx.set_global_alpha(0.8);
                ctx.set_fill_style_str("#fff");
                ctx.fill_rect(x, y, cell + 0.5, cell + 0.5);
            }
        } else {
            ctx.set_global_alpha(0.55);
            ctx.set_fill_style_str(category_color(m.base[k] as usize));
            ctx.fill_rect(x, y, cell + 0.5, cell + 0.5);
        }
    }
    ctx.set_global_alpha(1.0);
}

fn draw_test_points(ctx: &web_sys::CanvasRenderingContext2d, r: &CertifyReport) {
    let px = to_px(r.map.view);
    for (x, &y) in r.test_x.iter().zip(&r.test_y) {
        let (a, b) = px(f64::from(x[0]), f64::from(x[1]));
        ctx.set_fill_style_str(category_color(y as usize));
        ctx.set_stroke_style_str("#fff");
        ctx.begin_path();
        let _ = ctx.arc(a, b, 2.6, 0.0, std::f64::consts::TAU);
        ctx.fill();
        ctx.stroke();
    }
}

/// A circle of `radius` about (x, y), or under rotation the arc of ±`radius` about the origin through it.
fn draw_reach(
    ctx: &web_sys::CanvasRenderingContext2d,
    view: f64,
    p: [f64; 2],
    radius: f64,
    rotation: bool,
) {
    let scale = SIZE / (2.0 * view);
    let (cx, cy) = to_px(view)(0.0, 0.0);
    ctx.begin_path();
    if rotation {
        let rho = p[0].hypot(p[1]) * scale;
        // Canvas angles run clockwise (y down): the point's angle is −atan2(y, x).
        let a = -p[1].atan2(p[0]);
        let r = radius.min(std::f64::consts::PI);
        let _ = ctx.arc(cx, cy, rho, a - r, a + r);
    } else {
        let (x, y) = to_px(view)(p[0], p[1]);
        let _ = ctx.arc(x, y, radius * scale, 0.0, std::f64::consts::TAU);
    }
    ctx.stroke();
}

fn draw_points(ctx: &web_sys::CanvasRenderingContext2d, s: &Shown) {
    let r = &s.report;
    let rotation = s.cfg.transform == Transform::Rotation;
    let px = to_px(r.map.view);
    for p in &r.points {
        ctx.set_line_width(2.0);
        if let Some(t) = p.true_radius {
            ctx.set_stroke_style_str(TRUE_COLOR);
            let _ = ctx.set_line_dash(&js_sys::Array::of2(&5.0.into(), &4.0.into()));
            draw_reach(ctx, r.map.view, p.x, t, rotation);
        }
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        if !p.abstain {
            ctx.set_stroke_style_str(CERT_COLOR);
            draw_reach(ctx, r.map.view, p.x, p.radius, rotation);
        }
        let (a, b) = px(p.x[0], p.x[1]);
        ctx.set_fill_style_str(if p.abstain { "#888" } else { CERT_COLOR });
        ctx.fill_rect(a - 3.5, b - 3.5, 7.0, 7.0);
    }
}

/// Where a click landed, in data coordinates rounded to 0.01.
fn clicked(ev: &web_sys::MouseEvent, el: &web_sys::HtmlCanvasElement, view: f64) -> (f64, f64) {
    let rect = el.get_bounding_client_rect();
    let fx = (f64::from(ev.client_x()) - rect.left()) / rect.width().max(1.0);
    let fy = (f64::from(ev.client_y()) - rect.top()) / rect.height().max(1.0);
    let round = |v: f64| (v * 100.0).round() / 100.0;
    (
        round(-view + 2.0 * view * fx),
        round(view - 2.0 * view * fy),
    )
}

/// One map: the base regions (`heat` false) or the p_A heat map with the certificates.
#[component]
pub(super) fn MapCanvas(
    shown: RwSignal<Option<Shown>>,
    heat: bool,
    on_pick: Callback<(f64, f64)>,
    testid: &'static str,
    title: &'static str,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        shown.with(|s| {
            let (Some(s), Some(el)) = (s, canvas.get()) else {
                return;
            };
            let Some(ctx) = canvas_context(&el, SIZE, SIZE) else {
                return;
            };
            ctx.clear_rect(0.0, 0.0, SIZE, SIZE);
            draw_cells(&ctx, &s.report, heat);
            draw_test_points(&ctx, &s.report);
            if heat {
                draw_points(&ctx, s);
            }
        });
    });
    let view = 3.0;
    view! {
        <figure class="plot">
            <canvas
                node_ref=canvas
                class="contour-canvas"
                role="img"
                aria-label=title
                data-testid=testid
                data-drawn=move || shown.with(|s| s.is_some().to_string())
                on:click=move |ev| {
                    if let Some(el) = canvas.get_untracked() {
                        on_pick.run(clicked(&ev, &el, view));
                    }
                }
            ></canvas>
            <figcaption>
                <span class="caption-title">{title}</span>
                <PlotExport name=testid />
            </figcaption>
        </figure>
    }
}
