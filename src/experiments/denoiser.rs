//! Training the tiny MLP denoisers shipped in `static/models/`: ε-prediction
//! on the variance-preserving path (Ho et al. 2020, Algorithm 1), with the
//! class input dropped at random for classifier-free guidance (Ho & Salimans 2022).
//! Reproducible from the seed: `gradlab train-denoiser --dataset gmm8 --out ...`.

use serde::Serialize;

use super::config::{ListBound, Range};
use crate::kernels::diffusion::data::{CustomMixture, DiffusionData};
use crate::kernels::diffusion::score::{MlpDenoiser, denoiser_schedule};
use crate::kernels::mlp::{self, AdamConfig, AdamState, Loss, Targets};
use crate::kernels::rng::RngKey;

/// RNG stream of the training batches (points, timesteps, noise, dropped classes).
pub const DENOISER_TRAIN_STREAM: u32 = 0x0000_7D01;

crate::define_config! {
    /// Training a tiny MLP denoiser on a built-in 2D data set.
    pub struct DenoiserConfig {
        /// Data set (fresh points every batch).
        dataset: DiffusionData = DiffusionData::Gmm8, ();
        /// Hidden widths.
        hidden: Vec<u32> = vec![128, 128, 128], ListBound { min_len: 1, max_len: 4, each: Range::new(8, 256) };
        /// Adam steps.
        steps: u32 = 12_000, Range::new(1, 200_000);
        /// Batch size.
        batch: u32 = 256, Range::new(8, 4096);
        /// Peak learning rate (decays linearly to 0).
        lr: f64 = 2e-3, Range::new(1e-6, 1.0);
        /// Probability of training on the "no class" input.
        p_uncond: f64 = 0.2, Range::new(0.0, 1.0);
        /// Seed of the weights and the batches.
        seed: u32 = 0, Range::new(0, u32::MAX);
    }
}

/// What training reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenoiserReport {
    pub dataset: DiffusionData,
    pub param_count: usize,
    /// Mean ε-MSE over each tenth of training.
    pub loss_curve: Vec<f32>,
}

/// Trains a denoiser; deterministic in the config.
pub fn train(cfg: &DenoiserConfig) -> (MlpDenoiser, DenoiserReport) {
    let custom = CustomMixture {
        means: Vec::new(),
        std: 0.0,
    };
    let classes = cfg.dataset.class_count(&custom);
    let hidden: Vec<usize> = cfg.hidden.iter().map(|&w| w as usize).collect();
    let spec = MlpDenoiser::spec(&hidden, classes);
    let mut den = MlpDenoiser {
        params: mlp::init_params(&spec, cfg.seed),
        spec,
        alphas_cumprod: denoiser_schedule(),
        means: Vec::new(),
    };
    let mut adam = AdamState::new(den.params.len());
    let key = RngKey::new(cfg.seed, DENOISER_TRAIN_STREAM);
    let b = cfg.batch as usize;
    let d = den.spec.feature_dim();
    let t_max = den.alphas_cumprod.len() as u32;
    let mut curve = Vec::new();
    let mut window = (0.0f64, 0u32);
    let mut feats = vec![0.0f32; b * d];
    let mut targets = vec![0.0f32; b * 2];
    for s in 0..cfg.steps {
        let data = cfg
            .dataset
            .points(cfg.seed, s.wrapping_mul(cfg.batch), b, &custom);
        for j in 0..b {
            let w = (s.wrapping_mul(cfg.batch).wrapping_add(j as u32)).wrapping_mul(8);
            let t = key.u32_at(w) % t_max;
            let abar = den.alphas_cumprod[t as usize];
            let eps = [key.normal_at(w + 1), key.normal_at(w + 2)];
            let x0 = data.points[j];
            let (sa, sv) = (abar.sqrt(), (1.0 - abar).sqrt());
            let xt = [sa * x0[0] + sv * eps[0], sa * x0[1] + sv * eps[1]];
            let class = if classes == 0 || key.uniform_at(w + 3) < cfg.p_uncond as f32 {
                den.null_class()
            } else {
                data.classes[j]
            };
            den.features(xt, t as f32, class, &mut feats[j * d..(j + 1) * d]);
            targets[2 * j..2 * j + 2].copy_from_slice(&eps);
        }
        let f = ndarray::Array2::from_shape_vec((b, d), feats.clone()).expect("batch shape");
        let fwd = mlp::forward(&den.spec, &den.params, f);
        let (loss, grad) = mlp::loss_and_grad(
            Loss::MeanSquaredError,
            fwd.output(),
            Targets::Values(&targets),
        );
        let grads = mlp::backward(&den.spec, &den.params, &fwd, grad);
        let lr = cfg.lr * (1.0 - s as f64 / cfg.steps as f64);
        let adam_cfg = AdamConfig {
            lr: lr as f32,
            ..AdamConfig::default()
        };
        mlp::adam_step(&adam_cfg, &mut adam, &mut den.params, &grads);
        window = (window.0 + loss as f64, window.1 + 1);
        if (s + 1) % cfg.steps.div_ceil(10) == 0 || s + 1 == cfg.steps {
            curve.push((window.0 / window.1 as f64) as f32);
            window = (0.0, 0);
        }
    }
    let report = DenoiserReport {
        dataset: cfg.dataset,
        param_count: den.params.len(),
        loss_curve: curve,
    };
    (den, report)
}
