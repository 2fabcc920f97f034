//! Attribution smoothing on a network small enough to see whole: the input
//! gradient of a class logit, its Monte Carlo smoothings (SmoothGrad,
//! SmoothGrad², expected gradients, the uniform-ball average), their closed
//! forms for one ReLU hidden layer, and a certified bound on how far the
//! uniformly smoothed attribution can turn under an ℓ2 perturbation.
//!
//! The network is S(x) = A·relu(W x + b) + c (2 inputs, H hidden units, C
//! logits), stored in the flat layout of [`super::mlp`] for
//! `MlpSpec::for_2d_points(&[H], C, Relu)`: W (H × 2), b (H), A (C × H), c (C).
//! A single ReLU unit max(0, w·x + b) is the case H = C = 1, A = 1, c = 0.
//!
//! The Monte Carlo core ([`attributions`]) is the CPU twin of
//! `gpu/shaders/saliency.wgsl`: sample `s` of point `k` reads the four words
//! of the Philox block at counter `k·n + s` of `RngKey(seed, SALIENCY_STREAM)`
//! (words 0, 1: two normals; word 2: a uniform; word 3: a baseline index), in
//! f32 with the same operation order.

use super::rng::{RngKey, normal_icdf, philox4x32_10, uniform_from_u32};

/// RNG stream of the smoothing noise (one stream per run).
pub const SALIENCY_STREAM: u32 = 0x0000_5A11;
/// Most hidden units (the GPU kernel's bound).
pub const MAX_HIDDEN: usize = 128;
/// Most classes.
pub const MAX_CLASSES: usize = 8;

crate::param_enum! {
    /// How an attribution is computed from the gradient ∇S_c.
    pub enum Method {
        /// ∇S_c(x) itself.
        Grad = "grad",
        /// Mean of ∇S_c(x + σz), z ~ N(0, I).
        SmoothGrad = "smoothgrad",
        /// Mean of ∇S_c(x + σz)², elementwise.
        SmoothGradSq = "smoothgrad-sq",
        /// Expected gradients: mean of (x − x′) ⊙ ∇S_c(x′ + α(x − x′)).
        Eg = "eg",
        /// Mean of ∇S_c(x + u), u uniform in the disc of radius r.
        Uniform = "uniform",
    }
}

impl Method {
    /// The code the WGSL kernel switches on.
    pub fn code(self) -> u32 {
        match self {
            Method::Grad => 0,
            Method::SmoothGrad => 1,
            Method::SmoothGradSq => 2,
            Method::Eg => 3,
            Method::Uniform => 4,
        }
    }
}

/// A one-hidden-layer ReLU network on 2-D inputs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Net {
    pub hidden: usize,
    pub classes: usize,
    /// W, b, A, c in the flat MLP layout.
    pub params: Vec<f32>,
}

impl Net {
    /// The network with these flat parameters (`hidden·2 + hidden + classes·hidden + classes` of them).
    pub fn new(hidden: usize, classes: usize, params: Vec<f32>) -> Self {
        assert!(
            (1..=MAX_HIDDEN).contains(&hidden),
            "hidden units out of range"
        );
        assert!((1..=MAX_CLASSES).contains(&classes), "classes out of range");
        assert_eq!(params.len(), 3 * hidden + classes * hidden + classes);
        Self {
            hidden,
            classes,
            params,
        }
    }

    /// The single ReLU unit max(0, w·x + b).
    pub fn relu_unit(w: [f32; 2], b: f32) -> Self {
        Self::new(1, 1, vec![w[0], w[1], b, 1.0, 0.0])
    }

    /// Weight vector w_j of hidden unit j.
    pub fn w(&self, j: usize) -> [f32; 2] {
        [self.params[2 * j], self.params[2 * j + 1]]
    }

    /// Bias b_j of hidden unit j.
    pub fn b(&self, j: usize) -> f32 {
        self.params[2 * self.hidden + j]
    }

    /// Output weight A[c, j].
    pub fn a(&self, c: usize, j: usize) -> f32 {
        self.params[3 * self.hidden + c * self.hidden + j]
    }

    /// Output bias c_c.
    pub fn c(&self, c: usize) -> f32 {
        self.params[3 * self.hidden + self.classes * self.hidden + c]
    }

    /// Pre-activation m_j(x) = w_j·x + b_j, in f32 (the order the WGSL twin uses).
    pub fn pre(&self, j: usize, x: [f32; 2]) -> f32 {
        let w = self.w(j);
        w[0] * x[0] + w[1] * x[1] + self.b(j)
    }

    /// The logits S(x), in f32.
    pub fn logits(&self, x: [f32; 2]) -> Vec<f32> {
        (0..self.classes)
            .map(|c| {
                let mut s = self.c(c);
                for j in 0..self.hidden {
                    s += self.a(c, j) * self.pre(j, x).max(0.0);
                }
                s
            })
            .collect()
    }

    /// The predicted class argmax_c S_c(x) (the first on a tie).
    pub fn predicted_class(&self, x: [f32; 2]) -> usize {
        let s = self.logits(x);
        let mut best = 0;
        for c in 1..s.len() {
            if s[c] > s[best] {
                best = c;
            }
        }
        best
    }

    /// The input gradient ∇S_c(x) = Σ_j A[c, j] 1[m_j(x) > 0] w_j, in f32.
    pub fn grad(&self, c: usize, x: [f32; 2]) -> [f32; 2] {
        let mut g = [0.0f32; 2];
        for j in 0..self.hidden {
            if self.pre(j, x) > 0.0 {
                let (a, w) = (self.a(c, j), self.w(j));
                g[0] += a * w[0];
                g[1] += a * w[1];
            }
        }
        g
    }

    /// S_c(x) in f64 (for exact targets).
    pub fn logit_f64(&self, c: usize, x: [f64; 2]) -> f64 {
        let mut s = f64::from(self.c(c));
        for j in 0..self.hidden {
            s += f64::from(self.a(c, j)) * self.pre_f64(j, x).max(0.0);
        }
        s
    }

    fn pre_f64(&self, j: usize, x: [f64; 2]) -> f64 {
        let w = self.w(j);
        f64::from(w[0]) * x[0] + f64::from(w[1]) * x[1] + f64::from(self.b(j))
    }
}

/// What a smoothing takes: the method, σ of SmoothGrad, the radius r of the
/// uniform ball, and the Monte Carlo samples n (1 for `grad`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoothing {
    pub method: Method,
    pub sigma: f32,
    pub radius: f32,
    pub samples: u32,
}

impl Smoothing {
    /// Samples actually drawn: `grad` needs one.
    pub fn draws(&self) -> u32 {
        if self.method == Method::Grad {
            1
        } else {
            self.samples.max(1)
        }
    }
}

/// One Monte Carlo term of `method` at `x` for class `c` from the Philox block `r`.
/// SmoothGrad: ∇S_c(x + σz) (Smilkov et al. 2017); SmoothGrad²: its square
/// (Hooker et al. 2019); expected gradients: (x − x′) ⊙ ∇S_c(x′ + α(x − x′))
/// (Erion et al. 2021); uniform: ∇S_c(x + u), u ~ U(B(0, r)) (Wang & Kong 2024).
pub fn term(
    net: &Net,
    c: usize,
    x: [f32; 2],
    s: &Smoothing,
    baselines: &[[f32; 2]],
    r: [u32; 4],
) -> [f32; 2] {
    let z = [
        normal_icdf(uniform_from_u32(r[0])),
        normal_icdf(uniform_from_u32(r[1])),
    ];
    match s.method {
        Method::Grad => net.grad(c, x),
        Method::SmoothGrad => net.grad(c, [x[0] + s.sigma * z[0], x[1] + s.sigma * z[1]]),
        Method::SmoothGradSq => {
            let g = net.grad(c, [x[0] + s.sigma * z[0], x[1] + s.sigma * z[1]]);
            [g[0] * g[0], g[1] * g[1]]
        }
        Method::Eg => {
            let alpha = uniform_from_u32(r[2]);
            let xb = baselines[(r[3] % baselines.len() as u32) as usize];
            let d = [x[0] - xb[0], x[1] - xb[1]];
            let g = net.grad(c, [xb[0] + alpha * d[0], xb[1] + alpha * d[1]]);
            [d[0] * g[0], d[1] * g[1]]
        }
        Method::Uniform => {
            // A uniform point of the disc: radius r·√U, direction z/‖z‖.
            let scale =
                s.radius * uniform_from_u32(r[2]).sqrt() / (z[0] * z[0] + z[1] * z[1]).sqrt();
            net.grad(c, [x[0] + scale * z[0], x[1] + scale * z[1]])
        }
    }
}

/// The Philox block of sample `s` of point `k` with `n` samples per point.
pub fn block(key: RngKey, k: u32, n: u32, s: u32) -> [u32; 4] {
    philox4x32_10(
        [k.wrapping_mul(n).wrapping_add(s), 0, 0, 0],
        [key.seed, key.stream],
    )
}

/// What a field of attributions takes: the network, the points (point `k`
/// draws counters `(first + k)·n ..`), the smoothing, the baselines of
/// expected gradients (at least one) and the run's noise.
#[derive(Debug, Clone, Copy)]
pub struct FieldJob<'a> {
    pub net: &'a Net,
    pub points: &'a [[f32; 2]],
    pub first: u32,
    pub smoothing: Smoothing,
    pub baselines: &'a [[f32; 2]],
    pub key: RngKey,
}

/// The Monte Carlo attribution at every point, for the class each point
/// predicts; also that class.
pub fn attributions(job: &FieldJob<'_>) -> (Vec<[f32; 2]>, Vec<u32>) {
    let FieldJob {
        net,
        points,
        first,
        baselines,
        key,
        ..
    } = *job;
    let s = &job.smoothing;
    let n = s.draws();
    let inv_n = 1.0 / n as f32;
    let mut out = Vec::with_capacity(points.len());
    let mut classes = Vec::with_capacity(points.len());
    for (k, &x) in points.iter().enumerate() {
        let c = net.predicted_class(x);
        let mut acc = [0.0f32; 2];
        for i in 0..n {
            let t = term(net, c, x, s, baselines, block(key, first + k as u32, n, i));
            acc[0] += t[0];
            acc[1] += t[1];
        }
        out.push([acc[0] * inv_n, acc[1] * inv_n]);
        classes.push(c as u32);
    }
    (out, classes)
}

pub use super::stats::{erfc, normal_cdf};

/// Fraction of a disc of radius r centred at distance `t·r` on the active
/// side of a line, i.e. P(w·(x + u) + b > 0) for u ~ U(B(0, r)) with
/// t = (w·x + b)/(r‖w‖): the circular segment (acos(−t) + t√(1 − t²))/π.
pub fn disc_active_fraction(t: f64) -> f64 {
    if t >= 1.0 {
        1.0
    } else if t <= -1.0 {
        0.0
    } else {
        ((-t).acos() + t * (1.0 - t * t).sqrt()) / std::f64::consts::PI
    }
}

/// Σ_j A[c, j] w_j p_j(x) with p_j the probability that unit j is active under the smoothing.
fn weighted_active(net: &Net, c: usize, x: [f64; 2], p: impl Fn(f64, f64) -> f64) -> [f64; 2] {
    let mut g = [0.0; 2];
    for j in 0..net.hidden {
        let w = net.w(j).map(f64::from);
        let norm = w[0].hypot(w[1]);
        let m = net.pre_f64(j, x);
        let pj = if norm == 0.0 {
            f64::from(u8::from(m > 0.0))
        } else {
            p(m, norm)
        };
        let a = f64::from(net.a(c, j));
        g[0] += a * w[0] * pj;
        g[1] += a * w[1] * pj;
    }
    g
}

/// Exact SmoothGrad of one ReLU layer, Σ_j A[c, j] w_j Φ(m_j/(σ‖w_j‖)): by
/// Stein's identity E∇S(x + σz) = ∇(S ∗ φ_σ)(x) (Smilkov et al. 2017; the
/// closed form per unit is P(m_j + σ w_j·z > 0)).
pub fn smoothgrad_exact(net: &Net, c: usize, x: [f64; 2], sigma: f64) -> [f64; 2] {
    weighted_active(net, c, x, |m, norm| normal_cdf(m / (sigma * norm)))
}

/// Exact uniformly smoothed gradient of one ReLU layer in 2-D,
/// h(x) = Σ_j A[c, j] w_j · (segment fraction of unit j) (Wang & Kong 2024, eq. for h).
pub fn uniform_exact(net: &Net, c: usize, x: [f64; 2], radius: f64) -> [f64; 2] {
    weighted_active(net, c, x, |m, norm| {
        disc_active_fraction(m / (radius * norm))
    })
}

/// The exact gradient ∇S_c(x) in f64.
pub fn grad_exact(net: &Net, c: usize, x: [f64; 2]) -> [f64; 2] {
    weighted_active(net, c, x, |m, _| f64::from(u8::from(m > 0.0)))
}

/// M = max over every activation pattern of ‖Σ_{j active} A[c, j] w_j‖ ≥
/// sup_x ‖∇S_c(x)‖: in 2-D the best pattern is {j : u·v_j > 0} for some unit
/// vector u, and that set only changes where u crosses a line ⊥ v_j, so the
/// midpoints between those critical angles visit every candidate.
pub fn grad_norm_bound(net: &Net, c: usize) -> f64 {
    let v: Vec<[f64; 2]> = (0..net.hidden)
        .map(|j| {
            let (a, w) = (f64::from(net.a(c, j)), net.w(j).map(f64::from));
            [a * w[0], a * w[1]]
        })
        .filter(|v| v[0] != 0.0 || v[1] != 0.0)
        .collect();
    let half_pi = std::f64::consts::FRAC_PI_2;
    let mut crit: Vec<f64> = v
        .iter()
        .flat_map(|v| {
            let phi = v[1].atan2(v[0]);
            [phi + half_pi, phi - half_pi].map(|a| a.rem_euclid(std::f64::consts::TAU))
        })
        .collect();
    crit.sort_by(f64::total_cmp);
    if crit.is_empty() {
        return 0.0;
    }
    let mut best = 0.0f64;
    for i in 0..crit.len() {
        let next = if i + 1 < crit.len() {
            crit[i + 1]
        } else {
            crit[0] + std::f64::consts::TAU
        };
        let (s, c) = (0.5 * (crit[i] + next)).sin_cos();
        let mut sum = [0.0; 2];
        for v in &v {
            if c * v[0] + s * v[1] > 0.0 {
                sum[0] += v[0];
                sum[1] += v[1];
            }
        }
        best = best.max(sum[0].hypot(sum[1]));
    }
    best
}

/// Area of the lens B(0, r) ∩ B(δ, r) with ‖δ‖ = d.
pub fn lens_area(r: f64, d: f64) -> f64 {
    if d >= 2.0 * r {
        return 0.0;
    }
    2.0 * r * r * (d / (2.0 * r)).acos() - 0.5 * d * (4.0 * r * r - d * d).sqrt()
}

/// D = M·|B(x, r) △ B(x + δ, r)|/|B(0, r)| at ‖δ‖ = ε: a bound on
/// ‖h(x + δ) − h(x)‖ for every ‖δ‖ ≤ ε, since the two averages share the lens
/// and differ by M-bounded integrals over the two lunes (Wang & Kong 2024, §4).
pub fn drift_bound(m: f64, radius: f64, eps: f64) -> f64 {
    let disc = std::f64::consts::PI * radius * radius;
    m * 2.0 * (disc - lens_area(radius, eps)) / disc
}

/// The smallest cosine between h and any h + Δ with ‖Δ‖ ≤ D: √(1 − D²/‖h‖²)
/// when D < ‖h‖ (Δ tangent to the ball seen from 0), else −1 (no certificate).
pub fn certified_cos(h_norm: f64, drift: f64) -> f64 {
    if drift < h_norm {
        (1.0 - (drift / h_norm).powi(2)).sqrt()
    } else {
        -1.0
    }
}

/// The bound as the paper's Theorem is summarised, T = ‖h‖/√(‖h‖² + (M V_U/V_S)²),
/// read here with V_U the symmetric difference of the two balls (Wang & Kong
/// 2024, Thm. 1; the definition of V_U and the proof were not retrievable, so
/// this is shown beside [`certified_cos`], never used as the certificate).
pub fn paper_form_cos(h_norm: f64, drift: f64) -> f64 {
    if h_norm == 0.0 {
        return 0.0;
    }
    h_norm / (h_norm * h_norm + drift * drift).sqrt()
}

/// cos(a, b), 0 when either is the zero vector.
pub fn cosine(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (na, nb) = (a[0].hypot(a[1]), b[0].hypot(b[1]));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    ((a[0] * b[0] + a[1] * b[1]) / (na * nb)).clamp(-1.0, 1.0)
}

/// Directions of the exhaustive ring search.
pub const RING_DIRECTIONS: usize = 360;
/// Radii per direction (ε·i/10, i = 1..10): 3,600 perturbations in all.
pub const RING_RADII: usize = 10;

/// The certificate at x for class c and its exhaustive check.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Certificate {
    /// The proved lower bound on cos(h(x), h(x + δ)) over ‖δ‖ ≤ ε.
    pub lower_cos: f64,
    /// The minimum cosine over the 3,600 perturbations.
    pub empirical_min_cos: f64,
    /// The paper's summarised form ([`paper_form_cos`]), for comparison only.
    pub paper_form_cos: f64,
    /// M, the bound on ‖∇S_c‖.
    pub grad_bound: f64,
    /// ‖h(x)‖.
    pub h_norm: f64,
    /// Per direction (k·1°), the minimum cosine over the radii ε·i/10.
    pub ring: Vec<f64>,
}

/// The certificate of the uniformly smoothed attribution h (exact, one ReLU
/// layer) at x, and the minimum cosine over 360 directions × 10 radii ≤ ε.
pub fn certificate(net: &Net, c: usize, x: [f64; 2], radius: f64, eps: f64) -> Certificate {
    let h = uniform_exact(net, c, x, radius);
    let h_norm = h[0].hypot(h[1]);
    let m = grad_norm_bound(net, c);
    let drift = drift_bound(m, radius, eps);
    let ring: Vec<f64> = (0..RING_DIRECTIONS)
        .map(|k| {
            let (s, co) = (std::f64::consts::TAU * k as f64 / RING_DIRECTIONS as f64).sin_cos();
            (1..=RING_RADII)
                .map(|i| {
                    let d = eps * i as f64 / RING_RADII as f64;
                    cosine(
                        h,
                        uniform_exact(net, c, [x[0] + d * co, x[1] + d * s], radius),
                    )
                })
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    Certificate {
        lower_cos: certified_cos(h_norm, drift),
        empirical_min_cos: ring.iter().copied().fold(f64::INFINITY, f64::min),
        paper_form_cos: paper_form_cos(h_norm, drift),
        grad_bound: m,
        h_norm,
        ring,
    }
}

/// Completeness of expected gradients: the Monte Carlo Σ_i EG_i at x (with
/// its standard error) against S_c(x) − mean over the baselines of S_c(x′)
/// (Erion et al. 2021: Σ_i EG_i = S_c(x) − E S_c(x′) in expectation).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Completeness {
    pub sum: f64,
    pub target: f64,
    /// Standard error of `sum`.
    pub se: f64,
}

/// Expected gradients at x with n samples (counters of point `k`), checked for completeness.
pub fn completeness(
    net: &Net,
    x: [f32; 2],
    k: u32,
    n: u32,
    baselines: &[[f32; 2]],
    key: RngKey,
) -> Completeness {
    let c = net.predicted_class(x);
    let s = Smoothing {
        method: Method::Eg,
        sigma: 0.0,
        radius: 0.0,
        samples: n,
    };
    let sums: Vec<f64> = (0..n)
        .map(|i| {
            let t = term(net, c, x, &s, baselines, block(key, k, n, i));
            f64::from(t[0]) + f64::from(t[1])
        })
        .collect();
    let (mean, var) = super::stats::mean_var(sums.iter().copied());
    let xd = x.map(f64::from);
    let base_mean = baselines
        .iter()
        .map(|b| net.logit_f64(c, b.map(f64::from)))
        .sum::<f64>()
        / baselines.len() as f64;
    Completeness {
        sum: mean,
        target: net.logit_f64(c, xd) - base_mean,
        se: (var / f64::from(n)).sqrt(),
    }
}
