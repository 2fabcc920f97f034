//! The WGSL diffusion sampler (lavapipe in CI) against its CPU twin: the same
//! seed gives the same samples for every sampler × score source, with and
//! without classifier-free guidance. These tests never skip: no adapter is a failure.

use gradlab::experiments::diffusion::{
    DiffusionConfig, ScoreKind, load_denoiser, sample_cpu, sample_gpu, shipped_denoiser,
};
use gradlab::gpu::Gpu;
use gradlab::kernels::diffusion::SamplerKind;
use gradlab::kernels::diffusion::data::DiffusionData;
use gradlab::kernels::diffusion::score::MlpDenoiser;

fn gpu() -> Gpu {
    let gpu = pollster::block_on(Gpu::request()).expect("a GPU adapter (lavapipe in CI)");
    println!(
        "GPU tests run on: {} ({}, {})",
        gpu.adapter.name, gpu.adapter.backend, gpu.adapter.device_type
    );
    gpu
}

fn gmm8_mlp() -> MlpDenoiser {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("static")
        .join(shipped_denoiser(DiffusionData::Gmm8).unwrap());
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    load_denoiser(&bytes, DiffusionData::Gmm8).unwrap()
}

const SAMPLERS: [SamplerKind; 6] = [
    SamplerKind::Ddpm,
    SamplerKind::Ddim,
    SamplerKind::Euler,
    SamplerKind::Heun,
    SamplerKind::Langevin,
    SamplerKind::Iadb,
];

const SCORES: [ScoreKind; 5] = [
    ScoreKind::ExactGmm,
    ScoreKind::Empirical,
    ScoreKind::Smoothed,
    ScoreKind::Gaussian,
    ScoreKind::Mlp,
];

/// Largest |cpu − gpu| over particles and coordinates, and how many particles
/// differ by more than `far`.
fn compare(cpu: &[[f32; 2]], gpu: &[[f32; 2]], far: f32) -> (f32, usize) {
    assert_eq!(cpu.len(), gpu.len());
    let mut worst = 0.0f32;
    let mut count = 0;
    for (a, b) in cpu.iter().zip(gpu) {
        assert!(b[0].is_finite() && b[1].is_finite(), "GPU sample {b:?}");
        let d = (a[0] - b[0]).abs().max((a[1] - b[1]).abs());
        worst = worst.max(d);
        if d > far {
            count += 1;
        }
    }
    (worst, count)
}

fn run_all(gpu: &Gpu, configs: &[DiffusionConfig]) -> Vec<(String, f32, usize)> {
    let mlp = gmm8_mlp();
    configs
        .iter()
        .map(|cfg| {
            let net = (cfg.score == ScoreKind::Mlp).then(|| mlp.clone());
            let cpu = sample_cpu(cfg, net.clone()).unwrap();
            let on_gpu = pollster::block_on(sample_gpu(gpu, cfg, net))
                .expect("no GPU fault")
                .unwrap();
            assert_eq!(cpu.nfe, on_gpu.nfe);
            let (worst, far) = compare(&cpu.samples, &on_gpu.samples, 1e-3);
            let name = format!(
                "{:<8} {:<9} w={} project={}",
                cfg.sampler.as_str(),
                cfg.score.as_str(),
                cfg.guidance,
                cfg.project
            );
            println!("{name}: max |cpu − gpu| {worst:.1e}, {far} particles off by > 1e-3");
            (name, worst, far)
        })
        .collect()
}

fn config(sampler: SamplerKind, score: ScoreKind, guidance: f64, project: bool) -> DiffusionConfig {
    DiffusionConfig {
        dataset: DiffusionData::Gmm8,
        score,
        sampler,
        eta: 0.5,
        steps: if sampler == SamplerKind::Langevin {
            8
        } else {
            16
        },
        n: 256,
        train: 128,
        guidance,
        project,
        seed: 3,
        ..DiffusionConfig::default()
    }
}

/// Both sides run the same f32 operations in the same order; they differ only
/// where WGSL's exp/sqrt/division are a few ulps off Rust's or the driver
/// fuses a multiply-add (≲ 1e-7 relative per operation). A sampler step is
/// Lipschitz in its input with a modest constant for the smooth sources
/// (exact mixture, Gaussian, MLP), so over ≤ 31 score evaluations per particle
/// those ulps stay below 1e-4 absolute on samples of size ~1.
///
/// The empirical and smoothed scores are softmaxes over 128 training points
/// whose logits at the last noisy levels are ~|x − μ_k|²/(2v) with v ~ 1e-3:
/// a particle halfway between two training points can have its posterior
/// flipped by a 1-ulp difference and end at the other point. Such near-ties are
/// rare: at most 2% of particles may differ by more than 1e-3 (the rest must
/// still agree to 1e-4... each such flip moves a particle by up to the distance
/// between training points, ≲ 3).
#[test]
fn gpu_samples_equal_cpu_samples_for_every_sampler_and_source() {
    let gpu = gpu();
    let mut configs = Vec::new();
    for sampler in SAMPLERS {
        for score in SCORES {
            configs.push(config(sampler, score, 0.0, false));
        }
    }
    let results = run_all(&gpu, &configs);
    check(&results);
}

/// Classifier-free guidance (w = 3) and its projected form on every source
/// (guidance doubles the score evaluations; same tolerances as above).
#[test]
fn gpu_guided_samples_equal_cpu_samples() {
    let gpu = gpu();
    let mut configs = Vec::new();
    for score in SCORES {
        for project in [false, true] {
            configs.push(config(SamplerKind::Ddim, score, 3.0, project));
        }
    }
    for sampler in [SamplerKind::Heun, SamplerKind::Ddpm, SamplerKind::Langevin] {
        configs.push(config(sampler, ScoreKind::ExactGmm, 3.0, true));
        configs.push(config(sampler, ScoreKind::Mlp, 3.0, false));
    }
    let results = run_all(&gpu, &configs);
    check(&results);
}

fn check(results: &[(String, f32, usize)]) {
    for (name, worst, far) in results {
        if name.contains("empirical") || name.contains("smoothed") {
            assert!(*far * 50 <= 256, "{name}: {far} particles differ by > 1e-3");
        } else {
            assert!(*worst < 1e-4, "{name}: max difference {worst}");
        }
    }
}
