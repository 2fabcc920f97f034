//! The `field` panel: every method's attribution field side by side over the
//! decision regions, with a draggable probe shared by all of them.

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::draw::{SIZE, draw_arrows, draw_data, draw_probe, draw_regions, max_norm, to_world};
use super::method_label;
use super::run::Shown;
use crate::experiments::saliency::{EXTENT, Method, SaliencyConfig};
use crate::ui::charts::canvas_context;
use crate::ui::controls::SetField;

/// The circle drawn around the probe: σ for SmoothGrad, r for the uniform ball.
fn probe_radius(cfg: &SaliencyConfig, m: Method) -> f64 {
    match m {
        Method::SmoothGrad | Method::SmoothGradSq => cfg.sigma,
        Method::Uniform => cfg.radius,
        Method::Grad | Method::Eg => 0.0,
    }
}

/// One method's field; dragging on it moves the probe (committed on release).
#[component]
fn FieldCanvas(
    method: Method,
    report: RwSignal<Shown>,
    cfg: Memo<SaliencyConfig>,
    set_field: SetField,
    drag: RwSignal<Option<[f64; 2]>>,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let probe = drag
            .get()
            .unwrap_or_else(|| cfg.with(|c| [c.at[0], c.at[1]]));
        let r = cfg.with(|c| probe_radius(c, method));
        report.with(|rep| {
            let Some((rep, _)) = rep else { return };
            let Some(panels) = &rep.panels else { return };
            let Some(el) = canvas.get() else { return };
            let Some(ctx) = canvas_context(&el, SIZE, SIZE) else {
                return;
            };
            let grid = rep.field.grid as usize;
            draw_regions(&ctx, grid, &rep.field.classes);
            draw_data(&ctx, &panels.data, EXTENT);
            if let Some(f) = panels.methods.iter().find(|f| f.method == method) {
                draw_arrows(&ctx, grid, &f.values, max_norm(&f.values), "#1b1b1b");
            }
            draw_probe(&ctx, probe, r, EXTENT);
        });
    });
    let at = move |ev: &web_sys::PointerEvent| -> Option<[f64; 2]> {
        let el = canvas.get()?;
        let rect = el.get_bounding_client_rect();
        let x = (f64::from(ev.client_x()) - rect.left()) / rect.width() * SIZE;
        let y = (f64::from(ev.client_y()) - rect.top()) / rect.height() * SIZE;
        let p = to_world(x, y, EXTENT);
        Some([p[0].clamp(-EXTENT, EXTENT), p[1].clamp(-EXTENT, EXTENT)])
    };
    let finish = move || {
        if let Some(p) = drag.get_untracked() {
            set_field.run(("at", format!("{:.3},{:.3}", p[0], p[1])));
        }
        drag.set(None);
    };
    view! {
        <figure class="plot" style="margin:0">
            <canvas
                node_ref=canvas
                role="img"
                aria-label=format!("{} attribution field", method_label(method))
                data-testid=format!("field-{}", method.as_str())
                style="width:100%;max-width:240px;aspect-ratio:1;display:block;margin:0 auto;border-radius:6px;touch-action:none;cursor:crosshair"
                on:pointerdown=move |ev| {
                    let Some(p) = at(&ev) else { return };
                    drag.set(Some(p));
                    if let Some(el) = canvas.get() {
                        let _ = el.set_pointer_capture(ev.pointer_id());
                    }
                }
                on:pointermove=move |ev| {
                    if drag.with_untracked(Option::is_some) && let Some(p) = at(&ev) {
                        drag.set(Some(p));
                    }
                }
                on:pointerup=move |_| finish()
                on:pointercancel=move |_| finish()
            ></canvas>
            <figcaption><span class="caption-title">{method_label(method)}</span></figcaption>
        </figure>
    }
}

/// The `field` panel.
#[component]
pub(super) fn FieldPanel(
    report: RwSignal<Shown>,
    cfg: Memo<SaliencyConfig>,
    set_field: SetField,
) -> impl IntoView {
    let drag = RwSignal::new(None::<[f64; 2]>);
    view! {
        <Panel id="field">
            <h2>"Attribution field of each method over the decision regions"</h2>
            <div
                data-testid="fields"
                data-probe=move || cfg.with(|c| format!("{:.3},{:.3}", c.at[0], c.at[1]))
                style="display:grid;gap:0.6rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,180px),1fr))"
            >
                {Method::ALL
                    .iter()
                    .map(|&method| view! { <FieldCanvas method report cfg set_field drag /> })
                    .collect_view()}
            </div>
            <p class="explain">
                "Arrows: the attribution of the class predicted at each point (each panel scaled to its own longest arrow); colour: the network's decision regions; dots: training data. The raw gradient is constant on each linear region of the ReLU network, a mosaic; SmoothGrad is its Gaussian blur (Stein's identity E∇S(x + σz) = ∇(S ∗ φ_σ)(x)); the uniform ball blurs with a disc of radius r; expected gradients scale the path-averaged gradient by x − x′, so they vanish near the data's mean. Drag on any panel to move the probe (the circle is σ or r)."
            </p>
        </Panel>
    }
}
