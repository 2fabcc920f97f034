//! Gumbel-Softmax sampling and five estimators of ∇_θ E[f(z)] for a linear
//! f(z) = Σ_k w_k z_k, z ~ Categorical(softmax(θ)). CPU twin of
//! `gpu/shaders/gumbel.wgsl`.
//!
//! Sample n draws g_k = Gumbel variate (n·K + k) of `RngKey(seed, GUMBEL_STREAM)`
//! and forms the hard sample h = argmax_k(θ_k + g_k) (the Gumbel-max trick)
//! and the relaxed sample y = softmax((θ + g)/τ).
//!
//! Moments are accumulated as flat sums in [`Column`] order, `K` values each:
//! `[hard counts | Σ y | Σ RF | Σ RF² | Σ RFB | Σ RFB² | Σ GS | Σ GS²]`.

use super::rng::RngKey;

/// Most categories the kernels handle.
pub const MAX_K: usize = 16;
/// RNG stream of the Gumbel noise.
pub const GUMBEL_STREAM: u32 = 0x0000_6B1E;
/// Number of K-wide column groups in the moment sums.
pub const GROUPS: usize = 8;

/// softmax(θ)_k = e^θ_k / Σ_j e^θ_j, computed stably in f64.
pub fn softmax(logits: &[f64]) -> Vec<f64> {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|&l| (l - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// The exact gradient ∂/∂θ_j Σ_k p_k w_k = p_j (w_j − Σ_k p_k w_k) (softmax derivative).
pub fn exact_grad(logits: &[f64], weights: &[f64]) -> Vec<f64> {
    let p = softmax(logits);
    let mean: f64 = p.iter().zip(weights).map(|(p, w)| p * w).sum();
    p.iter().zip(weights).map(|(p, w)| p * (w - mean)).collect()
}

/// The exact objective E[f(z)] = Σ_k p_k w_k.
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
    /// softmax(θ), computed in f64 and rounded (REINFORCE's score needs it).
    pub probs: Vec<f32>,
    /// REINFORCE's baseline b = E[f(z)] = Σ p w: the mean reward.
    pub baseline: f32,
}

impl Problem {
    pub fn new(logits: &[f64], weights: &[f64], tau: f64) -> Self {
        Self {
            logits: logits.iter().map(|&v| v as f32).collect(),
            weights: weights.iter().map(|&v| v as f32).collect(),
            tau: tau as f32,
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
    /// REINFORCE with baseline b: (w_h − b)(e_h − p).
    pub reinforce_baseline: Vec<f32>,
    /// Gumbel-Softmax (Jang et al. 2017): ∇_θ f(y) = (1/τ) y ⊙ (w − Σ_k y_k w_k).
    /// For a linear f the straight-through estimator (hard z forward, ∇y
    /// backward) has exactly this gradient, since ∂f/∂z = w for every z.
    pub gumbel_softmax: Vec<f32>,
}

/// Draws sample `n` and evaluates every estimator on it.
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
    let mut fy = 0.0f32;
    for j in 0..k {
        soft[j] /= total;
        fy += soft[j] * p.weights[j];
    }
    let wh = p.weights[hard];
    let mut reinforce = vec![0.0f32; k];
    let mut reinforce_baseline = vec![0.0f32; k];
    let mut gumbel_softmax = vec![0.0f32; k];
    for j in 0..k {
        let score = if j == hard { 1.0 } else { 0.0 } - p.probs[j];
        reinforce[j] = wh * score;
        reinforce_baseline[j] = (wh - p.baseline) * score;
        gumbel_softmax[j] = inv_tau * soft[j] * (p.weights[j] - fy);
    }
    Sample {
        hard,
        soft,
        reinforce,
        reinforce_baseline,
        gumbel_softmax,
    }
}

/// Moment sums of samples `start..start + count` in f64 (CPU twin of the
/// GPU kernel, whose per-thread f32 partial sums are added up in f64).
pub fn moment_sums(p: &Problem, key: RngKey, start: u32, count: u32) -> Vec<f64> {
    let k = p.k();
    let mut sums = vec![0.0f64; GROUPS * k];
    for n in start..start.saturating_add(count) {
        let s = sample(p, key, n);
        sums[s.hard] += 1.0;
        for j in 0..k {
            let (rf, rfb, gs) = (
                f64::from(s.reinforce[j]),
                f64::from(s.reinforce_baseline[j]),
                f64::from(s.gumbel_softmax[j]),
            );
            sums[k + j] += f64::from(s.soft[j]);
            sums[2 * k + j] += rf;
            sums[3 * k + j] += rf * rf;
            sums[4 * k + j] += rfb;
            sums[5 * k + j] += rfb * rfb;
            sums[6 * k + j] += gs;
            sums[7 * k + j] += gs * gs;
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
            .map(|(q, m)| ((q - n * m * m) / (n - 1.0).max(1.0)).max(0.0))
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

/// The five estimators, as `gradlab gumbel` prints them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gradients {
    pub exact: Vec<f64>,
    pub reinforce: EstimatorStats,
    pub reinforce_baseline: EstimatorStats,
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

/// Turns moment sums over `n` samples into frequencies, means and variances.
pub fn estimates(logits: &[f64], weights: &[f64], sums: &[f64], n: u64) -> Estimates {
    let k = logits.len();
    let nf = n as f64;
    let col = |g: usize| &sums[g * k..(g + 1) * k];
    let gs = EstimatorStats::from_sums(col(6), col(7), nf);
    Estimates {
        probs: softmax(logits),
        hard_freq: col(0).iter().map(|c| c / nf).collect(),
        soft_mean: col(1).iter().map(|s| s / nf).collect(),
        grad: Gradients {
            exact: exact_grad(logits, weights),
            reinforce: EstimatorStats::from_sums(col(2), col(3), nf),
            reinforce_baseline: EstimatorStats::from_sums(col(4), col(5), nf),
            straight_through: gs.clone(),
            gumbel_softmax: gs,
        },
    }
}
