//! The 2-D panel: a draggable point over the contours of f, a cloud of single
//! estimates, their mean, the exact gradient and the smoothed gradient.

use leptos::prelude::*;

use crate::ui::figure::Panel;
use leptos::task::spawn_local;

use super::estimator_color;
use crate::experiments::Backend;
use crate::experiments::registry::Compute;
use crate::experiments::zo::view::{GRID, PointView, page_point_config, point_config, point_view};
use crate::experiments::zo::{Estimator, ZoConfig};
use crate::ui::backend::{BackendCtx, gpu_compute, record_computed, report_gpu_fault};
use crate::ui::charts::short;
use crate::ui::controls::SetField;

const S: f64 = 360.0;
/// Frame period and estimates revealed per frame of the cloud.
const FRAME_MS: u64 = 40;
const REVEAL_PER_FRAME: usize = 4;

/// The view where the page computes it: on the GPU, or bounded on the main thread.
async fn compute(
    cfg: ZoConfig,
    backend: Backend,
) -> Result<(PointView, Backend), crate::gpu::GpuError> {
    let pc = point_config(&cfg);
    if backend == Backend::Gpu
        && let Some(on) = gpu_compute()
    {
        return Ok((point_view(&pc, &on).await?, Backend::Gpu));
    }
    Ok((
        point_view(&page_point_config(&pc), &Compute::Cpu).await?,
        Backend::Cpu,
    ))
}

#[component]
pub(super) fn PointPanel(
    ctx: BackendCtx,
    cfg: Memo<ZoConfig>,
    backend: Memo<Backend>,
    set_field: SetField,
    report_json: RwSignal<Option<String>>,
) -> impl IntoView {
    // The point while it is dragged (not yet in the URL).
    let draft = RwSignal::new(None::<[f64; 2]>);
    let shown = RwSignal::new(None::<(PointView, Backend)>);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let mut c = cfg.get();
        if let Some(at) = draft.get() {
            c.at = at.to_vec();
        }
        let b = backend.get();
        let this = generation.get_value() + 1;
        generation.set_value(this);
        spawn_local(async move {
            let r = compute(c, b).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            match r {
                Ok(v) => {
                    record_computed(v.1);
                    report_json.set(serde_json::to_string(&v.0.report).ok());
                    shown.set(Some(v));
                }
                Err(e) => report_gpu_fault(ctx, &e),
            }
        });
    });
    // The cloud is revealed a few estimates per frame, so a new point's spread is seen arriving.
    let revealed = RwSignal::new(0usize);
    let playing = RwSignal::new(true);
    Effect::new(move |_| {
        shown.track();
        if draft.get_untracked().is_none() {
            revealed.set(0);
        }
    });
    crate::ui::animation_clock(playing, FRAME_MS, move || {
        let total = shown.with_untracked(|s| s.as_ref().map_or(0, |(v, _)| v.report.cloud.len()));
        if revealed.get_untracked() < total {
            revealed.update(|r| *r = (*r + REVEAL_PER_FRAME).min(total));
        }
    });
    // Each part of the drawing redraws only when its own data changes: the
    // contours (48² cells) with the objective, the cloud one revealed
    // estimate at a time, so a frame of the reveal adds a few circles.
    let contours =
        Memo::new(move |_| shown.with(|s| s.as_ref().map(|(v, _)| (v.grid.clone(), v.window))));
    let cloud =
        Memo::new(move |_| shown.with(|s| s.as_ref().map_or_else(Vec::new, |(v, _)| cloud_px(v))));
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let dragging = StoredValue::new(false);
    let point_at = move |ev: &web_sys::PointerEvent| -> Option<[f64; 2]> {
        let el = svg.get()?;
        let rect = el.get_bounding_client_rect();
        let (wx, wy) = shown.with_untracked(|s| s.as_ref().map(|s| s.0.window))?;
        let fx = (f64::from(ev.client_x()) - rect.left()) / rect.width();
        let fy = (f64::from(ev.client_y()) - rect.top()) / rect.height();
        let x = wx[0] + fx * (wx[1] - wx[0]);
        let y = wy[1] - fy * (wy[1] - wy[0]);
        Some([(x * 100.0).round() / 100.0, (y * 100.0).round() / 100.0])
    };
    let commit = move || {
        if dragging.get_value()
            && let Some([x, y]) = draft.get_untracked()
        {
            set_field.run(("at", format!("{x},{y}")));
        }
        dragging.set_value(false);
        draft.set(None);
    };
    view! {
        <Panel id="point">
            <h2>"Single estimates around a point"</h2>
            <svg node_ref=svg class="zo-point" viewBox=format!("0 0 {S} {S}") role="img"
                aria-label="Contours of f with single gradient estimates at a draggable point"
                data-testid="zo-point"
                style="touch-action: none; width: 100%; max-width: 420px; display: block; margin: 0 auto; overflow: hidden"
                on:pointerdown=move |ev| {
                    if let Some(p) = point_at(&ev) {
                        dragging.set_value(true);
                        draft.set(Some(p));
                        if let Some(el) = svg.get() {
                            let _ = el.set_pointer_capture(ev.pointer_id());
                        }
                    }
                }
                on:pointermove=move |ev| {
                    if dragging.get_value() && let Some(p) = point_at(&ev) {
                        draft.set(Some(p));
                    }
                }
                on:pointerup=move |_| commit()
                on:pointercancel=move |_| commit()
            >
                {move || contours.with(|g| g.as_ref().map(|(grid, _)| contour_cells(grid)))}
                <g data-testid="zo-cloud"
                    data-count=move || cloud.with(Vec::len)
                    data-revealed=move || revealed.get().min(cloud.with(Vec::len))>
                    <For each=move || 0..revealed.get().min(cloud.with(Vec::len)) key=|i| *i let(i)>
                        {move || cloud.with(|c| c.get(i).map(|&(x, y)| view! { <circle cx=x cy=y r=1.8 fill="rgba(60,60,60,0.35)" /> }))}
                    </For>
                </g>
                {move || shown.with(|s| s.as_ref().map(|(v, _)| arrows(v)))}
            </svg>
            {move || shown.with(|s| s.as_ref().map(|(v, b)| summary(v, *b, cfg.with(|c| c.estimator))))}
            <p class="explain">
                "Drag the point. Grey dots are single estimates ĝ (each the mean of b directions), drawn to the same scale as the arrows: the exact gradient ∇f (black), the mean of the estimates (colour) and the gradient of the smoothed objective the estimator is unbiased for (dashed: Gaussian smoothing f_μ for gauss, the uniform ball f_δ for sphere; equal to ∇f where smoothing changes nothing). On |x₁| + |x₂| near an axis the smoothed gradient differs visibly from the exact one, and the estimates follow it."
            </p>
        </Panel>
    }
}

/// Pixel position of a point of the window.
fn to_px(v: &PointView, p: [f64; 2]) -> (f64, f64) {
    let (wx, wy) = v.window;
    (
        (p[0] - wx[0]) / (wx[1] - wx[0]) * S,
        (wy[1] - p[1]) / (wy[1] - wy[0]) * S,
    )
}

/// The contours of f: one cell per grid value, lighter where f is lower.
fn contour_cells(grid: &[f64]) -> impl IntoView + use<> {
    let (lo, hi) = grid
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let cell = S / GRID as f64;
    let cells = grid.iter().enumerate().map(|(i, &f)| {
        let (c, r) = (i % GRID, i / GRID);
        let t = ((f - lo).ln_1p() / (hi - lo).ln_1p().max(1e-12)).clamp(0.0, 1.0);
        let light = 96.0 - 40.0 * t;
        view! { <rect x=c as f64 * cell y=S - (r + 1) as f64 * cell width=cell + 0.5 height=cell + 0.5 fill=format!("hsl(210 45% {light:.0}%)") /> }
    }).collect_view();
    view! { <g>{cells}</g> }
}

/// The arrows' common scale: the longest spans a quarter of the window.
fn arrow_scale(v: &PointView) -> f64 {
    let r = &v.report;
    let norm = |g: &[f64]| g.iter().map(|x| x * x).sum::<f64>().sqrt();
    let longest = norm(&r.exact)
        .max(norm(&r.smoothed))
        .max(norm(&r.mean))
        .max(1e-9);
    0.25 * (v.window.0[1] - v.window.0[0]) / longest
}

/// Pixel position of the tip of g drawn from the point.
fn tip(v: &PointView, g: &[f64]) -> (f64, f64) {
    let s = arrow_scale(v);
    to_px(v, [v.at[0] + s * g[0], v.at[1] + s * g[1]])
}

/// Where each single estimate is drawn, to the arrows' scale.
fn cloud_px(v: &PointView) -> Vec<(f64, f64)> {
    v.report.cloud.iter().map(|g| tip(v, g)).collect()
}

/// The exact, mean and smoothed gradients as arrows from the point, and the point.
fn arrows(v: &PointView) -> impl IntoView + use<> {
    let r = &v.report;
    let (px, py) = to_px(v, v.at);
    let arrow = |g: &[f64], color: &'static str, dash: &'static str, id: &'static str| {
        let (x, y) = tip(v, g);
        view! { <line x1=px y1=py x2=x y2=y stroke=color stroke-width=2.5 stroke-dasharray=dash data-arrow=id /> <circle cx=x cy=y r=3.0 fill=color /> }
    };
    let color = estimator_color(v.estimator);
    view! {
        {arrow(&r.smoothed, "#444", "5 4", "smoothed")}
        {arrow(&r.exact, "var(--ink)", "none", "exact")}
        {arrow(&r.mean, color, "none", "mean")}
        <circle cx=px cy=py r=5.0 fill="white" stroke="var(--ink)" stroke-width=2.0 data-testid="zo-handle" />
    }
}

fn summary(v: &PointView, b: Backend, est: Estimator) -> impl IntoView + use<> {
    let r = &v.report;
    let fmt = |g: &[f64]| format!("({}, {})", short(g[0]), short(g[1]));
    let note = (est == Estimator::SphereVr).then_some(" sphere-vr at one point is the sphere estimator; its variance reduction acts across iterates.");
    view! {
        <p class="running" data-testid="zo-point-meta">
            {format!(
                "x = {}: ∇f = {}, smoothed {}, mean of {} estimates {}; tr Cov = {}, E|cos| = {} ± {} (on {}).",
                fmt(&v.at), fmt(&r.exact), fmt(&r.smoothed), v.samples, fmt(&r.mean), short(r.var), short(r.cos.mean), short(r.cos.se),
                if b == Backend::Gpu { "WebGPU" } else { "the CPU" },
            )}
            {note}
        </p>
    }
}
