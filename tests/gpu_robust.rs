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

// ---------------------------------------------------------------------------
// `robust_estimate` (gradlab robust --backend gpu) against its CPU twin and
// exact values, in any dimension.
// ---------------------------------------------------------------------------

use gradlab::gpu::Gpu;
use gradlab::gpu::robust::RobustEstimate;
use gradlab::kernels::agree;
use gradlab::kernels::rng::RngKey;
use gradlab::kernels::robust::{Method, Norm, Rows, Scratch};

fn gpu_estimate(
    gpu: &Gpu,
    k: &RobustEstimate,
    m: Method,
    flat: &[f32],
    d: usize,
    c: f32,
    n: Norm,
) -> Vec<f32> {
    pollster::block_on(k.estimate(gpu, m, Rows::new(flat, d), c, 3, n)).expect("estimate")
}

fn cpu_estimate(m: Method, flat: &[f32], d: usize, c: f32, n: Norm) -> Vec<f32> {
    let mut out = vec![f32::NAN; d];
    robust::estimate_rows(
        m,
        Rows::new(flat, d),
        c,
        3,
        n,
        &mut out,
        &mut Scratch::default(),
    );
    out
}

/// Every estimator, both norms, d = 1, 3 and 100, on rows with outliers
/// (Philox normals, every fourth row ×1000): the GPU equals the CPU to 1e-4
/// scaled (|a − b| / max(1, |a|), `kernels::agree`, which sees NaN). Both run the same f32 operations in the same
/// order; WGSL's division and sqrt may differ by an ulp or two, and the
/// geometric median's iterations can carry that to ~1e-6 (observed worst
/// printed); a wrong pass (a missing row, a wrong group) is ≥ 1e-2.
#[test]
fn gpu_estimates_equal_cpu_estimates_in_any_dimension() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(gpu.kernel::<RobustEstimate>()).expect("kernel");
    for (seed, n, d) in [(1u32, 9usize, 1usize), (2, 8, 3), (3, 33, 100), (4, 64, 3)] {
        let key = RngKey::new(seed, 11);
        let flat: Vec<f32> = (0..n * d)
            .map(|j| {
                let v = key.normal_at(j as u32) + 0.3;
                if (j / d) % 4 == 3 { 1000.0 * v } else { v }
            })
            .collect();
        for &m in Method::ALL {
            for norm in [Norm::L2, Norm::Inf] {
                let cpu = cpu_estimate(m, &flat, d, 0.7, norm);
                let on_gpu = gpu_estimate(&gpu, &kernel, m, &flat, d, 0.7, norm);
                let worst = agree::worst_scaled(&cpu, &on_gpu, 1.0);
                println!("n={n} d={d} {m} {norm}: worst scaled difference {worst:.2e}");
                assert!(
                    worst <= 1e-4,
                    "n={n} d={d} {m} {norm}: cpu {:?} gpu {:?}",
                    &cpu[..d.min(4)],
                    &on_gpu[..d.min(4)]
                );
            }
        }
    }
}

/// The exact values of tests/robust_estimators.rs, on the GPU: clip-norm of
/// (1e20, 0) at c = 1 is (1, 0) (1e-6: one f32 rounding of the factor; an
/// overflowing norm gives 0); the geometric median of {(0,0), (0,0), (1e20,0)}
/// is (0, 0) exactly, of {(0,0), (0,1), (1e20,0)} the Fermat point
/// (1/(2√3), 1/2) (1e-4: linear convergence stopped at steps < 1e-6); from
/// the data point O of {O, (−1,10), (10,−1), (4,4), (−2,−2)} Vardi–Zhang's
/// step reaches (t*, t*), t* = (27 − 11√3)/6 (1e-4; derivation in
/// tests/robust_estimators.rs); the regular simplex in d = 100 has its
/// centroid as median (1e-4·(1 + ‖c‖)).
#[test]
fn gpu_estimates_match_exact_values() {
    let gpu = common::gpu();
    let k = pollster::block_on(gpu.kernel::<RobustEstimate>()).expect("kernel");
    for norm in [Norm::L2, Norm::Inf] {
        let got = gpu_estimate(&gpu, &k, Method::ClipNorm, &[1e20, 0.0], 2, 1.0, norm);
        assert!(
            (got[0] - 1.0).abs() <= 1e-6 && got[1] == 0.0,
            "{norm}: {got:?}"
        );
        let got = gpu_estimate(
            &gpu,
            &k,
            Method::ClipSample,
            &[1e20, 0.0, 0.0],
            3,
            1.0,
            norm,
        );
        assert!(
            (got[0] - 1.0).abs() <= 1e-6 && got[1] == 0.0,
            "{norm}: {got:?}"
        );
    }
    let gm =
        |flat: &[f32], d: usize| gpu_estimate(&gpu, &k, Method::GeoMedian, flat, d, 1.0, Norm::L2);
    assert_eq!(gm(&[0.0, 0.0, 0.0, 0.0, 1e20, 0.0], 2), vec![0.0, 0.0]);
    let got = gm(&[0.0, 0.0, 0.0, 1.0, 1e20, 0.0], 2);
    let want = [1.0 / (2.0 * 3f64.sqrt()), 0.5];
    let err = (f64::from(got[0]) - want[0]).hypot(f64::from(got[1]) - want[1]);
    println!("GPU Fermat point with a far vertex: {got:?}, error {err:.2e}");
    assert!(err <= 1e-4, "{got:?}");
    let got = gm(&[0.0, 0.0, -1.0, 10.0, 10.0, -1.0, 4.0, 4.0, -2.0, -2.0], 2);
    let t = (27.0 - 11.0 * 3f64.sqrt()) / 6.0;
    let err = (f64::from(got[0]) - t).hypot(f64::from(got[1]) - t);
    println!("GPU Vardi–Zhang from a data point: {got:?}, error {err:.2e}");
    assert!(err <= 1e-4, "{got:?}");
    let d = 100usize;
    let (flat, c) = common::shifted_regular_simplex(d);
    let got = gm(&flat, d);
    let err = got
        .iter()
        .zip(&c)
        .map(|(g, w)| (f64::from(*g) - w).powi(2))
        .sum::<f64>()
        .sqrt();
    let cn = c.iter().map(|v| v * v).sum::<f64>().sqrt();
    println!("GPU simplex d=100: error {err:.2e}");
    assert!(
        err.is_finite() && err <= 1e-4 * (1.0 + cn),
        "simplex: {err}"
    );
}
