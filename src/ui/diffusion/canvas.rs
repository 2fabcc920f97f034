//! The particles canvas: the training data, the score field, trails and
//! particles, drawn once per shown frame; mixture components can be dragged
//! and data points drawn with the pointer.

use leptos::prelude::*;
use web_sys::CanvasRenderingContext2d;

use super::drawing::add_stroke;
use super::run::{Frame, RunState, Runner};
use super::store::DrawingStore;
use crate::experiments::diffusion::{
    self as dexp, DiffusionConfig, DiffusionData, PointSet, ScoreArrows,
};
use crate::ui::charts::{DotLayer, canvas_context, category_color, hex_rgba};
use crate::ui::export::PlotExport;

/// The canvas shows [−VIEW, VIEW]².
const VIEW: f64 = 2.0;
/// Canvas size in CSS pixels.
const SIZE: f64 = 480.0;
/// Arrows per side of the score field.
const FIELD_SIDE: usize = 17;
/// Minimum distance between two drawn points, in data units.
const DRAW_SPACING: f32 = 0.03;

/// World (data) coordinates to canvas pixels.
fn to_px(p: [f32; 2]) -> (f64, f64) {
    (
        (f64::from(p[0]) / VIEW + 1.0) * SIZE / 2.0,
        (1.0 - f64::from(p[1]) / VIEW) * SIZE / 2.0,
    )
}

/// Canvas pixels to world (data) coordinates.
fn to_world(x: f64, y: f64) -> [f32; 2] {
    [
        ((x / SIZE * 2.0 - 1.0) * VIEW) as f32,
        ((1.0 - y / SIZE * 2.0) * VIEW) as f32,
    ]
}

/// The score field at the shown level (computed on the CPU: a 17 × 17 grid),
/// while the score-field toggle is on.
pub(super) fn score_field(cfg: Memo<DiffusionConfig>, run: RunState) -> Memo<Option<ScoreArrows>> {
    let RunState {
        scrub,
        frame,
        run_key,
        levels,
        train_set,
        source_copy,
        ..
    } = run;
    Memo::new(move |_| {
        let shown_step = scrub
            .get()
            .or_else(|| frame.with(|f| f.as_ref().map(|f| f.step)))?;
        let (on, c) = cfg.with(|c| (c.field, run_key.get()));
        if !on {
            return None;
        }
        // At the data level the field is that of the last noisy level.
        let level = levels.with(|l| l[shown_step.min(l.len().saturating_sub(2))]);
        if level.v <= 0.0 {
            return None;
        }
        let classes = train_set.with_value(|t| t.class_count);
        source_copy.with_value(|s| {
            s.as_ref()
                .map(|s| dexp::score_field(&c, s, level, classes, FIELD_SIDE, VIEW as f32 * 0.9))
        })
    })
}

/// Axes through −1, 0 and 1.
fn draw_axes(ctx: &CanvasRenderingContext2d) {
    ctx.set_stroke_style_str("rgba(128,128,140,0.25)");
    ctx.set_line_width(1.0);
    for v in [-1.0f32, 0.0, 1.0] {
        let (x, _) = to_px([v, 0.0]);
        let (_, y) = to_px([0.0, v]);
        ctx.begin_path();
        ctx.move_to(x, 0.0);
        ctx.line_to(x, SIZE);
        ctx.move_to(0.0, y);
        ctx.line_to(SIZE, y);
        ctx.stroke();
    }
}

/// Training data (faint), or the drawing.
fn draw_data(ctx: &CanvasRenderingContext2d, train: &PointSet, drawn: Option<&Vec<[f32; 2]>>) {
    ctx.set_fill_style_str("rgba(128,128,140,0.45)");
    for p in &train.points {
        let (x, y) = to_px(*p);
        ctx.fill_rect(x - 1.0, y - 1.0, 2.0, 2.0);
    }
    if let Some(s) = drawn {
        for p in s {
            let (x, y) = to_px(*p);
            ctx.fill_rect(x - 1.5, y - 1.5, 3.0, 3.0);
        }
    }
}

/// Score field.
fn draw_field(ctx: &CanvasRenderingContext2d, arrows: ScoreArrows) {
    ctx.set_stroke_style_str("rgba(128,128,140,0.7)");
    ctx.set_line_width(1.0);
    let cell = SIZE / FIELD_SIDE as f64 * 0.45;
    for (p, d) in arrows {
        let len = f64::from((d[0] * d[0] + d[1] * d[1]).sqrt());
        if len < 1e-9 {
            continue;
        }
        // Arrow length: a squashed magnitude, so near and far arrows both read.
        let l = cell * (len / (len + 0.25));
        let (ux, uy) = (f64::from(d[0]) / len, -f64::from(d[1]) / len);
        let (x0, y0) = to_px(p);
        let (x1, y1) = (x0 + ux * l, y0 + uy * l);
        ctx.begin_path();
        ctx.move_to(x0, y0);
        ctx.line_to(x1, y1);
        ctx.line_to(x1 - 3.0 * ux + 2.0 * uy, y1 - 3.0 * uy - 2.0 * ux);
        ctx.move_to(x1, y1);
        ctx.line_to(x1 - 3.0 * ux - 2.0 * uy, y1 - 3.0 * uy + 2.0 * ux);
        ctx.stroke();
    }
}

/// The trails up to the shown step (when on), and the particles of that
/// step, coloured by the class each is guided to.
fn draw_particles(
    ctx: &CanvasRenderingContext2d,
    r: &Runner,
    trails: bool,
    shown: Option<usize>,
    classes: usize,
) {
    let history = &r.history;
    if trails && history.len() > 1 {
        let upto = shown.unwrap_or(history.len() - 1).min(history.len() - 1);
        ctx.set_line_width(0.6);
        ctx.set_stroke_style_str("rgba(59,91,219,0.25)");
        for i in 0..history[0].len().min(256) {
            ctx.begin_path();
            let (x, y) = to_px(history[0][i]);
            ctx.move_to(x, y);
            for f in &history[1..=upto] {
                let (x, y) = to_px(f[i]);
                ctx.line_to(x, y);
            }
            ctx.stroke();
        }
    }
    let pts: &[[f32; 2]] = match shown {
        Some(k) if k < history.len() => &history[k],
        _ => &r.particles,
    };
    let radius = if pts.len() > 20_000 { 0.8 } else { 1.2 };
    let Some(el) = ctx.canvas() else { return };
    let mut dots = DotLayer::for_canvas(&el, SIZE);
    let colors: Vec<[u8; 4]> = if classes > 0 {
        (0..classes).map(|k| hex_rgba(category_color(k))).collect()
    } else {
        vec![hex_rgba("#3b5bdb")]
    };
    for (i, p) in pts.iter().enumerate() {
        let (x, y) = to_px(*p);
        dots.dot(x, y, radius, colors[i % colors.len()]);
    }
    let _ = dots.draw(ctx);
}

/// Draggable mixture components.
fn draw_components(ctx: &CanvasRenderingContext2d, means: &[[f32; 2]], gmm_std: f64) {
    ctx.set_line_width(2.0);
    for (k, m) in means.iter().enumerate() {
        let (x, y) = to_px(*m);
        ctx.set_stroke_style_str(category_color(k));
        ctx.begin_path();
        let _ = ctx.arc(
            x,
            y,
            (f64::from(gmm_std as f32) / VIEW * SIZE / 2.0).max(6.0),
            0.0,
            std::f64::consts::TAU,
        );
        ctx.stroke();
    }
}

/// The particles, the training data, the score field and trails on a canvas;
/// mixture components can be dragged, drawn data added with the pointer.
#[component]
#[allow(clippy::too_many_arguments)]
pub(super) fn ParticleCanvas(
    cfg: Memo<DiffusionConfig>,
    runner: StoredValue<Option<Runner>, LocalStorage>,
    frame: RwSignal<Option<Frame>>,
    scrub: RwSignal<Option<usize>>,
    field: Memo<Option<ScoreArrows>>,
    store: DrawingStore,
    train_set: StoredValue<PointSet, LocalStorage>,
    /// Moves the custom mixture's components to these means.
    set_gmm: Callback<Vec<[f32; 2]>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    // A component being dragged (index) or points being drawn.
    let dragging = StoredValue::new(None::<usize>);
    let draft_means = RwSignal::new(None::<Vec<[f32; 2]>>);
    let stroke = RwSignal::new(None::<Vec<[f32; 2]>>);
    Effect::new(move |_| {
        frame.track();
        let shown = scrub.get();
        let c = cfg.get();
        let arrows = field.get();
        let drawn = stroke.get();
        let means = draft_means.get().unwrap_or_else(|| c.custom().means);
        let Some(el) = canvas.get() else { return };
        let Some(ctx) = canvas_context(&el, SIZE, SIZE) else {
            return;
        };
        draw_axes(&ctx);
        train_set.with_value(|t| draw_data(&ctx, t, drawn.as_ref()));
        if let Some(arrows) = arrows {
            draw_field(&ctx, arrows);
        }
        let classes = c.guidance_classes(train_set.with_value(|t| t.class_count)) as usize;
        runner.with_value(|r| {
            let Some(r) = r else { return };
            draw_particles(&ctx, r, c.trails, shown, classes);
        });
        if c.dataset == DiffusionData::Custom {
            draw_components(&ctx, &means, c.gmm_std);
        }
    });
    let at = move |ev: &web_sys::PointerEvent| -> Option<[f32; 2]> {
        let el = canvas.get()?;
        let rect = el.get_bounding_client_rect();
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * SIZE;
        let y = (f64::from(ev.client_y()) - rect.top()) / rect.height() * SIZE;
        Some(to_world(x, y))
    };
    let finish = move || {
        if let Some(m) = draft_means.get_untracked() {
            set_gmm.run(m);
        }
        draft_means.set(None);
        dragging.set_value(None);
        if let Some(s) = stroke.get_untracked() {
            add_stroke(store, s);
        }
        stroke.set(None);
    };
    view! {
        <figure class="plot">
            <canvas
                node_ref=canvas
                class="particles-canvas"
                role="img"
                aria-label="Diffusion particles"
                data-testid="particles"
                data-step=move || frame.with(|f| f.as_ref().map_or(0, |f| f.step)).to_string()
                data-points=move || { frame.track(); runner.with_value(|r| r.as_ref().map_or(0, |r| r.particles.len())).to_string() }
                data-drawn=move || store.drawing.with(|d| d.points.len()).to_string()
                on:pointerdown=move |ev| {
                    let Some(p) = at(&ev) else { return };
                    let c = cfg.get_untracked();
                    match c.dataset {
                        DiffusionData::Custom => {
                            let means = c.custom().means;
                            let near = means.iter().enumerate().map(|(k, m)| (k, (m[0] - p[0]).hypot(m[1] - p[1]))).min_by(|a, b| a.1.total_cmp(&b.1));
                            if let Some((k, d)) = near && d < 0.2 {
                                dragging.set_value(Some(k));
                                draft_means.set(Some(means));
                            }
                        }
                        DiffusionData::Drawn => stroke.set(Some(vec![p])),
                        _ => return,
                    }
                    if let Some(el) = canvas.get() {
                        let _ = el.set_pointer_capture(ev.pointer_id());
                    }
                }
                on:pointermove=move |ev| {
                    let Some(p) = at(&ev) else { return };
                    if let Some(k) = dragging.get_value() {
                        draft_means.update(|m| if let Some(m) = m.as_mut() && k < m.len() { m[k] = [p[0].clamp(-2.5, 2.5), p[1].clamp(-2.5, 2.5)]; });
                    } else if stroke.with_untracked(Option::is_some) {
                        stroke.update(|s| if let Some(s) = s.as_mut() && s.last().is_none_or(|l| (l[0] - p[0]).hypot(l[1] - p[1]) >= DRAW_SPACING) { s.push(p); });
                    }
                }
                on:pointerup=move |_| finish()
                on:pointercancel=move |_| finish()
            ></canvas>
            <figcaption>
                <span class="caption-title">{move || match cfg.with(|c| c.dataset) {
                    DiffusionData::Custom => "Drag a ring to move a mixture component",
                    DiffusionData::Drawn => "Drag on the canvas to draw data points",
                    _ if cfg.with(|c| c.guidance != 0.0) => "Grey: training data · colour: the class each particle is guided to",
                    _ => "Grey: training data · blue: particles",
                }}</span>
                <PlotExport name="particles".to_string() />
            </figcaption>
        </figure>
    }
}
