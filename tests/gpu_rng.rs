//! The WGSL generator on a real adapter (lavapipe in CI) against its CPU twin.
//! These tests never skip: no adapter is a failure.

mod common;
use common::gpu;

use gradlab::experiments::rng::agreement;
use gradlab::gpu::rng::RngFill;
use gradlab::kernels::agree::scaled_diff;
use gradlab::kernels::rng::{self, RngKey};

/// Bit-identical words, and variates within 1e-6 scaled (|a-b| / max(1,|a|)):
/// both sides run the same f32 operations, so any difference comes only from
/// a driver fusing a multiply-add (one ulp, 6e-8, in an intermediate).
#[test]
fn gpu_draws_equal_cpu_draws() {
    let gpu = gpu();
    let fill = pollster::block_on(gpu.kernel::<RngFill>()).expect("rng_fill compiles");
    for (key, offset, count) in [
        (RngKey::new(1, 0), 0, 8),
        (RngKey::new(42, 7), 1_000, 3 * 256 + 5),
        (RngKey::new(u32::MAX, u32::MAX), u32::MAX - 40, 41),
        (RngKey::new(2026, 1), 0, 1 << 20),
    ] {
        let cpu = rng::draw(key, offset, count);
        let on_gpu = pollster::block_on(fill.draw(&gpu, key, offset, count)).expect("draw");
        let a = agreement(&cpu, &on_gpu);
        println!("{key:?} offset {offset} count {count}: {a:?}");
        assert_eq!(a.count, count as usize);
        assert_eq!(a.identical_words, count as usize, "raw words differ");
        for (i, (x, y)) in cpu.normal.iter().zip(&on_gpu.normal).enumerate() {
            assert!(
                scaled_diff(f64::from(*x), f64::from(*y), 1.0) <= 1e-6,
                "normal {i}: cpu {x} gpu {y}"
            );
        }
        for (i, (x, y)) in cpu.gumbel.iter().zip(&on_gpu.gumbel).enumerate() {
            assert!(
                scaled_diff(f64::from(*x), f64::from(*y), 1.0) <= 1e-6,
                "gumbel {i}: cpu {x} gpu {y}"
            );
        }
        assert_eq!(cpu.uniform, on_gpu.uniform, "the uniform map is exact");
        assert!(a.holds());
    }
}

/// A broken shader is an error value, not a panic.
#[test]
fn bad_wgsl_is_reported() {
    let gpu = gpu();
    let r = pollster::block_on(gpu.compute_pipeline("broken", "fn main( {", "main"));
    assert!(
        matches!(r, Err(gradlab::gpu::GpuError::Pipeline(_))),
        "{:?}",
        r.err()
    );
}

/// After a forced device loss every call fails fast with DeviceLost.
#[test]
fn lost_device_fails_fast() {
    let gpu = gpu();
    let fill = pollster::block_on(gpu.kernel::<RngFill>()).expect("rng_fill compiles");
    gpu.force_device_loss();
    assert!(gpu.is_lost());
    let r = pollster::block_on(fill.draw(&gpu, RngKey::new(1, 0), 0, 16));
    assert!(
        matches!(r, Err(gradlab::gpu::GpuError::DeviceLost(_))),
        "{r:?}"
    );
}
