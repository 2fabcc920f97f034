//! Score sources: the posterior mean D(x) = E[x0 | x] at a noise level
//! `x = a·x0 + √v·z`, from which Tweedie's formula gives the score
//! ∇log p(x) = (a·D(x) − x)/v (Efron, "Tweedie's Formula and Selection Bias", 2011).

use std::cell::Cell;

use super::{Denoiser, Level, TRAIN_STEPS};
use crate::kernels::mlp::{self, MlpSpec};
use crate::kernels::rng::RngKey;

/// Floor on a level's total variance, so the data level never divides by 0.
const MIN_VARIANCE: f32 = 1e-12;

/// A mixture of isotropic Gaussians N(μ_k, s²I) with weights w_k and class
/// labels. With s = 0 and equal weights it is the empirical distribution of a
/// training set, whose noised score is the "exact" closed-form score that
/// memorises its training data.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    pub means: Vec<[f32; 2]>,
    /// log w_k (need not be normalised).
    pub log_weights: Vec<f32>,
    pub classes: Vec<u32>,
    /// Component variance s².
    pub var: f32,
}

impl Mixture {
    /// The empirical distribution of labelled points.
    pub fn empirical(points: &[[f32; 2]], classes: &[u32]) -> Self {
        Self {
            means: points.to_vec(),
            log_weights: vec![0.0; points.len()],
            classes: classes.to_vec(),
            var: 0.0,
        }
    }

    /// E[x0 | x] of the mixture noised to `level`, over the components of
    /// `class` only if given: Σ_k r_k(x)·(μ_k + a·s²/c·(x − a·μ_k)), c = a²s² + v,
    /// r_k ∝ w_k·N(x; a·μ_k, c·I). One pass with a running maximum (an online
    /// softmax), in the same order as the WGSL twin.
    pub fn denoise(&self, x: [f32; 2], level: Level, class: Option<u32>) -> [f32; 2] {
        let c = (level.a * level.a * self.var + level.v).max(MIN_VARIANCE);
        let shrink = level.a * self.var / c;
        let inv2c = 0.5 / c;
        let mut best = f32::NEG_INFINITY;
        let (mut sum, mut acc) = (0.0f32, [0.0f32; 2]);
        for k in 0..self.means.len() {
            if class.is_some_and(|c| c != self.classes[k]) {
                continue;
            }
            let mu = self.means[k];
            let r = [x[0] - level.a * mu[0], x[1] - level.a * mu[1]];
            let logit = self.log_weights[k] - (r[0] * r[0] + r[1] * r[1]) * inv2c;
            let m = [mu[0] + shrink * r[0], mu[1] + shrink * r[1]];
            if logit > best {
                let scale = (best - logit).exp();
                sum = sum * scale + 1.0;
                acc = [acc[0] * scale + m[0], acc[1] * scale + m[1]];
                best = logit;
            } else {
                let w = (logit - best).exp();
                sum += w;
                acc = [acc[0] + w * m[0], acc[1] + w * m[1]];
            }
        }
        if sum > 0.0 {
            [acc[0] / sum, acc[1] / sum]
        } else {
            x
        }
    }

    /// log p(x) of the mixture noised to `level` (normalised), in f64: the
    /// reference the score is tested against by finite differences.
    pub fn log_density(&self, x: [f64; 2], level: Level) -> f64 {
        let (a, v) = (level.a as f64, level.v as f64);
        let c = a * a * self.var as f64 + v;
        let lw: Vec<f64> = self.log_weights.iter().map(|&w| w as f64).collect();
        let lse_w = log_sum_exp(&lw);
        let terms: Vec<f64> = self
            .means
            .iter()
            .zip(&lw)
            .map(|(mu, w)| {
                let r0 = x[0] - a * mu[0] as f64;
                let r1 = x[1] - a * mu[1] as f64;
                w - lse_w - (r0 * r0 + r1 * r1) / (2.0 * c) - (2.0 * std::f64::consts::PI * c).ln()
            })
            .collect();
        log_sum_exp(&terms)
    }
}

fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// The score ∇log p(x) = (a·D − x)/v of a posterior mean D (Tweedie's formula).
pub fn score_from_denoised(x: [f32; 2], d: [f32; 2], level: Level) -> [f32; 2] {
    let v = level.v.max(MIN_VARIANCE);
    [(level.a * d[0] - x[0]) / v, (level.a * d[1] - x[1]) / v]
}

/// RNG stream of the smoothing perturbations.
pub const SMOOTH_STREAM: u32 = 0x0000_5300;

/// Perturbations of the smoothed score per evaluation: [`Smoothed::pairs`]
/// antithetic pairs ±z, so 2·pairs perturbations, the same for a particle at
/// every step (drawn once per trajectory).
pub fn smoothed_perturbations(pairs: u32) -> u32 {
    2 * pairs
}

/// The smoothed closed-form score (Scarvelis, Sáez de Ocáriz Borde & Solomon,
/// "Closed-Form Diffusion Models", TMLR 2025): the closed-form score of the
/// training set averaged over Gaussian perturbations of the *noisy point*,
/// s_σ(x_t, t) = E_z[s(x_t + σ·z, t)], z ~ N(0, I), on the paper's path
/// x_t = t·x1 + (1 − t)·x0 (x1 data, x0 noise). The paper's full text (its
/// equations and defaults) is not retrievable here: this parametrisation is the
/// one of the public reproduction kir0ul/CFDMs (src/scores.py `SmoothedScore`,
/// whose softmax logits −(‖z − t·x_i‖² − 2σt⟨n, x_i⟩)/(2(1 − t)²) are those of
/// the perturbed point z + σn), which also draws its M noise vectors once per
/// trajectory. Our level x = a·x0 + √v·z is the paper's x_t scaled by
/// a + √v (t = a/(a + √v)), so the perturbation is σ·(a + √v) in x and σ/t in
/// data units. The linear part of s averages to −x/v exactly, so
/// s_σ = (a·D_σ − x)/v with D_σ(x) = E_z[D(x + σ(a + √v)·z)]; D_σ is a
/// barycentre of nearby training points, which is why σ-CFDM samples are new
/// points rather than copies. Estimated with `pairs` antithetic pairs ±z
/// ([`smoothed_perturbations`]) per particle, fixed across steps (once per
/// trajectory) so the sampling ODE stays smooth.
#[derive(Debug, Clone, PartialEq)]
pub struct Smoothed {
    pub data: Mixture,
    /// The paper's smoothing σ, in the units of its noisy point x_t (σ/t in data units).
    pub sigma: f32,
    /// Antithetic pairs per evaluation.
    pub pairs: u32,
    pub key: RngKey,
}

impl Smoothed {
    /// The `m`-th perturbation direction of particle `i`.
    pub fn direction(&self, i: u32, m: u32) -> [f32; 2] {
        let base = i.wrapping_mul(self.pairs).wrapping_add(m).wrapping_mul(2);
        [self.key.normal_at(base), self.key.normal_at(base + 1)]
    }

    /// The perturbation scale in the level's coordinates x: σ·(a + √v), the
    /// paper's σ on its path x_t = t·x1 + (1 − t)·x0 (see [`Smoothed`]).
    pub fn scale(&self, level: Level) -> f32 {
        self.sigma * (level.a + level.v.max(0.0).sqrt())
    }

    pub fn denoise(&self, x: [f32; 2], level: Level, class: Option<u32>, i: u32) -> [f32; 2] {
        if self.sigma == 0.0 || self.pairs == 0 {
            return self.data.denoise(x, level, class);
        }
        let s = self.scale(level);
        let mut acc = [0.0f32; 2];
        for m in 0..self.pairs {
            let z = self.direction(i, m);
            for sign in [1.0f32, -1.0] {
                let d = self.data.denoise(
                    [x[0] + sign * s * z[0], x[1] + sign * s * z[1]],
                    level,
                    class,
                );
                acc = [acc[0] + d[0], acc[1] + d[1]];
            }
        }
        let n = smoothed_perturbations(self.pairs) as f32;
        [acc[0] / n, acc[1] / n]
    }
}

/// A Gaussian N(μ, Σ) in 2D: Σ = [[xx, xy], [xy, yy]].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Gaussian2 {
    pub mean: [f32; 2],
    pub cov: [f32; 3],
}

impl Gaussian2 {
    /// The sample mean and (biased, 1/n) covariance of points.
    pub fn fit(points: impl Iterator<Item = [f32; 2]> + Clone) -> Self {
        let n = points.clone().count().max(1) as f64;
        let (mut mx, mut my) = (0.0f64, 0.0f64);
        for p in points.clone() {
            mx += p[0] as f64;
            my += p[1] as f64;
        }
        mx /= n;
        my /= n;
        let (mut xx, mut xy, mut yy) = (0.0f64, 0.0f64, 0.0f64);
        for p in points {
            let (dx, dy) = (p[0] as f64 - mx, p[1] as f64 - my);
            xx += dx * dx;
            xy += dx * dy;
            yy += dy * dy;
        }
        Self {
            mean: [mx as f32, my as f32],
            cov: [(xx / n) as f32, (xy / n) as f32, (yy / n) as f32],
        }
    }

    /// E[x0 | x] for x0 ~ N(μ, Σ) noised to `level`: μ + a·Σ·(a²Σ + vI)⁻¹(x − a·μ)
    /// (Wang & Vastola, "The Unreasonable Effectiveness of Gaussian Score
    /// Approximation for Diffusion Models", TMLR 2024).
    pub fn denoise(&self, x: [f32; 2], level: Level) -> [f32; 2] {
        let (a, v) = (level.a, level.v.max(MIN_VARIANCE));
        let [sxx, sxy, syy] = self.cov;
        let (cxx, cxy, cyy) = (a * a * sxx + v, a * a * sxy, a * a * syy + v);
        let det = cxx * cyy - cxy * cxy;
        let r = [x[0] - a * self.mean[0], x[1] - a * self.mean[1]];
        // u = C⁻¹ r
        let u = [
            (cyy * r[0] - cxy * r[1]) / det,
            (cxx * r[1] - cxy * r[0]) / det,
        ];
        [
            self.mean[0] + a * (sxx * u[0] + sxy * u[1]),
            self.mean[1] + a * (sxy * u[0] + syy * u[1]),
        ]
    }
}

/// The Gaussian score approximation: one Gaussian for the whole data set and
/// one per class (for guidance).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianScore {
    pub all: Gaussian2,
    pub per_class: Vec<Gaussian2>,
}

impl GaussianScore {
    pub fn fit(points: &[[f32; 2]], classes: &[u32], class_count: usize) -> Self {
        Self {
            all: Gaussian2::fit(points.iter().copied()),
            per_class: (0..class_count as u32)
                .map(|c| {
                    Gaussian2::fit(
                        points
                            .iter()
                            .zip(classes)
                            .filter(move |(_, k)| **k == c)
                            .map(|(p, _)| *p),
                    )
                })
                .collect(),
        }
    }

    pub fn denoise(&self, x: [f32; 2], level: Level, class: Option<u32>) -> [f32; 2] {
        match class.and_then(|c| self.per_class.get(c as usize)) {
            Some(g) => g.denoise(x, level),
            None => self.all.denoise(x, level),
        }
    }
}

/// The network's x0 estimate is clipped to [−3, 3]², where every data set
/// lives: at the noisiest levels 1/√ᾱ magnifies ε's error ~10⁴-fold (the
/// `clip_sample` of the common diffusion libraries).
pub const DENOISER_CLIP: f32 = 3.0;

/// Sinusoidal time features of the denoiser network.
pub const DENOISER_TIME_FEATURES: usize = 16;

/// A tiny MLP ε-prediction network ε_θ(x_t, t, class) trained on the
/// variance-preserving path (Ho et al. 2020); its one-hot class input has one
/// extra "no class" slot, dropped in training for classifier-free guidance.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpDenoiser {
    pub spec: MlpSpec,
    pub params: Vec<f32>,
    /// ᾱ_t of the training schedule, t = 0..T.
    pub alphas_cumprod: Vec<f32>,
    /// E[x0 | class] for each class input (the last, the "no class" slot: E[x0]):
    /// the exact posterior mean at pure noise (a = 0), where x says nothing
    /// about x0 and ε-prediction would divide by √ᾱ = 0. Empty: the origin.
    /// `build_source` fills it from the run's training points.
    pub means: Vec<[f32; 2]>,
}

impl MlpDenoiser {
    /// The network's shape for `classes` labelled classes.
    pub fn spec(hidden: &[usize], classes: usize) -> MlpSpec {
        MlpSpec {
            input: 2,
            hidden: hidden.to_vec(),
            output: 2,
            activation: mlp::Activation::Silu,
            time_features: DENOISER_TIME_FEATURES,
            class_inputs: classes + 1,
        }
    }

    /// The unconditional slot of the class input.
    pub fn null_class(&self) -> u32 {
        (self.spec.class_inputs - 1) as u32
    }

    /// The fractional training step t with ᾱ_t = `alpha_bar` (linear
    /// interpolation in the decreasing table; clamped to [0, T − 1]).
    pub fn timestep(&self, alpha_bar: f32) -> f32 {
        let ac = &self.alphas_cumprod;
        let hi = ac.partition_point(|&v| v > alpha_bar);
        if hi == 0 {
            return 0.0;
        }
        if hi >= ac.len() {
            return (ac.len() - 1) as f32;
        }
        let (a0, a1) = (ac[hi - 1], ac[hi]);
        (hi - 1) as f32 + (a0 - alpha_bar) / (a0 - a1)
    }

    /// Layer 0's input: the VP-scaled point, time features of t, one-hot class.
    pub fn features(&self, x_vp: [f32; 2], t: f32, class: u32, out: &mut [f32]) {
        let mut tf = [0.0f32; DENOISER_TIME_FEATURES];
        mlp::time_features(t, &mut tf);
        self.features_with(x_vp, &tf, class, out);
    }

    fn features_with(&self, x_vp: [f32; 2], tf: &[f32], class: u32, out: &mut [f32]) {
        out.fill(0.0);
        out[0] = x_vp[0];
        out[1] = x_vp[1];
        out[2..2 + DENOISER_TIME_FEATURES].copy_from_slice(tf);
        out[2 + DENOISER_TIME_FEATURES + class as usize] = 1.0;
    }

    /// What a level means to the network, the same for every particle: any
    /// level is rescaled onto the VP path, x_vp = x/s with s = √(a² + v) and
    /// ᾱ = a²/s² (floored at the schedule's last ᾱ), then t with ᾱ_t = ᾱ.
    pub fn level_inputs(&self, level: Level) -> LevelInputs {
        let scale = (level.a * level.a + level.v).sqrt();
        let floor = *self.alphas_cumprod.last().unwrap_or(&1e-4);
        let alpha_bar = (level.a * level.a / (scale * scale)).max(floor);
        let mut time_features = [0.0f32; DENOISER_TIME_FEATURES];
        mlp::time_features(self.timestep(alpha_bar), &mut time_features);
        LevelInputs {
            scale,
            alpha_bar,
            time_features,
            pure_noise: level.a == 0.0,
        }
    }

    /// E[x0 | class] (the "no class" slot for `None`): [`MlpDenoiser::means`].
    pub fn mean(&self, class: Option<u32>) -> [f32; 2] {
        let slot = class.unwrap_or(self.null_class()) as usize;
        self.means.get(slot).copied().unwrap_or([0.0; 2])
    }

    /// E[x0 | x] from ε_θ: D = (x_vp − √(1−ᾱ)·ε_θ(x_vp, t, class))/√ᾱ (Ho et
    /// al. 2020); at pure noise (a = 0) the exact E[x0 | class] instead.
    pub fn denoise_at(&self, x: [f32; 2], li: &LevelInputs, class: Option<u32>) -> [f32; 2] {
        if li.pure_noise {
            return self.mean(class);
        }
        let xv = [x[0] / li.scale, x[1] / li.scale];
        let mut f = [0.0f32; 2 + DENOISER_TIME_FEATURES + mlp::MAX_CLASS_INPUTS];
        let f = &mut f[..self.spec.feature_dim()];
        self.features_with(xv, &li.time_features, class.unwrap_or(self.null_class()), f);
        let mut eps = [0.0f32; 2];
        mlp::predict_row(&self.spec, &self.params, f, &mut eps);
        let (sa, sv) = (li.alpha_bar.sqrt(), (1.0 - li.alpha_bar).sqrt());
        let clip = |v: f32| v.clamp(-DENOISER_CLIP, DENOISER_CLIP);
        [
            clip((xv[0] - sv * eps[0]) / sa),
            clip((xv[1] - sv * eps[1]) / sa),
        ]
    }

    pub fn denoise(&self, x: [f32; 2], level: Level, class: Option<u32>) -> [f32; 2] {
        self.denoise_at(x, &self.level_inputs(level), class)
    }
}

/// The per-level inputs of the denoiser network (see [`MlpDenoiser::level_inputs`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelInputs {
    pub scale: f32,
    pub alpha_bar: f32,
    pub time_features: [f32; DENOISER_TIME_FEATURES],
    /// a = 0: x carries no information about x0.
    pub pure_noise: bool,
}

/// The training schedule every shipped denoiser uses: cosine, T = 1000.
pub fn denoiser_schedule() -> Vec<f32> {
    super::schedule(super::ScheduleKind::Cosine, TRAIN_STEPS)
        .alphas_cumprod
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

/// Where scores come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// An exact mixture (the data set's own, or the empirical one of its training points).
    Mixture(Mixture),
    Smoothed(Smoothed),
    Gaussian(GaussianScore),
    Mlp(MlpDenoiser),
}

impl Source {
    pub fn denoise(&self, x: [f32; 2], level: Level, class: Option<u32>, i: u32) -> [f32; 2] {
        match self {
            Source::Mixture(m) => m.denoise(x, level, class),
            Source::Smoothed(s) => s.denoise(x, level, class, i),
            Source::Gaussian(g) => g.denoise(x, level, class),
            Source::Mlp(m) => m.denoise(x, level, class),
        }
    }
}

/// APG's knobs (Sadat, Hilliges & Weber, "Eliminating Oversaturation and
/// Artifacts of High Guidance Scales in Diffusion Models", ICLR 2025, Algorithm 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApgParams {
    /// η: the weight of Δ's part parallel to D_c (0 drops it, 1 keeps it as CFG does).
    pub eta: f32,
    /// r: Δ is rescaled to norm ≤ r (`f32::INFINITY`: no rescaling).
    pub r: f32,
    /// β: reverse momentum of Δ's running average (the paper's default is −0.75).
    pub beta: f32,
}

/// ‖v‖ scaled by the larger |component| first, so it neither overflows nor
/// underflows in f32 (the same in the WGSL twin).
pub fn norm2(v: [f32; 2]) -> f32 {
    let m = v[0].abs().max(v[1].abs());
    if m == 0.0 || !m.is_finite() {
        return m;
    }
    let (x, y) = (v[0] / m, v[1] / m);
    m * (x * x + y * y).sqrt()
}

/// One APG evaluation (Sadat et al. 2025, Algorithm 1, as in the reference
/// `apg_forward` of public diffusion codebases, e.g. ACE-Step's
/// `apg_guidance.py`): Δ = D_c − D_u; the running average
/// R ← Δ + β·R (`running`, per trajectory, updated at every guided
/// evaluation); Δ' = R·min(1, r/‖R‖); split Δ' into Δ'∥ (along D_c) and Δ'⊥;
/// D̃ = D_c + (w − 1)(Δ'⊥ + η·Δ'∥). With η = 1, r = ∞, β = 0 it is CFG.
pub fn apg(
    cond: [f32; 2],
    uncond: [f32; 2],
    w: f32,
    p: ApgParams,
    running: &mut [f32; 2],
) -> [f32; 2] {
    let delta = [cond[0] - uncond[0], cond[1] - uncond[1]];
    *running = [
        delta[0] + p.beta * running[0],
        delta[1] + p.beta * running[1],
    ];
    let n = norm2(*running);
    let scale = if n > p.r { p.r / n } else { 1.0 };
    let d = [running[0] * scale, running[1] * scale];
    let nn = cond[0] * cond[0] + cond[1] * cond[1];
    let par = if nn > 0.0 {
        (d[0] * cond[0] + d[1] * cond[1]) / nn
    } else {
        0.0
    };
    let parallel = [par * cond[0], par * cond[1]];
    let update = [
        d[0] - parallel[0] + p.eta * parallel[0],
        d[1] - parallel[1] + p.eta * parallel[1],
    ];
    let k = w - 1.0;
    [cond[0] + k * update[0], cond[1] + k * update[1]]
}

/// A source under classifier-free guidance (Ho & Salimans, "Classifier-Free
/// Diffusion Guidance", 2022), written on the posterior mean (the same as on ε
/// at a fixed level): D̃ = D_u + w·(D_c − D_u); w = 0 samples unconditionally.
/// With `apg` the update is adaptive projected guidance ([`apg`]); its momentum
/// is one particle's (`running`): a `Guided` serves one trajectory at a time,
/// and the caller keeps each particle's running average between steps.
/// Particle i is guided towards class i mod `classes`.
pub struct Guided<'a> {
    pub source: &'a Source,
    pub scale: f32,
    pub apg: Option<ApgParams>,
    pub classes: u32,
    /// APG's running average of Δ for the particle being stepped.
    pub running: Cell<[f32; 2]>,
}

impl<'a> Guided<'a> {
    pub fn new(source: &'a Source, scale: f32, apg: Option<ApgParams>, classes: u32) -> Self {
        Self {
            source,
            scale,
            apg,
            classes,
            running: Cell::new([0.0; 2]),
        }
    }

    /// Score evaluations per denoiser call.
    pub fn evaluations(&self) -> usize {
        if self.active() { 2 } else { 1 }
    }

    fn active(&self) -> bool {
        self.scale != 0.0 && self.classes > 0
    }
}

impl Denoiser for Guided<'_> {
    fn denoise(&self, x: [f32; 2], level: Level, i: u32) -> [f32; 2] {
        let uncond = self.source.denoise(x, level, None, i);
        if !self.active() {
            return uncond;
        }
        let cond = self.source.denoise(x, level, Some(i % self.classes), i);
        match self.apg {
            Some(p) => {
                let mut r = self.running.get();
                let out = apg(cond, uncond, self.scale, p, &mut r);
                self.running.set(r);
                out
            }
            None => [
                uncond[0] + self.scale * (cond[0] - uncond[0]),
                uncond[1] + self.scale * (cond[1] - uncond[1]),
            ],
        }
    }
}
