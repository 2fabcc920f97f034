//! GFM against GFM⁺ on |x|₁: the gradient norm of the ball-smoothed f
//! against the function evaluations spent (CPU, in the compute worker).

use leptos::prelude::*;

use crate::ui::figure::Panel;

use super::estimator_color;
use crate::experiments::Backend;
use crate::experiments::zo::view::{gfm_configs, gfm_verdict};
use crate::experiments::zo::{DescentReport, Estimator, Zo, ZoConfig};
use crate::ui::backend::{record_computed, run_here};
use crate::ui::charts::{LinePlot, Series};

#[component]
pub(super) fn GfmPanel(cfg: Memo<ZoConfig>) -> impl IntoView {
    let key = Memo::new(move |_| {
        // The fields the GFM runs ignore take their defaults, so a drag of the point does not rerun them.
        let d = ZoConfig::default();
        cfg.with(|c| {
            gfm_configs(&ZoConfig {
                at: d.at.clone(),
                samples: d.samples,
                guess_noise: d.guess_noise,
                mu: d.mu,
                ..c.clone()
            })
        })
    });
    let runs = LocalResource::new(move || {
        let [a, b] = key.get();
        async move {
            let ra = run_here::<Zo>(&a, Backend::Cpu).await.ok()?;
            let rb = run_here::<Zo>(&b, Backend::Cpu).await.ok()?;
            record_computed(Backend::Cpu);
            Some((ra.0, rb.0, ra.1.runs))
        }
    });
    view! {
        <Panel id="gfm">
            <h2>"GFM against GFM⁺ on a nonsmooth objective"</h2>
            {move || match runs.get().flatten() {
                None => view! { <p class="running">"Running GFM and GFM⁺ on the CPU…"</p> }.into_any(),
                Some((a, b, n)) => view! {
                    <div data-testid="zo-gfm" style="max-width: 600px; margin: 0 auto">{plot(&a, &b)}</div>
                    <p class="running" data-testid="zo-gfm-meta">{format!("{n} runs each, on the CPU. ")}{gfm_verdict(&a, &b)}</p>
                }.into_any(),
            }}
            <p class="explain">
                "Both descend f(x) = |x|₁ from (1, …, 1)/√d with the sphere estimator d/(2δ)[f(x + δw) − f(x − δw)]w, unbiased for the gradient of the uniform-ball smoothing f_δ. GFM draws b fresh directions per step; GFM⁺ (Chen, Xu & Luo) refreshes with a big batch every m steps (`big-batch`, `epoch`) and in between updates its estimate recursively, v ← v + (1/b) Σ [g(x_t; w) − g(x_{t−1}; w)] with the same w at both iterates. The paper proves GFM⁺ needs fewer function evaluations to reach ‖∇f_δ‖ ≤ ε. The curve is the mean over runs of ‖∇f_δ(x_t)‖ (closed form for |x|₁: each coordinate 1 − 2P(y_j ≤ −x_j/δ) under the ball's marginal), against the evaluations spent; computed on the CPU only."
            </p>
        </Panel>
    }
}

fn plot(a: &DescentReport, b: &DescentReport) -> impl IntoView + use<> {
    let series = [
        (a, Estimator::Sphere, "GFM (sphere)"),
        (b, Estimator::SphereVr, "GFM⁺ (sphere-vr)"),
    ]
    .into_iter()
    .map(|(r, e, name)| Series {
        name,
        color: estimator_color(e),
        points: r
            .grad_norm
            .iter()
            .flatten()
            .enumerate()
            .map(|(t, &g)| (t as f64 * r.evals_per_step, g))
            .collect(),
        ..Series::default()
    })
    .collect::<Vec<_>>();
    view! { <LinePlot series log_y=true x_label="function evaluations" y_label="‖∇f_δ(x)‖" title="Gradient norm of the smoothed |x|₁".to_string() /> }
}
