//! The WGSL attribution field (lavapipe in CI) against its CPU twin.

mod common;

use gradlab::experiments::registry::{Compute, Experiment};
use gradlab::experiments::saliency::{
    self, AGREE_FRACTION, AGREE_TOL, Method, Saliency, SaliencyConfig, data, disagreement,
    grid_points, test_net,
};
use gradlab::kernels::agree;
use gradlab::kernels::saliency as ks;

/// The same Philox blocks, the same f32 operation order: each coordinate
/// agrees to 1e-4 (scaled, floor 1: f32 sums of ≤ 64 terms of size ≲ 10 round
/// to ~1e-5). A coordinate may differ by a whole term where a sample's
/// pre-activation lands within rounding of a kink (WGSL may fuse w·x + b);
/// that happens ~1e-4 of the time, so at most 1 % of coordinates may exceed
/// the bound, and every predicted class must match. Every method, on a
/// 24 × 24 grid with 64 samples, and the probe's counters after the grid.
#[test]
fn gpu_field_equals_cpu_field_for_every_method() {
    let gpu = common::gpu();
    let on = Compute::Gpu(gpu.clone());
    let net = test_net(4);
    let cells = grid_points(24);
    let cfg = SaliencyConfig::default();
    let (base, _) = data(&cfg);
    for &m in Method::ALL {
        let s = cfg.smoothing(m, 64);
        for first in [0, 576] {
            let j = saliency::job(&net, &cells, first, s, &base, cfg.key());
            let (cpu, cpu_c) = ks::attributions(&j);
            let (g, g_c) = pollster::block_on(saliency::attributions(&j, &on)).expect("gpu field");
            assert_eq!(cpu_c, g_c, "{m}: predicted classes");
            let frac = disagreement(&cpu, &g, AGREE_TOL);
            println!("{m}, first {first}: {frac} of coordinates off by > {AGREE_TOL}");
            assert!(
                frac <= AGREE_FRACTION,
                "{m}: {frac} of coordinates disagree"
            );
            // The typical coordinate agrees far better than the bound.
            let mut diffs: Vec<f64> = cpu
                .iter()
                .flatten()
                .zip(g.iter().flatten())
                .map(|(&a, &b)| agree::scaled_diff(f64::from(a), f64::from(b), 1.0))
                .collect();
            diffs.sort_by(f64::total_cmp);
            assert!(
                diffs[diffs.len() / 2] < 1e-5,
                "{m}: median {}",
                diffs[diffs.len() / 2]
            );
        }
    }
}

/// A whole run on the GPU reports what the CPU run does: the same network,
/// classes, certificate (computed on the CPU from the exact forms) and a
/// field within the tolerance above.
#[test]
fn gpu_run_equals_cpu_run() {
    let gpu = common::gpu();
    let cfg = SaliencyConfig {
        grid: 16,
        steps: 200,
        method: Method::Uniform,
        ..SaliencyConfig::default()
    };
    let cpu = pollster::block_on(Saliency::run(&cfg, &Compute::Cpu)).expect("cpu");
    let g = pollster::block_on(Saliency::run(&cfg, &Compute::Gpu(gpu))).expect("gpu");
    assert_eq!(cpu.net, g.net);
    assert_eq!(cpu.field.classes, g.field.classes);
    assert_eq!(cpu.certificate, g.certificate);
    let pairs = |v: &[f64]| -> Vec<[f32; 2]> {
        v.chunks_exact(2)
            .map(|p| [p[0] as f32, p[1] as f32])
            .collect()
    };
    let frac = disagreement(
        &pairs(&cpu.field.values),
        &pairs(&g.field.values),
        AGREE_TOL,
    );
    assert!(frac <= AGREE_FRACTION, "{frac}");
    for d in 0..2 {
        assert!(agree::scaled_diff(cpu.attribution[d], g.attribution[d], 1.0) < 1e-3);
    }
}

/// The self-test's checks pass on this device.
#[test]
fn selftest_passes() {
    let gpu = common::gpu();
    let checks = pollster::block_on(Saliency::selftest(&gpu)).expect("selftest");
    assert_eq!(checks.len(), Method::ALL.len());
    for c in checks {
        assert!(c.pass, "{c:?}");
    }
}
