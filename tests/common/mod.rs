//! Shared by the native tests (the GPU adapter, and fixtures with known answers).

use gradlab::gpu::Gpu;

/// The test adapter (lavapipe in CI), named on stdout so the test command
/// can check where the GPU tests ran. No adapter is a failure, never a skip.
#[allow(dead_code)] // not every test crate that shares this module uses a GPU
pub fn gpu() -> Gpu {
    let gpu = pollster::block_on(Gpu::request()).expect("a GPU adapter (lavapipe in CI)");
    println!(
        "GPU tests run on: {} ({}, {})",
        gpu.adapter.name, gpu.adapter.backend, gpu.adapter.device_type
    );
    gpu
}

/// The d + 1 vertices of a regular simplex, e_1, …, e_d and a·(1, …, 1) with
/// a = (1 − √(d + 1))/d (all pairwise distances √2), scaled by 3 and shifted
/// by o = (0.5, −1, 0.5, −1, …), as flat f32 rows; and their centroid
/// c = o + 3(1 + a)/(d + 1)·(1, …, 1), which is their geometric median (any
/// permutation of the vertices is an isometry of the set, and c is the only
/// point all of them fix). The coordinate-wise median is o, not c.
#[allow(dead_code)] // used by the robust-estimator tests only
pub fn shifted_regular_simplex(d: usize) -> (Vec<f32>, Vec<f64>) {
    let a = (1.0 - ((d + 1) as f64).sqrt()) / d as f64;
    let o = |k: usize| if k.is_multiple_of(2) { 0.5 } else { -1.0 };
    let mut flat = Vec::with_capacity((d + 1) * d);
    for i in 0..=d {
        for k in 0..d {
            let v = if i == d {
                a
            } else if i == k {
                1.0
            } else {
                0.0
            };
            flat.push((o(k) + 3.0 * v) as f32);
        }
    }
    let c = (0..d)
        .map(|k| o(k) + 3.0 * (1.0 + a) / (d + 1) as f64)
        .collect();
    (flat, c)
}
