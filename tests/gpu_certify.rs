//! The WGSL randomized-smoothing Monte Carlo (lavapipe in CI) against its CPU
//! twin: the same Philox counters, the same noise, the same base classifier.
//!
//! Hard votes: each sample's class is a comparison of f32 values the two
//! sides compute with the same operations in the same order, so the counts
//! are equal unless a driver fuses a multiply-add (SPIR-V allows it) or its
//! division is a few ulps off, which can flip a sample lying within ~1e-6 of
//! the base classifier's boundary. Such a sample has probability of order
//! 1e-6 per draw, so over the 1.4·10^5 draws per configuration here at most
//! 0.1 % of a point's votes may differ and the test says how many did (on
//! lavapipe: none). Soft sums agree to 1e-4 relative: WGSL's exp and division
//! are a few ulps off Rust's and the GPU adds f32 partial sums of ≤ 64 samples.

mod common;

use gradlab::gpu::certify::CertifyCounts;
use gradlab::kernels::agree;
use gradlab::kernels::certify::base::{BaseClassifier, Smoothing};
use gradlab::kernels::certify::smooth::{Noise, Smoother, Transform};
use gradlab::kernels::certify::train::train_mlp;
use gradlab::kernels::datasets::{DatasetId, generate};
use gradlab::kernels::rng::RngKey;

fn grid(m: usize) -> Vec<[f32; 2]> {
    (0..m * m)
        .map(|i| {
            let (a, b) = ((i % m) as f32, (i / m) as f32);
            [
                -2.0 + 4.0 * a / (m - 1) as f32,
                -2.0 + 4.0 * b / (m - 1) as f32,
            ]
        })
        .collect()
}

#[test]
fn gpu_counts_equal_cpu_counts() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(gpu.kernel::<CertifyCounts>()).expect("kernel");
    let shift = Noise {
        transform: Transform::Shift,
        sigma: 0.5,
        sigma_angle: 0.4,
    };
    let rotation = Noise {
        transform: Transform::Rotation,
        ..shift
    };
    let train = generate(DatasetId::Gauss8, 1, 256, 0).train;
    let mlp = train_mlp(&train, shift, 30, 1);
    let linear = BaseClassifier::Linear {
        w: [3.0, 4.0],
        b: -1.0,
    };
    let disk = BaseClassifier::Disk { r: 1.0 };
    let cases = [
        (linear.clone(), shift, Smoothing::Hard),
        (linear.clone(), shift, Smoothing::Softmax),
        (disk.clone(), shift, Smoothing::Sparsemax),
        (linear, rotation, Smoothing::Hard),
        (disk, rotation, Smoothing::Softmax),
        (mlp.clone(), shift, Smoothing::Softmax),
        (mlp, shift, Smoothing::Sparsemax),
    ];
    let points = grid(6);
    for (model, noise, smoothing) in cases {
        let s = Smoother {
            model,
            noise,
            smoothing,
            temp: 0.7,
        };
        let targets: Vec<Option<usize>> = (0..points.len())
            .map(|j| Some(j % s.model.classes()))
            .collect();
        let key = RngKey::new(4, 0xCE02);
        let n = 4_000;
        let cpu = s.counts(&points, Some(&targets), key, n);
        let got = pollster::block_on(kernel.counts(&gpu, &s, &points, Some(&targets), key, n))
            .expect("gpu");
        assert_eq!(cpu.len(), got.len());
        let mut flipped = 0u64;
        for (c, g) in cpu.iter().zip(&got) {
            assert_eq!(g.n(), u64::from(n), "every sample voted once");
            let diff: u64 = c
                .counts
                .iter()
                .zip(&g.counts)
                .map(|(a, b)| a.abs_diff(*b))
                .sum::<u64>()
                / 2;
            assert!(
                diff * 1000 <= u64::from(n),
                "{diff} votes differ: {:?} vs {:?}",
                c.counts,
                g.counts
            );
            flipped += diff;
            let soft = agree::worst_scaled(&c.soft, &g.soft, 1.0);
            let sa = agree::worst_scaled(&[c.soft_a, c.soft_a_sq], &[g.soft_a, g.soft_a_sq], 1.0);
            assert!(
                soft.max(sa) <= 1e-4,
                "{:?} {smoothing}: soft sums differ by {soft}, {sa}",
                s.model.classes()
            );
        }
        println!(
            "{:?} {smoothing}: {flipped} of {} votes differ",
            noise.transform,
            u64::from(n) * points.len() as u64
        );
    }
}
