//! Monte Carlo of the smoothed classifier and Cohen's CERTIFY (hard votes)
//! or its soft-smoothing variant. The CPU twin of `gpu/certify.rs`.
//!
//! Noise layout (the GPU uses the same counters): sample i of a run draws the
//! standard normals z = (normal_at(2i), normal_at(2i + 1)) of one
//! [`RngKey`]; every point of a run shares them (common random numbers, so a
//! heat map is smooth and each point's estimate is still exact in law).
//! Shift: y = x + σ z. Rotation: y = R_θ x with θ = σ_θ z₀.

use super::base::{BaseClassifier, MAX_CLASSES, Smoothing, argmax, simplex_map};
use super::stats::{clopper_pearson_lower, cohen_radius, empirical_bernstein_lower};
use crate::kernels::rng::RngKey;

crate::param_enum! {
    /// What the noise perturbs.
    pub enum Transform {
        /// Additive Gaussian noise, y = x + ε, ε ~ N(0, σ²I) (Cohen et al. 2019).
        Shift = "shift",
        /// Rotation about the origin by θ ~ N(0, σ_θ²) (General Lipschitz, resolvable transformations).
        Rotation = "rotation",
    }
}

/// RNG stream of CERTIFY's n₀ selection samples.
pub const SELECT_STREAM: u32 = 0x0000_CE01;
/// RNG stream of CERTIFY's n estimation samples (independent of the selection).
pub const ESTIMATE_STREAM: u32 = 0x0000_CE02;
/// RNG stream of the p_A heat map.
pub const MAP_STREAM: u32 = 0x0000_CE03;
/// RNG stream of the Monte Carlo smoothed classifier the true radius searches.
pub const TRUE_STREAM: u32 = 0x0000_CE04;
/// RNG stream of the MLP's noise augmentation.
pub const AUGMENT_STREAM: u32 = 0x0000_CE05;
/// Most samples one run draws per point: counters 2i + 1 stay below 2^32.
pub const MAX_SAMPLES: u32 = 1 << 30;

/// The noise of a smoothed classifier: its kind and scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    pub transform: Transform,
    /// σ of the shift.
    pub sigma: f32,
    /// σ_θ of the rotation angle, in radians.
    pub sigma_angle: f32,
}

impl Noise {
    /// The scale that turns Φ⁻¹(p̲_A) into a radius: σ (shift) or σ_θ (rotation).
    pub fn scale(&self) -> f64 {
        f64::from(match self.transform {
            Transform::Shift => self.sigma,
            Transform::Rotation => self.sigma_angle,
        })
    }

    /// The noisy input for standard normals `z`.
    #[inline]
    pub fn perturb(&self, x: [f32; 2], z: [f32; 2]) -> [f32; 2] {
        match self.transform {
            Transform::Shift => [x[0] + self.sigma * z[0], x[1] + self.sigma * z[1]],
            Transform::Rotation => rotate(x, self.sigma_angle * z[0]),
        }
    }
}

/// 1/6, 1/12, 1/20, 1/30, 1/42, 1/56, 1/72, 1/90: the ratios of successive Taylor terms.
const INV: [f32; 8] = [
    1.0 / 6.0,
    1.0 / 12.0,
    1.0 / 20.0,
    1.0 / 30.0,
    1.0 / 42.0,
    1.0 / 56.0,
    1.0 / 72.0,
    1.0 / 90.0,
];

/// (sin θ, cos θ) for |θ| ≤ 8 from Taylor polynomials at θ/8 and three
/// double-angle steps: only + − ×, so the WGSL twin computes the same bits
/// (GPU sin/cos builtins differ between drivers). Absolute error < 1e-6.
#[inline]
pub fn sin_cos(theta: f32) -> (f32, f32) {
    let h = theta * 0.125;
    let h2 = h * h;
    // 1/n! ratios as f32 constants: products only (GPU division is not correctly rounded).
    let mut s =
        h * (1.0 - h2 * INV[0] * (1.0 - h2 * INV[2] * (1.0 - h2 * INV[4] * (1.0 - h2 * INV[6]))));
    let mut c = 1.0
        - h2 * 0.5
            * (1.0 - h2 * INV[1] * (1.0 - h2 * INV[3] * (1.0 - h2 * INV[5] * (1.0 - h2 * INV[7]))));
    for _ in 0..3 {
        let s2 = 2.0 * s * c;
        c = c * c - s * s;
        s = s2;
    }
    (s, c)
}

/// R_θ x, the rotation by θ about the origin.
#[inline]
pub fn rotate(x: [f32; 2], theta: f32) -> [f32; 2] {
    let (s, c) = sin_cos(theta);
    [c * x[0] - s * x[1], s * x[0] + c * x[1]]
}

/// Standard normal pairs `start..start + n` of `key` (the run's noise).
pub fn normal_pairs(key: RngKey, start: u32, n: u32) -> Vec<[f32; 2]> {
    (start..start + n)
        .map(|i| [key.normal_at(2 * i), key.normal_at(2 * i + 1)])
        .collect()
}

/// What n noisy samples at one point give: hard votes, and for soft
/// smoothing the sums of the simplex map and of the target class's value and square.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PointCounts {
    /// Votes per class of the hard predictions f(y_i).
    pub counts: Vec<u64>,
    /// Σ_i s_c(y_i) of the simplex map s (all zero for hard smoothing).
    pub soft: Vec<f64>,
    /// Σ_i s_A(y_i) and Σ_i s_A(y_i)² of the target class A (0 without a target).
    pub soft_a: f64,
    pub soft_a_sq: f64,
}

impl PointCounts {
    pub fn n(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// How the Monte Carlo runs: the base classifier, the noise, the simplex map.
#[derive(Debug, Clone, PartialEq)]
pub struct Smoother {
    pub model: BaseClassifier,
    pub noise: Noise,
    pub smoothing: Smoothing,
    pub temp: f32,
}

impl Smoother {
    /// Counts at `x` over the standard normal pairs `z`, with target class
    /// `target` for the soft sums (`None`: no target).
    pub fn counts_at(&self, x: [f32; 2], z: &[[f32; 2]], target: Option<usize>) -> PointCounts {
        let k = self.model.classes();
        let mut out = PointCounts {
            counts: vec![0; k],
            soft: vec![0.0; k],
            ..PointCounts::default()
        };
        let mut logits = [0.0f32; MAX_CLASSES];
        for &zi in z {
            let y = self.noise.perturb(x, zi);
            let c = self.model.class(y, &mut logits);
            out.counts[c] += 1;
            if self.smoothing == Smoothing::Hard {
                continue;
            }
            self.model.logits(y, &mut logits);
            simplex_map(self.smoothing, &mut logits[..k], self.temp);
            for (s, &p) in out.soft.iter_mut().zip(&logits[..k]) {
                *s += f64::from(p);
            }
            if let Some(a) = target {
                let p = f64::from(logits[a]);
                out.soft_a += p;
                out.soft_a_sq += p * p;
            }
        }
        out
    }

    /// Counts at every point over samples `0..n` of `key`; `targets[j]` as in [`Self::counts_at`].
    pub fn counts(
        &self,
        points: &[[f32; 2]],
        targets: Option<&[Option<usize>]>,
        key: RngKey,
        n: u32,
    ) -> Vec<PointCounts> {
        let z = normal_pairs(key, 0, n);
        crate::kernels::par::map(points.len(), |j| {
            self.counts_at(points[j], &z, targets.and_then(|t| t[j]))
        })
    }
}

/// One point's certificate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Certificate {
    /// The predicted class c_A (from the n₀ selection samples).
    pub class: usize,
    /// Votes for c_A among the n estimation samples (hard votes).
    pub n_a: u64,
    /// The point estimate of p_A: n_A / n (hard) or the mean of s_A (soft).
    pub pa_hat: f64,
    /// The lower confidence bound p̲_A at level α.
    pub pa_lower: f64,
    /// σ Φ⁻¹(p̲_A), or `None` when CERTIFY abstains (p̲_A ≤ 1/2).
    pub radius: Option<f64>,
}

impl Certificate {
    pub fn abstain(&self) -> bool {
        self.radius.is_none()
    }
}

/// The class CERTIFY predicts from the selection samples: the most votes
/// (hard) or the largest mean simplex value (soft), first on ties.
pub fn select_class(smoothing: Smoothing, sel: &PointCounts) -> usize {
    if smoothing == Smoothing::Hard {
        let c: Vec<f32> = sel.counts.iter().map(|&c| c as f32).collect();
        argmax(&c)
    } else {
        let s: Vec<f32> = sel.soft.iter().map(|&s| s as f32).collect();
        argmax(&s)
    }
}

/// CERTIFY (Cohen, Rosenfeld & Kolter, ICML 2019, Alg. "certify"): c_A from the
/// selection, p̲_A from the estimation counts `est` (whose soft sums target
/// c_A), radius `scale`·Φ⁻¹(p̲_A). Hard votes take the one-sided
/// Clopper–Pearson bound; soft smoothing the empirical-Bernstein bound
/// (Delattre et al., ICLR 2024, as in Zhai et al.'s MACER code) at the same α.
pub fn certify(
    smoothing: Smoothing,
    class: usize,
    est: &PointCounts,
    alpha: f64,
    scale: f64,
) -> Certificate {
    let n = est.n();
    let n_a = est.counts[class];
    let (pa_hat, pa_lower) = if smoothing == Smoothing::Hard {
        (n_a as f64 / n as f64, clopper_pearson_lower(n_a, n, alpha))
    } else {
        let nf = n as f64;
        let mean = est.soft_a / nf;
        let var = if n > 1 {
            (est.soft_a_sq - nf * mean * mean) / (nf - 1.0)
        } else {
            0.0
        };
        (
            mean,
            empirical_bernstein_lower(mean, var, n, alpha).max(0.0),
        )
    };
    Certificate {
        class,
        n_a,
        pa_hat,
        pa_lower,
        radius: cohen_radius(scale, pa_lower),
    }
}

/// Bonferroni's split of α over `m` compared certificates (maps or
/// temperatures), so that the one reported holds at level α overall.
pub fn split_alpha(alpha: f64, m: usize) -> f64 {
    alpha / m.max(1) as f64
}
