//! Smooth banded contours of a scalar field sampled on a grid, for canvas
//! plots: the field is interpolated bilinearly to every pixel row (so band
//! edges follow the field, not the grid's cells), and the band boundaries
//! are traced as iso-lines by marching squares. Computed once per field and
//! drawn as one path per band, so a redraw costs a few thousand rectangles.

/// A field's picture on a `size`×`size` canvas: per band, its pixel-row runs
/// `(y, x0, x1)`; and the iso-line segments between bands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContourPicture {
    pub bands: Vec<Vec<(f64, f64, f64)>>,
    pub lines: Vec<[(f64, f64); 2]>,
}

/// The band (0..`levels`) of `v` in `[lo, hi]`.
fn band_of(v: f64, lo: f64, hi: f64, levels: usize) -> usize {
    let t = (v - lo) / (hi - lo).max(1e-12);
    ((t * levels as f64).floor().max(0.0) as usize).min(levels - 1)
}

/// `g` (row-major, `n`×`n` cell-centre samples, row 0 at the top) at the
/// canvas point `(x, y)` of a `size`-pixel canvas, bilinearly.
fn sample(g: &[f64], n: usize, size: f64, x: f64, y: f64) -> f64 {
    let at = |p: f64| (p / size * n as f64 - 0.5).clamp(0.0, (n - 1) as f64);
    let (u, v) = (at(x), at(y));
    let (i, j) = (
        (u.floor() as usize).min(n - 2),
        (v.floor() as usize).min(n - 2),
    );
    let (fu, fv) = (u - i as f64, v - j as f64);
    let q = |r: usize, c: usize| g[r * n + c];
    let top = q(j, i) * (1.0 - fu) + q(j, i + 1) * fu;
    let bottom = q(j + 1, i) * (1.0 - fu) + q(j + 1, i + 1) * fu;
    top * (1.0 - fv) + bottom * fv
}

/// The iso-line of `g` at `level` through the square whose top-left sample
/// is `(i, j)`: the crossing points on its four edges, paired in order.
fn square_segments(
    g: &[f64],
    n: usize,
    cell: f64,
    (i, j): (usize, usize),
    level: f64,
) -> Vec<[(f64, f64); 2]> {
    let corner = |c: usize, r: usize| {
        (
            (c as f64 + 0.5) * cell,
            (r as f64 + 0.5) * cell,
            g[r * n + c],
        )
    };
    // Top, right, bottom, left edges, each from one corner to the next.
    let ring = [
        corner(i, j),
        corner(i + 1, j),
        corner(i + 1, j + 1),
        corner(i, j + 1),
    ];
    let mut points = Vec::with_capacity(4);
    for k in 0..4 {
        let (a, b) = (ring[k], ring[(k + 1) % 4]);
        if (a.2 < level) != (b.2 < level) {
            let t = (level - a.2) / (b.2 - a.2);
            points.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
    }
    points.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}

/// The picture of `g` (`n`×`n`, n ≥ 2) in `levels` equal bands between its
/// least and greatest finite value, on a `size`-pixel canvas.
pub fn contour_picture(g: &[f64], n: usize, size: f64, levels: usize) -> ContourPicture {
    let finite = g.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if n < 2 || g.len() != n * n || !lo.is_finite() || levels == 0 {
        return ContourPicture::default();
    }
    let rows = size.round() as usize;
    let mut bands = vec![Vec::new(); levels];
    for row in 0..rows {
        let y = row as f64 + 0.5;
        let mut x0 = 0usize;
        let mut band = band_of(sample(g, n, size, 0.5, y), lo, hi, levels);
        for col in 1..=rows {
            let next = (col < rows)
                .then(|| band_of(sample(g, n, size, col as f64 + 0.5, y), lo, hi, levels));
            if next != Some(band) {
                bands[band].push((row as f64, x0 as f64, col as f64));
                x0 = col;
                if let Some(b) = next {
                    band = b;
                }
            }
        }
    }
    let cell = size / n as f64;
    let mut lines = Vec::new();
    for k in 1..levels {
        let level = lo + (hi - lo) * k as f64 / levels as f64;
        for j in 0..n - 1 {
            for i in 0..n - 1 {
                lines.extend(square_segments(g, n, cell, (i, j), level));
            }
        }
    }
    ContourPicture { bands, lines }
}

/// Draws `pic`: each band filled with `fill(band)`, the iso-lines in `line`.
pub fn draw_contour_picture(
    ctx: &web_sys::CanvasRenderingContext2d,
    pic: &ContourPicture,
    fill: impl Fn(usize) -> String,
    line: &str,
) {
    for (band, runs) in pic.bands.iter().enumerate() {
        ctx.set_fill_style_str(&fill(band));
        ctx.begin_path();
        // A hair of overlap, so no seam shows between rows or runs.
        for &(y, x0, x1) in runs {
            ctx.rect(x0, y, x1 - x0 + 0.4, 1.4);
        }
        ctx.fill();
    }
    ctx.set_stroke_style_str(line);
    ctx.set_line_width(0.7);
    ctx.begin_path();
    for [(ax, ay), (bx, by)] in &pic.lines {
        ctx.move_to(*ax, *ay);
        ctx.line_to(*bx, *by);
    }
    ctx.stroke();
}
