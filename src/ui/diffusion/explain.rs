//! What the chosen score source and sampler do, in a sentence each.

use crate::experiments::diffusion::{SamplerKind, ScoreKind};

/// What score source `s` is, and what it does to the samples.
pub(super) fn explain_score(s: ScoreKind) -> &'static str {
    match s {
        ScoreKind::ExactGmm => {
            "The exact score of the data's Gaussian mixture: the ideal a network could learn."
        }
        ScoreKind::Empirical => {
            "The exact score of the training points themselves: optimal for the training set, so with small noise every particle lands on a training point — memorisation."
        }
        ScoreKind::Smoothed => {
            "The closed-form score averaged over Gaussian perturbations of the noisy point (Scarvelis et al.): particles settle between nearby training points and produce new samples without any training."
        }
        ScoreKind::Gaussian => {
            "The score of one Gaussian with the data's mean and covariance: exact at high noise, blurry at low noise, yet it sets the early layout."
        }
        ScoreKind::Mlp => {
            "A tiny MLP trained to predict the noise (shipped, trained reproducibly by `gradlab train-denoiser`)."
        }
    }
}

/// How sampler `s` steps from noise to data.
pub(super) fn explain_sampler(s: SamplerKind) -> &'static str {
    match s {
        SamplerKind::Ddpm => {
            "DDPM samples the reverse Markov chain, adding fresh noise every step."
        }
        SamplerKind::Ddim => {
            "DDIM takes the same marginals with η·(DDPM's noise); η = 0 is deterministic."
        }
        SamplerKind::Euler => {
            "Euler steps of the probability-flow ODE (identical to DDIM with η = 0)."
        }
        SamplerKind::Heun => {
            "Heun's second-order steps of the probability-flow ODE: two score evaluations a step, far more accurate per step."
        }
        SamplerKind::Langevin => {
            "Annealed Langevin dynamics: a few noisy gradient steps on log p at each noise level."
        }
        SamplerKind::Iadb => {
            "Iterative α-(de)blending: walks the straight line between noise and data, deterministically."
        }
        SamplerKind::Ge => {
            "Gradient estimation (Permenter & Yuan): Euler steps in σ along γ·d_i + (1 − γ)·d_{i−1}, which corrects the denoiser's error with the previous direction — one call a step."
        }
    }
}
