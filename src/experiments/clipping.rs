//! Clipping vs. the median gradient (Schaipp et al. 2024; Koloskova et al.
//! 2023; Pascanu et al. 2013): SGD with eight gradient estimators under
//! heavy-tailed noise, Monte Carlo over many runs, and clipping's bias.

use serde::Serialize;

use super::config::Range;
use crate::gpu::robust::{RobustEstimate, RobustRuns};
use crate::gpu::{Gpu, GpuError};
use crate::kernels::par;
use crate::kernels::rng::RngKey;
use crate::kernels::robust::{self, NoiseSpec, RunSpec, WORDS_PER_NOISE};
/// The estimators, noises, norms and objectives the widget names, and the
/// start and optimum of each objective.
pub use crate::kernels::robust::{Method, Noise, Norm, Objective, optimum, start};
use crate::kernels::stats::{Histogram, histogram};
use std::sync::Arc;

use super::bench::{Bench, Workload, prepare_with};
use super::config::Config;
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;

crate::define_config! {
    /// The clipping experiment.
    pub struct ClippingConfig {
        /// The 2D objective.
        objective: Objective = Objective::Quadratic, ();
        /// The law of the gradient noise.
        noise: Noise = Noise::StudentT, ();
        /// Student-t degrees of freedom ν (1 is Cauchy).
        df: f64 = 1.5, Range::new(1.0, 30.0);
        /// Stability index α of the symmetric α-stable noise (2 is Gaussian, 1 Cauchy).
        alpha: f64 = 1.5, Range::new(0.5, 2.0);
        /// Fraction of corrupted samples (outliers 1000× the scale).
        fraction: f64 = 0.1, Range::new(0.0, 0.5);
        /// Noise scale s.
        scale: f64 = 1.0, Range::new(0.0, 100.0);
        /// Scale the noise by 1 + ‖x − x*‖.
        state_dependent: bool = false, ();
        /// SGD steps per run.
        steps: u32 = 500, Range::new(1, 10_000);
        /// Independent runs of the Monte Carlo.
        runs: u32 = 1024, Range::new(1, 4096);
        /// Sample gradients per step.
        batch: u32 = 8, Range::new(1, 64);
        /// Learning rate.
        lr: f64 = 0.05, Range::new(1e-5, 1.0);
        /// Clipping threshold c (also the step cap of the running median).
        threshold: f64 = 1.0, Range::new(1e-4, 1e4);
        /// Groups of the median-of-means.
        groups: u32 = 4, Range::new(1, 64);
        /// The norm of global-norm and per-sample clipping.
        norm: Norm = Norm::L2, ();
        /// Seed of the noise.
        seed: u32 = 0, Range::new(0, u32::MAX);
    }
}

/// Every estimator, in legend order.
pub const METHODS: [Method; 8] = [
    Method::Mean,
    Method::ClipNorm,
    Method::ClipCoord,
    Method::ClipSample,
    Method::Median,
    Method::GeoMedian,
    Method::Mom,
    Method::MedianIter,
];

impl ClippingConfig {
    pub fn noise_spec(&self) -> NoiseSpec {
        NoiseSpec {
            kind: self.noise,
            df: self.df as f32,
            alpha: self.alpha as f32,
            fraction: self.fraction as f32,
            scale: self.scale as f32,
            state_dependent: self.state_dependent,
        }
    }

    /// Recorded every `steps / 100` steps (at least every step).
    pub fn every(&self) -> u32 {
        (self.steps / 100).max(1)
    }

    pub fn run_spec(&self, method: Method) -> RunSpec {
        RunSpec {
            objective: self.objective,
            noise: self.noise_spec(),
            method,
            steps: self.steps,
            batch: self.batch,
            lr: self.lr as f32,
            threshold: self.threshold as f32,
            groups: self.groups,
            norm: self.norm,
            seed: self.seed,
            every: self.every(),
        }
    }
}

/// One estimator's distance-to-optimum statistics over the runs.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct EstimatorSummary {
    pub final_dist_median: f64,
    pub final_dist_p90: f64,
    /// Median distance at each recorded step.
    pub curve: Vec<f64>,
    pub curve_p10: Vec<f64>,
    pub curve_p90: Vec<f64>,
}

/// What `gradlab clipping` prints.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClippingReport {
    /// The recorded steps.
    pub steps: Vec<u32>,
    pub runs: u32,
    /// By estimator name, in [`METHODS`] order.
    pub estimators: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    pub summaries: Vec<(Method, EstimatorSummary)>,
}

impl ClippingReport {
    /// Estimators whose runs diverged: the median run ends against the wall
    /// |x_k| ≤ BOX that keeps every iterate finite (within 1 % of it).
    pub fn diverged(&self) -> Vec<Method> {
        self.summaries
            .iter()
            .filter(|(_, s)| {
                !s.final_dist_median.is_finite()
                    || s.final_dist_median >= 0.99 * f64::from(crate::kernels::robust::BOX)
            })
            .map(|(m, _)| *m)
            .collect()
    }
}

/// The q-quantile of `v` (linear interpolation between order statistics).
pub fn quantile(v: &mut [f32], q: f64) -> f64 {
    v.sort_by(f32::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    let a = f64::from(v[i]);
    let b = f64::from(v[(i + 1).min(v.len() - 1)]);
    a + frac * (b - a)
}

/// Summarises `curves[m][run][point]`.
pub fn summarise(cfg: &ClippingConfig, curves: &[Vec<Vec<f32>>], runs: u32) -> ClippingReport {
    let points = cfg.run_spec(Method::Mean).points() as usize;
    let mut summaries = Vec::new();
    let mut estimators = serde_json::Map::new();
    for (&m, runs_of_m) in METHODS.iter().zip(curves) {
        let mut med = Vec::with_capacity(points);
        let mut p10 = Vec::with_capacity(points);
        let mut p90 = Vec::with_capacity(points);
        for p in 0..points {
            let mut col: Vec<f32> = runs_of_m.iter().map(|c| c[p]).collect();
            med.push(quantile(&mut col, 0.5));
            p10.push(quantile(&mut col, 0.1));
            p90.push(quantile(&mut col, 0.9));
        }
        let s = EstimatorSummary {
            final_dist_median: *med.last().unwrap_or(&f64::NAN),
            final_dist_p90: *p90.last().unwrap_or(&f64::NAN),
            curve: med,
            curve_p10: p10,
            curve_p90: p90,
        };
        estimators.insert(
            m.as_str().to_string(),
            serde_json::to_value(&s).expect("summary serialises"),
        );
        summaries.push((m, s));
    }
    ClippingReport {
        steps: (0..points as u32).map(|p| p * cfg.every()).collect(),
        runs,
        estimators,
        summaries,
    }
}

/// The Monte Carlo on the CPU over `runs` runs.
pub fn monte_carlo_cpu(cfg: &ClippingConfig, runs: u32) -> ClippingReport {
    summarise(cfg, &curves_cpu(cfg, runs), runs)
}

/// Distance-to-optimum curves `[method][run][point]` on the CPU: the Monte
/// Carlo's heavy part, the twin of [`RobustRuns::curves`].
pub fn curves_cpu(cfg: &ClippingConfig, runs: u32) -> Vec<Vec<Vec<f32>>> {
    curves_of_runs(cfg, 0..runs)
}

/// The curves of runs `range` only (run `r` draws from its own counters, so
/// any split of `0..runs` joins back into [`curves_cpu`]'s numbers): the
/// unit the page's worker pool and the native threads split.
pub fn curves_of_runs(cfg: &ClippingConfig, range: std::ops::Range<u32>) -> Vec<Vec<Vec<f32>>> {
    let specs: Vec<_> = METHODS.iter().map(|&m| cfg.run_spec(m)).collect();
    let runs = range.len();
    let flat = par::map(specs.len() * runs, |k| {
        robust::run(&specs[k / runs], range.start + (k % runs) as u32, false).1
    });
    let mut it = flat.into_iter();
    specs
        .iter()
        .map(|_| it.by_ref().take(runs).collect())
        .collect()
}

/// Joins the curves of consecutive run ranges (from [`curves_of_runs`]) into one.
pub fn join_curves(parts: Vec<Vec<Vec<Vec<f32>>>>) -> Vec<Vec<Vec<f32>>> {
    let mut joined: Vec<Vec<Vec<f32>>> = vec![Vec::new(); METHODS.len()];
    for part in parts {
        for (all, runs) in joined.iter_mut().zip(part) {
            all.extend(runs);
        }
    }
    joined
}

/// The Monte Carlo on the GPU: one invocation per (estimator, run).
pub async fn monte_carlo_gpu(
    gpu: &Gpu,
    kernel: &RobustRuns,
    cfg: &ClippingConfig,
) -> Result<ClippingReport, GpuError> {
    let curves = kernel
        .curves(gpu, &cfg.run_spec(Method::Mean), &METHODS, cfg.runs)
        .await?;
    Ok(summarise(cfg, &curves, cfg.runs))
}

/// Run 0 of every estimator, step by step: the trajectories drawn over the contours.
pub fn trajectories(cfg: &ClippingConfig) -> Vec<(Method, Vec<[f32; 2]>)> {
    METHODS
        .iter()
        .map(|&m| (m, robust::run(&cfg.run_spec(m), 0, true).0))
        .collect()
}

/// Histogram of log10 ‖ξ‖ over `n` noise draws (state-independent part).
pub fn noise_norm_histogram(cfg: &ClippingConfig, n: u32) -> Histogram {
    let spec = NoiseSpec {
        scale: 1.0,
        ..cfg.noise_spec()
    };
    let key = RngKey::new(cfg.seed, 0x0000_0A15);
    histogram(
        (0..n).map(|i| {
            let v = robust::noise(&spec, key, i * WORDS_PER_NOISE);
            f64::from(robust::norm(&v, Norm::L2)).max(1e-12).log10()
        }),
        -3.0,
        7.0,
        50,
    )
}

/// The view window of an objective's contour plot: (x range, y range).
pub fn view_window(obj: Objective) -> ([f64; 2], [f64; 2]) {
    match obj {
        Objective::Quadratic => ([-2.5, 2.5], [-2.0, 2.0]),
        Objective::Rosenbrock => ([-2.0, 2.0], [-1.0, 3.0]),
        Objective::Logistic => ([-4.0, 4.0], [-4.0, 4.0]),
    }
}

/// log10 f(x) − log10 f(x*) + ε on an `n × n` grid over the view window, row by row from the top.
pub fn contour_grid(obj: Objective, n: usize) -> Vec<f64> {
    let (xr, yr) = view_window(obj);
    let opt = robust::optimum(obj);
    let f_opt = robust::value(obj, opt);
    let mut out = Vec::with_capacity(n * n);
    for j in 0..n {
        let y = yr[1] - (j as f64 + 0.5) / n as f64 * (yr[1] - yr[0]);
        for i in 0..n {
            let x = xr[0] + (i as f64 + 0.5) / n as f64 * (xr[1] - xr[0]);
            out.push((robust::value(obj, [x, y]) - f_opt + 1e-3).log10());
        }
    }
    out
}

/// The fixed point x* of clipped SGD on f(x) = ½x² with skewed noise
/// ξ = s·(E − 1), E ~ Exp(1): the root of E[clip(x + ξ, c)] = 0. It moves from
/// 0 (c → ∞: the mean, which is 0) to −median(ξ) = s·(1 − ln 2) (c → 0:
/// clipping becomes the sign, whose root is the median) (Koloskova et al. 2023;
/// Schaipp et al. 2024).
pub fn clipped_fixed_point(c: f64, s: f64) -> f64 {
    // E[h(E)] = ∫₀¹ h(−ln u) du, by the midpoint rule on 4,000 cells (the
    // integrand is bounded by c and monotone; error ≲ c/4000).
    // The cells' E − 1 values are the same for every x: take the logs once.
    let n = 4_000;
    let centred: Vec<f64> = (0..n)
        .map(|i| -((i as f64 + 0.5) / n as f64).ln() - 1.0)
        .collect();
    let expect = |x: f64| {
        centred
            .iter()
            .map(|v| (x + s * v).clamp(-c, c))
            .sum::<f64>()
            / n as f64
    };
    let (mut lo, mut hi) = (-10.0 * s - 1.0, 10.0 * s + 1.0);
    for _ in 0..45 {
        let mid = 0.5 * (lo + hi);
        if expect(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// (c, x*(c)) for c log-spaced over [1e-3, 1e3]·s.
pub fn fixed_point_curve(s: f64) -> Vec<(f64, f64)> {
    (0..=36)
        .map(|i| {
            let c = s.max(1e-9) * 10f64.powf(-3.0 + f64::from(i) / 6.0);
            (c, clipped_fixed_point(c, s))
        })
        .collect()
}

/// Sample gradients as CLI text: rows of comma-separated components
/// separated by `;` (e.g. `1,2;3,4`): 1 to [`robust::MAX_ROWS`] rows of
/// equal length, 1 to [`robust::MAX_DIM`] components each, every value finite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradRows(pub Vec<Vec<f64>>);

impl GradRows {
    /// Components per row.
    pub fn dim(&self) -> usize {
        self.0.first().map_or(0, Vec::len)
    }

    /// The rows, row-major, in f32.
    pub fn flat_f32(&self) -> Vec<f32> {
        self.0.iter().flatten().map(|&v| v as f32).collect()
    }
}

impl super::config::Param for GradRows {
    type Bound = Range<usize>;
    fn parse(text: &str) -> Result<Self, String> {
        use super::config::echo;
        // Bounded before parsing, so a huge value costs little.
        let texts: Vec<&str> = text.split(';').take(robust::MAX_ROWS + 1).collect();
        if texts.len() > robust::MAX_ROWS {
            return Err(format!("has more than {} rows", robust::MAX_ROWS));
        }
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(texts.len());
        for (i, row) in texts.iter().enumerate() {
            if row.trim().is_empty() {
                return Err(format!("row {i} is empty"));
            }
            let v: Vec<&str> = row.split(',').take(robust::MAX_DIM + 1).collect();
            if v.len() > robust::MAX_DIM {
                return Err(format!(
                    "row {i} has more than {} components",
                    robust::MAX_DIM
                ));
            }
            let v = v
                .iter()
                .map(|t| <f64 as super::config::Param>::parse(t))
                .collect::<Result<Vec<f64>, String>>()
                .map_err(|why| format!("row {i}: {why}"))?;
            if let Some(first) = rows.first()
                && first.len() != v.len()
            {
                return Err(format!(
                    "row {i} ({}) has {} components, row 0 has {} (rows must have equal length)",
                    echo(row),
                    v.len(),
                    first.len()
                ));
            }
            rows.push(v);
        }
        Ok(GradRows(rows))
    }
    fn render(&self) -> String {
        self.0
            .iter()
            .map(|r| r.iter().map(f64::to_string).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
            .join(";")
    }
    fn check(self, b: &Range<usize>) -> Result<Self, super::config::Violation<Self>> {
        if self.0.len() < b.min || self.0.len() > b.max {
            return Err(super::config::Violation {
                fixed: None,
                message: format!("has {} rows; needs {} to {}", self.0.len(), b.min, b.max),
            });
        }
        if let Some(v) = self.0.iter().flatten().find(|v| v.abs() > 1e30) {
            return Err(super::config::Violation {
                fixed: None,
                message: format!("has {v}, beyond ±1e30"),
            });
        }
        Ok(self)
    }
    fn describe(b: &Range<usize>) -> String {
        format!(
            "{} to {} rows of 1 to {} comma-separated finite numbers (all rows the same length), separated by `;`",
            b.min,
            b.max,
            robust::MAX_DIM
        )
    }
}

crate::define_config! {
    /// One robust estimate from given sample gradients (`gradlab robust`).
    pub struct RobustConfig {
        /// The estimator.
        method: Method = Method::Mean, ();
        /// Clipping threshold c.
        threshold: f64 = 1.0, Range::new(0.0, 1e12);
        /// Groups of the median-of-means.
        groups: u32 = 3, Range::new(1, 64);
        /// The sample gradients, one row each (any dimension up to 4,096).
        grads: GradRows = GradRows(vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![100.0, -50.0]]), Range::new(1, robust::MAX_ROWS);
        /// The norm of global-norm and per-sample clipping.
        norm: Norm = Norm::L2, ();
    }
}

/// The estimate of `gradlab robust` on the CPU, one value per component (for
/// `median-iter`: the running median after feeding the rows in order, from 0).
pub fn robust_estimate(cfg: &RobustConfig) -> Vec<f32> {
    let flat = cfg.grads.flat_f32();
    let d = cfg.grads.dim();
    let mut out = vec![0.0f32; d];
    robust::estimate_rows(
        cfg.method,
        robust::Rows::new(&flat, d),
        cfg.threshold as f32,
        cfg.groups as usize,
        cfg.norm,
        &mut out,
        &mut robust::Scratch::default(),
    );
    out
}

/// The same estimate on the GPU (`robust_estimate` in robust.wgsl).
pub async fn robust_estimate_gpu(gpu: &Gpu, cfg: &RobustConfig) -> Result<Vec<f32>, GpuError> {
    let kernel = gpu.kernel::<RobustEstimate>().await?;
    let flat = cfg.grads.flat_f32();
    kernel
        .estimate(
            gpu,
            cfg.method,
            robust::Rows::new(&flat, cfg.grads.dim()),
            cfg.threshold as f32,
            cfg.groups,
            cfg.norm,
        )
        .await
}

/// Runs of the Monte Carlo on the page's CPU.
pub const PAGE_CPU_RUNS: u32 = 32;

/// "Clipping is a median" in the registry.
pub struct Clipping;

impl Experiment for Clipping {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "clipping",
        title: "Clipping is a median",
        claim: "Under heavy-tailed noise, clipped SGD estimates the median gradient, not the mean.",
        papers: &[
            papers::SCHAIPP_2024,
            papers::KOLOSKOVA_2023,
            papers::PASCANU_2013,
        ],
        panels: &[
            PanelInfo::new("trajectories", "Trajectories from the same start"),
            PanelInfo::new("noise", "The noise and its tail"),
            PanelInfo::new("monte-carlo", "Monte Carlo: distance to the optimum"),
            PanelInfo::new("bias", "Clipping's bias under asymmetric noise"),
        ],
    };
    type Config = ClippingConfig;
    type Report = ClippingReport;

    async fn run(cfg: &ClippingConfig, on: &Compute) -> Result<ClippingReport, RunError> {
        Ok(match on {
            Compute::Cpu => monte_carlo_cpu(cfg, cfg.runs),
            Compute::Gpu(gpu) => {
                monte_carlo_gpu(gpu, &*gpu.kernel::<RobustRuns>().await?, cfg).await?
            }
        })
    }

    fn page_cpu_config(cfg: &ClippingConfig) -> ClippingConfig {
        ClippingConfig {
            runs: cfg.runs.min(PAGE_CPU_RUNS),
            ..cfg.clone()
        }
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        super::selftest::clipping(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "robust",
        about: "runs × steps SGD steps of one estimator, each combining a minibatch",
        fields: BenchRobustConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, RobustBench::new),
    }];
}

crate::define_config! {
    /// Size of a robust-estimator benchmark: runs × steps SGD steps of one estimator,
    /// each step combining a minibatch of sample gradients.
    pub struct BenchRobustConfig {
        /// The estimator.
        method: Method = Method::ClipNorm, ();
        /// Independent runs per iteration.
        runs: u32 = 64, Range::new(1, 4096);
        /// SGD steps per run.
        steps: u32 = 200, Range::new(1, 10_000);
        /// Sample gradients per step.
        batch: u32 = 32, Range::new(1, 256);
    }
}

/// The `robust` workload: every run of one estimator.
struct RobustBench {
    cfg: BenchRobustConfig,
    spec: RunSpec,
    on: Compute,
    kernel: Option<Arc<RobustRuns>>,
}

impl RobustBench {
    async fn new(cfg: BenchRobustConfig, on: Compute) -> Result<Self, RunError> {
        let clip = ClippingConfig {
            steps: cfg.steps,
            runs: cfg.runs,
            batch: cfg.batch,
            ..ClippingConfig::default()
        };
        let kernel = on.kernel::<RobustRuns>().await?;
        Ok(Self {
            spec: clip.run_spec(cfg.method),
            cfg,
            on,
            kernel,
        })
    }
}

impl Bench for RobustBench {
    /// Sample gradients combined (runs × steps × batch).
    fn items(&self) -> u64 {
        u64::from(self.cfg.runs) * u64::from(self.cfg.steps) * u64::from(self.cfg.batch)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        Box::pin(async move {
            match (&self.on, &self.kernel) {
                (Compute::Gpu(gpu), Some(k)) => {
                    let methods = [self.cfg.method];
                    std::hint::black_box(k.curves(gpu, &self.spec, &methods, self.cfg.runs).await?);
                }
                _ => {
                    for r in 0..self.cfg.runs {
                        std::hint::black_box(robust::run(&self.spec, r, false));
                    }
                }
            }
            Ok(())
        })
    }

    fn label(&self) -> Option<&'static str> {
        Some(self.cfg.method.as_str())
    }
}
