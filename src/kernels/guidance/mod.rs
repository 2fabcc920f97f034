//! What classifier-free guidance samples: the guided score
//! s_w = w·s(x|c) + (1 − w)·s(x) on data whose conditional and unconditional
//! scores are exact (a Gaussian pair, or a labelled Gaussian mixture), the
//! tilted target p(x|c)^w·p(x)^(1−w) it is said to sample, and three samplers
//! that use the guided score: CFG with DDIM, CFG with DDPM, and
//! predictor-corrector guidance (Bradley & Nakkiran, "Classifier-Free Guidance
//! is a Predictor-Corrector", TMLR 2025).
//!
//! The scores come from [`Mixture::denoise`] (Tweedie: s = (a·D − x)/v, so a
//! combination of scores at one level is the same combination of posterior
//! means), the noise levels from [`dk::levels`], the steps from
//! [`dk::step_particle`]. CPU twin of `gpu/shaders/guidance.wgsl`.

use crate::kernels::diffusion::score::Mixture;
use crate::kernels::diffusion::{self as dk, Level, SamplerKind, SamplerParams};
use crate::kernels::rng::RngKey;

pub mod cads;

crate::param_enum! {
    /// Which guided sampler.
    pub enum GuidedSampler {
        /// CFG on the probability-flow ODE: DDIM with η = 0 (Song et al. 2021) on the guided score.
        Ddim = "ddim",
        /// CFG on the reverse SDE: ancestral DDPM (Ho et al. 2020) on the guided score.
        Ddpm = "ddpm",
        /// Predictor-corrector guidance (Bradley & Nakkiran 2025): a DDIM step on p(x|c), then Langevin on the γ′ = 2w − 1 power.
        Pcg = "pcg",
    }
}

crate::param_enum! {
    /// How the guidance weight changes along the sampling run.
    pub enum WSchedule {
        /// w(t) = w at every step.
        Constant = "constant",
        /// w(t) = 2w·(1 − t), rising from 0 at noise (t = 1) to 2w at data; mean w.
        Linear = "linear",
        /// w(t) = w·(1 + cos πt), rising from 0 at noise to 2w at data; mean w.
        Cosine = "cosine",
    }
}

/// The guidance weight at normalised time t ∈ [0, 1] (1 = noise). The linear
/// and cosine schedules are the increasing heuristics of Wang et al.,
/// "Analysis of Classifier-Free Guidance Weight Schedulers" (TMLR 2024); their
/// exact normalisation is not retrievable here, so both are written with mean w
/// over t so that they compare with the constant w.
pub fn w_at(kind: WSchedule, w: f32, t: f32) -> f32 {
    match kind {
        WSchedule::Constant => w,
        WSchedule::Linear => 2.0 * w * (1.0 - t),
        WSchedule::Cosine => w * (1.0 + (std::f32::consts::PI * t).cos()),
    }
}

/// The exact conditional p(x|c) and unconditional p(x) a guided sampler mixes.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidancePair {
    pub cond: Mixture,
    pub uncond: Mixture,
}

impl GuidancePair {
    /// The Gaussian pair N(m_c, s_c²I), N(m_u, s_u²I).
    pub fn gaussians(mc: [f32; 2], sc: f32, mu: [f32; 2], su: f32) -> Self {
        let one = |m: [f32; 2], s: f32| Mixture {
            means: vec![m],
            log_weights: vec![0.0],
            classes: vec![0],
            var: s * s,
        };
        Self {
            cond: one(mc, sc),
            uncond: one(mu, su),
        }
    }

    /// Class `class` of a labelled mixture against the whole mixture: the
    /// class's components, renormalised (classes as in the diffusion experiment).
    pub fn class_of(data: &Mixture, class: u32) -> Self {
        let keep: Vec<usize> = (0..data.means.len())
            .filter(|&k| data.classes[k] == class)
            .collect();
        let cond = Mixture {
            means: keep.iter().map(|&k| data.means[k]).collect(),
            log_weights: keep.iter().map(|&k| data.log_weights[k]).collect(),
            classes: keep.iter().map(|&k| data.classes[k]).collect(),
            var: data.var,
        };
        Self {
            cond,
            uncond: data.clone(),
        }
    }

    /// The guided posterior mean D_w = D_u + w·(D_c − D_u): the guided score
    /// s_w = w·s_c + (1 − w)·s_u through Tweedie's formula (Ho & Salimans,
    /// "Classifier-Free Diffusion Guidance", 2022).
    pub fn guided_denoise(&self, x: [f32; 2], level: Level, w: f32) -> [f32; 2] {
        let c = self.cond.denoise(x, level, None);
        if w == 1.0 {
            return c;
        }
        let u = self.uncond.denoise(x, level, None);
        [u[0] + w * (c[0] - u[0]), u[1] + w * (c[1] - u[1])]
    }

    /// log p(x|c)^w p(x)^(1−w), unnormalised, at the data level (f64).
    pub fn tilted_log_density(&self, x: [f64; 2], w: f64) -> f64 {
        w * self.cond.log_density(x, Level::DATA)
            + (1.0 - w) * self.uncond.log_density(x, Level::DATA)
    }
}

/// The tilted target p(x|c)^w p(x)^(1−w) of two isotropic Gaussians is
/// Gaussian with precision λ = w/s_c² + (1 − w)/s_u² and mean
/// (w·m_c/s_c² + (1 − w)·m_u/s_u²)/λ (Bradley & Nakkiran 2025, §3); `None`
/// where λ ≤ 0 (the tilt is not normalisable). Returns (mean, std).
pub fn tilted_gaussian(
    mc: [f64; 2],
    sc: f64,
    mu: [f64; 2],
    su: f64,
    w: f64,
) -> Option<([f64; 2], f64)> {
    let (pc, pu) = (1.0 / (sc * sc), 1.0 / (su * su));
    let lambda = w * pc + (1.0 - w) * pu;
    if lambda <= 0.0 || !lambda.is_finite() {
        return None;
    }
    let m = |i: usize| (w * pc * mc[i] + (1.0 - w) * pu * mu[i]) / lambda;
    Some(([m(0), m(1)], lambda.powf(-0.5)))
}

/// A conditional and an unconditional score source, guided together.
pub trait GuidedScores {
    /// The guided posterior mean D_w at `level` for particle `i` at step `k`
    /// (from 1) at normalised time `t` (1 = noise).
    fn guided(&self, x: [f32; 2], level: Level, w: f32, i: u32, k: u32, t: f32) -> [f32; 2];
}

impl GuidedScores for GuidancePair {
    fn guided(&self, x: [f32; 2], level: Level, w: f32, _: u32, _: u32, _: f32) -> [f32; 2] {
        self.guided_denoise(x, level, w)
    }
}

/// Everything one guided run needs besides the particle index.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidedRun<S = GuidancePair> {
    pub pair: S,
    pub sampler: GuidedSampler,
    /// Noise levels from noise to data ([`dk::levels`]): steps + 1 of them.
    pub levels: Vec<Level>,
    /// The guidance weight of each step (its schedule already applied).
    pub weights: Vec<f32>,
    /// PCG: Langevin corrector steps K per level.
    pub corrector_steps: u32,
    /// PCG: the corrector's step size relative to the level's σ².
    pub corrector_delta: f32,
    pub seed: u32,
    pub particles: u32,
}

/// Most PCG corrector steps per level.
pub const MAX_CORRECTOR_STEPS: u32 = 32;
/// The first RNG stream of the sampling noise: step k draws from stream
/// `GUIDANCE_STREAM | k`, index 2·(i·slots + j) (+1) for particle i's j-th
/// normal pair. A stream per step, unlike the diffusion experiment's single
/// stream (whose 128 normals per particle per step wrap 2^32 at
/// particles·steps ≳ 3·10⁷, e.g. 10⁵ particles × 1000 steps).
pub const GUIDANCE_STREAM: u32 = 0x6D00_0000;
/// RNG stream of the tilted target's samples.
pub const TARGET_STREAM: u32 = 0x0000_6D7A;

/// Normal pairs a particle draws per step (at least one, for DDPM).
pub fn noise_slots(corrector_steps: u32) -> u32 {
    corrector_steps.max(1)
}

/// The `j`-th normal pair of particle `i` at step `k` (0 = initial noise).
pub fn step_normal(seed: u32, slots: u32, k: u32, i: u32, j: u32) -> [f32; 2] {
    let key = RngKey::new(seed, GUIDANCE_STREAM | k);
    let base = 2 * (i * slots + j);
    [key.normal_at(base), key.normal_at(base + 1)]
}

/// One Langevin step on p_t(x|c)^γ p_t(x)^(1−γ), whose posterior mean at x is
/// `d` = D_γ(x), in x with step ε = δ·v (δ·σ² in y = x/a):
/// x + (ε/2)·s_γ(x) + √ε·z = x + (δ/2)(a·D_γ − x) + √(δv)·z
/// (Song & Ermon 2019). PCG's corrector (Bradley & Nakkiran 2025); their
/// Algorithm 2's exact step size is not retrievable here, so the step is the
/// annealed-Langevin δ·σ² the issue names.
pub fn langevin_step(d: [f32; 2], x: [f32; 2], level: Level, delta: f32, z: [f32; 2]) -> [f32; 2] {
    let noise = (delta * level.v).sqrt();
    let h = 0.5 * delta;
    [
        x[0] + h * (level.a * d[0] - x[0]) + noise * z[0],
        x[1] + h * (level.a * d[1] - x[1]) + noise * z[1],
    ]
}

impl<S: GuidedScores> GuidedRun<S> {
    /// Steps of the run.
    pub fn steps(&self) -> usize {
        self.levels.len().saturating_sub(1)
    }

    /// Score evaluations per particle: two per guided posterior mean (one
    /// where w = 1); PCG's predictor one, its corrector two per Langevin step
    /// (none on the data level).
    pub fn nfe(&self) -> usize {
        let per = |w: f32| if w == 1.0 { 1 } else { 2 };
        (0..self.steps())
            .map(|k| match self.sampler {
                GuidedSampler::Ddim | GuidedSampler::Ddpm => per(self.weights[k]),
                GuidedSampler::Pcg => {
                    let gamma = 2.0 * self.weights[k] - 1.0;
                    let corr = if self.levels[k + 1].v > 0.0 {
                        self.corrector_steps as usize
                    } else {
                        0
                    };
                    1 + corr * per(gamma)
                }
            })
            .sum()
    }

    /// The whole trajectory of particle `i`, from its initial noise to data.
    pub fn sample(&self, i: u32) -> [f32; 2] {
        let slots = noise_slots(self.corrector_steps);
        let mut x = step_normal(self.seed, slots, 0, i, 0);
        let ddim = SamplerParams {
            kind: SamplerKind::Ddim,
            eta: 0.0,
            langevin_steps: 0,
            langevin_delta: 0.0,
        };
        let ddpm = SamplerParams {
            kind: SamplerKind::Ddpm,
            eta: 1.0,
            ..ddim
        };
        for k in 0..self.steps() {
            let (cur, next, w) = (self.levels[k], self.levels[k + 1], self.weights[k]);
            let step = k as u32 + 1;
            let t = 1.0 - k as f32 / self.steps() as f32;
            let noise = |j: u32| step_normal(self.seed, slots, step, i, j);
            let guided =
                |w: f32| move |x: [f32; 2], l: Level, _: u32| self.pair.guided(x, l, w, i, step, t);
            x = match self.sampler {
                GuidedSampler::Ddim => dk::step_particle(&ddim, &guided(w), x, cur, next, i, noise),
                GuidedSampler::Ddpm => dk::step_particle(&ddpm, &guided(w), x, cur, next, i, noise),
                GuidedSampler::Pcg => {
                    let mut y = dk::step_particle(&ddim, &guided(1.0), x, cur, next, i, noise);
                    if next.v > 0.0 {
                        let gamma = 2.0 * w - 1.0;
                        for j in 0..self.corrector_steps {
                            let d = self.pair.guided(y, next, gamma, i, step, t);
                            y = langevin_step(d, y, next, self.corrector_delta, noise(j));
                        }
                    }
                    y
                }
            };
        }
        x
    }

    /// Particles `0..particles`.
    pub fn sample_all(&self) -> Vec<[f32; 2]> {
        (0..self.particles).map(|i| self.sample(i)).collect()
    }
}

/// The guidance weight of each of a run's steps: the schedule at
/// t = 1 − k/steps (step k from noise, k = 0 … steps − 1).
pub fn step_weights(kind: WSchedule, w: f32, steps: usize) -> Vec<f32> {
    (0..steps)
        .map(|k| w_at(kind, w, 1.0 - k as f32 / steps as f32))
        .collect()
}

/// Mean, per-coordinate standard deviation and covariance (xx, xy, yy) of points (f64, 1/n).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Moments {
    pub mean: [f64; 2],
    pub std: [f64; 2],
    pub cov: [f64; 3],
}

impl Moments {
    pub fn of(points: &[[f32; 2]]) -> Self {
        let n = points.len().max(1) as f64;
        let mut m = [0.0f64; 2];
        for p in points {
            m[0] += f64::from(p[0]);
            m[1] += f64::from(p[1]);
        }
        m = [m[0] / n, m[1] / n];
        let mut c = [0.0f64; 3];
        for p in points {
            let (dx, dy) = (f64::from(p[0]) - m[0], f64::from(p[1]) - m[1]);
            c[0] += dx * dx;
            c[1] += dx * dy;
            c[2] += dy * dy;
        }
        let cov = [c[0] / n, c[1] / n, c[2] / n];
        Self {
            mean: m,
            std: [cov[0].sqrt(), cov[2].sqrt()],
            cov,
        }
    }
}

/// A density on a regular grid over the square [lo, lo + size]² (lo per
/// axis), normalised to sum 1 over cells.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GridDensity {
    pub lo: [f64; 2],
    pub size: f64,
    pub res: usize,
    /// Cell masses, row-major (y outer), summing to 1.
    pub mass: Vec<f64>,
}

impl GridDensity {
    /// The normalised tilted target on `res`² cell centres over
    /// [lo, lo + size]² (midpoint rule); `None` if its mass vanishes or is
    /// not finite there.
    pub fn tilted(
        pair: &GuidancePair,
        w: f64,
        lo: [f64; 2],
        size: f64,
        res: usize,
    ) -> Option<Self> {
        let mut g = Self {
            lo,
            size,
            res,
            mass: Vec::new(),
        };
        let logs: Vec<f64> = (0..res * res)
            .map(|c| pair.tilted_log_density(g.centre(c), w))
            .collect();
        let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !top.is_finite() {
            return None;
        }
        g.mass = logs.iter().map(|l| (l - top).exp()).collect();
        let total: f64 = g.mass.iter().sum();
        if !(total.is_finite() && total > 0.0) {
            return None;
        }
        g.mass.iter_mut().for_each(|m| *m /= total);
        Some(g)
    }

    /// The side of a cell.
    pub fn cell(&self) -> f64 {
        self.size / self.res as f64
    }

    /// The centre of cell `c`.
    pub fn centre(&self, c: usize) -> [f64; 2] {
        let h = self.cell();
        [
            self.lo[0] + ((c % self.res) as f64 + 0.5) * h,
            self.lo[1] + ((c / self.res) as f64 + 0.5) * h,
        ]
    }

    /// Mean and covariance of the grid density (each cell uniform: + h²/12 on the variances).
    pub fn moments(&self) -> Moments {
        let h = self.cell();
        let mut m = [0.0f64; 2];
        for (c, p) in self.mass.iter().enumerate() {
            let x = self.centre(c);
            m[0] += p * x[0];
            m[1] += p * x[1];
        }
        let mut cov = [h * h / 12.0, 0.0, h * h / 12.0];
        for (c, p) in self.mass.iter().enumerate() {
            let x = self.centre(c);
            let (dx, dy) = (x[0] - m[0], x[1] - m[1]);
            cov[0] += p * dx * dx;
            cov[1] += p * dx * dy;
            cov[2] += p * dy * dy;
        }
        Moments {
            mean: m,
            std: [cov[0].sqrt(), cov[2].sqrt()],
            cov,
        }
    }

    /// `n` samples: a cell by inverse CDF, then uniform inside it.
    pub fn sample(&self, seed: u32, n: usize) -> Vec<[f32; 2]> {
        let key = RngKey::new(seed, TARGET_STREAM);
        let h = self.cell();
        let cdf: Vec<f64> = self
            .mass
            .iter()
            .scan(0.0, |acc, m| {
                *acc += m;
                Some(*acc)
            })
            .collect();
        (0..n as u32)
            .map(|i| {
                let u = f64::from(key.uniform_at(3 * i)) * cdf.last().copied().unwrap_or(1.0);
                let c = cdf.partition_point(|&v| v < u).min(self.mass.len() - 1);
                let x = self.centre(c);
                let jx = f64::from(key.uniform_at(3 * i + 1)) - 0.5;
                let jy = f64::from(key.uniform_at(3 * i + 2)) - 0.5;
                [(x[0] + jx * h) as f32, (x[1] + jy * h) as f32]
            })
            .collect()
    }
}

/// `n` exact samples of N(mean, std²I) (the Gaussian pair's tilted target).
pub fn gaussian_samples(mean: [f64; 2], std: f64, seed: u32, n: usize) -> Vec<[f32; 2]> {
    let key = RngKey::new(seed, TARGET_STREAM);
    (0..n as u32)
        .map(|i| {
            let z = [key.normal_at(2 * i), key.normal_at(2 * i + 1)];
            [
                (mean[0] + std * f64::from(z[0])) as f32,
                (mean[1] + std * f64::from(z[1])) as f32,
            ]
        })
        .collect()
}
