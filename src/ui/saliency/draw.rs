//! Drawing an attribution field: decision regions as pale colour, the
//! attribution as arrows on a coarser lattice, the data and the probe.

use crate::ui::charts::category_color;

/// Canvas side of one field, in CSS pixels.
pub(super) const SIZE: f64 = 240.0;
/// Arrows per side.
const ARROWS: usize = 16;

/// Canvas pixels of a point of [−e, e]².
pub(super) fn to_px(p: [f64; 2], extent: f64) -> (f64, f64) {
    (
        (p[0] + extent) / (2.0 * extent) * SIZE,
        (extent - p[1]) / (2.0 * extent) * SIZE,
    )
}

/// The point of [−e, e]² under canvas pixels (x, y).
pub(super) fn to_world(x: f64, y: f64, extent: f64) -> [f64; 2] {
    [
        (x / SIZE * 2.0 - 1.0) * extent,
        (1.0 - y / SIZE * 2.0) * extent,
    ]
}

/// Decision regions: cell k's predicted class, pale.
pub(super) fn draw_regions(ctx: &web_sys::CanvasRenderingContext2d, grid: usize, classes: &[u32]) {
    let cell = SIZE / grid as f64;
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, SIZE, SIZE);
    ctx.set_global_alpha(0.22);
    for (k, c) in classes.iter().enumerate() {
        let (i, j) = (k / grid, k % grid);
        ctx.set_fill_style_str(category_color(*c as usize));
        ctx.fill_rect(
            j as f64 * cell,
            SIZE - (i + 1) as f64 * cell,
            cell + 0.5,
            cell + 0.5,
        );
    }
    ctx.set_global_alpha(1.0);
}

/// Arrows of the field (2 values per cell) on an `ARROWS`² lattice, the
/// longest `scale` drawn one lattice spacing long.
pub(super) fn draw_arrows(
    ctx: &web_sys::CanvasRenderingContext2d,
    grid: usize,
    values: &[f64],
    scale: f64,
    color: &str,
) {
    if values.len() < 2 * grid * grid || scale <= 0.0 || !scale.is_finite() {
        return;
    }
    let step = (grid / ARROWS).max(1);
    let cell = SIZE / grid as f64;
    let len = SIZE / (grid / step) as f64 * 0.9;
    ctx.set_stroke_style_str(color);
    ctx.set_fill_style_str(color);
    ctx.set_line_width(1.2);
    for i in (step / 2..grid).step_by(step) {
        for j in (step / 2..grid).step_by(step) {
            let k = i * grid + j;
            let (gx, gy) = (values[2 * k], values[2 * k + 1]);
            let (cx, cy) = ((j as f64 + 0.5) * cell, SIZE - (i as f64 + 0.5) * cell);
            let (dx, dy) = (gx / scale * len, -gy / scale * len);
            if dx.hypot(dy) < 0.8 {
                ctx.fill_rect(cx - 0.6, cy - 0.6, 1.2, 1.2);
                continue;
            }
            ctx.begin_path();
            ctx.move_to(cx - dx / 2.0, cy - dy / 2.0);
            ctx.line_to(cx + dx / 2.0, cy + dy / 2.0);
            ctx.stroke();
            let a = dy.atan2(dx);
            let (hx, hy) = (cx + dx / 2.0, cy + dy / 2.0);
            ctx.begin_path();
            ctx.move_to(hx, hy);
            ctx.line_to(hx - 4.0 * (a - 0.45).cos(), hy - 4.0 * (a - 0.45).sin());
            ctx.line_to(hx - 4.0 * (a + 0.45).cos(), hy - 4.0 * (a + 0.45).sin());
            ctx.close_path();
            ctx.fill();
        }
    }
}

/// The largest arrow length of a field.
pub(super) fn max_norm(values: &[f64]) -> f64 {
    values
        .chunks_exact(2)
        .map(|v| v[0].hypot(v[1]))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Data points `[x, y, label]`.
pub(super) fn draw_data(ctx: &web_sys::CanvasRenderingContext2d, data: &[[f32; 3]], extent: f64) {
    for p in data {
        let (x, y) = to_px([f64::from(p[0]), f64::from(p[1])], extent);
        ctx.set_fill_style_str(category_color(p[2] as usize));
        ctx.begin_path();
        let _ = ctx.arc(x, y, 1.8, 0.0, std::f64::consts::TAU);
        ctx.fill();
    }
}

/// The probe and a circle of radius `r` around it.
pub(super) fn draw_probe(
    ctx: &web_sys::CanvasRenderingContext2d,
    at: [f64; 2],
    r: f64,
    extent: f64,
) {
    let (x, y) = to_px(at, extent);
    let rp = r / (2.0 * extent) * SIZE;
    ctx.set_stroke_style_str("#111");
    ctx.set_line_width(1.5);
    ctx.begin_path();
    let _ = ctx.arc(x, y, rp.max(2.0), 0.0, std::f64::consts::TAU);
    ctx.stroke();
    ctx.set_fill_style_str("#111");
    ctx.begin_path();
    let _ = ctx.arc(x, y, 3.5, 0.0, std::f64::consts::TAU);
    ctx.fill();
}
