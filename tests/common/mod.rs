//! Shared by the native GPU tests.

use gradlab::gpu::Gpu;

/// The test adapter (lavapipe in CI), named on stdout so the test command
/// can check where the GPU tests ran. No adapter is a failure, never a skip.
pub fn gpu() -> Gpu {
    let gpu = pollster::block_on(Gpu::request()).expect("a GPU adapter (lavapipe in CI)");
    println!(
        "GPU tests run on: {} ({}, {})",
        gpu.adapter.name, gpu.adapter.backend, gpu.adapter.device_type
    );
    gpu
}
