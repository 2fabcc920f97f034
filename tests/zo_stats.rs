//! Gradients without backpropagation: every estimator against exact values
//! derived here, independently of the kernels. Sample counts are chosen from
//! the standard error each check needs (stated at each check); the whole file
//! runs in a few seconds at the test profile.

use gradlab::kernels::rng::RngKey;
use gradlab::kernels::zo::descent::{self, Descent};
use gradlab::kernels::zo::estimate::{Problem, draws, monte_carlo};
use gradlab::kernels::zo::{self, Estimator, Objective, Radii};

const RADII: Radii = Radii {
    mu: 0.01,
    delta: 0.01,
    guess_noise: 1.0,
};

fn problem(obj: Objective, est: Estimator, x: Vec<f32>, radii: Radii) -> Problem {
    Problem {
        obj,
        est,
        x,
        radii,
        batch: 1,
        key: RngKey::new(7, zo::ESTIMATE_STREAM),
    }
}

/// A point with ‖x‖² = 1 in dimension d, not aligned with any axis.
fn point(d: usize) -> Vec<f32> {
    let raw: Vec<f64> = (0..d).map(|j| 1.0 + 0.5 * (j as f64 * 1.3).sin()).collect();
    let n = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
    raw.iter().map(|v| (v / n) as f32).collect()
}

/// Sample mean and standard error of the mean.
fn mean_se(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = xs.clone().count() as f64;
    let m = xs.clone().sum::<f64>() / n;
    let v = xs.map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// For f = ½‖x‖², ∇f = x. tr Cov of (∇f·v)v, v ~ N(0, I), is
/// E[(v·g)²‖v‖²] − ‖g‖² = (d + 2)‖g‖² − ‖g‖² = (d + 1)‖g‖² (Gaussian fourth
/// moments); of SPSA (Δ·g)Δ it is d E(Δ·g)² − ‖g‖² = (d − 1)‖g‖² (Δ_j² = 1).
/// Tolerance: 4 standard errors of the mean of ‖ĝ‖² (the mean's own error is
/// O(1/n), far smaller), asserted smaller than ‖g‖², the gap to the
/// neighbouring candidates d or d ± 2.
#[test]
fn covariance_traces_on_the_quadratic() {
    for d in [2usize, 16] {
        let x = point(d);
        let gsq: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        for (est, kappa_minus_one) in [
            (Estimator::Fwd, d as f64 + 1.0),
            (Estimator::Spsa, d as f64 - 1.0),
        ] {
            // n = 40,000: ‖ĝ‖² has a relative sd of about 1.5, so 4 SE ≈ 3 % of (d + 2)‖g‖², below ‖g‖² at d ≤ 16.
            let n = 40_000;
            let p = problem(Objective::Quadratic, est, x.clone(), RADII);
            let s = monte_carlo(&p, n);
            let dr = draws(&p, n);
            let (_, se) = mean_se(dr.norm_sq.iter().map(|&v| f64::from(v)));
            let want = kappa_minus_one * gsq;
            assert!(
                4.0 * se < gsq,
                "{est} d={d}: 4 SE = {} is not below the gap {gsq}",
                4.0 * se
            );
            assert!(
                (s.var - want).abs() < 4.0 * se,
                "{est} d={d}: tr Cov = {}, exact {want}, SE {se}",
                s.var
            );
            // …and the mean is ∇f: both are unbiased on the quadratic (4 SE per component, bounded by the trace).
            let tol = 4.0 * (s.var / f64::from(n)).sqrt();
            for (m, g) in s.mean.iter().zip(&s.exact) {
                assert!((m - g).abs() < tol, "{est} d={d}: mean {m}, exact {g}");
            }
        }
    }
}

/// Γ(d/2)/(√π Γ((d+1)/2)) by its recursion r(d + 2) = r(d)·d/(d + 1) from
/// r(1) = 1 and r(2) = 2/π (Γ(1/2) = √π, Γ(3/2) = √π/2).
fn mean_abs_cos(d: usize) -> f64 {
    let mut r = if d % 2 == 1 {
        1.0
    } else {
        2.0 / std::f64::consts::PI
    };
    let mut k = if d % 2 == 1 { 1 } else { 2 };
    while k < d {
        r *= k as f64 / (k as f64 + 1.0);
        k += 2;
    }
    r
}

/// The forward gradient (∇f·v)v points along ±v, so |cos(ĝ, ∇f)| = |cos(v, ∇f)|,
/// whose mean for an isotropic v is Γ(d/2)/(√π Γ((d+1)/2)). Tolerance: 4 SE
/// (n = 20,000: SE ≤ 0.003), below the change to the next dimension's value
/// for d ≤ 16, and at d = 128 (n = 8,000) below the change to d = 256 (the 1/√d law).
#[test]
fn mean_abs_cosine_of_the_forward_gradient() {
    for d in [2usize, 16, 128] {
        let n = if d == 128 { 8_000 } else { 20_000 };
        let s = monte_carlo(
            &problem(Objective::Quadratic, Estimator::Fwd, point(d), RADII),
            n,
        );
        let want = mean_abs_cos(d);
        let other = if d <= 16 { d + 1 } else { 2 * d };
        let gap = (want - mean_abs_cos(other)).abs();
        assert!(
            4.0 * s.cos_se < gap,
            "d={d}: 4 SE {} vs gap {gap}",
            4.0 * s.cos_se
        );
        assert!(
            (s.cos_mean - want).abs() < 4.0 * s.cos_se,
            "d={d}: E|cos| = {} ± {}, exact {want}",
            s.cos_mean,
            s.cos_se
        );
    }
    assert!((mean_abs_cos(2) - 2.0 / std::f64::consts::PI).abs() < 1e-15);
    assert!(
        (mean_abs_cos(3) - 0.5).abs() < 1e-15,
        "E|cos| in 3-D is 1/2"
    );
}

/// On f = ½‖x‖², x' = x − ηĝ gives E f(x') = f(x)(1 − 2η + κη²) with
/// E‖ĝ‖² = κ‖x‖²: κ = d + 2 (fwd), d (spsa). After T steps, f₀(1 − 2η + κη²)^T.
/// d = 16, η = 0.1, T = 20, f₀ = ½: 0.5·0.98²⁰ = 0.334 (fwd), 0.5·0.96²⁰ = 0.221 (spsa).
/// Tolerance: 4 SE over 2,000 runs, asserted below the fwd–spsa gap.
#[test]
fn expected_loss_after_t_steps() {
    let (d, lr, steps, runs) = (16u32, 0.1f32, 20u32, 2_000u32);
    let mut means = Vec::new();
    for (est, kappa) in [
        (Estimator::Fwd, f64::from(d) + 2.0),
        (Estimator::Spsa, f64::from(d)),
    ] {
        let p = Descent {
            obj: Objective::Quadratic,
            est,
            d,
            radii: RADII,
            lr,
            steps,
            batch: 1,
            big_batch: 1,
            epoch: 1,
            seed: 3,
        };
        let all = descent::losses(&p, runs);
        let last = all
            .chunks_exact(steps as usize + 1)
            .map(|c| f64::from(c[steps as usize]));
        let f0 = f64::from(all[0]);
        assert!((f0 - 0.5).abs() < 1e-6, "f₀ = ½ at (1, …, 1)/√d");
        let eta = f64::from(lr);
        let want = f0 * (1.0 - 2.0 * eta + kappa * eta * eta).powi(steps as i32);
        let (m, se) = mean_se(last);
        assert!(
            (m - want).abs() < 4.0 * se,
            "{est}: E f_T = {m} ± {se}, exact {want}"
        );
        means.push((want, se));
    }
    assert!((means[0].0 - means[1].0).abs() > 4.0 * (means[0].1 + means[1].1));
}

/// Φ(x) by Simpson's rule on the normal density (independent of the kernel's erfc).
fn phi(x: f64) -> f64 {
    let n = 2000;
    let (lo, h) = (0.0, x / f64::from(n));
    let f = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(lo) + f(x);
    for i in 1..n {
        s += f(h * f64::from(i)) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    0.5 + s * h / 3.0
}

/// Uniform disk of radius δ: ∂_i f_δ = E sign(x_i + δy_i) = 1 − 2P(y_i < −x_i/δ),
/// and P(y₁ < −a) for a ≥ 0 is the circular segment beyond the chord at
/// distance a: (acos a − a√(1 − a²))/π.
fn disk_smoothed_sign(x: f64, delta: f64) -> f64 {
    let a = (x / delta).abs().min(1.0);
    let segment = ((a).acos() - a * (1.0 - a * a).sqrt()) / std::f64::consts::PI;
    (1.0 - 2.0 * segment) * x.signum()
}

/// For f = |x₁| + |x₂|: `gauss` is unbiased for ∇f_μ = 2Φ(x_i/μ) − 1 and
/// `sphere` for the disk smoothing (circular segments). Tolerance: 4 SE per
/// component, each bounded by √(tr Cov / n); n = 100,000 makes it ≈ 0.02,
/// far below the gap to sign(x) (≥ 0.28) and between the two smoothings (≥ 0.09).
#[test]
fn smoothed_gradients_of_l1() {
    let x = vec![0.3f32, -0.1];
    let (mu, delta) = (0.5f32, 0.5f32);
    let radii = Radii {
        mu,
        delta,
        guess_noise: 0.0,
    };
    let n = 100_000;
    let gauss_want: Vec<f64> = x
        .iter()
        .map(|&v| 2.0 * phi(f64::from(v) / f64::from(mu)) - 1.0)
        .collect();
    let disk_want: Vec<f64> = x
        .iter()
        .map(|&v| disk_smoothed_sign(f64::from(v), f64::from(delta)))
        .collect();
    for (est, want, other) in [
        (Estimator::Gauss, &gauss_want, &disk_want),
        (Estimator::Sphere, &disk_want, &gauss_want),
    ] {
        let s = monte_carlo(&problem(Objective::L1, est, x.clone(), radii), n);
        let tol = 4.0 * (s.var / f64::from(n)).sqrt();
        for i in 0..2 {
            assert!(tol < (want[i] - other[i]).abs() && tol < (want[i] - s.exact[i]).abs());
            assert!(
                (s.mean[i] - want[i]).abs() < tol,
                "{est}[{i}]: {} vs {} (tol {tol})",
                s.mean[i],
                want[i]
            );
        }
        // The kernel's own closed form (what `zo-estimate` reports as `smoothed`) agrees too.
        let closed =
            zo::smoothed::smoothed_grad(Objective::L1, est, &x, f64::from(mu), f64::from(delta));
        for i in 0..2 {
            assert!(
                (closed[i] - want[i]).abs() < 1e-5,
                "{est}: closed form {} vs {}",
                closed[i],
                want[i]
            );
        }
    }
}

/// The smoothed Rosenbrock gradients (derived in `smoothed.rs`) against the
/// Monte Carlo means of `gauss` and `sphere` in d = 3. Tolerance: 4 SE per
/// component bounded by √(tr Cov / n), n = 100,000.
#[test]
fn smoothed_rosenbrock_matches_its_estimators() {
    let x = vec![0.5f32, -0.3, 0.8];
    let radii = Radii {
        mu: 0.3,
        delta: 0.6,
        guess_noise: 0.0,
    };
    let n = 100_000;
    for est in [Estimator::Gauss, Estimator::Sphere] {
        let s = monte_carlo(&problem(Objective::Rosenbrock, est, x.clone(), radii), n);
        let closed = zo::smoothed::smoothed_grad(Objective::Rosenbrock, est, &x, 0.3, 0.6);
        let tol = 4.0 * (s.var / f64::from(n)).sqrt();
        let shift: f64 = closed
            .iter()
            .zip(&s.exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            tol < shift,
            "{est}: 4 SE {tol} must be below the smoothing's shift {shift}"
        );
        for (i, (m, c)) in s.mean.iter().zip(&closed).enumerate() {
            assert!((m - c).abs() < tol, "{est}[{i}]: {m} vs {c} (tol {tol})");
        }
    }
}

/// The exact gradients and forward-mode directional derivatives against
/// hand-written derivatives of each objective (exact to f32 rounding: 1e-4 relative).
#[test]
fn exact_gradients_and_directional_derivatives() {
    let x = [0.7f32, -0.4, 1.3, 0.2];
    let u = [0.3f32, -1.1, 0.5, 2.0];
    let rosen = |x: &[f32]| -> Vec<f64> {
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let mut g = vec![0.0; x.len()];
        for j in 0..x.len() - 1 {
            g[j] += -400.0 * x[j] * (x[j + 1] - x[j] * x[j]) - 2.0 * (1.0 - x[j]);
            g[j + 1] += 200.0 * (x[j + 1] - x[j] * x[j]);
        }
        g
    };
    let cases: [(Objective, Vec<f64>); 3] = [
        (
            Objective::Quadratic,
            x.iter().map(|&v| f64::from(v)).collect(),
        ),
        (
            Objective::L1,
            x.iter().map(|&v| f64::from(v.signum())).collect(),
        ),
        (Objective::Rosenbrock, rosen(&x)),
    ];
    for (obj, want) in cases {
        let got = zo::grad(obj, &x);
        let dd = zo::jvp(obj, &x, |j| u[j]).d;
        let want_dd: f64 = want.iter().zip(&u).map(|(g, u)| g * f64::from(*u)).sum();
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (f64::from(*g) - w).abs() <= 1e-4 * w.abs().max(1.0),
                "{obj}: {g} vs {w}"
            );
        }
        assert!(
            (f64::from(dd) - want_dd).abs() <= 1e-4 * want_dd.abs().max(1.0),
            "{obj}: ∇f·u {dd} vs {want_dd}"
        );
    }
    // The ReLU surface: (1/5) Σ_k r_k², r_k = relu(w₁t_k + ½) + relu(w₂t_k − ½) − |t_k|;
    // ∂/∂w₁ = (2/5) Σ r_k 1[w₁t_k + ½ > 0] t_k, likewise for w₂.
    let w = [0.7f32, -0.9];
    let (mut g1, mut g2) = (0.0f64, 0.0f64);
    for t in [-2.0f64, -1.0, 0.0, 1.0, 2.0] {
        let (a, b) = (f64::from(w[0]) * t + 0.5, f64::from(w[1]) * t - 0.5);
        let r = a.max(0.0) + b.max(0.0) - t.abs();
        g1 += 0.4 * r * if a > 0.0 { t } else { 0.0 };
        g2 += 0.4 * r * if b > 0.0 { t } else { 0.0 };
    }
    let got = zo::grad(Objective::Relu, &w);
    assert!(
        (f64::from(got[0]) - g1).abs() < 1e-5 && (f64::from(got[1]) - g2).abs() < 1e-5,
        "{got:?} vs {g1}, {g2}"
    );
}

/// `guess` with s = 0 is the exact gradient (u = ∇f), and with s > 0 its
/// mean shrinks ∇f by E cos² < 1: a biased estimator, as Fournier et al. note.
#[test]
fn guess_is_exact_without_noise_and_shrinks_with_it() {
    let x = point(16);
    let exact_guess = Radii {
        guess_noise: 0.0,
        ..RADII
    };
    let s = monte_carlo(
        &problem(
            Objective::Quadratic,
            Estimator::Guess,
            x.clone(),
            exact_guess,
        ),
        100,
    );
    for (m, g) in s.mean.iter().zip(&s.exact) {
        assert!((m - g).abs() < 1e-5);
    }
    let s = monte_carlo(
        &problem(Objective::Quadratic, Estimator::Guess, x, RADII),
        2_000,
    );
    let ratio: f64 = s.mean.iter().zip(&s.exact).map(|(m, g)| m * g).sum::<f64>();
    assert!(ratio < 0.9 && ratio > 0.0, "E ĝ·∇f / ‖∇f‖² = {ratio}");
}
