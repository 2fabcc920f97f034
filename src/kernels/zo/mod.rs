//! Gradients without backpropagation: the objectives (value, exact gradient,
//! forward-mode directional derivative with dual numbers), the random
//! directions (Philox), and the estimators that see only directional
//! derivatives or function values. WGSL twin: `gpu/shaders/zo.wgsl`, which
//! performs the same f32 operations in the same order.
//!
//! Every objective is a sum of local terms, f(y) = Σ_j term_j(y_{j−1}, y_j),
//! so the CPU and the GPU evaluate it in one streaming pass over the
//! components, regenerating each direction's components from their Philox
//! counters instead of storing them.

pub mod descent;
pub mod estimate;
pub mod race;
pub mod smoothed;

use super::rng::RngKey;

/// RNG stream of the single-estimate Monte Carlo (`zo-estimate`, the cloud, the cosine law).
pub const ESTIMATE_STREAM: u32 = 0x2E50_0000;
/// First RNG stream of the descent runs: run r draws from stream `DESCENT_STREAM + r`.
pub const DESCENT_STREAM: u32 = 0x2E51_0000;

crate::param_enum! {
    /// The objective f.
    pub enum Objective {
        /// f(x) = ½‖x‖²: ∇f = x.
        Quadratic = "quadratic",
        /// f(x) = Σ 100(x_{j+1} − x_j²)² + (1 − x_j)² (Rosenbrock 1960).
        Rosenbrock = "rosenbrock",
        /// f(x) = Σ |x_j|: nonsmooth on the axes.
        L1 = "l1",
        /// The squared loss of a two-unit ReLU network as a function of its two input weights (2-D only).
        Relu = "relu",
    }
}

crate::param_enum! {
    /// How the gradient is estimated.
    pub enum Estimator {
        /// The exact gradient.
        Backprop = "backprop",
        /// Forward gradient (∇f·v)v, v ~ N(0, I).
        Fwd = "fwd",
        /// Projection on a guessed direction u: (∇f·u/‖u‖²)u.
        Guess = "guess",
        /// SPSA with Rademacher Δ.
        Spsa = "spsa",
        /// Two-point Gaussian smoothing estimator.
        Gauss = "gauss",
        /// Two-point uniform-sphere estimator (GFM).
        Sphere = "sphere",
        /// GFM⁺: recursive variance reduction of the sphere estimator.
        SphereVr = "sphere-vr",
    }
}

impl Objective {
    /// The shader's code of the objective.
    pub fn code(self) -> u32 {
        match self {
            Objective::Quadratic => 0,
            Objective::Rosenbrock => 1,
            Objective::L1 => 2,
            Objective::Relu => 3,
        }
    }

    /// The standard start x₀ of a descent in dimension `d`: (1, …, 1)/√d for
    /// the quadratic and l1 (f₀ = ½ for the quadratic); (−1.2, 1, −1.2, …) for
    /// Rosenbrock (Rosenbrock 1960); (−0.8, 1.2) for the ReLU surface.
    pub fn start(self, d: usize) -> Vec<f32> {
        match self {
            Objective::Quadratic | Objective::L1 => vec![1.0 / (d as f32).sqrt(); d],
            Objective::Rosenbrock => (0..d)
                .map(|j| if j % 2 == 0 { -1.2 } else { 1.0 })
                .collect(),
            Objective::Relu => vec![-0.8, 1.2],
        }
    }
}

impl Estimator {
    /// The shader's code of the estimator.
    pub fn code(self) -> u32 {
        match self {
            Estimator::Backprop => 0,
            Estimator::Fwd => 1,
            Estimator::Guess => 2,
            Estimator::Spsa => 3,
            Estimator::Gauss => 4,
            Estimator::Sphere => 5,
            Estimator::SphereVr => 6,
        }
    }

    /// Function evaluations (or forward-mode passes) one direction costs:
    /// a JVP is one forward pass, a two-point difference two.
    pub fn evals_per_direction(self) -> u32 {
        match self {
            Estimator::Backprop | Estimator::Fwd | Estimator::Guess => 1,
            _ => 2,
        }
    }
}

/// A dual number v + d·ε, ε² = 0: forward-mode differentiation (Baydin et al. 2022, §2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual {
    pub v: f32,
    pub d: f32,
}

impl Dual {
    pub const fn new(v: f32, d: f32) -> Self {
        Self { v, d }
    }
    pub const fn constant(v: f32) -> Self {
        Self { v, d: 0.0 }
    }
    fn add(self, o: Dual) -> Dual {
        Dual::new(self.v + o.v, self.d + o.d)
    }
    fn sub(self, o: Dual) -> Dual {
        Dual::new(self.v - o.v, self.d - o.d)
    }
    fn mul(self, o: Dual) -> Dual {
        Dual::new(self.v * o.v, self.d * o.v + self.v * o.d)
    }
    fn scale(self, s: f32) -> Dual {
        Dual::new(self.v * s, self.d * s)
    }
    /// |a|, with derivative sign(a) (0 at 0).
    fn abs(self) -> Dual {
        if self.v > 0.0 {
            self
        } else if self.v < 0.0 {
            Dual::new(-self.v, -self.d)
        } else {
            Dual::new(0.0, 0.0)
        }
    }
    /// max(a, 0), with derivative 1[a > 0].
    fn relu(self) -> Dual {
        if self.v > 0.0 {
            self
        } else {
            Dual::new(0.0, 0.0)
        }
    }
}

/// Inputs t_k of the ReLU network's five training points.
pub const RELU_T: [f32; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// The ReLU surface: (1/5) Σ_k (relu(w₁t_k + ½) + relu(w₂t_k − ½) − |t_k|)²,
/// a two-unit ReLU network's squared loss as a function of its input weights.
fn relu_net(w1: Dual, w2: Dual) -> Dual {
    let mut acc = Dual::constant(0.0);
    for t in RELU_T {
        let h1 = w1.scale(t).add(Dual::constant(0.5)).relu();
        let h2 = w2.scale(t).sub(Dual::constant(0.5)).relu();
        let r = h1.add(h2).sub(Dual::constant(t.abs()));
        acc = acc.add(r.mul(r));
    }
    acc.scale(0.2)
}

/// The local term of f at component j, given y_{j−1} (`prev`, unused at j = 0) and y_j.
pub fn term(obj: Objective, j: usize, prev: Dual, y: Dual) -> Dual {
    match obj {
        Objective::Quadratic => y.mul(y).scale(0.5),
        Objective::L1 => y.abs(),
        // Rosenbrock (1960): the pair (y_{j−1}, y_j) contributes 100(y_j − y_{j−1}²)² + (1 − y_{j−1})².
        Objective::Rosenbrock if j > 0 => {
            let a = y.sub(prev.mul(prev));
            let b = Dual::constant(1.0).sub(prev);
            a.mul(a).scale(100.0).add(b.mul(b))
        }
        Objective::Relu if j == 1 => relu_net(prev, y),
        _ => Dual::constant(0.0),
    }
}

/// f(x).
pub fn value(obj: Objective, x: &[f32]) -> f32 {
    jvp(obj, x, |_| 0.0).v
}

/// f(x) and the directional derivative ∇f(x)·u in one forward-mode pass
/// (dual numbers, never finite differences; Baydin et al. 2022), with u_j = `u(j)`.
pub fn jvp(obj: Objective, x: &[f32], u: impl Fn(usize) -> f32) -> Dual {
    let mut acc = Dual::constant(0.0);
    let mut prev = Dual::constant(0.0);
    for (j, &xj) in x.iter().enumerate() {
        let y = Dual::new(xj, u(j));
        acc = acc.add(term(obj, j, prev, y));
        prev = y;
    }
    acc
}

/// ∂f/∂x_j, exact: the derivative of the (at most two) terms that hold x_j,
/// each by forward mode along e_j.
pub fn grad_component(obj: Objective, x: &[f32], j: usize) -> f32 {
    let at = |i: usize, seed: bool| Dual::new(x[i], if seed { 1.0 } else { 0.0 });
    let prev = if j > 0 {
        at(j - 1, false)
    } else {
        Dual::constant(0.0)
    };
    let mut g = term(obj, j, prev, at(j, true)).d;
    if j + 1 < x.len() {
        g += term(obj, j + 1, at(j, true), at(j + 1, false)).d;
    }
    g
}

/// ∇f(x), exact (`backprop`).
pub fn grad(obj: Objective, x: &[f32]) -> Vec<f32> {
    (0..x.len()).map(|j| grad_component(obj, x, j)).collect()
}

/// f(x + h·u) − f(x − h·u), term by term (the differences are taken before
/// the sum, so f32 keeps the small difference exact where the terms are).
pub fn two_point_diff(obj: Objective, x: &[f32], h: f32, u: impl Fn(usize) -> f32) -> f32 {
    let mut acc = 0.0f32;
    let (mut pp, mut pm) = (Dual::constant(0.0), Dual::constant(0.0));
    for (j, &xj) in x.iter().enumerate() {
        let s = h * u(j);
        let yp = Dual::constant(xj + s);
        let ym = Dual::constant(xj - s);
        acc += term(obj, j, pp, yp).v - term(obj, j, pm, ym).v;
        pp = yp;
        pm = ym;
    }
    acc
}

/// The smoothing and perturbation sizes of the estimators.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Radii {
    /// Gaussian smoothing μ (`gauss`) and SPSA's perturbation c (`spsa`).
    pub mu: f32,
    /// Uniform-ball radius δ (`sphere`, `sphere-vr`).
    pub delta: f32,
    /// Noise s of the guessed direction u = ∇f + s·n (`guess`, analytic objectives).
    pub guess_noise: f32,
}

/// Where the random directions of one estimate come from: direction k of
/// draw i has component j at word `(i·b + k)·d + j` of `key`'s stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Directions {
    pub key: RngKey,
    pub d: u32,
}

impl Directions {
    /// Component j of raw direction `dir`: N(0, 1) for every estimator but SPSA's ±1.
    #[inline]
    pub fn raw(self, est: Estimator, dir: u32, j: u32) -> f32 {
        let index = dir.wrapping_mul(self.d).wrapping_add(j);
        if est == Estimator::Spsa {
            // Rademacher Δ_j from the top bit (Spall 1992).
            if self.key.u32_at(index) >> 31 == 1 {
                1.0
            } else {
                -1.0
            }
        } else {
            self.key.normal_at(index)
        }
    }
}

/// One direction u and its coefficient c, so that the direction's estimate is c·u.
/// For `guess`, u_j = ∂_j f(x) + s·n_j; for `sphere`, u is normal and w = u/‖u‖.
pub fn coefficient(
    obj: Objective,
    est: Estimator,
    x: &[f32],
    radii: Radii,
    dirs: Directions,
    dir: u32,
) -> f32 {
    let u = |j: usize| direction(obj, est, x, radii, dirs, dir, j);
    match est {
        Estimator::Backprop => 1.0,
        // Forward gradient (∇f·v)v (Baydin et al. 2022).
        Estimator::Fwd => jvp(obj, x, u).d,
        // Guess: (∇f·u/‖u‖²)u (Fournier et al. 2023, §3).
        Estimator::Guess => jvp(obj, x, u).d / norm_sq(x.len(), u),
        // SPSA: [f(x + cΔ) − f(x − cΔ)]/(2c) Δ (Spall 1992).
        Estimator::Spsa => two_point_diff(obj, x, radii.mu, u) / (2.0 * radii.mu),
        // Gaussian smoothing: [f(x + μu) − f(x − μu)]/(2μ) u (Nesterov & Spokoiny 2017).
        Estimator::Gauss => two_point_diff(obj, x, radii.mu, u) / (2.0 * radii.mu),
        // GFM: d/(2δ)[f(x + δw) − f(x − δw)] w, w = u/‖u‖ (Chen, Xu & Luo 2023, eq. 4).
        Estimator::Sphere | Estimator::SphereVr => {
            let r = 1.0 / norm_sq(x.len(), u).sqrt();
            let diff = two_point_diff(obj, x, radii.delta * r, u);
            x.len() as f32 / (2.0 * radii.delta) * diff * r
        }
    }
}

/// Component j of direction `dir` as the estimate multiplies it: the raw
/// draw, or ∂_j f(x) + s·n_j for `guess`, or ∂_j f(x) for `backprop`.
#[inline]
pub fn direction(
    obj: Objective,
    est: Estimator,
    x: &[f32],
    radii: Radii,
    dirs: Directions,
    dir: u32,
    j: usize,
) -> f32 {
    match est {
        Estimator::Backprop => grad_component(obj, x, j),
        Estimator::Guess => {
            grad_component(obj, x, j) + radii.guess_noise * dirs.raw(est, dir, j as u32)
        }
        _ => dirs.raw(est, dir, j as u32),
    }
}

/// ‖u‖² over `d` components.
fn norm_sq(d: usize, u: impl Fn(usize) -> f32) -> f32 {
    let mut s = 0.0f32;
    for j in 0..d {
        let v = u(j);
        s += v * v;
    }
    s
}

/// One estimate: the mean of `b` directions' estimates (directions
/// `first..first + b`); for `backprop` every direction is ∇f itself.
pub fn estimate(
    obj: Objective,
    est: Estimator,
    x: &[f32],
    radii: Radii,
    dirs: Directions,
    first: u32,
    b: u32,
) -> Vec<f32> {
    let coefs: Vec<f32> = (0..b)
        .map(|k| coefficient(obj, est, x, radii, dirs, first + k))
        .collect();
    let inv_b = 1.0 / b as f32;
    (0..x.len())
        .map(|j| {
            let mut s = 0.0f32;
            for (k, c) in coefs.iter().enumerate() {
                s += c * direction(obj, est, x, radii, dirs, first + k as u32, j);
            }
            s * inv_b
        })
        .collect()
}
