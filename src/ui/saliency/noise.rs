//! The `noise` panel: SmoothGrad with n = 1, 10, 50 beside the exact
//! Gaussian blur of one ReLU layer, on one scale.

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::draw::{SIZE, draw_arrows, draw_regions, max_norm};
use super::run::Shown;
use crate::experiments::papers;
use crate::ui::charts::{canvas_context, short};
use crate::ui::pages::paper_anchor;

/// One SmoothGrad field (index 0..3 of the noise fields, 3 = exact).
#[component]
fn NoiseCanvas(report: RwSignal<Shown>, index: usize) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        report.with(|rep| {
            let Some((rep, _)) = rep else { return };
            let Some(p) = &rep.panels else { return };
            let Some(el) = canvas.get() else { return };
            let Some(ctx) = canvas_context(&el, SIZE, SIZE) else {
                return;
            };
            let grid = rep.field.grid as usize;
            draw_regions(&ctx, grid, &rep.field.classes);
            let scale = max_norm(&p.exact_smoothgrad);
            let values = p
                .noise
                .get(index)
                .map_or(&p.exact_smoothgrad, |f| &f.values);
            draw_arrows(
                &ctx,
                grid,
                values,
                scale,
                if index < 3 { "#0072B2" } else { "#1b1b1b" },
            );
        });
    });
    let caption = move || {
        report.with(|rep| {
            let Some(p) = rep.as_ref().and_then(|(r, _)| r.panels.as_ref()) else {
                return String::new();
            };
            match p.noise.get(index) {
                Some(f) => format!("n = {}: RMS error {}", f.samples, short(f.rms_error)),
                None => "exact: Σ_j a_j w_j Φ(m_j/(σ‖w_j‖))".to_string(),
            }
        })
    };
    view! {
        <figure class="plot" style="margin:0">
            <canvas node_ref=canvas role="img" aria-label="SmoothGrad field"
                data-testid=format!("noise-{index}")
                style="width:100%;max-width:240px;aspect-ratio:1;display:block;margin:0 auto;border-radius:6px"></canvas>
            <figcaption><span class="caption-title">{caption}</span></figcaption>
        </figure>
    }
}

/// The `noise` panel.
#[component]
pub(super) fn NoisePanel(report: RwSignal<Shown>) -> impl IntoView {
    view! {
        <Panel id="noise">
            <h2>"SmoothGrad with n = 1, 10, 50 against the exact Gaussian blur"</h2>
            <div style="display:grid;gap:0.6rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,180px),1fr))">
                {(0..4).map(|index| view! { <NoiseCanvas report index /> }).collect_view()}
            </div>
            <p class="explain">
                "All four on the exact field's scale. For one hidden ReLU layer the Gaussian blur of the gradient is closed-form: unit j is active at x + σz with probability Φ(m_j/(σ‖w_j‖)). With n = 1 the estimate is a single noisy gradient; its error falls like 1/√n. SmoothGrad's paper uses n ≈ 50 and σ at 10–20 % of the input range. "
                {paper_anchor(papers::SMILKOV_2017)}
            </p>
        </Panel>
    }
}
