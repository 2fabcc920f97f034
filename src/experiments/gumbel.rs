//! The Gumbel-Softmax experiment (Jang, Gu & Poole, ICLR 2017): sampling,
//! temperature, and six estimators of ∇_θ E[f(z)] side by side.

use super::config::{ConfigError, ListBound, Range};
use crate::gpu::gumbel::GumbelMoments;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::gumbel::{self, GUMBEL_STREAM, MAX_BATCH, Problem};
/// The report of a run, and the softmax the widget draws probabilities with.
pub use crate::kernels::gumbel::{Estimates, Objective, softmax};
use crate::kernels::rng::RngKey;
use std::sync::Arc;

use super::bench::{Bench, Workload, prepare_with};
use super::config::Config;
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;

crate::define_config! {
    /// The Gumbel-Softmax experiment.
    pub struct GumbelConfig {
        /// Category logits θ; K is their number (2 to 16).
        logits: Vec<f64> = vec![0.5, 1.0, -1.0, 2.0], ListBound { min_len: 2, max_len: 16, each: Range::new(-1e4, 1e4) };
        /// Weights w of the objective, one per category.
        weights: Vec<f64> = vec![1.0, 2.0, 3.0, 4.0], ListBound { min_len: 2, max_len: 16, each: Range::new(-100.0, 100.0) };
        /// The objective: linear f(z) = Σ w_k z_k, or quadratic f(z) = Σ w_k z_k² (equal on one-hot z; straight-through differs from Gumbel-Softmax only for the quadratic).
        objective: Objective = Objective::Quadratic, ();
        /// Temperature τ of the relaxation.
        tau: f64 = 0.5, Range::new(0.05, 10.0);
        /// Monte Carlo samples of the gradient estimates.
        samples: u32 = 200_000, Range::new(2, 1 << 24);
        /// Seed of the Gumbel noise.
        seed: u32 = 1, Range::new(0, u32::MAX);
        /// Annealing rate r of τ(t) = max(τ_min, τ·e^(−r·t)); 0 turns annealing off.
        anneal: f64 = 0.0, Range::new(0.0, 1.0);
        /// Floor τ_min of the annealing schedule.
        tau_min: f64 = 0.1, Range::new(0.05, 10.0);
        /// Learning rate of the mini optimisation.
        lr: f64 = 0.5, Range::new(1e-4, 10.0);
        /// Steps of the mini optimisation.
        steps: u32 = 200, Range::new(1, 5000);
        /// Samples per batch: the mini optimisation's samples per step, and the leave-one-out (RLOO) batch, which needs at least 2.
        batch: u32 = 8, Range::new(2, MAX_BATCH);
    }
    reconcile = GumbelConfig::reconcile_fields;
}

impl GumbelConfig {
    fn reconcile_fields(&mut self) -> Vec<ConfigError> {
        let mut out = self.match_weights();
        out.extend(self.whole_batches());
        out
    }

    /// At least two RLOO batches, so that their variance is defined.
    fn whole_batches(&mut self) -> Vec<ConfigError> {
        let least = 2 * self.batch;
        if self.samples >= least {
            return Vec::new();
        }
        let had = self.samples;
        self.samples = least;
        vec![ConfigError {
            field: "samples".into(),
            message: format!(
                "is {had}, fewer than two leave-one-out batches of {} (`batch`); using {least}",
                self.batch
            ),
        }]
    }

    /// One weight per logit: extra weights are dropped, missing ones are 0.
    fn match_weights(&mut self) -> Vec<ConfigError> {
        let k = self.logits.len();
        if self.weights.len() == k {
            return Vec::new();
        }
        let had = self.weights.len();
        self.weights.resize(k, 0.0);
        vec![ConfigError {
            field: "weights".into(),
            message: format!("has {had} values but there are {k} logits; using {k}"),
        }]
    }

    pub fn k(&self) -> usize {
        self.logits.len()
    }

    /// The problem at logits `logits` and temperature `tau`.
    pub fn problem_at(&self, logits: &[f64], tau: f64) -> Problem {
        Problem::new(logits, &self.weights, tau, self.objective, self.batch)
    }

    /// The problem at temperature `tau`.
    pub fn problem(&self, tau: f64) -> Problem {
        self.problem_at(&self.logits, tau)
    }

    /// The noise of the Monte Carlo estimates.
    pub fn key(&self) -> RngKey {
        RngKey::new(self.seed, GUMBEL_STREAM)
    }

    /// The annealed temperature τ(t) = max(τ_min, τ·e^(−r·t)) (Jang et al. 2017, §4).
    pub fn tau_at(&self, t: f64) -> f64 {
        if self.anneal == 0.0 {
            self.tau
        } else {
            (self.tau * (-self.anneal * t).exp()).max(self.tau_min.min(self.tau))
        }
    }
}

/// Estimates at the config's τ, on the CPU.
pub fn estimate_cpu(cfg: &GumbelConfig) -> Estimates {
    let sums = gumbel::moment_sums(&cfg.problem(cfg.tau), cfg.key(), 0, cfg.samples);
    gumbel::estimates(
        &cfg.logits,
        &cfg.weights,
        &sums,
        u64::from(cfg.samples),
        cfg.batch,
    )
}

/// Estimates at the config's τ, on the GPU.
pub async fn estimate_gpu(
    gpu: &Gpu,
    kernel: &GumbelMoments,
    cfg: &GumbelConfig,
) -> Result<Estimates, GpuError> {
    let sums = kernel
        .sums(gpu, &[cfg.problem(cfg.tau)], cfg.key(), 0, cfg.samples)
        .await?;
    Ok(gumbel::estimates(
        &cfg.logits,
        &cfg.weights,
        &sums[0],
        u64::from(cfg.samples),
        cfg.batch,
    ))
}

/// The sampled estimators, in chart order.
pub const ESTIMATORS: [&str; 5] = [
    "REINFORCE",
    "REINFORCE + oracle baseline",
    "REINFORCE + leave-one-out (RLOO)",
    "Gumbel-Softmax",
    "Straight-through",
];

/// Each sampled estimator's statistics, in [`ESTIMATORS`] order.
pub fn in_chart_order(g: &gumbel::Gradients) -> [&gumbel::EstimatorStats; 5] {
    [
        &g.reinforce,
        &g.reinforce_baseline,
        &g.reinforce_loo,
        &g.gumbel_softmax,
        &g.straight_through,
    ]
}

/// Bias and variance of each sampled estimator at one temperature.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepPoint {
    pub tau: f64,
    /// ‖E[ĝ] − ∇‖₂ per estimator ([`ESTIMATORS`] order), up to Monte Carlo error.
    pub bias: [f64; 5],
    /// Standard error of that bias estimate: sqrt(Σ_k Var[ĝ_k] / n).
    pub bias_se: [f64; 5],
    /// Σ_k Var[ĝ_k], the per-sample variance.
    pub var: [f64; 5],
}

fn sweep_point(tau: f64, e: &Estimates, n: u32) -> SweepPoint {
    let g = &e.grad;
    let all = in_chart_order(g);
    SweepPoint {
        tau,
        bias: all.map(|s| s.bias(&g.exact)),
        bias_se: all.map(|s| (s.total_var() / f64::from(n)).sqrt()),
        var: all.map(|s| s.total_var()),
    }
}

/// Temperatures of the bias–variance sweep: 13 points log-spaced over [0.05, 10].
pub fn tau_sweep() -> Vec<f64> {
    let (lo, hi) = (0.05f64.ln(), 10f64.ln());
    (0..13)
        .map(|i| (lo + (hi - lo) * f64::from(i) / 12.0).exp())
        .collect()
}

/// The bias–variance sweep with `n` samples per temperature, on the CPU.
pub fn sweep_cpu(cfg: &GumbelConfig, n: u32) -> Vec<SweepPoint> {
    sweep_of(cfg, n, 0..tau_sweep().len())
}

/// The sweep's temperatures `range` only: each draws from the same counters
/// whatever else runs, so any split of them joins into [`sweep_cpu`]'s
/// numbers (the unit the page's worker pool and the native threads split).
pub fn sweep_of(cfg: &GumbelConfig, n: u32, range: std::ops::Range<usize>) -> Vec<SweepPoint> {
    let taus = tau_sweep();
    let taus = &taus[range.start.min(taus.len())..range.end.min(taus.len())];
    crate::kernels::par::map(taus.len(), |i| {
        let tau = taus[i];
        let sums = gumbel::moment_sums(&cfg.problem(tau), cfg.key(), 0, n);
        sweep_point(
            tau,
            &gumbel::estimates(&cfg.logits, &cfg.weights, &sums, u64::from(n), cfg.batch),
            n,
        )
    })
}

/// The bias–variance sweep with `n` samples per temperature, on the GPU in one submission.
pub async fn sweep_gpu(
    gpu: &Gpu,
    kernel: &GumbelMoments,
    cfg: &GumbelConfig,
    n: u32,
) -> Result<Vec<SweepPoint>, GpuError> {
    let taus = tau_sweep();
    let problems: Vec<Problem> = taus.iter().map(|&t| cfg.problem(t)).collect();
    let sums = kernel.sums(gpu, &problems, cfg.key(), 0, n).await?;
    Ok(taus
        .iter()
        .zip(&sums)
        .map(|(&tau, s)| {
            sweep_point(
                tau,
                &gumbel::estimates(&cfg.logits, &cfg.weights, s, u64::from(n), cfg.batch),
                n,
            )
        })
        .collect())
}

/// The bias–variance sweep over τ with `n` samples per temperature, on `on`.
pub async fn sweep(cfg: &GumbelConfig, n: u32, on: &Compute) -> Result<Vec<SweepPoint>, GpuError> {
    match on {
        Compute::Cpu => Ok(sweep_cpu(cfg, n)),
        Compute::Gpu(gpu) => sweep_gpu(gpu, &*gpu.kernel::<GumbelMoments>().await?, cfg, n).await,
    }
}

/// RNG stream of the mini optimisation's noise (shared by every estimator).
pub const OPTIMISE_STREAM: u32 = 0x0000_0971;

/// The names of an [`Optimisation`]'s curves.
fn curve_names() -> Vec<&'static str> {
    std::iter::once("exact").chain(ESTIMATORS).collect()
}

/// The objective E[f(z)] along each estimator's optimisation path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Optimisation {
    /// Curve names: "exact" then [`ESTIMATORS`] (fixed, so never sent).
    #[serde(skip_deserializing, default = "curve_names")]
    pub names: Vec<&'static str>,
    /// `curves[e][t]` = E[f(z)] = Σ p w after t steps of estimator e.
    pub curves: Vec<Vec<f64>>,
    /// The best attainable value, min_k w_k.
    pub optimum: f64,
}

/// The gradient estimate of curve `e` ([`curve_names`] order, 1..) from the
/// `batch` samples of step `t`: the mean of the per-sample estimates, or
/// RLOO on the step's batch.
fn step_estimate(cfg: &GumbelConfig, theta: &[f64], e: usize, t: u32) -> Vec<f64> {
    let key = RngKey::new(cfg.seed, OPTIMISE_STREAM);
    let p = cfg.problem_at(theta, cfg.tau_at(f64::from(t)));
    let mut g = vec![0.0; theta.len()];
    let mut counts = vec![0.0f32; theta.len()];
    for j in 0..cfg.batch {
        let s = gumbel::sample(&p, key, t * cfg.batch + j);
        counts[s.hard] += 1.0;
        let est = match e {
            1 => &s.reinforce,
            2 => &s.reinforce_baseline,
            4 => &s.gumbel_softmax,
            5 => &s.straight_through,
            _ => continue,
        };
        for (gi, v) in g.iter_mut().zip(est) {
            *gi += f64::from(*v) / f64::from(cfg.batch);
        }
    }
    if e == 3 {
        g = gumbel::rloo(&p.weights, &counts, p.batch)
            .into_iter()
            .map(f64::from)
            .collect();
    }
    g
}

/// Gradient descent on θ to minimise E[f(z)] with each estimator from the
/// same start and the same noise (common random numbers): step t uses
/// samples t·batch .. (t+1)·batch at temperature τ(t).
pub fn optimise(cfg: &GumbelConfig) -> Optimisation {
    let names = curve_names();
    let curves = (0..names.len())
        .map(|e| {
            let mut theta = cfg.logits.clone();
            let mut curve = vec![gumbel::expected_value(&theta, &cfg.weights)];
            for t in 0..cfg.steps {
                let grad: Vec<f64> = if e == 0 {
                    gumbel::exact_grad(&theta, &cfg.weights)
                } else {
                    step_estimate(cfg, &theta, e, t)
                };
                for (th, g) in theta.iter_mut().zip(&grad) {
                    *th = (*th - cfg.lr * g).clamp(-1e4, 1e4);
                }
                curve.push(gumbel::expected_value(&theta, &cfg.weights));
            }
            curve
        })
        .collect();
    Optimisation {
        names,
        curves,
        optimum: cfg.weights.iter().copied().fold(f64::INFINITY, f64::min),
    }
}

/// RNG stream of the live sample view.
pub const LIVE_STREAM: u32 = 0x0000_11FE;
/// Relaxed samples the simplex view keeps.
pub const LIVE_RECENT: usize = 1500;

/// The live sample stream: running hard-sample counts, the running mean of
/// relaxed samples at the current τ, and the most recent relaxed samples.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveSampler {
    next: u32,
    hard_counts: Vec<u64>,
    soft_sums: Vec<f64>,
    soft_n: u64,
    /// Recent (relaxed sample, hard category), oldest first.
    pub recent: std::collections::VecDeque<(Vec<f32>, usize)>,
}

impl LiveSampler {
    /// Starts over (new logits or K).
    pub fn reset(&mut self, k: usize) {
        *self = Self {
            hard_counts: vec![0; k],
            soft_sums: vec![0.0; k],
            ..Self::default()
        };
    }

    /// Forgets the relaxed-sample mean (τ changed); hard counts do not depend on τ.
    pub fn reset_soft(&mut self) {
        self.soft_sums.iter_mut().for_each(|s| *s = 0.0);
        self.soft_n = 0;
    }

    /// Draws the next `count` samples of the live stream at temperature `tau`.
    pub fn advance(&mut self, cfg: &GumbelConfig, tau: f64, count: u32) {
        let k = cfg.k();
        if self.hard_counts.len() != k {
            self.reset(k);
        }
        let p = cfg.problem(tau);
        let key = RngKey::new(cfg.seed, LIVE_STREAM);
        for _ in 0..count {
            let s = gumbel::sample(&p, key, self.next);
            self.next = self.next.wrapping_add(1);
            self.hard_counts[s.hard] += 1;
            for (sum, y) in self.soft_sums.iter_mut().zip(&s.soft) {
                *sum += f64::from(*y);
            }
            self.soft_n += 1;
            if self.recent.len() == LIVE_RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back((s.soft, s.hard));
        }
    }

    /// Samples drawn since the last reset.
    pub fn drawn(&self) -> u64 {
        self.hard_counts.iter().sum()
    }

    /// Frequency of each hard category.
    pub fn hard_freq(&self) -> Vec<f64> {
        let n = self.drawn().max(1) as f64;
        self.hard_counts.iter().map(|&c| c as f64 / n).collect()
    }

    /// Mean of max_k y_k over the recent relaxed samples: 1 when they sit on the
    /// simplex's corners (τ → 0), 1/K at its centre (τ → ∞).
    pub fn corner_sharpness(&self) -> f64 {
        let n = self.recent.len().max(1) as f64;
        self.recent
            .iter()
            .map(|(y, _)| f64::from(y.iter().copied().fold(0.0f32, f32::max)))
            .sum::<f64>()
            / n
    }

    /// Mean relaxed sample at the current τ.
    pub fn soft_mean(&self) -> Vec<f64> {
        let n = self.soft_n.max(1) as f64;
        self.soft_sums.iter().map(|s| s / n).collect()
    }
}

/// Most samples a CPU estimate takes in the page.
pub const PAGE_CPU_SAMPLES: u32 = 1 << 18;

/// Gumbel-Softmax in the registry.
pub struct Gumbel;

impl Experiment for Gumbel {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "gumbel",
        title: "Gumbel-Softmax",
        claim: "A temperature makes categorical sampling differentiable, trading bias for variance.",
        papers: &[papers::JANG_2017, papers::MADDISON_2017, papers::KOOL_2019],
        panels: &[
            PanelInfo::new("bias-variance", "Bias and variance against τ"),
            PanelInfo::new("logits", "Logits θ and weights w"),
            PanelInfo::new("temperature", "Temperature"),
            PanelInfo::new("samples", "Samples, live"),
            PanelInfo::new("sample-bars", "Hard and relaxed samples against softmax(θ)"),
            PanelInfo::new("estimators", "Gradient estimators at the current τ"),
            PanelInfo::new("optimisation", "Mini optimisation with each estimator"),
        ],
    };
    type Config = GumbelConfig;
    type Report = Estimates;

    async fn run(cfg: &GumbelConfig, on: &Compute) -> Result<Estimates, RunError> {
        Ok(match on {
            Compute::Cpu => estimate_cpu(cfg),
            Compute::Gpu(gpu) => {
                estimate_gpu(gpu, &*gpu.kernel::<GumbelMoments>().await?, cfg).await?
            }
        })
    }

    fn page_cpu_config(cfg: &GumbelConfig) -> GumbelConfig {
        GumbelConfig {
            samples: cfg.samples.min(PAGE_CPU_SAMPLES),
            ..cfg.clone()
        }
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        super::selftest::gumbel(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "gumbel",
        about: "moments of all six estimators over 2^20 samples",
        fields: BenchGumbelConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, GumbelBench::new),
    }];
}

crate::define_config! {
    /// Size of a Gumbel-Softmax estimator benchmark run (all six estimators, moments).
    pub struct BenchGumbelConfig {
        /// Samples per iteration.
        samples: u32 = 1 << 20, Range::new(1, 1 << 24);
        /// Categories.
        k: u32 = 4, Range::new(2, 16);
    }
}

/// The `gumbel` workload: moment sums of `samples` draws of one problem.
struct GumbelBench {
    samples: u32,
    problem: Problem,
    on: Compute,
    kernel: Option<Arc<GumbelMoments>>,
}

impl GumbelBench {
    async fn new(cfg: BenchGumbelConfig, on: Compute) -> Result<Self, RunError> {
        let k = cfg.k as usize;
        let logits: Vec<f64> = (0..k).map(|i| (i as f64 * 0.7).sin()).collect();
        let weights: Vec<f64> = (0..k).map(|i| i as f64).collect();
        let kernel = on.kernel::<GumbelMoments>().await?;
        Ok(Self {
            samples: cfg.samples,
            problem: Problem::new(&logits, &weights, 0.5, Objective::Quadratic, 8),
            on,
            kernel,
        })
    }
}

impl Bench for GumbelBench {
    fn items(&self) -> u64 {
        u64::from(self.samples)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        let key = RngKey::new(1, GUMBEL_STREAM);
        Box::pin(async move {
            match (&self.on, &self.kernel) {
                (Compute::Gpu(gpu), Some(k)) => {
                    let problems = std::slice::from_ref(&self.problem);
                    std::hint::black_box(k.sums(gpu, problems, key, 0, self.samples).await?);
                }
                _ => {
                    std::hint::black_box(gumbel::moment_sums(&self.problem, key, 0, self.samples));
                }
            }
            Ok(())
        })
    }
}
