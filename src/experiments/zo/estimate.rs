//! `gradlab zo-estimate`: n single estimates at one point, on the CPU or the
//! GPU (the same Philox directions), with the exact and smoothed gradients.

use super::super::config::{ConfigError, ListBound, Range};
use super::MAX_BATCH;
use crate::experiments::registry::Compute;
use crate::gpu::zo::ZoKernels;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::agree;
use crate::kernels::rng::RngKey;
use crate::kernels::zo::estimate::{self as mc, Problem, Summary};
use crate::kernels::zo::smoothed::smoothed_grad;
use crate::kernels::zo::{ESTIMATE_STREAM, Estimator, Objective, Radii};

crate::define_config! {
    /// Single estimates of ∇f at one point.
    pub struct ZoEstimateConfig {
        /// The objective f (relu is 2-D only).
        objective: Objective = Objective::Quadratic, ();
        /// Dimension d.
        dim: u32 = 2, Range::new(1, 4096);
        /// The point x (d values; empty: the objective's standard start).
        at: Vec<f64> = vec![], ListBound { min_len: 0, max_len: 4096, each: Range::new(-1e3, 1e3) };
        /// The gradient estimator (sphere-vr acts across iterates: use `gradlab zo`).
        estimator: Estimator = Estimator::Fwd, ();
        /// Gaussian smoothing μ of gauss, and SPSA's perturbation c.
        mu: f64 = 0.1, Range::new(1e-4, 10.0);
        /// Ball radius δ of sphere.
        delta: f64 = 0.1, Range::new(1e-4, 10.0);
        /// Noise s of guess's direction u = ∇f + s·n.
        guess_noise: f64 = 1.0, Range::new(0.0, 100.0);
        /// Directions b averaged per estimate.
        batch: u32 = 1, Range::new(1, MAX_BATCH);
        /// Single estimates n.
        samples: u32 = 10_000, Range::new(2, 1 << 22);
        /// Seed of the directions.
        seed: u32 = 1, Range::new(0, u32::MAX);
    }
    reconcile = ZoEstimateConfig::reconcile_fields;
}

impl ZoEstimateConfig {
    fn reconcile_fields(&mut self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        let mut note = |field: &str, message: String| {
            out.push(ConfigError {
                field: field.into(),
                message,
            })
        };
        if self.estimator == Estimator::SphereVr {
            note(
                "estimator",
                "is sphere-vr, which acts across iterates (see `gradlab zo`); using sphere".into(),
            );
            self.estimator = Estimator::Sphere;
        }
        if self.objective == Objective::Relu && self.dim != 2 {
            note(
                "dim",
                format!("is {}, but the relu surface is 2-D; using 2", self.dim),
            );
            self.dim = 2;
        }
        if !self.at.is_empty() && self.at.len() != self.dim as usize {
            note(
                "at",
                format!(
                    "has {} values but dim is {}; using the standard start",
                    self.at.len(),
                    self.dim
                ),
            );
            self.at.clear();
        }
        let per = u64::from(self.batch) * u64::from(self.dim);
        if u64::from(self.samples) * per >= 1 << 32 {
            let most = ((1u64 << 32) - 1) / per;
            note(
                "samples",
                format!(
                    "is {}, more than one Philox stream holds at this dim and batch; using {most}",
                    self.samples
                ),
            );
            self.samples = most as u32;
        }
        out
    }

    /// The point x.
    pub fn x(&self) -> Vec<f32> {
        if self.at.is_empty() {
            self.objective.start(self.dim as usize)
        } else {
            self.at.iter().map(|&v| v as f32).collect()
        }
    }

    pub fn problem(&self) -> Problem {
        problem_at(
            self.objective,
            self.estimator,
            self.x(),
            Radii {
                mu: self.mu as f32,
                delta: self.delta as f32,
                guess_noise: self.guess_noise as f32,
            },
            self.batch,
            self.seed,
        )
    }
}

/// The single-estimate problem at `x`, its directions from [`ESTIMATE_STREAM`].
pub fn problem_at(
    obj: Objective,
    est: Estimator,
    x: Vec<f32>,
    radii: Radii,
    batch: u32,
    seed: u32,
) -> Problem {
    Problem {
        obj,
        est,
        x,
        radii,
        batch,
        key: RngKey::new(seed, ESTIMATE_STREAM),
    }
}

/// The mean of |cos| and its standard error.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CosStats {
    pub mean: f64,
    pub se: f64,
}

/// Single estimates of ∇f at one point (what `gradlab zo-estimate` prints).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EstimateReport {
    pub exact: Vec<f64>,
    /// The gradient of the smoothed f the estimator is unbiased for (∇f where smoothing changes nothing).
    pub smoothed: Vec<f64>,
    pub mean: Vec<f64>,
    /// tr Cov of a single estimate.
    pub var: f64,
    /// |cos(ĝ, ∇f)|.
    pub cos: CosStats,
    /// Density of |cos| over 20 bins of [0, 1].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cos_density: Vec<f64>,
    /// In 2-D, the first single estimates (at most 400), for the widget's cloud.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloud: Vec<[f64; 2]>,
}

fn report(cfg: &ZoEstimateConfig, p: &Problem, s: Summary) -> EstimateReport {
    let cloud = if p.d() == 2 {
        (0..cfg.samples.min(400))
            .map(|i| {
                let g = crate::kernels::zo::estimate(
                    p.obj,
                    p.est,
                    &p.x,
                    p.radii,
                    p.dirs(),
                    i * p.batch,
                    p.batch,
                );
                [f64::from(g[0]), f64::from(g[1])]
            })
            .collect()
    } else {
        Vec::new()
    };
    EstimateReport {
        smoothed: smoothed_grad(p.obj, p.est, &p.x, cfg.mu, cfg.delta),
        exact: s.exact,
        mean: s.mean,
        var: s.var,
        cos: CosStats {
            mean: s.cos_mean,
            se: s.cos_se,
        },
        cos_density: crate::kernels::stats::histogram(
            s.abs_cos.iter().copied(),
            0.0,
            1.0 + 1e-12,
            20,
        )
        .density,
        cloud,
    }
}

/// `cfg` on `on`.
pub async fn estimate(cfg: &ZoEstimateConfig, on: &Compute) -> Result<EstimateReport, GpuError> {
    let p = cfg.problem();
    let n = cfg.samples;
    let s = match on {
        Compute::Cpu => mc::monte_carlo(&p, n),
        Compute::Gpu(gpu) => {
            let (d, partials) = gpu.kernel::<ZoKernels>().await?.draws(gpu, &p, n).await?;
            mc::summarise(&p, &d, &partials, n)
        }
    };
    Ok(report(cfg, &p, s))
}

/// The worst scaled CPU–GPU difference of `n` single estimates (coefficients,
/// ‖ĝ_i‖², ĝ_i·∇f, mean partial sums; floor 1e-2 of each array's scale; +∞ on any non-finite value).
pub async fn estimate_agreement(
    gpu: &Gpu,
    obj: Objective,
    est: Estimator,
    d: usize,
    batch: u32,
    n: u32,
) -> Result<f64, GpuError> {
    let x: Vec<f32> = (0..d)
        .map(|j| 0.6 - 0.35 * j as f32 + 0.1 * (j * j) as f32 / d as f32)
        .collect();
    let p = problem_at(
        obj,
        est,
        x,
        Radii {
            mu: 0.05,
            delta: 0.08,
            guess_noise: 0.7,
        },
        batch,
        5,
    );
    let cpu = mc::draws(&p, n);
    let cpu_partials = mc::mean_partials(&p, &cpu.coefs, n);
    let (gpu_draws, gpu_partials) = gpu.kernel::<ZoKernels>().await?.draws(gpu, &p, n).await?;
    let floor = |v: &[f32]| {
        1e-2 * v
            .iter()
            .fold(0.0f64, |m, &x| m.max(f64::from(x).abs()))
            .max(1e-6)
    };
    Ok(agree::worst([
        agree::worst_scaled(&cpu.coefs, &gpu_draws.coefs, floor(&cpu.coefs)),
        agree::worst_scaled(&cpu.norm_sq, &gpu_draws.norm_sq, floor(&cpu.norm_sq)),
        agree::worst_scaled(&cpu.dot, &gpu_draws.dot, floor(&cpu.dot)),
        agree::worst_scaled(&cpu_partials, &gpu_partials, floor(&cpu_partials)),
    ]))
}
