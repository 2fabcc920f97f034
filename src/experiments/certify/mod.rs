//! Certified robustness by randomized smoothing (Cohen, Rosenfeld & Kolter,
//! ICML 2019), with the true radius of the smoothed classifier beside every
//! certificate: in 2-D the distance to g's boundary can be searched for, so
//! the page shows how much each certificate under-states.

pub mod config;
pub mod run;

use std::sync::Arc;

pub use config::{CertifyConfig, Model, Points, Smoothing, Transform};
pub use run::{CertifyReport, Comparison, HeatMap, PointReport};

use super::bench::{Bench, Workload, prepare_with};
use super::config::{Config, Range};
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;
use crate::gpu::certify::CertifyCounts;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::agree;
use crate::kernels::certify::base::BaseClassifier;
use crate::kernels::certify::smooth::{ESTIMATE_STREAM, Noise, Smoother};
use crate::kernels::rng::RngKey;

/// The widget's panels (`data-panel` ids and titles), in page order.
pub const PANELS: &[PanelInfo] = &[
    PanelInfo::new(
        "regions",
        "Base classifier and the smoothed classifier's p_A",
    ),
    PanelInfo::new("certificate", "Certified radius beside the true radius"),
    PanelInfo::new(
        "accuracy",
        "Certified accuracy: hard votes and soft smoothing",
    ),
];

/// Most estimation samples a CPU run takes in the page.
pub const PAGE_CPU_N: u32 = 10_000;
/// Most heat-map samples per pixel on the page's CPU.
pub const PAGE_CPU_MAP_N: u32 = 200;

/// Randomized smoothing in the registry.
pub struct Certify;

impl Experiment for Certify {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "certify",
        title: "Certified robustness by randomized smoothing",
        claim: "Smoothing a classifier with Gaussian noise certifies an ℓ2 radius σΦ⁻¹(p̲_A); in 2-D the true radius can be found, and the certificate sits below it.",
        papers: &[
            papers::COHEN_2019,
            papers::DELATTRE_2024,
            papers::KORZH_2023,
            papers::XIA_2024,
            papers::CLOPPER_PEARSON_1934,
            papers::MAURER_PONTIL_2009,
        ],
        panels: PANELS,
    };
    type Config = CertifyConfig;
    type Report = CertifyReport;

    async fn run(cfg: &CertifyConfig, on: &Compute) -> Result<CertifyReport, RunError> {
        run::run(cfg, on).await
    }

    /// The page's CPU: n ≤ 10⁴, n₀ ≤ 10³, 200 samples per pixel on a grid of
    /// at most 32², 60 test points, 512 samples of g for a Monte Carlo true
    /// radius; for the MLP (≈ 1,400 multiply-adds a sample) n ≤ 2,000 and 40 test points.
    fn page_cpu_config(cfg: &CertifyConfig) -> CertifyConfig {
        let mlp = cfg.model == Model::Mlp;
        CertifyConfig {
            n: cfg.n.min(if mlp { PAGE_CPU_N / 5 } else { PAGE_CPU_N }),
            n0: cfg.n0.min(1000),
            map_n: cfg.map_n.min(PAGE_CPU_MAP_N),
            grid: cfg.grid.min(32),
            test_points: cfg.test_points.min(if mlp { 40 } else { 60 }),
            true_n: cfg.true_n.min(512),
            train_steps: cfg.train_steps.min(300),
            ..cfg.clone()
        }
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        selftest(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "certify",
        about: "randomized-smoothing votes of a half-plane at 64 points, n samples each",
        fields: BenchCertifyConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, CertifyBench::new),
    }];
}

/// The GPU counts against the CPU twin: hard votes equal up to float-boundary
/// flips (≤ 0.1 % of a point's votes, see `tests/gpu_certify.rs`), soft sums to 1e-4.
pub async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let kernel = gpu.kernel::<CertifyCounts>().await?;
    let s = Smoother {
        model: BaseClassifier::Disk { r: 1.0 },
        noise: Noise {
            transform: Transform::Shift,
            sigma: 0.5,
            sigma_angle: 0.5,
        },
        smoothing: Smoothing::Softmax,
        temp: 0.5,
    };
    let points: Vec<[f32; 2]> = (0..16)
        .map(|i| [0.2 * i as f32 - 1.5, 0.1 * i as f32 - 0.7])
        .collect();
    let targets: Vec<Option<usize>> = (0..16).map(|i| Some(i % 2)).collect();
    let key = RngKey::new(11, ESTIMATE_STREAM);
    let n = 4096;
    let cpu = s.counts(&points, Some(&targets), key, n);
    let got = kernel
        .counts(gpu, &s, &points, Some(&targets), key, n)
        .await?;
    let flips = agree::worst(cpu.iter().zip(&got).map(|(c, g)| {
        let d: u64 = c
            .counts
            .iter()
            .zip(&g.counts)
            .map(|(a, b)| a.abs_diff(*b))
            .sum();
        if g.counts.len() == c.counts.len() {
            d as f64 / 2.0 / f64::from(n)
        } else {
            f64::INFINITY
        }
    }));
    let soft = agree::worst(cpu.iter().zip(&got).map(|(c, g)| {
        agree::worst_scaled(&c.soft, &g.soft, 1.0).max(agree::worst_scaled(
            &[c.soft_a, c.soft_a_sq],
            &[g.soft_a, g.soft_a_sq],
            1.0,
        ))
    }));
    let check = |metric, value: f64, bound| Check {
        kernel: "certify_counts",
        metric,
        value: if value.is_nan() { f64::INFINITY } else { value },
        bound,
        pass: value <= bound,
    };
    Ok(vec![
        check("largest fraction of votes that differ", flips, 1e-3),
        check("largest scaled soft-sum difference", soft, 1e-4),
    ])
}

crate::define_config! {
    /// Size of a randomized-smoothing benchmark run.
    pub struct BenchCertifyConfig {
        /// Samples per point.
        n: u32 = 1 << 16, Range::new(1, 1 << 24);
        /// Points.
        points: u32 = 64, Range::new(1, 4096);
    }
}

/// The `certify` workload: hard votes of a half-plane at `points` points.
struct CertifyBench {
    n: u32,
    points: Vec<[f32; 2]>,
    smoother: Smoother,
    on: Compute,
    kernel: Option<Arc<CertifyCounts>>,
}

impl CertifyBench {
    async fn new(cfg: BenchCertifyConfig, on: Compute) -> Result<Self, RunError> {
        let kernel = on.kernel::<CertifyCounts>().await?;
        Ok(Self {
            n: cfg.n,
            points: (0..cfg.points)
                .map(|i| [(i as f32 * 0.37).sin(), (i as f32 * 0.71).cos()])
                .collect(),
            smoother: Smoother {
                model: BaseClassifier::Linear {
                    w: [3.0, 4.0],
                    b: -1.0,
                },
                noise: Noise {
                    transform: Transform::Shift,
                    sigma: 0.5,
                    sigma_angle: 0.5,
                },
                smoothing: Smoothing::Hard,
                temp: 1.0,
            },
            on,
            kernel,
        })
    }
}

impl Bench for CertifyBench {
    fn items(&self) -> u64 {
        u64::from(self.n) * self.points.len() as u64
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        let key = RngKey::new(1, ESTIMATE_STREAM);
        Box::pin(async move {
            match (&self.on, &self.kernel) {
                (Compute::Gpu(gpu), Some(k)) => {
                    std::hint::black_box(
                        k.counts(gpu, &self.smoother, &self.points, None, key, self.n)
                            .await?,
                    );
                }
                _ => {
                    std::hint::black_box(self.smoother.counts(&self.points, None, key, self.n));
                }
            }
            Ok(())
        })
    }
}
