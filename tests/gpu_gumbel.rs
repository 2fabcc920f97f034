//! The WGSL Gumbel-Softmax estimators (lavapipe in CI) against their CPU twin.

mod common;

use gradlab::experiments::gumbel::{self, GumbelConfig, Objective};
use gradlab::gpu::gumbel::GumbelMoments;

/// Hard samples are bit-identical (the same Gumbel draws, the same f32 sums
/// θ + g, the same argmax), so the frequencies are equal exactly. Everything
/// else agrees to 1e-5 relative (floor 1e-6 absolute): WGSL's exp is a few ulps
/// off Rust's, and the GPU adds per-thread f32 partial sums of 256 samples
/// (rounding ≲ 256 · 6e-8 ≈ 1.5e-5 relative in the worst case, ~1e-6 typically).
/// Variances come from Σx² − n·mean², whose cancellation multiplies that
/// error by E[x²]/Var[x] (≈ 4 here), so they are held to 1e-4.
/// Every estimator, both objectives, and RLOO batches of 2, 7 (which does not
/// divide the 256 samples of a thread, nor 50 001: a partial batch is left
/// out on both) and 1024. Any non-finite value fails (checked before the
/// difference, so a NaN cannot pass).
#[test]
fn gpu_estimates_equal_cpu_estimates() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(gpu.kernel::<GumbelMoments>()).expect("kernel");
    for cfg in [
        GumbelConfig {
            samples: 100_000,
            ..GumbelConfig::default()
        },
        GumbelConfig {
            samples: 100_000,
            objective: Objective::Linear,
            batch: 2,
            ..GumbelConfig::default()
        },
        GumbelConfig {
            logits: (0..16).map(|i| f64::from(i) * 0.3 - 2.0).collect(),
            weights: (0..16).map(|i| f64::from(i % 5) - 2.0).collect(),
            tau: 0.05,
            samples: 50_001,
            seed: 9,
            batch: 7,
            ..GumbelConfig::default()
        },
        GumbelConfig {
            logits: (0..16).map(|i| f64::from(i) * 0.3 - 2.0).collect(),
            weights: (0..16).map(|i| f64::from(i % 5) - 2.0).collect(),
            tau: 0.3,
            samples: 50_001,
            seed: 9,
            batch: 1024,
            objective: Objective::Linear,
            ..GumbelConfig::default()
        },
        GumbelConfig {
            logits: vec![1e4, -1e4],
            weights: vec![-100.0, 100.0],
            tau: 10.0,
            samples: 1_000,
            ..GumbelConfig::default()
        },
    ] {
        let cpu = gumbel::estimate_cpu(&cfg);
        let on_gpu = pollster::block_on(gumbel::estimate_gpu(&gpu, &kernel, &cfg)).unwrap();
        assert_eq!(
            cpu.hard_freq, on_gpu.hard_freq,
            "hard samples are identical"
        );
        let close = |a: &[f64], b: &[f64], rel: f64, what: &str| {
            for (x, y) in a.iter().zip(b) {
                assert!(x.is_finite() && y.is_finite(), "{what}: {x} {y}");
                assert!(
                    (x - y).abs() <= rel * x.abs().max(0.1),
                    "{what}: cpu {x} gpu {y}"
                );
            }
        };
        close(&cpu.soft_mean, &on_gpu.soft_mean, 1e-5, "soft_mean");
        let (c, g) = (&cpu.grad, &on_gpu.grad);
        for (a, b, name) in [
            (&c.reinforce, &g.reinforce, "reinforce"),
            (
                &c.reinforce_baseline,
                &g.reinforce_baseline,
                "reinforce_baseline",
            ),
            (&c.reinforce_loo, &g.reinforce_loo, "reinforce_loo"),
            (&c.gumbel_softmax, &g.gumbel_softmax, "gumbel_softmax"),
            (&c.straight_through, &g.straight_through, "straight_through"),
        ] {
            close(&a.mean, &b.mean, 1e-5, name);
            close(&a.var, &b.var, 1e-4, name);
        }
    }
}

/// The sweep over τ in one submission equals the CPU sweep.
#[test]
fn gpu_sweep_equals_cpu_sweep() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(gpu.kernel::<GumbelMoments>()).expect("kernel");
    let cfg = GumbelConfig::default();
    let cpu = gumbel::sweep_cpu(&cfg, 20_000);
    let on_gpu = pollster::block_on(gumbel::sweep_gpu(&gpu, &kernel, &cfg, 20_000)).unwrap();
    assert_eq!(cpu.len(), 13);
    for (a, b) in cpu.iter().zip(&on_gpu) {
        for e in 0..gumbel::ESTIMATORS.len() {
            assert!(a.var[e].is_finite() && b.var[e].is_finite(), "{a:?} {b:?}");
            assert!(
                a.bias[e].is_finite() && b.bias[e].is_finite(),
                "{a:?} {b:?}"
            );
            assert!(
                (a.var[e] - b.var[e]).abs() <= 1e-5 * a.var[e].max(0.1),
                "{a:?} {b:?}"
            );
            assert!(
                (a.bias[e] - b.bias[e]).abs() <= 1e-5 * a.bias[e].max(0.1),
                "{a:?} {b:?}"
            );
        }
    }
}
