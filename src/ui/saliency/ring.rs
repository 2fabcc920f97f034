//! The `ring` panel: the certified lower bound on the cosine between the
//! uniformly smoothed attribution at the probe and at x + δ, against the
//! exhaustive minimum over 360 directions (10 radii up to ε each).

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::run::Shown;
use crate::experiments::papers;
use crate::experiments::saliency::Certificate;
use crate::ui::charts::{canvas_context, short};
use crate::ui::pages::paper_anchor;

const SIZE: f64 = 280.0;
const RADIUS: f64 = 118.0;

/// The cosine axis [lo, 1] shown, from 1 at the rim inwards.
fn low_end(c: &Certificate) -> f64 {
    let mut lo = c.ring.iter().copied().fold(1.0, f64::min);
    if c.lower_cos > -1.0 {
        lo = lo.min(c.lower_cos);
    }
    ((lo - 0.02) * 20.0).floor() / 20.0
}

fn draw(ctx: &web_sys::CanvasRenderingContext2d, c: &Certificate) {
    let lo = low_end(c).max(-1.0);
    let rad = |cos: f64| RADIUS * ((cos - lo) / (1.0 - lo).max(1e-12)).clamp(0.0, 1.0);
    let (cx, cy) = (SIZE / 2.0, SIZE / 2.0);
    ctx.set_fill_style_str("#fff");
    ctx.fill_rect(0.0, 0.0, SIZE, SIZE);
    ctx.set_stroke_style_str("#ccc");
    ctx.set_line_width(1.0);
    ctx.set_fill_style_str("#777");
    ctx.set_font("11px sans-serif");
    for level in [lo, 0.5 * (lo + 1.0), 1.0] {
        ctx.begin_path();
        let _ = ctx.arc(cx, cy, rad(level).max(0.5), 0.0, std::f64::consts::TAU);
        ctx.stroke();
        let _ = ctx.fill_text(&short(level), cx + rad(level) + 3.0, cy - 3.0);
    }
    if c.lower_cos > -1.0 {
        ctx.set_stroke_style_str("#D55E00");
        ctx.set_line_width(2.0);
        let _ = ctx.set_line_dash(&js_sys::Array::of2(&6.0.into(), &4.0.into()));
        ctx.begin_path();
        let _ = ctx.arc(
            cx,
            cy,
            rad(c.lower_cos).max(0.5),
            0.0,
            std::f64::consts::TAU,
        );
        ctx.stroke();
        let _ = ctx.set_line_dash(&js_sys::Array::new());
    }
    ctx.set_stroke_style_str("#0072B2");
    ctx.set_line_width(2.0);
    ctx.begin_path();
    for (k, &v) in c.ring.iter().enumerate() {
        let a = std::f64::consts::TAU * k as f64 / c.ring.len() as f64;
        let (x, y) = (cx + rad(v) * a.cos(), cy - rad(v) * a.sin());
        if k == 0 {
            ctx.move_to(x, y);
        } else {
            ctx.line_to(x, y);
        }
    }
    ctx.close_path();
    ctx.stroke();
}

/// The `ring` panel.
#[component]
pub(super) fn RingPanel(report: RwSignal<Shown>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let cert = Memo::new(move |_| report.with(|r| r.as_ref().map(|(r, _)| r.certificate.clone())));
    Effect::new(move |_| {
        cert.with(|c| {
            let Some(c) = c else { return };
            let Some(el) = canvas.get() else { return };
            if let Some(ctx) = canvas_context(&el, SIZE, SIZE) {
                draw(&ctx, c);
            }
        });
    });
    let summary = move || {
        cert.with(|c| {
            let Some(c) = c else { return String::new() };
            let bound = if c.lower_cos > -1.0 {
                format!("certified cos ≥ {:.4}", c.lower_cos)
            } else {
                "no certificate at this ε: the drift bound D reaches ‖h(x)‖".to_string()
            };
            format!(
                "{bound}; exhaustive minimum {:.4}; M = {}, ‖h(x)‖ = {}; the paper's summarised form gives {:.4}{}",
                c.empirical_min_cos,
                short(c.grad_bound),
                short(c.h_norm),
                c.paper_form_cos,
                if c.paper_form_cos > c.empirical_min_cos + 1e-9 { " — above the search, so not a bound here" } else { "" }
            )
        })
    };
    view! {
        <Panel id="ring">
            <h2>"Certified bound against the exhaustive ring search"</h2>
            <figure class="plot">
                <canvas node_ref=canvas role="img" aria-label="Certified cosine bound and the minimum cosine per direction"
                    data-testid="ring"
                    data-lower=move || cert.with(|c| c.as_ref().map(|c| c.lower_cos.to_string()).unwrap_or_default())
                    data-empirical=move || cert.with(|c| c.as_ref().map(|c| c.empirical_min_cos.to_string()).unwrap_or_default())
                    style="width:100%;max-width:280px;aspect-ratio:1;display:block;margin:0 auto"></canvas>
                <figcaption><span class="caption-title" data-testid="ring-summary">{summary}</span></figcaption>
            </figure>
            <p class="explain">
                "Blue: per direction, the smallest cosine between h(x) and h(x + δ) over 10 radii up to ε (3,600 perturbations), h the exact uniform-ball average of the gradient of the class predicted at the probe. Dashed orange: the certificate. h(x + δ) and h(x) share the lens of the two discs, so ‖h(x + δ) − h(x)‖ ≤ D = M·|B △ B′|/|B| with M the largest gradient norm over all activation patterns, and the cosine is at least √(1 − D²/‖h‖²). The paper states its bound as ‖h‖/√(‖h‖² + (M V_U/V_S)²); we could not retrieve its definition of V_U or its proof, so the page certifies with the bound it can prove and shows the paper's form (with V_U read as the symmetric difference) beside it; read that way, the form sometimes lies above the exhaustive minimum, so it is not a bound. The certificate is honest but loose on a trained network: M is the largest gradient over every activation pattern in the plane, far above the gradients near x, so at larger ε it is often vacuous. "
                {paper_anchor(papers::WANG_KONG_2024)}
            </p>
        </Panel>
    }
}
