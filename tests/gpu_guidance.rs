//! The WGSL guided samplers (lavapipe in CI) against their CPU twin: the same
//! seed gives the same particles for CFG-DDIM, CFG-DDPM and PCG on both data
//! sets, with a constant and a scheduled w. No adapter is a failure.

mod common;
use common::gpu;

use gradlab::experiments::guidance::{self, GuidanceConfig, GuidanceData};
use gradlab::experiments::registry::Compute;
use gradlab::kernels::agree;
use gradlab::kernels::guidance::{GuidedSampler, WSchedule};

/// Every particle's coordinates agree to 1e-4 (scaled by max(1, |x|)): the
/// same Philox normals and the same f32 formulas; WGSL's exp and sqrt are a
/// few ulps off Rust's, and 120 steps of exp-weighted means (with PCG's two
/// Langevin steps each) compound that to ~1e-5 typically. 512 particles cover
/// four dispatches of 50 steps each (the hand-over between dispatches is
/// tested too). A NaN on either side fails (`agree` sees it).
#[test]
fn gpu_particles_equal_cpu_particles() {
    let gpu = gpu();
    for dataset in [GuidanceData::GaussianPair, GuidanceData::Gmm8] {
        for sampler in GuidedSampler::ALL {
            for w_schedule in [WSchedule::Constant, WSchedule::Cosine] {
                let cfg = GuidanceConfig {
                    dataset,
                    sampler: *sampler,
                    w_schedule,
                    corrector_steps: 2,
                    class: 3 * u32::from(dataset == GuidanceData::Gmm8),
                    steps: 120,
                    n: 512,
                    ..GuidanceConfig::default()
                };
                let cpu = pollster::block_on(guidance::sample(&cfg, &Compute::Cpu)).unwrap();
                let on_gpu =
                    pollster::block_on(guidance::sample(&cfg, &Compute::Gpu(gpu.clone()))).unwrap();
                let flat = |v: &[[f32; 2]]| v.iter().flatten().copied().collect::<Vec<f32>>();
                let diff = agree::worst_scaled(&flat(&cpu), &flat(&on_gpu), 1.0);
                eprintln!("{dataset} {sampler} {w_schedule}: {diff:.2e}");
                assert_eq!(cpu.len(), on_gpu.len());
                assert!(
                    diff <= 1e-4,
                    "{dataset} {sampler} {w_schedule}: worst scaled difference {diff}"
                );
            }
        }
    }
}

/// The experiment's self-test passes on this device.
#[test]
fn selftest_passes() {
    let gpu = gpu();
    let checks = pollster::block_on(guidance::selftest_checks(&gpu)).unwrap();
    assert_eq!(checks.len(), 3);
    for c in checks {
        assert!(c.pass, "{c:?}");
    }
}
