//! Gradients without backpropagation (Fournier et al., ICML 2023; Chen, Xu &
//! Luo, ICML 2023): forward gradients and zeroth-order estimators against
//! backprop. The registry run is a descent with one estimator (`gradlab zo`);
//! `gradlab zo-estimate` is the single-estimate Monte Carlo at one point.

mod estimate;
pub mod race;
mod selftest;
pub mod view;

pub use estimate::{EstimateReport, ZoEstimateConfig, estimate, estimate_agreement};
pub use selftest::descent_agreement;

use super::bench::{Bench, Workload, prepare_with};
use super::config::{ConfigError, ListBound, Range};
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;
use crate::gpu::zo::{ZoDescent, ZoKernels};
use crate::gpu::{Gpu, GpuError};
pub use crate::kernels::zo::race::StepRule;
pub use crate::kernels::zo::{Estimator, Objective};
use crate::kernels::zo::{Radii, descent::Descent};
pub use race::{AccuracyCurve, RACE_ESTIMATORS, RaceFrame, RaceRun, Verdict};

crate::param_enum! {
    /// The objective of `gradlab zo`: an analytic f, or the MLP of the training race.
    pub enum ZoObjective {
        /// f(x) = ½‖x‖².
        Quadratic = "quadratic",
        /// Rosenbrock (1960).
        Rosenbrock = "rosenbrock",
        /// f(x) = Σ |x_j|.
        L1 = "l1",
        /// A two-unit ReLU network's squared loss (2-D only).
        Relu = "relu",
        /// The race's MLP classifier on spirals3 (CPU only; backprop, fwd, guess, spsa).
        Mlp = "mlp",
    }
}

impl ZoObjective {
    /// The analytic objective, or `None` for the MLP.
    pub fn analytic(self) -> Option<Objective> {
        match self {
            ZoObjective::Quadratic => Some(Objective::Quadratic),
            ZoObjective::Rosenbrock => Some(Objective::Rosenbrock),
            ZoObjective::L1 => Some(Objective::L1),
            ZoObjective::Relu => Some(Objective::Relu),
            ZoObjective::Mlp => None,
        }
    }
}

impl From<Objective> for ZoObjective {
    fn from(o: Objective) -> Self {
        match o {
            Objective::Quadratic => ZoObjective::Quadratic,
            Objective::Rosenbrock => ZoObjective::Rosenbrock,
            Objective::L1 => ZoObjective::L1,
            Objective::Relu => ZoObjective::Relu,
        }
    }
}
use std::sync::Arc;

/// The widget's panels (`data-panel` ids and titles), in page order.
pub const PANELS: &[PanelInfo] = &[
    PanelInfo::new("point", "Single estimates around a point"),
    PanelInfo::new("dimension", "The price of the dimension"),
    PanelInfo::new("gfm", "GFM against GFM⁺ on a nonsmooth objective"),
    PanelInfo::new("race", "A training race on spirals3"),
];

/// Most directions per step.
pub const MAX_BATCH: u32 = crate::kernels::zo::estimate::MAX_BATCH;

crate::define_config! {
    /// A descent with one estimator (and the 2-D point of the widget's cloud).
    pub struct ZoConfig {
        /// The objective f (relu is 2-D only; mlp is the race's classifier, CPU only).
        objective: ZoObjective = ZoObjective::Quadratic, ();
        /// Dimension d.
        dim: u32 = 16, Range::new(2, 4096);
        /// The gradient estimator.
        estimator: Estimator = Estimator::Fwd, ();
        /// Step size η.
        lr: f64 = 0.05, Range::new(1e-6, 10.0);
        /// Steps T.
        steps: u32 = 100, Range::new(1, 5000);
        /// Independent runs R (each its own Philox stream).
        runs: u32 = 16, Range::new(1, 1024);
        /// Directions b averaged per estimate.
        batch: u32 = 1, Range::new(1, MAX_BATCH);
        /// Seed of the directions.
        seed: u32 = 1, Range::new(0, u32::MAX);
        /// Gaussian smoothing μ of gauss, and SPSA's perturbation c.
        mu: f64 = 0.1, Range::new(1e-4, 10.0);
        /// Ball radius δ of sphere and sphere-vr.
        delta: f64 = 0.1, Range::new(1e-4, 10.0);
        /// Noise s of guess's direction u = ∇f + s·n.
        guess_noise: f64 = 1.0, Range::new(0.0, 100.0);
        /// GFM⁺: the batch of the refresh every `epoch` steps.
        big_batch: u32 = 16, Range::new(1, MAX_BATCH);
        /// GFM⁺: steps between refreshes m.
        epoch: u32 = 10, Range::new(1, 1000);
        /// The widget's 2-D point (x₁, x₂).
        at: Vec<f64> = vec![0.6, -0.4], ListBound { min_len: 2, max_len: 2, each: Range::new(-3.0, 3.0) };
        /// Single estimates in the widget's 2-D cloud.
        samples: u32 = 300, Range::new(2, 4000);
        /// Also report ‖∇f_δ(x_t)‖, the gradient norm of the ball-smoothed f (CPU only).
        grad_norm: bool = false, ();
        /// MLP: hidden-layer widths (ReLU), input to output.
        hidden: Vec<u32> = vec![32, 32], ListBound { min_len: 1, max_len: 3, each: Range::new(1, 64) };
        /// MLP: minibatch size B (sampled with replacement).
        minibatch: u32 = 32, Range::new(1, 256);
        /// MLP: spirals3 training points.
        train: u32 = 300, Range::new(3, 3000);
        /// MLP: held-out spirals3 test points.
        test: u32 = 600, Range::new(3, 3000);
        /// MLP: how each estimator's step follows from η (scaled: η/κ for fwd and spsa).
        step_rule: StepRule = StepRule::Scaled, ();
        /// MLP: SPSA's perturbation c.
        spsa_c: f64 = 0.001, Range::new(1e-5, 1.0);
        /// The race panel: SGD step η.
        race_lr: f64 = 0.2, Range::new(1e-4, 10.0);
        /// The race panel: forward passes each estimator may spend.
        budget: u32 = 6000, Range::new(10, 200_000);
    }
    reconcile = ZoConfig::reconcile_fields;
}

/// Most Philox words one run's stream may use: steps·B·d < 2³².
const MAX_WORDS: u64 = 1 << 32;

impl ZoConfig {
    fn reconcile_fields(&mut self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        if self.objective == ZoObjective::Mlp && !RACE_ESTIMATORS.contains(&self.estimator) {
            out.push(ConfigError {
                field: "estimator".into(),
                message: format!(
                    "is {}, which the mlp objective does not run (backprop, fwd, guess or spsa); using fwd",
                    self.estimator.as_str()
                ),
            });
            self.estimator = Estimator::Fwd;
        }
        if self.objective == ZoObjective::Relu && self.dim != 2 {
            out.push(ConfigError {
                field: "dim".into(),
                message: format!("is {}, but the relu surface is 2-D; using 2", self.dim),
            });
            self.dim = 2;
        }
        let width = self.direction_width();
        let words = u64::from(self.steps) * u64::from(self.descent().stride()) * width;
        if words >= MAX_WORDS {
            let most = ((MAX_WORDS - 1) / (u64::from(self.descent().stride()) * width)) as u32;
            out.push(ConfigError {
                field: "steps".into(),
                message: format!(
                    "is {}, more than one Philox stream holds at this dim and batch; using {most}",
                    self.steps
                ),
            });
            self.steps = most;
        }
        out
    }

    /// Components of one direction: d, or the MLP's parameter count.
    fn direction_width(&self) -> u64 {
        match self.objective {
            ZoObjective::Mlp => self.race_spec().spec.param_count() as u64,
            _ => u64::from(self.dim),
        }
    }

    pub fn radii(&self) -> Radii {
        Radii {
            mu: self.mu as f32,
            delta: self.delta as f32,
            guess_noise: self.guess_noise as f32,
        }
    }

    /// The descent this config runs.
    pub fn descent(&self) -> Descent {
        Descent {
            obj: self.objective.analytic().unwrap_or(Objective::Quadratic),
            est: self.estimator,
            d: self.dim,
            radii: self.radii(),
            lr: self.lr as f32,
            steps: self.steps,
            batch: self.batch,
            big_batch: self.big_batch,
            epoch: self.epoch,
            seed: self.seed,
        }
    }
}

/// Mean and 10 % / 90 % quantiles of the loss at each step, over runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossBands {
    pub mean: Vec<f64>,
    pub q10: Vec<f64>,
    pub q90: Vec<f64>,
}

/// What `gradlab zo` prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DescentReport {
    pub estimator: Estimator,
    pub dim: u32,
    /// Function evaluations (forward passes) per step.
    pub evals_per_step: f64,
    pub loss: LossBands,
    /// With `grad-norm`: the mean over runs of ‖∇f_δ(x_t)‖ at every step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<Vec<f64>>,
    /// With `--objective mlp`: test accuracy against steps and forward passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<AccuracyCurve>,
}

/// The q-quantile of sorted values (linear interpolation).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bands of `losses` (runs × (steps + 1), run after run).
pub fn bands(losses: &[f32], steps: u32) -> LossBands {
    let width = steps as usize + 1;
    let runs = losses.len() / width;
    let mut b = LossBands {
        mean: Vec::with_capacity(width),
        q10: Vec::with_capacity(width),
        q90: Vec::with_capacity(width),
    };
    for t in 0..width {
        let mut col: Vec<f64> = (0..runs)
            .map(|r| f64::from(losses[r * width + t]))
            .collect();
        b.mean.push(col.iter().sum::<f64>() / runs as f64);
        col.sort_by(f64::total_cmp);
        b.q10.push(quantile(&col, 0.1));
        b.q90.push(quantile(&col, 0.9));
    }
    b
}

/// The losses of every run of `cfg` on `on`.
pub async fn losses(cfg: &ZoConfig, on: &Compute) -> Result<Vec<f32>, GpuError> {
    let p = cfg.descent();
    Ok(match on {
        Compute::Cpu => crate::kernels::zo::descent::losses(&p, cfg.runs),
        Compute::Gpu(gpu) => {
            gpu.kernel::<ZoDescent>()
                .await?
                .losses(gpu, &p, cfg.runs)
                .await?
        }
    })
}

/// The losses of every run on the CPU, and the mean over runs of
/// ‖∇f_δ(x_t)‖ (the ball smoothing GFM and GFM⁺ are unbiased for; Chen, Xu & Luo 2023).
pub fn losses_and_grad_norms(cfg: &ZoConfig) -> (Vec<f32>, Vec<f64>) {
    let p = cfg.descent();
    let mut norms = vec![0.0f64; cfg.steps as usize + 1];
    let mut all = Vec::new();
    for r in 0..cfg.runs {
        all.extend(crate::kernels::zo::descent::run(&p, r, |t, x| {
            let g = crate::kernels::zo::smoothed::smoothed_grad(
                p.obj,
                Estimator::Sphere,
                x,
                cfg.mu,
                cfg.delta,
            );
            norms[t as usize] += g.iter().map(|v| v * v).sum::<f64>().sqrt() / f64::from(cfg.runs);
        }));
    }
    (all, norms)
}

/// `E f(x_T)` on f = ½‖x‖² from f₀ for the estimators whose E‖ĝ‖² = κ‖∇f‖² is
/// known: f₀(1 − 2η + κη²)^t with κ = 1 + (κ₁ − 1)/b, κ₁ = 1 (backprop),
/// d + 2 (fwd, gauss: Baydin et al. 2022), d (spsa: Spall 1992; sphere: E(w·g)² = ‖g‖²/d).
pub fn quadratic_expectation(
    est: Estimator,
    d: u32,
    batch: u32,
    lr: f64,
    f0: f64,
    steps: u32,
) -> Option<Vec<f64>> {
    let d = f64::from(d);
    let kappa1 = match est {
        Estimator::Backprop => 1.0,
        Estimator::Fwd | Estimator::Gauss => d + 2.0,
        Estimator::Spsa | Estimator::Sphere => d,
        _ => return None,
    };
    let kappa = 1.0 + (kappa1 - 1.0) / f64::from(batch);
    let factor = 1.0 - 2.0 * lr + kappa * lr * lr;
    Some((0..=steps).map(|t| f0 * factor.powi(t as i32)).collect())
}

/// The step η* = 1/κ that minimises the expected loss factor 1 − 2η + κη² on the quadratic.
pub fn best_quadratic_lr(est: Estimator, d: u32, batch: u32) -> f64 {
    let d = f64::from(d);
    let kappa1 = match est {
        Estimator::Fwd | Estimator::Gauss => d + 2.0,
        Estimator::Spsa | Estimator::Sphere => d,
        _ => 1.0,
    };
    1.0 / (1.0 + (kappa1 - 1.0) / f64::from(batch))
}

/// The experiment in the registry.
pub struct Zo;

/// Most runs × steps × dim × batch a page CPU run takes (≈ 0.5 s in the worker).
pub const PAGE_CPU_WORK: u64 = 1 << 22;

impl Experiment for Zo {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "zo",
        title: "Gradients without backpropagation",
        claim: "Estimators that see only directional derivatives or function values pay a price that grows with the dimension; a good guess of the direction buys much of it back.",
        papers: &[
            papers::FOURNIER_2023,
            papers::CHEN_XU_LUO_2023,
            papers::BAYDIN_2022,
            papers::NESTEROV_SPOKOINY_2017,
            papers::SPALL_1992,
        ],
        panels: PANELS,
    };
    type Config = ZoConfig;
    type Report = DescentReport;

    async fn run(cfg: &ZoConfig, on: &Compute) -> Result<DescentReport, RunError> {
        if cfg.objective == ZoObjective::Mlp {
            let field = if cfg.grad_norm {
                "grad-norm"
            } else {
                "objective"
            };
            if cfg.grad_norm || on.gpu().is_some() {
                return Err(RunError::Config(ConfigError {
                    field: field.into(),
                    message:
                        "the mlp race runs on the CPU only, without grad-norm (use --backend cpu)"
                            .into(),
                }));
            }
            return Ok(race::run_mlp(cfg));
        }
        let (l, grad_norm) = if cfg.grad_norm {
            if on.gpu().is_some() {
                return Err(RunError::Config(ConfigError {
                    field: "grad-norm".into(),
                    message: "is computed on the CPU only (use --backend cpu)".into(),
                }));
            }
            let (l, g) = losses_and_grad_norms(cfg);
            (l, Some(g))
        } else {
            (losses(cfg, on).await?, None)
        };
        Ok(DescentReport {
            estimator: cfg.estimator,
            dim: cfg.dim,
            evals_per_step: cfg.descent().evals_per_step(),
            loss: bands(&l, cfg.steps),
            grad_norm,
            accuracy: None,
        })
    }

    /// The page's CPU runs at most [`PAGE_CPU_WORK`] direction components (an mlp
    /// step counts its minibatch and training-set passes): fewer
    /// runs first (with `grad-norm`, whose smoothed gradient costs ~256 evaluations a
    /// component, [`PAGE_CPU_WORK`]/64).
    fn page_cpu_config(cfg: &ZoConfig) -> ZoConfig {
        // An mlp step evaluates its minibatch a few times and the training loss once.
        let cost = if cfg.grad_norm {
            64
        } else if cfg.objective == ZoObjective::Mlp {
            4 * u64::from(cfg.minibatch) + u64::from(cfg.train)
        } else {
            1
        };
        let unit = cost * cfg.direction_width() * u64::from(cfg.descent().stride());
        let per_run = u64::from(cfg.steps) * unit;
        let runs = (PAGE_CPU_WORK / per_run.max(1)).clamp(1, u64::from(cfg.runs)) as u32;
        let steps = if per_run > PAGE_CPU_WORK {
            (PAGE_CPU_WORK / unit.max(1)).max(1) as u32
        } else {
            cfg.steps
        };
        ZoConfig {
            runs,
            steps: steps.min(cfg.steps),
            ..cfg.clone()
        }
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        selftest::checks(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "zo",
        about: "single forward-gradient estimates of ½‖x‖² in d = 1024",
        fields: BenchZoConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, ZoBench::new),
    }];
}

crate::define_config! {
    /// Size of a single-estimate benchmark (the `zo_draws` and `zo_mean` kernels).
    pub struct BenchZoConfig {
        /// Single estimates per iteration.
        samples: u32 = 4096, Range::new(1, 1 << 20);
        /// Dimension.
        dim: u32 = 1024, Range::new(2, 4096);
    }
}

use super::config::Config as _;

/// The `zo` workload.
struct ZoBench {
    samples: u32,
    problem: crate::kernels::zo::estimate::Problem,
    on: Compute,
    kernel: Option<Arc<ZoKernels>>,
}

impl ZoBench {
    async fn new(cfg: BenchZoConfig, on: Compute) -> Result<Self, RunError> {
        let kernel = on.kernel::<ZoKernels>().await?;
        Ok(Self {
            samples: cfg.samples,
            problem: estimate::problem_at(
                Objective::Quadratic,
                Estimator::Fwd,
                vec![1.0 / (cfg.dim as f32).sqrt(); cfg.dim as usize],
                Radii {
                    mu: 0.1,
                    delta: 0.1,
                    guess_noise: 1.0,
                },
                1,
                1,
            ),
            on,
            kernel,
        })
    }
}

impl Bench for ZoBench {
    fn items(&self) -> u64 {
        u64::from(self.samples)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        Box::pin(async move {
            match (&self.on, &self.kernel) {
                (Compute::Gpu(gpu), Some(k)) => {
                    std::hint::black_box(k.draws(gpu, &self.problem, self.samples).await?);
                }
                _ => {
                    std::hint::black_box(crate::kernels::zo::estimate::monte_carlo(
                        &self.problem,
                        self.samples,
                    ));
                }
            }
            Ok(())
        })
    }
}
