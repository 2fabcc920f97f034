//! Condition-annealed sampling (Sadat, Buhmann, Bradley, Hilliges & Weber,
//! "CADS: Unleashing the Diversity of Diffusion Models through
//! Condition-Annealed Sampling", ICLR 2024) on the lab's class-conditional
//! MLP denoiser, whose class input is a real vector the network reads
//! linearly (one-hot in training, plus a "no class" slot for guidance).
//!
//! The paper's optional rescaling of ĉ (its mixing factor ψ) is not applied
//! here (ψ = 0). The paper's full text is not retrievable in this
//! environment; τ₁ = 0.6, τ₂ = 0.9, s = 0.25 are the defaults of its public
//! implementations (e.g. the A1111 and ComfyUI CADS extensions), which also
//! draw fresh noise n at every step, as this does.

use super::GuidedScores;
use crate::kernels::diffusion::Level;
use crate::kernels::diffusion::score::{DENOISER_CLIP, DENOISER_TIME_FEATURES, MlpDenoiser};
use crate::kernels::mlp::{self, MAX_CLASS_INPUTS};
use crate::kernels::rng::RngKey;

/// CADS's knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CadsParams {
    /// τ₁: below it (near data) the condition is clean.
    pub tau1: f32,
    /// τ₂: above it (near noise) the condition is all noise.
    pub tau2: f32,
    /// s: the scale of the noise added to the condition.
    pub noise_scale: f32,
}

/// The CADS schedule (Sadat et al. 2024): γ(t) = 1 for t ≤ τ₁,
/// (τ₂ − t)/(τ₂ − τ₁) for τ₁ < t < τ₂, 0 for t ≥ τ₂ (t = 1 is noise).
pub fn cads_gamma(t: f32, tau1: f32, tau2: f32) -> f32 {
    if t <= tau1 {
        1.0
    } else if t >= tau2 {
        0.0
    } else {
        (tau2 - t) / (tau2 - tau1)
    }
}

/// The annealed condition ĉ = √γ·c + s·√(1 − γ)·n (Sadat et al. 2024), in place.
pub fn anneal_condition(c: &mut [f32], gamma: f32, s: f32, n: impl Fn(u32) -> f32) {
    let (a, b) = (gamma.sqrt(), s * (1.0 - gamma).sqrt());
    for (j, v) in c.iter_mut().enumerate() {
        *v = a * *v + b * n(j as u32);
    }
}

/// The first RNG stream of the condition noise: step k draws from stream
/// `CADS_STREAM | k`, index i·(class inputs) + j for particle i's input j.
pub const CADS_STREAM: u32 = 0x6E00_0000;

/// The MLP's conditional (class `class`, its condition annealed by CADS if
/// given) against its unconditional ("no class" slot).
#[derive(Debug, Clone, PartialEq)]
pub struct MlpPair {
    pub mlp: MlpDenoiser,
    pub class: u32,
    pub cads: Option<CadsParams>,
    pub seed: u32,
}

impl MlpPair {
    /// E[x0 | x] with a real-valued class input `emb` (length: the class
    /// inputs): [`MlpDenoiser::denoise_at`]'s D = (x_vp − √(1−ᾱ)·ε_θ)/√ᾱ (Ho
    /// et al. 2020), clipped, with `emb` in place of the one-hot.
    pub fn denoise_embedded(&self, x: [f32; 2], level: Level, emb: &[f32]) -> [f32; 2] {
        let li = self.mlp.level_inputs(level);
        if li.pure_noise {
            return self.mlp.mean(Some(self.class));
        }
        let xv = [x[0] / li.scale, x[1] / li.scale];
        let mut f = [0.0f32; 2 + DENOISER_TIME_FEATURES + MAX_CLASS_INPUTS];
        let f = &mut f[..self.mlp.spec.feature_dim()];
        f[0] = xv[0];
        f[1] = xv[1];
        f[2..2 + DENOISER_TIME_FEATURES].copy_from_slice(&li.time_features);
        f[2 + DENOISER_TIME_FEATURES..].copy_from_slice(emb);
        let mut eps = [0.0f32; 2];
        mlp::predict_row(&self.mlp.spec, &self.mlp.params, f, &mut eps);
        let (sa, sv) = (li.alpha_bar.sqrt(), (1.0 - li.alpha_bar).sqrt());
        let clip = |v: f32| v.clamp(-DENOISER_CLIP, DENOISER_CLIP);
        [
            clip((xv[0] - sv * eps[0]) / sa),
            clip((xv[1] - sv * eps[1]) / sa),
        ]
    }

    /// The condition of particle `i` at step `k`, time `t`: one-hot of the
    /// class, annealed by CADS if on.
    pub fn condition(&self, i: u32, k: u32, t: f32, out: &mut [f32]) {
        out.fill(0.0);
        out[self.class as usize] = 1.0;
        if let Some(c) = self.cads {
            let key = RngKey::new(self.seed, CADS_STREAM | k);
            let base = i.wrapping_mul(out.len() as u32);
            let gamma = cads_gamma(t, c.tau1, c.tau2);
            anneal_condition(out, gamma, c.noise_scale, |j| {
                key.normal_at(base.wrapping_add(j))
            });
        }
    }
}

impl GuidedScores for MlpPair {
    fn guided(&self, x: [f32; 2], level: Level, w: f32, i: u32, k: u32, t: f32) -> [f32; 2] {
        let mut emb = [0.0f32; MAX_CLASS_INPUTS];
        let emb = &mut emb[..self.mlp.spec.class_inputs];
        self.condition(i, k, t, emb);
        let c = self.denoise_embedded(x, level, emb);
        if w == 1.0 {
            return c;
        }
        let u = self.mlp.denoise(x, level, None);
        [u[0] + w * (c[0] - u[0]), u[1] + w * (c[1] - u[1])]
    }
}
