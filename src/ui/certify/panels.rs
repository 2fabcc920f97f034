//! The numbers beside the maps: every certificate with its true radius, and
//! certified accuracy against radius for hard votes and soft smoothing.

use leptos::prelude::*;

use super::run::Shown;
use crate::experiments::Backend;
use crate::experiments::certify::{Comparison, Transform};
use crate::ui::charts::{LinePlot, Series, short};

fn unit(rotation: bool) -> &'static str {
    if rotation { " rad" } else { "" }
}

/// One row per certified point.
#[component]
pub(super) fn CertificateTable(s: Shown) -> impl IntoView {
    let rotation = s.cfg.transform == Transform::Rotation;
    let u = unit(rotation);
    let rows = s
        .report
        .points
        .iter()
        .map(|p| {
            let radius = if p.abstain {
                "abstain".to_string()
            } else {
                format!("{}{u}", short(p.radius))
            };
            let truth = p.true_radius.map_or("none within reach".to_string(), |t| {
                format!("{}{u}", short(t))
            });
            let ratio = match (p.abstain, p.true_radius) {
                (false, Some(t)) if t > 0.0 => format!("{:.0} %", 100.0 * p.radius / t),
                _ => "–".into(),
            };
            view! {
                <tr data-testid="certificate-row">
                    <td>{format!("({}, {})", short(p.x[0]), short(p.x[1]))}</td>
                    <td>{p.class}</td>
                    <td>{p.n_a}</td>
                    <td>{format!("{:.4}", p.pa_hat)}</td>
                    <td>{format!("{:.4}", p.pa_lower)}</td>
                    <td data-testid="certified-radius">{radius}</td>
                    <td data-testid="true-radius">{truth}</td>
                    <td>{ratio}</td>
                </tr>
            }
        })
        .collect_view();
    let oracle = if s.report.true_oracle == "exact" {
        "The true radius uses g's exact class probabilities (closed forms), so it is exact up to the search (rays every 11°, refined, bisected to 1e-6)."
            .to_string()
    } else {
        format!(
            "No closed form here: g is evaluated by Monte Carlo with {} samples (common random numbers), so the true radius carries that error, about ±{} for a boundary as sharp as a hyperplane's.",
            s.cfg.true_n,
            short(s.report.true_radius_error)
        )
    };
    view! {
        <div class="table-scroll">
        <table class="moments" data-testid="certificates">
            <thead><tr>
                <th>"x"</th><th>"class c_A"</th><th>"n_A"</th><th>"p̂_A"</th><th>"p̲_A"</th>
                <th>{if rotation { "certified angle" } else { "certified R" }}</th>
                <th>{if rotation { "true angle" } else { "true radius" }}</th>
                <th>"R / true"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
        <p class="explain" data-testid="oracle-note">{oracle}</p>
    }
}

/// Whether soft smoothing beat hard votes in this run, in words (measured, never assumed).
fn verdict(c: &Comparison) -> String {
    let (h, s) = (c.hard_mean_radius, c.soft_mean_radius);
    let map = format!("{} at T = {}", c.soft_map, short(c.temp));
    if (h - s).abs() <= 0.02 * h.max(s).max(1e-9) {
        format!(
            "Here soft smoothing ({map}) and hard votes certify the same mean radius ({}) within 2 %: no gain either way.",
            short(h)
        )
    } else if s > h {
        format!(
            "Here soft smoothing ({map}) certifies a larger mean radius than hard votes ({} against {}).",
            short(s),
            short(h)
        )
    } else {
        format!(
            "Here soft smoothing ({map}) does not beat hard votes: mean certified radius {} against {} for hard votes. The paper reports gains for networks on images at tuned temperatures; this 2-D run does not reproduce them at these settings.",
            short(s),
            short(h)
        )
    }
}

/// Certified accuracy against radius: the config's smoothing at α, and hard against soft at α/2 each.
#[component]
pub(super) fn AccuracyPlot(s: Shown) -> impl IntoView {
    let r = &s.report;
    let c = &r.comparison;
    let pts = |v: &[[f64; 2]]| v.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>();
    let series = vec![
        Series {
            name: "hard votes (α/2)",
            color: "#3b5bdb",
            points: pts(&c.hard),
            ..Series::default()
        },
        Series {
            name: "soft smoothing (α/2)",
            color: "#D55E00",
            points: pts(&c.soft),
            ..Series::default()
        },
        Series {
            name: "this config (α)",
            // The page's ink: near-black #222 vanished on the dark theme's panel.
            color: "var(--ink)",
            dashed: true,
            points: pts(&r.certified_accuracy),
            ..Series::default()
        },
    ];
    let rotation = s.cfg.transform == Transform::Rotation;
    let title = format!(
        "{} test points, n = {}, clean accuracy of f {:.0} %",
        r.test_x.len(),
        s.cfg.n,
        100.0 * r.clean_accuracy
    );
    view! {
        <LinePlot series x_label=if rotation { "angle (rad)" } else { "radius" } y_label="certified accuracy" title export_name="certified-accuracy" />
        <p class="explain" data-testid="soft-verdict">{verdict(c)}</p>
    }
}

/// Where the numbers came from, said plainly.
pub(super) fn backend_note(s: &Shown) -> String {
    let where_ = match (s.backend, s.mlp_on_cpu) {
        (Backend::Gpu, _) => "Monte Carlo on the GPU (WebGPU)".to_string(),
        (Backend::Cpu, true) => "on the CPU in the compute worker: the MLP trains on the CPU, so MLP runs stay off the GPU path".to_string(),
        (Backend::Cpu, false) => "on the CPU (no WebGPU, or the CPU chosen), with fewer samples than on the GPU (the numbers below are the ones used)".to_string(),
    };
    format!(
        "Computed {where_}. Heat map: {} samples per pixel on a {}² grid; CERTIFY: n₀ = {}, n = {}, α = {}.",
        s.report.map.samples, s.report.map.grid, s.cfg.n0, s.cfg.n, s.cfg.alpha
    )
}
