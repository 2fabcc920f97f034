//! Reusable SVG charts: lines on linear or log axes, bars against markers,
//! and the probability simplex. They only map numbers to pixels.

use leptos::prelude::*;

use super::export::PlotExport;
use crate::experiments::rng::VariateSummary;

const W: f64 = 360.0;
const H: f64 = 220.0;
const L: f64 = 46.0;
const R: f64 = 10.0;
const T: f64 = 12.0;
const B: f64 = 34.0;

/// One line of a [`LinePlot`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub name: &'static str,
    /// A CSS colour or variable.
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
    /// An optional shaded band (low, high) at the same x as `points`.
    pub band: Vec<(f64, f64)>,
}

/// Where a centred x-axis tick label goes: at its tick, shifted just enough
/// to stay inside the plot's box (the last tick sits R from the right edge,
/// and "1000" is wider than 2R in the 10 px monospace of `.tick`).
fn tick_x(x: f64, label: &str) -> f64 {
    let half = 0.5 * 6.2 * label.chars().count() as f64;
    x.min(W - 1.0 - half).max(1.0 + half)
}

/// Rounds to a short label: 3 significant digits, exponent form when tiny or huge.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .into()
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .into()
    }
}

/// An axis: data range to pixel range, linear or log10.
#[derive(Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    p0: f64,
    p1: f64,
}

impl Axis {
    fn new(values: impl Iterator<Item = f64>, log: bool, p0: f64, p1: f64) -> Self {
        let (mut lo, mut hi) = values
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            (lo, hi) = if log { (0.1, 10.0) } else { (0.0, 1.0) };
        }
        if log {
            lo = 10f64.powf(lo.log10().floor());
            hi = 10f64.powf(hi.log10().ceil());
            if hi <= lo {
                hi = lo * 10.0;
            }
        } else {
            if hi - lo < 1e-12 {
                lo -= 0.5;
                hi += 0.5;
            }
            let pad = 0.05 * (hi - lo);
            lo -= pad;
            hi += pad;
        }
        Self {
            lo,
            hi,
            log,
            p0,
            p1,
        }
    }

    fn px(&self, v: f64) -> f64 {
        let f = if self.log {
            (v.max(1e-300).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.p0 + f.clamp(-0.02, 1.02) * (self.p1 - self.p0)
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (
                self.lo.log10().round() as i32,
                self.hi.log10().round() as i32,
            );
            let step = ((b - a) / 5).max(1);
            (a..=b)
                .step_by(step as usize)
                .map(|e| 10f64.powi(e))
                .collect()
        } else {
            let raw = (self.hi - self.lo) / 4.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| *s >= raw)
                .unwrap_or(raw);
            let first = (self.lo / step).ceil() as i64;
            let last = (self.hi / step).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    }
}

/// Several lines on shared axes, with a legend.
#[component]
pub fn LinePlot(
    series: Vec<Series>,
    #[prop(optional)] log_x: bool,
    #[prop(optional)] log_y: bool,
    x_label: &'static str,
    y_label: &'static str,
    /// A vertical marker (e.g. the current τ).
    #[prop(optional)]
    marker_x: Option<f64>,
    /// A dashed horizontal reference line with its label.
    #[prop(optional)]
    hline: Option<(f64, &'static str)>,
    title: String,
    /// The plot's part of an exported file's name (default: from the title).
    #[prop(optional, into)]
    export_name: Option<String>,
) -> impl IntoView {
    let xs = Axis::new(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
        log_x,
        L,
        W - R,
    );
    let ys = Axis::new(
        series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.band.iter().flat_map(|b| [b.0, b.1]))
            })
            .chain(hline.map(|h| h.0)),
        log_y,
        H - B,
        T,
    );
    let x_ticks = xs
        .ticks()
        .into_iter()
        .map(|v| {
            let x = xs.px(v);
            let label = short(v);
            let at = tick_x(x, &label);
            view! {
                <line class="grid" x1=x y1=T x2=x y2=H - B />
                <text class="tick" x=at y=H - B + 13.0 text-anchor="middle">{label}</text>
            }
        })
        .collect_view();
    let y_ticks = ys
        .ticks()
        .into_iter()
        .map(|v| {
            let y = ys.px(v);
            view! {
                <line class="grid" x1=L y1=y x2=W - R y2=y />
                <text class="tick" x=L - 4.0 y=y + 3.0 text-anchor="end">{short(v)}</text>
            }
        })
        .collect_view();
    let ok = |x: f64, y: f64| x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
    let bands = series
        .iter()
        .filter(|s| !s.band.is_empty())
        .map(|s| {
            let upper = s
                .points
                .iter()
                .zip(&s.band)
                .filter(|(p, b)| ok(p.0, b.1) && ok(p.0, b.0))
                .map(|(p, b)| format!("{:.1},{:.1}", xs.px(p.0), ys.px(b.1)));
            let lower = s
                .points
                .iter()
                .zip(&s.band)
                .rev()
                .filter(|(p, b)| ok(p.0, b.1) && ok(p.0, b.0))
                .map(|(p, b)| format!("{:.1},{:.1}", xs.px(p.0), ys.px(b.0)));
            let pts = upper.chain(lower).collect::<Vec<_>>().join(" ");
            view! { <polygon class="band" points=pts fill=s.color /> }
        })
        .collect_view();
    let lines = series
        .iter()
        .map(|s| {
            let pts = s
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0))
                .map(|&(x, y)| format!("{:.1},{:.1}", xs.px(x), ys.px(y)))
                .collect::<Vec<_>>()
                .join(" ");
            view! {
                <polyline
                    class="series"
                    points=pts
                    stroke=s.color
                    stroke-dasharray=if s.dashed { "5 4" } else { "none" }
                />
            }
        })
        .collect_view();
    let legend = series
        .iter()
        .map(|s| {
            view! {
                <span class="key">
                    <i style=format!(
                        "background:{}; {}",
                        s.color,
                        if s.dashed { "opacity:0.6" } else { "" },
                    )></i>
                    {s.name}
                </span>
            }
        })
        .collect_view();
    let marker = marker_x.map(|m| {
        let x = xs.px(m);
        view! { <line class="marker" x1=x y1=T x2=x y2=H - B /> }
    });
    let reference = hline.map(|(v, label)| {
        let y = ys.px(v);
        view! {
            <line class="reference" x1=L y1=y x2=W - R y2=y />
            <text class="tick" x=W - R - 2.0 y=y - 4.0 text-anchor="end">{label}</text>
        }
    });
    view! {
        <figure class="plot">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone()>
                {x_ticks}
                {y_ticks}
                <line class="axis" x1=L y1=H - B x2=W - R y2=H - B />
                <line class="axis" x1=L y1=T x2=L y2=H - B />
                {bands}
                {reference}
                {marker}
                {lines}
                <text class="label" x=(L + W - R) / 2.0 y=H - 4.0 text-anchor="middle">{x_label}</text>
                <text class="label" x=12.0 y=(T + H - B) / 2.0 text-anchor="middle" transform=format!("rotate(-90 12 {})", (T + H - B) / 2.0)>
                    {y_label}
                </text>
            </svg>
            <figcaption>
                <span class="caption-title">{title.clone()}</span>
                <span class="legend">{legend}</span>
                <PlotExport name=export_name.unwrap_or(title) />
            </figcaption>
        </figure>
    }
}

/// One bar per category against a marker per category (e.g. frequencies against probabilities).
#[component]
pub fn BarPlot(
    bars: Vec<f64>,
    marks: Vec<f64>,
    bar_label: &'static str,
    mark_label: &'static str,
    title: String,
    /// The plot's part of an exported file's name (default: from the title).
    #[prop(optional, into)]
    export_name: Option<String>,
) -> impl IntoView {
    let k = bars.len().max(1);
    let y_max = bars
        .iter()
        .chain(&marks)
        .fold(0.0f64, |m, v| m.max(*v))
        .max(1e-9)
        * 1.12;
    let pw = (W - L - R) / k as f64;
    let y_of = move |v: f64| H - B - (v / y_max).clamp(0.0, 1.0) * (H - B - T);
    let items = (0..k)
        .map(|i| {
            let x = L + i as f64 * pw;
            let b = bars.get(i).copied().unwrap_or(0.0);
            let m = marks.get(i).copied().unwrap_or(0.0);
            view! {
                <rect class="bar" x=x + pw * 0.18 y=y_of(b) width=pw * 0.64 height=(H - B - y_of(b)).max(0.0) />
                <line class="mark" x1=x + pw * 0.08 y1=y_of(m) x2=x + pw * 0.92 y2=y_of(m) />
                <text class="tick" x=x + pw / 2.0 y=H - B + 13.0 text-anchor="middle">{i + 1}</text>
            }
        })
        .collect_view();
    let y_ticks = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|f| {
            let v = f * y_max / 1.12;
            view! { <text class="tick" x=L - 4.0 y=y_of(v) + 3.0 text-anchor="end">{short(v)}</text> }
        })
        .collect_view();
    view! {
        <figure class="plot">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone()>
                <line class="axis" x1=L y1=H - B x2=W - R y2=H - B />
                <line class="axis" x1=L y1=T x2=L y2=H - B />
                {y_ticks}
                {items}
                <text class="label" x=(L + W - R) / 2.0 y=H - 4.0 text-anchor="middle">"category k"</text>
            </svg>
            <figcaption>
                <span class="caption-title">{title.clone()}</span>
                <span class="legend">
                    <span class="key"><i class="swatch-bar"></i>{bar_label}</span>
                    <span class="key"><i class="swatch-mark"></i>{mark_label}</span>
                </span>
                <PlotExport name=export_name.unwrap_or(title) />
            </figcaption>
        </figure>
    }
}

/// Category colours, in order (colour-blind-safe Okabe–Ito palette).
pub const CATEGORY_COLORS: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
];

/// The colour of category (or class) `k`, cycling through [`CATEGORY_COLORS`].
pub fn category_color(k: usize) -> &'static str {
    CATEGORY_COLORS[k % CATEGORY_COLORS.len()]
}

/// `#RRGGBB` as opaque RGBA bytes (black for anything else).
pub fn hex_rgba(hex: &str) -> [u8; 4] {
    let byte = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0)
    };
    [byte(1), byte(3), byte(5), 255]
}

/// Many small square dots drawn as pixels: one `putImageData` on a scratch
/// canvas and one `drawImage` per frame, instead of a canvas call per dot
/// (at the diffusion widget's maximum, tens of thousands of `fillRect` and
/// `fillStyle` calls made 100–140 ms main-thread tasks).
pub struct DotLayer {
    width: u32,
    height: u32,
    /// Device pixels per CSS pixel.
    scale: f64,
    rgba: Vec<u8>,
}

thread_local! {
    /// The scratch canvas the dots are put on before being composited.
    static SCRATCH: std::cell::RefCell<Option<web_sys::HtmlCanvasElement>> = const { std::cell::RefCell::new(None) };
}

impl DotLayer {
    /// A clear layer over all of `el` (sized by [`canvas_context`]) whose
    /// CSS width is `css_width`.
    pub fn for_canvas(el: &web_sys::HtmlCanvasElement, css_width: f64) -> Self {
        let (width, height) = (el.width(), el.height());
        Self {
            width,
            height,
            scale: f64::from(width) / css_width.max(1.0),
            rgba: vec![0; width as usize * height as usize * 4],
        }
    }

    /// A square dot centred at (x, y) with half-side `half`, in CSS pixels.
    pub fn dot(&mut self, x: f64, y: f64, half: f64, color: [u8; 4]) {
        // Device-pixel rows or columns [lo, hi) of the dot, clipped to [0, n).
        let span = |c: f64, n: u32| {
            let lo = (((c - half) * self.scale).round().max(0.0) as u32).min(n);
            let hi = (((c + half) * self.scale).round().max(0.0) as u32).min(n);
            lo..hi.max(lo)
        };
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        let xs = span(x, self.width);
        for row in span(y, self.height) {
            let start = (row * self.width + xs.start) as usize * 4;
            let end = (row * self.width + xs.end) as usize * 4;
            for px in self.rgba[start..end].chunks_exact_mut(4) {
                px.copy_from_slice(&color);
            }
        }
    }

    /// Composites the dots over what `ctx` has drawn so far.
    pub fn draw(self, ctx: &web_sys::CanvasRenderingContext2d) -> Option<()> {
        use wasm_bindgen::{Clamped, JsCast};
        let scratch = SCRATCH.with(|s| {
            s.borrow_mut()
                .get_or_insert_with(|| {
                    web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.create_element("canvas").ok())
                        .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
                        .expect("a document can make a canvas")
                })
                .clone()
        });
        scratch.set_width(self.width);
        scratch.set_height(self.height);
        let image = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            Clamped(&self.rgba),
            self.width,
            self.height,
        )
        .ok()?;
        context_2d(&scratch)?
            .put_image_data(&image, 0.0, 0.0)
            .ok()?;
        ctx.save();
        ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok()?;
        let drawn = ctx.draw_image_with_html_canvas_element(&scratch, 0.0, 0.0);
        ctx.restore();
        drawn.ok()
    }
}

/// A 2D context for `el` sized `w × h` CSS pixels at the device's pixel ratio.
pub fn canvas_context(
    el: &web_sys::HtmlCanvasElement,
    w: f64,
    h: f64,
) -> Option<web_sys::CanvasRenderingContext2d> {
    let dpr = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .max(1.0);
    el.set_width((w * dpr) as u32);
    el.set_height((h * dpr) as u32);
    let ctx = context_2d(el)?;
    let _ = ctx.scale(dpr, dpr);
    Some(ctx)
}

/// The 2D context of a canvas as it is: nothing cleared, the scale of the
/// last [`canvas_context`] kept (for drawing more on what is there).
pub fn context_2d(el: &web_sys::HtmlCanvasElement) -> Option<web_sys::CanvasRenderingContext2d> {
    use wasm_bindgen::JsCast;
    el.get_context("2d")
        .ok()
        .flatten()?
        .dyn_into::<web_sys::CanvasRenderingContext2d>()
        .ok()
}

/// The K corners of the simplex drawn as a regular K-gon (K = 3: its
/// triangle; K = 2: a segment), bottom edge level, scaled to fit the canvas
/// with room for the corner labels.
fn simplex_corners(k: usize) -> Vec<(f64, f64)> {
    use std::f64::consts::{FRAC_PI_2, PI, TAU};
    let k = k.max(2);
    let unit: Vec<(f64, f64)> = (0..k)
        .map(|i| {
            let a = -FRAC_PI_2 - PI / k as f64 + TAU * i as f64 / k as f64;
            (a.cos(), -a.sin())
        })
        .collect();
    let (lo_x, hi_x, lo_y, hi_y) = unit.iter().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    let (bw, bh) = (W - 80.0, H - 44.0);
    let scale = (bw / (hi_x - lo_x).max(1e-9)).min(bh / (hi_y - lo_y).max(1e-9));
    let (cx, cy) = (
        W / 2.0 - scale * (lo_x + hi_x) / 2.0,
        H / 2.0 - scale * (lo_y + hi_y) / 2.0,
    );
    unit.iter()
        .map(|&(x, y)| (cx + scale * x, cy + scale * y))
        .collect()
}

/// A point of the simplex in the plane: Σ_k y_k v_k over the corners v_k
/// (barycentric for K = 3, a linear projection for K > 3).
fn simplex_xy(corners: &[(f64, f64)], y: &[f64]) -> (f64, f64) {
    let s: f64 = y.iter().sum::<f64>().max(1e-12);
    corners.iter().zip(y).fold((0.0, 0.0), |(x, yy), (v, c)| {
        (x + c / s * v.0, yy + c / s * v.1)
    })
}

/// Relaxed samples on the probability simplex, its K corners drawn as a
/// regular K-gon, coloured by their hard category: a canvas, since it redraws
/// 1,500 points several times a second.
#[component]
pub fn SimplexPlot(
    points: Signal<Vec<(Vec<f32>, usize)>>,
    probs: Signal<Vec<f64>>,
    /// Mean of the samples' largest coordinate (exposed for tests and screen readers).
    sharpness: Signal<f64>,
    title: String,
    /// The plot's part of an exported file's name (default: "simplex").
    #[prop(optional, into)]
    export_name: Option<String>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let pts = points.get();
        let p = probs.get();
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, W, H) else {
            return;
        };
        let k = p.len();
        let v = simplex_corners(k);
        ctx.set_stroke_style_str("rgba(128,128,140,0.8)");
        ctx.set_line_width(1.0);
        ctx.begin_path();
        ctx.move_to(v[0].0, v[0].1);
        for c in &v[1..] {
            ctx.line_to(c.0, c.1);
        }
        ctx.close_path();
        ctx.stroke();
        for (y, hard) in pts.iter().filter(|(y, _)| y.len() == k) {
            let y: Vec<f64> = y.iter().map(|&c| f64::from(c)).collect();
            let (x, yy) = simplex_xy(&v, &y);
            ctx.set_fill_style_str(category_color(*hard));
            ctx.fill_rect(x - 1.2, yy - 1.2, 2.4, 2.4);
        }
        if k >= 2 {
            let (x, yy) = simplex_xy(&v, &p);
            ctx.set_stroke_style_str("rgba(128,128,140,1)");
            ctx.set_line_width(2.0);
            ctx.begin_path();
            let _ = ctx.arc(x, yy, 5.0, 0.0, std::f64::consts::TAU);
            ctx.stroke();
        }
        ctx.set_fill_style_str("rgba(128,128,140,1)");
        ctx.set_font("11px system-ui, sans-serif");
        ctx.set_text_align("center");
        ctx.set_text_baseline("middle");
        let (cx, cy) = (
            v.iter().map(|c| c.0).sum::<f64>() / k.max(1) as f64,
            v.iter().map(|c| c.1).sum::<f64>() / k.max(1) as f64,
        );
        for (i, (x, y)) in v.iter().enumerate() {
            // Each label just outside its corner, away from the centre.
            let (dx, dy) = (x - cx, y - cy);
            let d = dx.hypot(dy).max(1e-9);
            let _ = ctx.fill_text(
                &format!("k = {}", i + 1),
                x + 20.0 * dx / d,
                y + 11.0 * dy / d,
            );
        }
    });
    view! {
        <figure class="plot">
            <canvas
                node_ref=canvas
                class="simplex-canvas"
                role="img"
                aria-label=title.clone()
                data-testid="simplex"
                data-points=move || points.with(Vec::len).to_string()
                data-sharpness=move || format!("{:.3}", sharpness.get())
            ></canvas>
            <figcaption>
                <span class="caption-title">{title}</span>
                <span class="legend">
                    <span class="key"><i class="swatch-probs"></i>"softmax(θ)"</span>
                </span>
                <PlotExport name=export_name.unwrap_or_else(|| "simplex".into()) />
            </figcaption>
        </figure>
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
    let pw = W - L - R;
    let ph = H - T - B;
    let x_of = move |i: f64| L + i / n as f64 * pw;
    let y_of = move |v: f64| T + ph * (1.0 - v / y_max);
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
                    height=format!("{:.2}", (T + ph - y).max(0.0))
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
                    {short(v)}
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
                <line class="axis" x1=L y1=T + ph x2=W - R y2=T + ph />
                <line class="axis" x1=L y1=T x2=L y2=T + ph />
                <text class="tick" x=L - 4.0 y=format!("{:.1}", y_of(y_max / 1.08) + 4.0) text-anchor="end">
                    {y_label}
                </text>
                <text class="tick" x=L - 4.0 y=T + ph text-anchor="end">
                    "0"
                </text>
                {bars}
                <polyline class="exact" points=curve />
                {ticks}
            </svg>
            <figcaption>
                <span class="caption-title">{label}</span>
                <span class="legend">
                    <span class="key"><i class="swatch-bar"></i>"samples"</span>
                    <span class="key"><i class="swatch-mark"></i>"exact density"</span>
                </span>
                <PlotExport name=label />
            </figcaption>
        </figure>
    }
}
