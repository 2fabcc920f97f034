//! What the widget draws, computed here so the page never computes science:
//! the 2-D panel (contours, a cloud of single estimates, the exact and the
//! smoothed gradient) and the dimension sweep (each estimator at its best
//! constant step on ½‖x‖², against the exact expectation; the law of |cos|).

use super::estimate::{EstimateReport, ZoEstimateConfig, estimate};
use super::{ZoConfig, best_quadratic_lr, quadratic_expectation};
use crate::experiments::registry::Compute;
use crate::gpu::GpuError;
use crate::kernels::zo::estimate::{Problem, draws};
use crate::kernels::zo::smoothed::abs_cos_density;
use crate::kernels::zo::{Estimator, Objective, value};

/// Dimensions of the sweep.
pub const SWEEP_DIMS: [u32; 4] = [2, 16, 128, 1024];
/// Estimators of the sweep, in legend order.
pub const SWEEP_ESTIMATORS: [Estimator; 5] = [
    Estimator::Backprop,
    Estimator::Fwd,
    Estimator::Spsa,
    Estimator::Sphere,
    Estimator::Guess,
];
/// Bins of the |cos| histogram.
pub const COS_BINS: usize = 20;
/// Grid points per side of the contour map.
pub const GRID: usize = 48;
/// Most samples × batch of the 2-D panel on the page's main thread (≈ 10 ms).
pub const PAGE_POINT_WORK: u32 = 1 << 14;

/// The window of the 2-D panel: (x₁ range, x₂ range).
pub fn window(obj: Objective) -> ([f64; 2], [f64; 2]) {
    match obj {
        Objective::Rosenbrock => ([-2.0, 2.0], [-1.0, 3.0]),
        _ => ([-1.5, 1.5], [-1.5, 1.5]),
    }
}

/// The objective the 2-D panel draws: the config's, or the quadratic when the
/// config's is the race's MLP (the panel says so).
pub fn point_objective(cfg: &ZoConfig) -> Objective {
    cfg.objective.analytic().unwrap_or(Objective::Quadratic)
}

/// The single-estimate config of the 2-D panel (sphere-vr shows its single
/// estimate, the sphere estimator, at one point).
pub fn point_config(cfg: &ZoConfig) -> ZoEstimateConfig {
    let est = match cfg.estimator {
        Estimator::SphereVr => Estimator::Sphere,
        e => e,
    };
    ZoEstimateConfig {
        objective: point_objective(cfg),
        dim: 2,
        at: cfg.at.clone(),
        estimator: est,
        mu: cfg.mu,
        delta: cfg.delta,
        guess_noise: cfg.guess_noise,
        batch: cfg.batch,
        samples: cfg.samples,
        seed: cfg.seed,
    }
}

/// The 2-D panel's config on the page's main thread: at most [`PAGE_POINT_WORK`] directions.
pub fn page_point_config(cfg: &ZoEstimateConfig) -> ZoEstimateConfig {
    ZoEstimateConfig {
        samples: cfg.samples.min((PAGE_POINT_WORK / cfg.batch).max(2)),
        ..cfg.clone()
    }
}

/// The 2-D panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PointView {
    pub window: ([f64; 2], [f64; 2]),
    /// f on a [`GRID`]² grid, row by row from the bottom (x₂ low) left.
    pub grid: Vec<f64>,
    pub report: EstimateReport,
    /// Single estimates drawn.
    pub samples: u32,
    /// The point x.
    pub at: [f64; 2],
    pub estimator: Estimator,
}

/// f on the panel's grid.
pub fn contour_grid(obj: Objective) -> Vec<f64> {
    let (wx, wy) = window(obj);
    let at = |w: [f64; 2], i: usize| w[0] + (w[1] - w[0]) * (i as f64 + 0.5) / GRID as f64;
    (0..GRID)
        .flat_map(|r| (0..GRID).map(move |c| (c, r)))
        .map(|(c, r)| f64::from(value(obj, &[at(wx, c) as f32, at(wy, r) as f32])))
        .collect()
}

/// The 2-D panel of `cfg` on `on` (bound it with [`page_point_config`] on the main thread).
pub async fn point_view(cfg: &ZoEstimateConfig, on: &Compute) -> Result<PointView, GpuError> {
    Ok(PointView {
        window: window(cfg.objective),
        grid: contour_grid(cfg.objective),
        report: estimate(cfg, on).await?,
        samples: cfg.samples,
        at: {
            let x = cfg.x();
            [f64::from(x[0]), f64::from(x[1])]
        },
        estimator: cfg.estimator,
    })
}

/// The descent of the sweep: `est` on ½‖x‖² in dimension d at its best constant
/// step η* = 1/κ (1 for guess, whose step projects ∇f on the guess), from x₀ = 1/√d.
pub fn sweep_config(cfg: &ZoConfig, d: u32, est: Estimator) -> ZoConfig {
    let lr = if est == Estimator::Guess {
        1.0
    } else {
        best_quadratic_lr(est, d, cfg.batch)
    };
    ZoConfig {
        objective: Objective::Quadratic.into(),
        dim: d,
        estimator: est,
        lr,
        ..cfg.clone()
    }
}

/// The exact expected loss of the sweep's run, where it is known.
pub fn sweep_expectation(cfg: &ZoConfig, d: u32, est: Estimator) -> Option<Vec<f64>> {
    let c = sweep_config(cfg, d, est);
    quadratic_expectation(est, d, c.batch, c.lr, 0.5, c.steps)
}

/// The |cos(ĝ, ∇f)| histogram of `fwd` on ½‖x‖² in dimension d over n draws
/// (as densities over [`COS_BINS`] bins), and its exact law.
pub fn cos_law(d: u32, n: u32, seed: u32) -> (Vec<f64>, Vec<f64>) {
    let p = Problem {
        obj: Objective::Quadratic,
        est: Estimator::Fwd,
        x: Objective::Quadratic.start(d as usize),
        radii: crate::kernels::zo::Radii {
            mu: 0.1,
            delta: 0.1,
            guess_noise: 0.0,
        },
        batch: 1,
        key: crate::kernels::rng::RngKey::new(seed, crate::kernels::zo::ESTIMATE_STREAM),
    };
    let dr = draws(&p, n);
    // ‖∇f(x₀)‖ = ‖x₀‖.
    let g =
        p.x.iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            .sqrt();
    let cos = dr.norm_sq.iter().zip(&dr.dot).map(|(&nsq, &dot)| {
        let den = f64::from(nsq).sqrt() * g;
        if den > 0.0 {
            (f64::from(dot) / den).abs().min(1.0)
        } else {
            0.0
        }
    });
    let measured = crate::kernels::stats::histogram(cos, 0.0, 1.0 + 1e-12, COS_BINS).density;
    (measured, abs_cos_density(d as usize, COS_BINS))
}

/// Draws of [`cos_law`] in dimension d on the page's main thread: about 2¹⁷ direction components.
pub fn page_cos_draws(d: u32) -> u32 {
    ((1u32 << 17) / d).clamp(128, 4000)
}

/// GFM and GFM⁺ on |x|₁ (the nonsmooth objective) with the config's
/// dimension, step, radius and batches, tracking ‖∇f_δ(x_t)‖ (CPU only).
pub fn gfm_configs(cfg: &ZoConfig) -> [ZoConfig; 2] {
    [Estimator::Sphere, Estimator::SphereVr].map(|est| ZoConfig {
        objective: Objective::L1.into(),
        estimator: est,
        grad_norm: true,
        ..cfg.clone()
    })
}

/// What the GFM panel says of its two runs: the smallest mean ‖∇f_δ‖ each
/// reached within the evaluations both spent, and which is lower.
pub fn gfm_verdict(gfm: &super::DescentReport, plus: &super::DescentReport) -> String {
    let (Some(a), Some(b)) = (&gfm.grad_norm, &plus.grad_norm) else {
        return String::new();
    };
    let budget = (a.len() as f64 - 1.0) * gfm.evals_per_step;
    let budget = budget.min((b.len() as f64 - 1.0) * plus.evals_per_step);
    let best = |g: &[f64], per: f64| {
        g.iter()
            .enumerate()
            .filter(|(t, _)| *t as f64 * per <= budget)
            .map(|(_, v)| *v)
            .fold(f64::INFINITY, f64::min)
    };
    let (ba, bb) = (best(a, gfm.evals_per_step), best(b, plus.evals_per_step));
    let verdict = if bb < ba {
        "GFM⁺ is ahead, as the paper claims"
    } else {
        "GFM⁺ is not ahead here: the paper's gain is in the evaluations needed for a small ε, and does not reproduce at this scale and these settings"
    };
    format!(
        "Within {budget:.0} function evaluations the smallest mean ‖∇f_δ‖ was {ba:.3} for GFM and {bb:.3} for GFM⁺: {verdict}."
    )
}
