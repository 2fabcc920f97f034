//! Fewer score calls: the gradient-estimation sampler's state, FSampler-style
//! ε-extrapolation that replaces some denoiser calls, and teleportation over
//! the first noise levels with the Gaussian model's exact solution.
//!
//! Everything works in the denoiser's own coordinates y = x/a, σ = √v/a, where
//! the noise prediction ε̂ = (x − a·D)/√v equals the ODE direction
//! d = (y − D)/σ (Karras et al. 2022), so one history serves every sampler.

use super::Level;
use super::score::{Gaussian2, Mixture, norm2};

crate::param_enum! {
    /// FSampler's skip mode: which finite-difference predictor replaces a call.
    pub enum SkipOrder {
        /// Every step calls the denoiser.
        None = "none",
        /// Linear: ε̂ = 2ε_n − ε_{n−1} (Vladimir, "FSampler", 2025).
        H2 = "h2",
        /// Quadratic: ε̂ = 3ε_n − 3ε_{n−1} + ε_{n−2} (Vladimir 2025).
        H3 = "h3",
        /// Cubic: ε̂ = 4ε_n − 6ε_{n−1} + 4ε_{n−2} − ε_{n−3} (Vladimir 2025).
        H4 = "h4",
    }
}

impl SkipOrder {
    /// Real ε the predictor uses (0: no skipping).
    pub fn points(self) -> u32 {
        match self {
            SkipOrder::None => 0,
            SkipOrder::H2 => 2,
            SkipOrder::H3 => 3,
            SkipOrder::H4 => 4,
        }
    }
}

/// Real ε predictions kept per particle (the h4 predictor's four).
pub const HISTORY: usize = 4;

/// FSampler's stabiliser: a predicted ε is rescaled to at most this multiple
/// of the last real ε's norm. The paper's own constant is not retrievable
/// here; 1.5 is this lab's choice, fixed, not tuned.
pub const STABILISER_RATIO: f32 = 1.5;

/// The adaptive gate's tolerance: skip when the h3 and h2 predictions differ
/// by at most this fraction of ‖ε_n‖. FSampler's adaptive gate compares an h3
/// and an h2 predictor "in predicted-state space"; its exact test and
/// threshold are not retrievable here, so this relative-ε gate is this lab's
/// version, its constant fixed, not tuned.
pub const ADAPTIVE_TOL: f32 = 0.05;

/// When to skip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkipParams {
    pub order: SkipOrder,
    /// Fixed pattern: every `every`-th step is predicted (`every − 1` real
    /// calls, then one skip; FSampler's "hN/sK" with K = every − 1).
    pub every: u32,
    /// The adaptive gate ([`ADAPTIVE_TOL`]) instead of the fixed pattern.
    pub adaptive: bool,
    /// Steps at the start that always call the denoiser.
    pub protect_first: u32,
    /// Steps at the end that always call the denoiser.
    pub protect_last: u32,
}

impl SkipParams {
    /// No skipping.
    pub const NONE: SkipParams = SkipParams {
        order: SkipOrder::None,
        every: 3,
        adaptive: false,
        protect_first: 2,
        protect_last: 4,
    };
}

/// The knobs of the fewer-calls samplers besides [`super::SamplerParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FewerParams {
    /// GE's γ (Permenter & Yuan's default: 2).
    pub ge_gamma: f32,
    pub skip: SkipParams,
}

impl Default for FewerParams {
    fn default() -> Self {
        Self {
            ge_gamma: 2.0,
            skip: SkipParams::NONE,
        }
    }
}

/// Where a transition sits among the run's sampler steps (teleportation excluded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepCtx {
    /// 0-based index of this sampler step.
    pub index: u32,
    /// Sampler steps of the run.
    pub total: u32,
}

/// A particle's memory between steps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ParticleState {
    /// GE: the previous step's direction d_{i−1}.
    pub d_prev: [f32; 2],
    /// The last real ε predictions, newest first.
    pub eps: [[f32; 2]; HISTORY],
    /// Valid entries of `eps`.
    pub len: u32,
    /// Real calls since the last skipped step.
    pub run: u32,
    /// Denoiser calls made (guidance's second evaluation not counted).
    pub real: u32,
    /// Denoiser calls replaced by a prediction.
    pub skipped: u32,
}

impl ParticleState {
    /// Adds a real ε to the history.
    pub fn push(&mut self, eps: [f32; 2]) {
        for k in (1..HISTORY).rev() {
            self.eps[k] = self.eps[k - 1];
        }
        self.eps[0] = eps;
        self.len = (self.len + 1).min(HISTORY as u32);
    }

    /// As the GPU stores it: 7 pairs (d_prev, ε_0..ε_3, (len, run), (real, skipped)).
    pub fn to_pairs(&self) -> [[f32; 2]; STATE_PAIRS] {
        [
            self.d_prev,
            self.eps[0],
            self.eps[1],
            self.eps[2],
            self.eps[3],
            [self.len as f32, self.run as f32],
            [self.real as f32, self.skipped as f32],
        ]
    }

    pub fn from_pairs(p: &[[f32; 2]]) -> Self {
        Self {
            d_prev: p[0],
            eps: [p[1], p[2], p[3], p[4]],
            len: p[5][0] as u32,
            run: p[5][1] as u32,
            real: p[6][0] as u32,
            skipped: p[6][1] as u32,
        }
    }
}

/// vec2 pairs of one particle's state on the GPU.
pub const STATE_PAIRS: usize = 7;

/// The finite-difference extrapolation of order `points` (2, 3 or 4) from a
/// history, newest first: the next value of the polynomial of degree
/// `points − 1` through the last `points` equally spaced values, Σ_k (−1)^k
/// C(points, k+1)·ε_{n−k} (Vladimir, "FSampler", 2025).
pub fn extrapolate(hist: &[[f32; 2]], points: u32) -> [f32; 2] {
    let coeffs: &[f32] = match points {
        2 => &[2.0, -1.0],
        3 => &[3.0, -3.0, 1.0],
        _ => &[4.0, -6.0, 4.0, -1.0],
    };
    let mut out = [0.0f32; 2];
    for (c, e) in coeffs.iter().zip(hist) {
        out = [out[0] + c * e[0], out[1] + c * e[1]];
    }
    out
}

/// FSampler's norm stabiliser (Vladimir 2025): a predicted ε longer than
/// [`STABILISER_RATIO`]·‖ε_last‖ is shrunk to that length.
pub fn stabilise(pred: [f32; 2], last: [f32; 2]) -> [f32; 2] {
    let (np, nl) = (norm2(pred), norm2(last));
    let cap = STABILISER_RATIO * nl;
    if np > cap && np > 0.0 {
        let s = cap / np;
        [pred[0] * s, pred[1] * s]
    } else {
        pred
    }
}

fn finite(v: [f32; 2]) -> bool {
    // `<=` is false for NaN as well as for ±∞ (the WGSL twin tests the same way).
    v[0].abs() <= f32::MAX && v[1].abs() <= f32::MAX
}

/// The predicted ε for this step, or `None` for a real call: outside the
/// protected head and tail, with enough real history, on the fixed pattern's
/// cadence or through the adaptive gate; a non-finite prediction is a real
/// call (FSampler's validator).
pub fn predicted_eps(s: &SkipParams, ctx: StepCtx, st: &ParticleState) -> Option<[f32; 2]> {
    let points = s.order.points();
    if points == 0
        || ctx.index < s.protect_first
        || ctx.index + s.protect_last >= ctx.total
        || st.len < 2
    {
        return None;
    }
    let use_points = points.min(st.len);
    let pred = if s.adaptive {
        if st.run < 1 || st.len < 3 {
            return None;
        }
        let (h3, h2) = (extrapolate(&st.eps, 3), extrapolate(&st.eps, 2));
        let gap = norm2([h3[0] - h2[0], h3[1] - h2[1]]);
        // Skip only where gap ≤ tol (false for NaN, as in the WGSL twin).
        let tol = ADAPTIVE_TOL * norm2(st.eps[0]);
        if !matches!(
            gap.partial_cmp(&tol),
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        ) {
            return None;
        }
        extrapolate(&st.eps, use_points)
    } else {
        if st.run + 1 < s.every {
            return None;
        }
        extrapolate(&st.eps, use_points)
    };
    let pred = stabilise(pred, st.eps[0]);
    finite(pred).then_some(pred)
}

/// The noise prediction ε̂ = (x − a·D)/√v of a denoised point (= d in y = x/a).
pub fn eps_of(x: [f32; 2], den: [f32; 2], level: Level) -> [f32; 2] {
    let sv = level.v.sqrt();
    [
        (x[0] - level.a * den[0]) / sv,
        (x[1] - level.a * den[1]) / sv,
    ]
}

/// The denoised point D = (x − √v·ε̂)/a that a predicted ε̂ stands for.
pub fn den_of(x: [f32; 2], eps: [f32; 2], level: Level) -> [f32; 2] {
    let sv = level.v.sqrt();
    [
        (x[0] - sv * eps[0]) / level.a,
        (x[1] - sv * eps[1]) / level.a,
    ]
}

/// The gradient-estimation direction d̄_i = γ·d_i + (1 − γ)·d_{i−1}, d̄_0 = d_0
/// (Permenter & Yuan, "Interpreting and Improving Diffusion Models Using the
/// Euclidean Distance Function", 2024, Algorithm 2).
pub fn ge_direction(gamma: f32, d: [f32; 2], d_prev: [f32; 2], first: bool) -> [f32; 2] {
    if first {
        return d;
    }
    [
        gamma * d[0] + (1.0 - gamma) * d_prev[0],
        gamma * d[1] + (1.0 - gamma) * d_prev[1],
    ]
}

/// Teleportation's linear map y(σ_s) = μ + M·(y(σ_max) − μ) with
/// M = (Σ + σ_s²I)^{1/2}(Σ + σ_max²I)^{−1/2}: the exact probability-flow
/// solution for Gaussian data N(μ, Σ) (Wang & Vastola, "The Unreasonable
/// Effectiveness of Gaussian Score Approximation for Diffusion Models", TMLR 2024).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Teleport {
    pub mean: [f32; 2],
    /// Row-major M.
    pub m: [f32; 4],
    /// The levels it jumps between.
    pub from: Level,
    pub to: Level,
}

impl Teleport {
    /// The map between two levels of the Gaussian `g` (in f64: Σ's
    /// eigenvectors are shared by Σ + cI, so M = V·diag(√((λ+σ_s²)/(λ+σ_max²)))·Vᵀ).
    pub fn new(g: &Gaussian2, from: Level, to: Level) -> Self {
        let (s0, s1) = (from.sigma() as f64, to.sigma() as f64);
        let [a, b, c] = g.cov.map(|v| v as f64);
        let half = 0.5 * (a - c);
        let r = (half * half + b * b).sqrt();
        let (l1, l2) = (0.5 * (a + c) + r, 0.5 * (a + c) - r);
        // Unit eigenvector of l1 (any unit vector when Σ ∝ I).
        let (mut ux, mut uy) = if b.abs() > 1e-300 {
            (l1 - c, b)
        } else if a >= c {
            (1.0, 0.0)
        } else {
            (0.0, 1.0)
        };
        let n = (ux * ux + uy * uy).sqrt();
        (ux, uy) = (ux / n, uy / n);
        let f = |l: f64| ((l.max(0.0) + s1 * s1) / (l.max(0.0) + s0 * s0)).sqrt();
        let (f1, f2) = (f(l1), f(l2));
        // M = f1·u uᵀ + f2·w wᵀ with w ⟂ u, and w wᵀ = I − u uᵀ.
        let m = [
            f2 + (f1 - f2) * ux * ux,
            (f1 - f2) * ux * uy,
            (f1 - f2) * ux * uy,
            f2 + (f1 - f2) * uy * uy,
        ];
        Self {
            mean: g.mean,
            m: m.map(|v| v as f32),
            from,
            to,
        }
    }

    /// A particle at `from` (in x = a·y) moved to `to`.
    pub fn apply(&self, x: [f32; 2]) -> [f32; 2] {
        let y = [x[0] / self.from.a, x[1] / self.from.a];
        let r = [y[0] - self.mean[0], y[1] - self.mean[1]];
        let yn = [
            self.mean[0] + self.m[0] * r[0] + self.m[1] * r[1],
            self.mean[1] + self.m[2] * r[0] + self.m[3] * r[1],
        ];
        [yn[0] * self.to.a, yn[1] * self.to.a]
    }
}

impl Mixture {
    /// The mixture's exact mean and covariance: Σ_k w_k μ_k and
    /// Σ_k w_k (μ_k μ_kᵀ) − μμᵀ + s²I (weights normalised).
    pub fn moments(&self) -> Gaussian2 {
        let lw: Vec<f64> = self.log_weights.iter().map(|&w| w as f64).collect();
        let top = lw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = lw.iter().map(|l| (l - top).exp()).collect();
        let total: f64 = w.iter().sum();
        let (mut mx, mut my, mut xx, mut xy, mut yy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (m, wk) in self.means.iter().zip(&w) {
            let (px, py) = (m[0] as f64, m[1] as f64);
            let q = wk / total;
            mx += q * px;
            my += q * py;
            xx += q * px * px;
            xy += q * px * py;
            yy += q * py * py;
        }
        let s2 = self.var as f64;
        Gaussian2 {
            mean: [mx as f32, my as f32],
            cov: [
                (xx - mx * mx + s2) as f32,
                (xy - mx * my) as f32,
                (yy - my * my + s2) as f32,
            ],
        }
    }
}

/// Which of `total` sampler steps a fixed pattern predicts (the same for every
/// particle: the history and the run length depend only on the step; a
/// non-finite prediction, which makes one particle call after all, aside).
/// Adaptive skipping decides per particle: `None`.
pub fn fixed_plan(s: &SkipParams, total: u32) -> Option<Vec<bool>> {
    if s.adaptive && s.order != SkipOrder::None {
        return None;
    }
    let mut st = ParticleState::default();
    Some(
        (0..total)
            .map(|index| {
                let skip = predicted_eps(s, StepCtx { index, total }, &st).is_some();
                if skip {
                    st.run = 0;
                } else {
                    st.run += 1;
                    st.push([1.0, 0.0]);
                }
                skip
            })
            .collect(),
    )
}
