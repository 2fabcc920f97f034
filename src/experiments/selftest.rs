//! Kernel self-test: every GPU kernel against its CPU twin on the device at
//! hand. The same checks run natively (`gradlab selftest`, lavapipe in CI)
//! and in the page (the `/selftest` route, WebGPU in Chromium in e2e).

use serde::Serialize;

use super::clipping::{ClippingConfig, METHODS};
use super::diffusion::{self, DiffusionConfig, ScoreKind};
use super::gumbel::{self, GumbelConfig};
use super::rng::agreement;
use super::train_mlp::{TrainMlpConfig, Trainer};
use crate::gpu::diffusion::DiffusionKernel;
use crate::gpu::gumbel::GumbelMoments;
use crate::gpu::mlp::MlpGpu;
use crate::gpu::robust::RobustRuns;
use crate::gpu::{Gpu, GpuError, rng::RngFill};
use crate::kernels::agree;
use crate::kernels::datasets::DatasetId;
use crate::kernels::diffusion::SamplerKind;
use crate::kernels::diffusion::score::{MlpDenoiser, denoiser_schedule};
use crate::kernels::mlp::{Activation, MlpSpec, featurize, init_params, predict};
use crate::kernels::rng::{self, RngKey};
use crate::kernels::robust;

/// One comparison of a GPU kernel with its CPU twin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub kernel: &'static str,
    /// What was measured, in words.
    pub metric: &'static str,
    pub value: f64,
    pub bound: f64,
    pub pass: bool,
}

/// A check that `value` (a difference) is at most `bound`; a NaN value is an
/// infinite difference and fails.
pub(crate) fn check(kernel: &'static str, metric: &'static str, value: f64, bound: f64) -> Check {
    let value = if value.is_nan() { f64::INFINITY } else { value };
    Check {
        kernel,
        metric,
        value,
        bound,
        pass: value <= bound,
    }
}

/// Runs every experiment's checks on `gpu`, in registry order.
pub async fn run(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    for e in super::registry::REGISTRY {
        out.extend(e.selftest(gpu).await?);
    }
    Ok(out)
}

/// The counter-based RNG on `gpu` against its CPU twin.
pub async fn rng(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    // Counter-based RNG: bit-identical words, variates within 1e-6 scaled.
    let key = RngKey::new(2026, 7);
    let cpu = rng::draw(key, 123, 10_000);
    let fill = gpu.kernel::<RngFill>().await?;
    let a = agreement(&cpu, &fill.draw(gpu, key, 123, 10_000).await?);
    out.push(check(
        "rng_fill",
        "words that differ",
        (a.count - a.identical_words) as f64,
        0.0,
    ));
    out.push(check(
        "rng_fill",
        "largest scaled variate difference",
        a.max_scaled_diff,
        1e-6,
    ));
    Ok(out)
}

/// The Gumbel-Softmax moments on `gpu` against its CPU twin.
pub async fn gumbel(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    // Gumbel-Softmax estimators: identical hard samples; moments to 1e-5.
    let cfg = GumbelConfig {
        samples: 50_000,
        ..GumbelConfig::default()
    };
    let cpu_est = gumbel::estimate_cpu(&cfg);
    let kernel = gpu.kernel::<GumbelMoments>().await?;
    let gpu_est = gumbel::estimate_gpu(gpu, &kernel, &cfg).await?;
    let hard_diff = agree::worst_abs(&cpu_est.hard_freq, &gpu_est.hard_freq);
    out.push(check(
        "gumbel_moments",
        "largest hard-frequency difference",
        hard_diff,
        0.0,
    ));
    // Every estimator's means (quadratic objective: straight-through differs
    // from Gumbel-Softmax); a NaN fails the check.
    let mean_diff = agree::worst(
        gumbel::in_chart_order(&cpu_est.grad)
            .into_iter()
            .zip(gumbel::in_chart_order(&gpu_est.grad))
            .map(|(c, g)| agree::worst_scaled(&c.mean, &g.mean, 0.1)),
    );
    out.push(check(
        "gumbel_moments",
        "largest scaled estimator mean difference",
        mean_diff,
        1e-5,
    ));
    Ok(out)
}

/// The robust-SGD runs of the clipping experiment on `gpu` against its CPU twin.
pub async fn clipping(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    // Robust SGD runs: every recorded distance within 1e-3 (scaled).
    let cfg = ClippingConfig {
        steps: 60,
        runs: 8,
        ..ClippingConfig::default()
    };
    let kernel = gpu.kernel::<RobustRuns>().await?;
    let on_gpu = kernel
        .curves(gpu, &cfg.run_spec(METHODS[0]), &METHODS, cfg.runs)
        .await?;
    let cfg = &cfg;
    let worst = agree::worst(METHODS.iter().enumerate().flat_map(|(mi, &m)| {
        let on_gpu = &on_gpu[mi];
        (0..cfg.runs).map(move |r| {
            let (_, cpu) = robust::run(&cfg.run_spec(m), r, false);
            agree::worst_scaled(&cpu, &on_gpu[r as usize], 0.1)
        })
    }));
    out.push(check(
        "robust_step",
        "largest scaled distance difference",
        worst,
        1e-3,
    ));
    Ok(out)
}

/// The MLP kernels of label smoothing (forward and training) on `gpu` against its CPU twin.
pub async fn mlp(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    let key = RngKey::new(2026, 7);
    // MLP forward, with time features and a class input: 1e-4 scaled.
    let spec = MlpSpec {
        input: 2,
        hidden: vec![48, 32],
        output: 3,
        activation: Activation::Silu,
        time_features: 4,
        class_inputs: 3,
    };
    let params = init_params(&spec, 4);
    let n = 5_000u32;
    let x: Vec<f32> = (0..2 * n).map(|i| key.normal_at(i)).collect();
    let t: Vec<f32> = (0..n).map(|i| key.uniform_at(50_000 + i)).collect();
    let c: Vec<u32> = (0..n).map(|i| i % 3).collect();
    let f = featurize(&spec, &x, Some(&t), Some(&c));
    let on_cpu = predict(&spec, &params, f.clone());
    let mut mlp = MlpGpu::new(gpu, &spec, &params).await?;
    let on_gpu = mlp.predict(gpu, f.as_slice().expect("contiguous")).await?;
    let worst = agree::worst_scaled(on_cpu.as_slice().expect("contiguous"), &on_gpu, 1.0);
    out.push(check(
        "mlp_forward",
        "largest scaled output difference",
        worst,
        1e-4,
    ));

    // MLP training: 100 Adam steps (tanh), same data, init and minibatches.
    let cfg = TrainMlpConfig {
        dataset: DatasetId::Moons,
        hidden: vec![32, 32],
        activation: Activation::Tanh,
        steps: 100,
        batch: 64,
        train: 256,
        test: 64,
        ..TrainMlpConfig::default()
    };
    let mut cpu_run = Trainer::new(cfg.clone(), None).await?;
    let mut gpu_run = Trainer::new(cfg, Some(gpu)).await?;
    cpu_run.train_steps(100)?;
    gpu_run.train_steps(100)?;
    let (a, b) = (cpu_run.params().await?, gpu_run.params().await?);
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| f64::from(x - y).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    // A NaN parameter on either side makes the distance NaN: `check` fails it.
    out.push(check(
        "mlp_train_step",
        "relative L2 parameter difference after 100 steps",
        diff / norm,
        1e-3,
    ));
    Ok(out)
}

/// The diffusion sampler on `gpu` against its CPU twin.
pub async fn diffusion(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    // Diffusion sampling: every sampler family and source, guided too, with a
    // random-weight MLP (no file needed): samples within 1e-3 (the native test
    // measures ≤ 1e-4; `tests/gpu_diffusion.rs` justifies the bound).
    let kernel = gpu.kernel::<DiffusionKernel>().await?;
    let net = MlpDenoiser {
        spec: MlpDenoiser::spec(&[32, 32], 8),
        params: init_params(&MlpDenoiser::spec(&[32, 32], 8), 9),
        alphas_cumprod: denoiser_schedule(),
        means: Vec::new(),
    };
    let mut worst = Vec::new();
    for (sampler, score, guidance) in [
        (SamplerKind::Ddpm, ScoreKind::ExactGmm, 0.0),
        (SamplerKind::Heun, ScoreKind::Smoothed, 3.0),
        (SamplerKind::Langevin, ScoreKind::Gaussian, 0.0),
        (SamplerKind::Iadb, ScoreKind::Empirical, 0.0),
        (SamplerKind::Heun, ScoreKind::Mlp, 3.0),
    ] {
        let cfg = DiffusionConfig {
            sampler,
            score,
            guidance,
            steps: 8,
            n: 256,
            ..DiffusionConfig::default()
        };
        let mlp = (score == ScoreKind::Mlp).then(|| net.clone());
        let cpu = diffusion::sample_cpu(&cfg, mlp.clone());
        let on_gpu = diffusion::sample_gpu(gpu, &kernel, &cfg, mlp).await?;
        worst.push(match (cpu, on_gpu) {
            (Ok(a), Ok(b)) => agree::worst_abs(a.samples.as_flattened(), b.samples.as_flattened()),
            _ => f64::INFINITY,
        });
    }
    worst.push(diffusion::fewer_calls_agreement(gpu, &kernel).await?);
    let worst = agree::worst(worst);
    out.push(check(
        "diffusion_step",
        "largest sample difference",
        worst,
        1e-3,
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_nan_difference_fails_its_check() {
        let c = super::check("k", "m", f64::NAN, 1.0);
        assert!(!c.pass);
        assert_eq!(c.value, f64::INFINITY);
        assert!(super::check("k", "m", 1.0, 1.0).pass);
    }
}
