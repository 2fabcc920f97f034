//! Gumbel-Softmax sampling and six estimators of ∇_θ E[f(z)],
//! z ~ Categorical(softmax(θ)), for a linear f(z) = Σ_k w_k z_k or a quadratic
//! f(z) = Σ_k w_k z_k² (the two agree on the simplex's vertices, so E[f(z)]
//! and its exact gradient are the same). CPU twin of `gpu/shaders/gumbel.wgsl`.
//!
//! Sample n draws g_k = Gumbel variate (n·K + k) of `RngKey(seed, GUMBEL_STREAM)`
//! and forms the hard sample h = argmax_k(θ_k + g_k) (the Gumbel-max trick)
//! and the relaxed sample y = softmax((θ + g)/τ).
//!
//! Moments are accumulated as flat sums in column order, `K` values each:
//! `[hard counts | Σ y | Σ RF | Σ RF² | Σ RFB | Σ RFB² | Σ GS | Σ GS² | Σ ST | Σ ST² | Σ RLOO | Σ RLOO²]`.
//! RF, RFB, GS and ST are per sample; RLOO is per batch: samples
//! `start + m·B .. start + (m+1)·B` form batch m (B = [`Problem::batch`]), its
//! columns sum the batch estimates ĝ_m and ĝ_m², and a trailing partial batch
//! is left out.

use super::rng::RngKey;

/// Most categories the kernels handle.
pub const MAX_K: usize = 16;
/// RNG stream of the Gumbel noise.
pub const GUMBEL_STREAM: u32 = 0x0000_6B1E;
/// Number of K-wide column groups in the moment sums.
pub const GROUPS: usize = 12;
/// Most samples in one RLOO batch.
pub const MAX_BATCH: u32 = 1024;

crate::param_enum! {
    /// The objective f(z) whose expectation the estimators differentiate.
    pub enum Objective {
        /// f(z) = Σ_k w_k z_k: ∇f = w everywhere, so straight-through equals Gumbel-Softmax.
        Linear = "linear",
        /// f(z) = Σ_k w_k z_k²: equal to the linear f on one-hot z, but ∇f(z) = 2 w ⊙ z
        /// differs between the relaxed y and the hard h.
        Quadratic = "quadratic",
    }
}

impl Objective {
    /// The shader's code of the objective.
    pub fn code(self) -> u32 {
        match self {
            Objective::Linear => 0,
            Objective::Quadratic => 1,
        }
    }
}

/// softmax(θ)_k = e^θ_k / Σ_j e^θ_j, computed stably in f64.
pub fn softmax(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|&l| (l - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// The exact gradient ∂/∂θ_j Σ_k p_k f(e_k) = Σ_k p_k(δ_kj − p_j) w_k = p_j (w_j − Σ_k p_k w_k)
/// (softmax derivative; f(e_k) = w_k under both objectives).
pub fn exact_grad(logits: &[f64], weights: &[f64]) -> Vec<f64> {
    let p = softmax(logits);
    let mean: f64 = p.iter().zip(weights).map(|(p, w)| p * w).sum();
    p.iter().zip(weights).map(|(p, w)| p * (w - mean)).collect()
}

/// The exact objective E[f(z)] = Σ_k p_k f(e_k) = Σ_k p_k w_k (both objectives).
pub fn expected_value(logits: &[f64], weights: &[f64]) -> f64 {
    softmax(logits)
        .iter()
        .zip(weights)
        .map(|(p, w)| p * w)
        .sum()
}

/// One estimation problem, in the f32 the kernels compute in.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub logits: Vec<f32>,
    pub weights: Vec<f32>,
    pub tau: f32,
    pub objective: Objective,
    /// Samples per RLOO batch B (≥ 2).
    pub batch: u32,
    /// softmax(θ), computed in f64 and rounded (REINFORCE's score needs it).
    pub probs: Vec<f32>,
    /// The oracle baseline b = E[f(z)] = Σ p w: the exact mean reward, which
    /// a practitioner does not have.
    pub baseline: f32,
}

impl Problem {
    pub fn new(
        logits: &[f64],
        weights: &[f64],
        tau: f64,
        objective: Objective,
        batch: u32,
    ) -> Self {
        assert!((2..=MAX_BATCH).contains(&batch), "RLOO batch out of range");
        Self {
            logits: logits.iter().map(|&v| v as f32).collect(),
            weights: weights.iter().map(|&v| v as f32).collect(),
            tau: tau as f32,
            objective,
            batch,
            probs: softmax(logits).iter().map(|&v| v as f32).collect(),
            baseline: expected_value(logits, weights) as f32,
        }
    }

    pub fn k(&self) -> usize {
        self.logits.len()
    }
}

/// The per-sample values of one draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// argmax_k (θ_k + g_k).
    pub hard: usize,
    /// y = softmax((θ + g)/τ) (Jang et al. 2017, eq. 1; Maddison et al. 2017).
    pub soft: Vec<f32>,
    /// REINFORCE (Williams 1992): f(h) ∇_θ log p_h = w_h (e_h − p).
    pub reinforce: Vec<f32>,
    /// REINFORCE with the oracle baseline b = Σ p w: (w_h − b)(e_h − p).
    pub reinforce_baseline: Vec<f32>,
    /// Gumbel-Softmax (Jang et al. 2017, §2): ∇_θ f(y) = J_y(θ)ᵀ ∇f(y).
    pub gumbel_softmax: Vec<f32>,
    /// Straight-through Gumbel (Jang et al. 2017, §2.2): f evaluated at the
    /// hard h forward, gradient through y backward: J_y(θ)ᵀ ∇f(h).
    pub straight_through: Vec<f32>,
}

/// J_y(θ)ᵀ u for y = softmax((θ + g)/τ): (1/τ) y_j (u_j − Σ_k y_k u_k), since
/// ∂y_k/∂θ_j = (1/τ) y_k (δ_kj − y_j) (softmax derivative; Jang et al. 2017, §2).
// Index loops mirror the WGSL twin line by line.
#[allow(clippy::needless_range_loop)]
fn softmax_vjp(inv_tau: f32, y: &[f32], u: &[f32]) -> Vec<f32> {
    let mut yu = 0.0f32;
    for j in 0..y.len() {
        yu += y[j] * u[j];
    }
    (0..y.len()).map(|j| inv_tau * y[j] * (u[j] - yu)).collect()
}

/// ∇f(z) of the objective at z: w (linear) or 2 w ⊙ z (quadratic).
fn objective_grad(objective: Objective, w: &[f32], z: &[f32]) -> Vec<f32> {
    match objective {
        Objective::Linear => w.to_vec(),
        Objective::Quadratic => w.iter().zip(z).map(|(w, z)| 2.0 * w * z).collect(),
    }
}

/// Draws sample `n` and evaluates every per-sample estimator on it.
// Index loops mirror the WGSL twin line by line.
#[allow(clippy::needless_range_loop)]
pub fn sample(p: &Problem, key: RngKey, n: u32) -> Sample {
    let k = p.k();
    let base = n.wrapping_mul(k as u32);
    let mut a = [0.0f32; MAX_K];
    let mut hard = 0;
    for j in 0..k {
        a[j] = p.logits[j] + key.gumbel_at(base.wrapping_add(j as u32));
        if a[j] > a[hard] {
            hard = j;
        }
    }
    let inv_tau = 1.0 / p.tau;
    let s_max = a[hard] * inv_tau;
    let mut soft = vec![0.0f32; k];
    let mut total = 0.0f32;
    for j in 0..k {
        soft[j] = (a[j] * inv_tau - s_max).exp();
        total += soft[j];
    }
    for j in 0..k {
        soft[j] /= total;
    }
    let onehot: Vec<f32> = (0..k).map(|j| if j == hard { 1.0 } else { 0.0 }).collect();
    // f(h) = w_h under both objectives (h is a vertex).
    let wh = p.weights[hard];
    let mut reinforce = vec![0.0f32; k];
    let mut reinforce_baseline = vec![0.0f32; k];
    for j in 0..k {
        let score = onehot[j] - p.probs[j];
        reinforce[j] = wh * score;
        reinforce_baseline[j] = (wh - p.baseline) * score;
    }
    let gumbel_softmax = softmax_vjp(
        inv_tau,
        &soft,
        &objective_grad(p.objective, &p.weights, &soft),
    );
    let straight_through = softmax_vjp(
        inv_tau,
        &soft,
        &objective_grad(p.objective, &p.weights, &onehot),
    );
    Sample {
        hard,
        soft,
        reinforce,
        reinforce_baseline,
        gumbel_softmax,
        straight_through,
    }
}

/// REINFORCE with the leave-one-out baseline (RLOO; Kool, van Hoof & Welling
/// 2019) on one batch of B hard samples, given as category counts c:
/// ĝ = (1/B) Σ_i (f(h_i) − (1/(B−1)) Σ_{i′≠i} f(h_i′)) ∇_θ log p_{h_i}
///   = 1/(B−1) Σ_i (f(h_i) − f̄)(e_{h_i} − p).
/// Since Σ_i (f(h_i) − f̄) = 0 the −p part of the score cancels, and with
/// f(h_i) = w_{h_i}: ĝ_j = c_j (w_j − S/B)/(B − 1), S = Σ_k c_k w_k.
// Index loops mirror the WGSL twin line by line.
#[allow(clippy::needless_range_loop)]
pub fn rloo(weights: &[f32], counts: &[f32], batch: u32) -> Vec<f32> {
    let mut s = 0.0f32;
    for j in 0..counts.len() {
        s += counts[j] * weights[j];
    }
    let mean = s / batch as f32;
    let denom = (batch - 1) as f32;
    (0..counts.len())
        .map(|j| counts[j] * (weights[j] - mean) / denom)
        .collect()
}

/// Moment sums of samples `start..start + count` in f64 (CPU twin of the
/// GPU kernel, whose per-thread f32 partial sums are added up in f64).
pub fn moment_sums(p: &Problem, key: RngKey, start: u32, count: u32) -> Vec<f64> {
    let k = p.k();
    let mut sums = vec![0.0f64; GROUPS * k];
    let mut counts = vec![0.0f32; k];
    for i in 0..count {
        let s = sample(p, key, start.wrapping_add(i));
        sums[s.hard] += 1.0;
        counts[s.hard] += 1.0;
        let per_sample = [
            &s.reinforce,
            &s.reinforce_baseline,
            &s.gumbel_softmax,
            &s.straight_through,
        ];
        for j in 0..k {
            sums[k + j] += f64::from(s.soft[j]);
            for (e, est) in per_sample.iter().enumerate() {
                let x = f64::from(est[j]);
                sums[(2 + 2 * e) * k + j] += x;
                sums[(3 + 2 * e) * k + j] += x * x;
            }
        }
        if (i + 1) % p.batch == 0 {
            for (j, g) in rloo(&p.weights, &counts, p.batch).into_iter().enumerate() {
                let g = f64::from(g);
                sums[10 * k + j] += g;
                sums[11 * k + j] += g * g;
            }
            counts.iter_mut().for_each(|c| *c = 0.0);
        }
    }
    sums
}

/// Mean and per-sample variance (n − 1 denominator) of each component of an estimator.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EstimatorStats {
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
}

impl EstimatorStats {
    fn from_sums(sum: &[f64], sum_sq: &[f64], n: f64) -> Self {
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let var = sum_sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                // Clamps rounding below 0 but keeps a NaN (f64::max would drop it).
                let v = (q - n * m * m) / (n - 1.0).max(1.0);
                if v < 0.0 { 0.0 } else { v }
            })
            .collect();
        Self { mean, var }
    }

    /// ‖mean − exact‖₂: the estimator's bias, up to Monte Carlo error.
    pub fn bias(&self, exact: &[f64]) -> f64 {
        self.mean
            .iter()
            .zip(exact)
            .map(|(m, e)| (m - e).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// Σ_k Var[ĝ_k]: the estimator's total per-sample variance.
    pub fn total_var(&self) -> f64 {
        self.var.iter().sum()
    }
}

/// The six estimators, as `gradlab gumbel` prints them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gradients {
    pub exact: Vec<f64>,
    /// REINFORCE without a baseline.
    pub reinforce: EstimatorStats,
    /// REINFORCE with the oracle baseline b = Σ p w (the exact mean reward).
    pub reinforce_baseline: EstimatorStats,
    /// REINFORCE with the leave-one-out baseline (RLOO) over batches of B
    /// samples; `var` is B · Var[batch estimate], the per-sample variance
    /// that gives the mean's standard error as sqrt(var / n) like the others.
    pub reinforce_loo: EstimatorStats,
    pub gumbel_softmax: EstimatorStats,
    pub straight_through: EstimatorStats,
}

/// Everything one Monte Carlo run estimates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimates {
    pub probs: Vec<f64>,
    pub hard_freq: Vec<f64>,
    pub soft_mean: Vec<f64>,
    pub grad: Gradients,
}

/// RLOO's statistics from the sums of its G = ⌊n/B⌋ batch estimates: the mean
/// over batches and B times their sample variance (0 and 0 when G = 0).
fn rloo_stats(sum: &[f64], sum_sq: &[f64], n: u64, batch: u32) -> EstimatorStats {
    let g = (n / u64::from(batch)) as f64;
    let per_batch = EstimatorStats::from_sums(sum, sum_sq, g.max(1.0));
    EstimatorStats {
        var: per_batch.var.iter().map(|v| v * f64::from(batch)).collect(),
        mean: per_batch.mean,
    }
}

/// Turns moment sums over `n` samples into frequencies, means and variances;
/// `batch` is the RLOO batch B the sums were taken with.
pub fn estimates(logits: &[f64], weights: &[f64], sums: &[f64], n: u64, batch: u32) -> Estimates {
    let k = logits.len();
    let nf = n as f64;
    let col = |g: usize| &sums[g * k..(g + 1) * k];
    let stats = |g: usize| EstimatorStats::from_sums(col(g), col(g + 1), nf);
    Estimates {
        probs: softmax(logits),
        hard_freq: col(0).iter().map(|c| c / nf).collect(),
        soft_mean: col(1).iter().map(|s| s / nf).collect(),
        grad: Gradients {
            exact: exact_grad(logits, weights),
            reinforce: stats(2),
            reinforce_baseline: stats(4),
            reinforce_loo: rloo_stats(col(10), col(11), n, batch),
            gumbel_softmax: stats(6),
            straight_through: stats(8),
        },
    }
}
