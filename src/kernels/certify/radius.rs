//! The true robust radius of the smoothed classifier g: in 2-D the distance
//! from x to g's decision boundary can be searched for directly, so every
//! certificate can be set beside the radius it under-states.
//!
//! g is given by an oracle of its class probabilities: exact for the linear
//! and disk base classifiers under shift and for the half-plane under
//! rotation (closed forms below), Monte Carlo with common random numbers
//! otherwise (then the radius carries that Monte Carlo error).

use super::base::{BaseClassifier, MAX_CLASSES};
use super::smooth::{Noise, Transform};
use super::stats::normal_cdf;
use std::f64::consts::PI;

/// The smoothed classifier's class probabilities at a point.
pub trait SmoothedOracle {
    /// P(f(noisy y) = c) for every class c.
    fn probs(&self, y: [f64; 2]) -> Vec<f64>;

    /// g(y): the first most probable class.
    fn class(&self, y: [f64; 2]) -> usize {
        let p = self.probs(y);
        let mut best = 0;
        for (i, &v) in p.iter().enumerate() {
            if v > p[best] {
                best = i;
            }
        }
        best
    }
}

/// p₁(y) = Φ((w·y + b) / (σ‖w‖)) of a smoothed half-plane (Cohen et al., ICML 2019, §3.1).
pub fn linear_shift_p1(w: [f64; 2], b: f64, sigma: f64, y: [f64; 2]) -> f64 {
    let norm = w[0].hypot(w[1]);
    normal_cdf((w[0] * y[0] + w[1] * y[1] + b) / (sigma * norm))
}

/// P(‖y + σε‖ ≤ r): the mass of the disk under N(y, σ²I), by integrating over
/// the coordinate u along y, u = r sin ϑ, of φ((u − ρ)/σ)/σ · (2Φ(√(r² − u²)/σ) − 1)
/// (Simpson's rule, 400 panels in ϑ over the u within 9σ of ρ; smooth in ϑ,
/// error < 1e-9 for r/σ ≤ 100).
pub fn disk_shift_p0(r: f64, sigma: f64, y: [f64; 2]) -> f64 {
    let rho = y[0].hypot(y[1]);
    let lo = ((rho - 9.0 * sigma) / r).clamp(-1.0, 1.0).asin();
    let hi = ((rho + 9.0 * sigma) / r).clamp(-1.0, 1.0).asin();
    if hi <= lo {
        return 0.0;
    }
    let panels = 400;
    let h = (hi - lo) / f64::from(panels);
    let f = |t: f64| {
        let u = r * t.sin();
        let half = r * t.cos();
        let a = (u - rho) / sigma;
        (-0.5 * a * a).exp() / (sigma * (2.0 * PI).sqrt())
            * (2.0 * normal_cdf(half / sigma) - 1.0)
            * half
    };
    let mut sum = f(lo) + f(hi);
    for i in 1..panels {
        let t = lo + h * f64::from(i);
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(t);
    }
    (sum * h / 3.0).clamp(0.0, 1.0)
}

/// P(w·R_θ y + b > 0), θ ~ N(0, σ_θ²): the rotation angle must land in the
/// arc where the half-plane holds R_θ y, β + θ − ω ∈ (−a, a) mod 2π with
/// a = arccos(−b / (‖y‖‖w‖)), summed over the wraps of the Gaussian.
pub fn linear_rotation_p1(w: [f64; 2], b: f64, sigma_angle: f64, y: [f64; 2]) -> f64 {
    let rho = y[0].hypot(y[1]) * w[0].hypot(w[1]);
    if rho == 0.0 {
        return if b > 0.0 { 1.0 } else { 0.0 };
    }
    let c = -b / rho;
    if c >= 1.0 {
        return 0.0;
    }
    if c <= -1.0 {
        return 1.0;
    }
    let a = c.acos();
    let centre = w[1].atan2(w[0]) - y[1].atan2(y[0]);
    let wraps = (6.0 * sigma_angle / (2.0 * PI)).ceil() as i32 + 1;
    (-wraps..=wraps)
        .map(|k| {
            let m = centre + 2.0 * PI * f64::from(k);
            normal_cdf((m + a) / sigma_angle) - normal_cdf((m - a) / sigma_angle)
        })
        .sum::<f64>()
        .clamp(0.0, 1.0)
}

/// The exact oracle of a linear or disk base classifier (shift), or of the
/// half-plane (rotation); `None` where only Monte Carlo is available.
pub struct ExactOracle {
    model: BaseClassifier,
    noise: Noise,
    /// Disk under shift: the ρ* at which P(‖y + σε‖ ≤ r) falls to ½ (it falls
    /// monotonically in ‖y‖, Anderson 1955), so g is class 0 exactly on ‖y‖ ≤ ρ*;
    /// `None` when it is below ½ even at the centre (g is class 1 everywhere).
    disk_boundary: Option<f64>,
}

impl ExactOracle {
    pub fn new(model: &BaseClassifier, noise: Noise) -> Option<Self> {
        let exact = matches!(
            (model, noise.transform),
            (
                BaseClassifier::Linear { .. } | BaseClassifier::Disk { .. },
                _
            )
        );
        let disk_boundary = match (model, noise.transform) {
            (BaseClassifier::Disk { r }, Transform::Shift) => {
                let (r, sigma) = (f64::from(*r), f64::from(noise.sigma));
                let p0 = |rho: f64| disk_shift_p0(r, sigma, [rho, 0.0]);
                (p0(0.0) >= 0.5).then(|| {
                    let (mut lo, mut hi) = (0.0, r + 10.0 * sigma);
                    for _ in 0..60 {
                        let mid = 0.5 * (lo + hi);
                        if p0(mid) >= 0.5 { lo = mid } else { hi = mid }
                    }
                    lo
                })
            }
            _ => None,
        };
        exact.then(|| Self {
            model: model.clone(),
            noise,
            disk_boundary,
        })
    }
}

impl SmoothedOracle for ExactOracle {
    fn probs(&self, y: [f64; 2]) -> Vec<f64> {
        let sigma = f64::from(self.noise.sigma);
        let p1 = match (&self.model, self.noise.transform) {
            (BaseClassifier::Linear { w, b }, Transform::Shift) => {
                linear_shift_p1([f64::from(w[0]), f64::from(w[1])], f64::from(*b), sigma, y)
            }
            (BaseClassifier::Linear { w, b }, Transform::Rotation) => linear_rotation_p1(
                [f64::from(w[0]), f64::from(w[1])],
                f64::from(*b),
                f64::from(self.noise.sigma_angle),
                y,
            ),
            (BaseClassifier::Disk { r }, Transform::Shift) => {
                1.0 - disk_shift_p0(f64::from(*r), sigma, y)
            }
            // A rotation about the origin never moves a point across a circle about it.
            (BaseClassifier::Disk { r }, Transform::Rotation) => {
                f64::from(y[0].hypot(y[1]) > f64::from(*r))
            }
            (BaseClassifier::Mlp { .. }, _) => unreachable!("no exact oracle for the MLP"),
        };
        vec![1.0 - p1, p1]
    }

    fn class(&self, y: [f64; 2]) -> usize {
        match (&self.model, self.noise.transform) {
            (BaseClassifier::Disk { .. }, Transform::Shift) => {
                usize::from(self.disk_boundary.is_none_or(|rho| y[0].hypot(y[1]) > rho))
            }
            _ => {
                let p = self.probs(y);
                usize::from(p[1] > p[0])
            }
        }
    }
}

/// The Monte Carlo oracle: class frequencies of f over fixed standard normal
/// pairs (common random numbers, so the search sees one deterministic g).
pub struct MonteCarloOracle {
    pub model: BaseClassifier,
    pub noise: Noise,
    pub z: Vec<[f32; 2]>,
}

impl SmoothedOracle for MonteCarloOracle {
    fn probs(&self, y: [f64; 2]) -> Vec<f64> {
        let k = self.model.classes();
        let x = [y[0] as f32, y[1] as f32];
        let mut counts = vec![0u32; k];
        let mut scratch = [0.0f32; MAX_CLASSES];
        for &zi in &self.z {
            counts[self.model.class(self.noise.perturb(x, zi), &mut scratch)] += 1;
        }
        let n = self.z.len().max(1) as f64;
        counts.into_iter().map(|c| f64::from(c) / n).collect()
    }
}

/// How finely the boundary is searched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Directions (shift) of the coarse pass.
    pub directions: u32,
    /// Step of the scan along a ray (shift, in units of x) or an arc (rotation, radians).
    pub step: f64,
    /// Farthest distance (shift) or angle (rotation) searched.
    pub reach: f64,
    /// Bisection steps once a change of class is bracketed.
    pub bisections: u32,
}

impl Default for Search {
    fn default() -> Self {
        Self {
            directions: 32,
            step: 0.05,
            reach: 6.0,
            bisections: 20,
        }
    }
}

/// The first t in (0, limit] where `changed(t)` holds, scanning by `step`
/// then bisecting; `None` if none is seen (a region thinner than `step` can be missed).
fn first_change(changed: impl Fn(f64) -> bool, limit: f64, s: &Search) -> Option<f64> {
    let mut lo = 0.0;
    while lo < limit {
        let hi = (lo + s.step).min(limit);
        if changed(hi) {
            let (mut a, mut b) = (lo, hi);
            for _ in 0..s.bisections {
                let m = 0.5 * (a + b);
                if changed(m) { b = m } else { a = m }
            }
            return Some(b);
        }
        lo = hi;
    }
    None
}

/// The distance from x to the boundary of g, searched along rays: a coarse
/// pass over `directions` angles, each scanned only as far as the best so
/// far, then a finer pass of as many angles around the best ray. `None`
/// when g keeps x's class within `reach` in every direction searched.
pub fn true_radius(g: &dyn SmoothedOracle, x: [f64; 2], s: &Search) -> Option<f64> {
    let c = g.class(x);
    let mut best: Option<(f64, f64)> = None;
    let try_angle = |angle: f64, best: &mut Option<(f64, f64)>| {
        let (dy, dx) = angle.sin_cos();
        let limit = best.map_or(s.reach, |b| b.0);
        let changed = |t: f64| g.class([x[0] + t * dx, x[1] + t * dy]) != c;
        if let Some(t) = first_change(changed, limit, s)
            && best.is_none_or(|b| t < b.0)
        {
            *best = Some((t, angle));
        }
    };
    let d = f64::from(s.directions.max(4));
    for k in 0..s.directions.max(4) {
        try_angle(2.0 * PI * f64::from(k) / d, &mut best);
    }
    if let Some((_, centre)) = best {
        for k in 0..s.directions.max(4) {
            let off = (f64::from(k) / (d - 1.0) - 0.5) * 4.0 * PI / d;
            try_angle(centre + off, &mut best);
        }
    }
    best.map(|b| b.0)
}

/// The smallest |φ| for which g(R_φ x) differs from g(x), searched both
/// ways round; `None` when no rotation up to `reach` (at most π) changes it.
pub fn true_angle(g: &dyn SmoothedOracle, x: [f64; 2], s: &Search) -> Option<f64> {
    let c = g.class(x);
    let limit = s.reach.min(PI);
    let at = |phi: f64| {
        let (sn, cs) = phi.sin_cos();
        [cs * x[0] - sn * x[1], sn * x[0] + cs * x[1]]
    };
    let plus = first_change(|t| g.class(at(t)) != c, limit, s);
    let minus = first_change(|t| g.class(at(-t)) != c, plus.unwrap_or(limit), s);
    match (plus, minus) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The oracle a run uses: exact where a closed form exists, else Monte
/// Carlo over `z` (the caller states its error). Shareable across threads,
/// so the points' searches can run in parallel.
pub fn oracle_for(
    model: &BaseClassifier,
    noise: Noise,
    z: impl FnOnce() -> Vec<[f32; 2]>,
) -> Box<dyn SmoothedOracle + Send + Sync> {
    match ExactOracle::new(model, noise) {
        Some(o) => Box::new(o),
        None => Box::new(MonteCarloOracle {
            model: model.clone(),
            noise,
            z: z(),
        }),
    }
}
