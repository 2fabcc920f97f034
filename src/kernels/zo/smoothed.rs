//! The gradient of the smoothed objective each estimator is unbiased for, in
//! f64: ∇f_μ (Gaussian smoothing, `gauss`) and ∇f_δ (uniform-ball smoothing,
//! `sphere`, `sphere-vr`). Closed forms where they exist; quadrature on the
//! 2-D ReLU surface. For the other estimators there is no smoothing and this
//! is ∇f itself (SPSA's O(c²) bias on a non-quadratic f is not a smoothing:
//! it is shown against ∇f).

use super::{Estimator, Objective, grad};
use std::f64::consts::PI;

pub use crate::kernels::stats::{erfc, normal_cdf};

/// P(y₁ ≤ t) for y uniform in the unit ball of ℝ^d: the marginal density is
/// ∝ (1 − s²)^((d−1)/2); with s = sin θ the integrand is cos^d θ (smooth: Simpson, 128 panels).
pub fn ball_marginal_cdf(d: usize, t: f64) -> f64 {
    let t = t.clamp(-1.0, 1.0);
    let integral = |hi: f64| {
        let (lo, n) = (-PI / 2.0, 128);
        let h = (hi - lo) / f64::from(n);
        let f = |th: f64| th.cos().max(0.0).powi(d as i32);
        let mut s = f(lo) + f(hi);
        for i in 1..n {
            s += f(lo + h * f64::from(i)) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0
    };
    integral(t.asin()) / integral(PI / 2.0)
}

/// ∇f_σ of Rosenbrock under smoothing with per-coordinate variance σ²: both
/// smoothings give f + const with the pair term 100[(x_{j+1} − x_j² − σ²)² + 4σ²x_j²]
/// (expand E of the quartic; E u⁴ only enters the constant).
fn rosenbrock_smoothed(x: &[f64], s2: f64) -> Vec<f64> {
    let d = x.len();
    let mut g = vec![0.0; d];
    for j in 0..d.saturating_sub(1) {
        let a = x[j + 1] - x[j] * x[j] - s2;
        g[j] += -400.0 * x[j] * a + 800.0 * s2 * x[j] - 2.0 * (1.0 - x[j]);
        g[j + 1] += 200.0 * a;
    }
    g
}

/// E ∇f(x + r·y) over y with the density `weight` on a 2-D grid (the ReLU surface).
fn quadrature_2d(obj: Objective, x: &[f64], points: &[([f64; 2], f64)]) -> Vec<f64> {
    let mut acc = [0.0f64; 2];
    let mut total = 0.0;
    for (y, w) in points {
        let at = [(x[0] + y[0]) as f32, (x[1] + y[1]) as f32];
        let g = grad(obj, &at);
        acc[0] += w * f64::from(g[0]);
        acc[1] += w * f64::from(g[1]);
        total += w;
    }
    vec![acc[0] / total, acc[1] / total]
}

/// Midpoint polar grid on the disk of radius δ (weights ∝ area).
fn disk_points(delta: f64) -> Vec<([f64; 2], f64)> {
    let (nr, na) = (48, 96);
    let mut out = Vec::with_capacity(nr * na);
    for i in 0..nr {
        let r = (i as f64 + 0.5) / nr as f64;
        for k in 0..na {
            let th = 2.0 * PI * (k as f64 + 0.5) / na as f64;
            out.push(([delta * r * th.cos(), delta * r * th.sin()], r));
        }
    }
    out
}

/// Midpoint grid on [−5μ, 5μ]² weighted by the N(0, μ²I) density.
fn gauss_points(mu: f64) -> Vec<([f64; 2], f64)> {
    let n = 81;
    let h = 10.0 / n as f64;
    let mut out = Vec::with_capacity(n * n);
    for a in 0..n {
        for b in 0..n {
            let (u, v) = (-5.0 + h * (a as f64 + 0.5), -5.0 + h * (b as f64 + 0.5));
            out.push(([mu * u, mu * v], (-(u * u + v * v) / 2.0).exp()));
        }
    }
    out
}

/// The gradient of the smoothed f that `est` is unbiased for, at `x`.
pub fn smoothed_grad(obj: Objective, est: Estimator, x: &[f32], mu: f64, delta: f64) -> Vec<f64> {
    let xd: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let d = x.len();
    match (est, obj) {
        // ½‖x‖² smoothed is ½‖x‖² + const under both smoothings.
        (_, Objective::Quadratic) => xd,
        // Gaussian smoothing of |x|: d/dx E|x + μu| = 2Φ(x/μ) − 1 (Nesterov & Spokoiny 2017).
        (Estimator::Gauss, Objective::L1) => {
            xd.iter().map(|&v| 2.0 * normal_cdf(v / mu) - 1.0).collect()
        }
        // Ball smoothing of |x_j|: E sign(x_j + δy_j) = 1 − 2 P(y_j ≤ −x_j/δ) (Chen, Xu & Luo 2023).
        (Estimator::Sphere | Estimator::SphereVr, Objective::L1) => xd
            .iter()
            .map(|&v| 1.0 - 2.0 * ball_marginal_cdf(d, -v / delta))
            .collect(),
        (Estimator::Gauss, Objective::Rosenbrock) => rosenbrock_smoothed(&xd, mu * mu),
        // A uniform ball of radius δ in ℝ^d has E y_j² = δ²/(d + 2).
        (Estimator::Sphere | Estimator::SphereVr, Objective::Rosenbrock) => {
            rosenbrock_smoothed(&xd, delta * delta / (d as f64 + 2.0))
        }
        (Estimator::Gauss, Objective::Relu) => quadrature_2d(obj, &xd, &gauss_points(mu)),
        (Estimator::Sphere | Estimator::SphereVr, Objective::Relu) => {
            quadrature_2d(obj, &xd, &disk_points(delta))
        }
        _ => grad(obj, x).into_iter().map(f64::from).collect(),
    }
}

/// The exact law of |cos(v, g)| for an isotropic v in ℝ^d (d ≥ 2): v/‖v‖ is
/// uniform on the sphere, whose coordinate has density ∝ (1 − t²)^((d−3)/2),
/// the uniform-ball marginal of ℝ^(d−2); the mass of each of `bins` equal
/// bins of [0, 1], as a density. This is also the law of |cos(ĝ, ∇f)| of
/// `fwd`, and of `gauss` and `sphere` on the quadratic (Baydin et al. 2022).
pub fn abs_cos_density(d: usize, bins: usize) -> Vec<f64> {
    let k = d.saturating_sub(2);
    let w = 1.0 / bins as f64;
    (0..bins)
        .map(|i| {
            let (a, b) = (i as f64 * w, (i as f64 + 1.0) * w);
            2.0 * (ball_marginal_cdf(k, b) - ball_marginal_cdf(k, a)) / w
        })
        .collect()
}
