//! What classifier-free guidance really samples (Bradley & Nakkiran,
//! "Classifier-Free Guidance is a Predictor-Corrector", TMLR 2025): CFG with
//! DDIM and with DDPM at one weight w, and predictor-corrector guidance,
//! against the tilted target p(x|c)^w p(x)^(1−w) they are said to sample, on
//! data whose scores are exact.

use std::sync::Arc;

use super::bench::{Bench, Workload, prepare_with};
use super::config::{Config, ConfigError, ListBound, Range};
use super::diffusion::shipped_mlp;
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::{Check, check};
use crate::gpu::guidance::GuidanceKernel;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::agree;
/// The config's choices, for the widget (which never imports kernels).
pub use crate::kernels::diffusion::ScheduleKind;
use crate::kernels::diffusion::data::DiffusionData;
use crate::kernels::diffusion::metrics::sliced_wasserstein;
use crate::kernels::diffusion::score::MlpDenoiser;
use crate::kernels::diffusion::{self as dk, SamplerKind};
use crate::kernels::guidance::cads::{CadsParams, MlpPair};
use crate::kernels::guidance::{self as kg, GuidancePair, GuidedRun, MAX_CORRECTOR_STEPS, Moments};
pub use crate::kernels::guidance::{GridDensity, GuidedSampler, WSchedule};

/// The widget's panels (data-panel id, title), in page order.
pub const PANELS: &[PanelInfo] = &[
    PanelInfo::new("samples", "Samples over the tilted target"),
    PanelInfo::new("distance", "Distance to the tilted target against w"),
    PanelInfo::new("moments", "Moments against the target's"),
    PanelInfo::new("cads", "Diversity with condition annealing (CADS)"),
];

crate::param_enum! {
    /// Data whose conditional and unconditional scores are exact.
    pub enum GuidanceData {
        /// p(x|c) = N(m_c, s_c²I), p(x) = N(m_u, s_u²I): everything in closed form.
        GaussianPair = "gaussian-pair",
        /// The diffusion experiment's eight labelled Gaussians; class k is component k.
        Gmm8 = "gmm8",
    }
}

crate::param_enum! {
    /// Where the conditional and unconditional scores come from.
    pub enum ScoreSource {
        /// The exact scores of the data set.
        Exact = "exact",
        /// gmm8 only: the lab's shipped class-conditional MLP denoiser (its "no class" slot for p(x)); CPU only.
        Mlp = "mlp",
    }
}

crate::define_config! {
    /// Guided sampling on exact scores.
    pub struct GuidanceConfig {
        /// The data: the Gaussian pair, or the eight-Gaussian mixture.
        dataset: GuidanceData = GuidanceData::GaussianPair, ();
        /// Gaussian pair: the conditional mean m_c.
        cond_mean: Vec<f64> = vec![1.0, 0.0], ListBound { min_len: 2, max_len: 2, each: Range::new(-3.0, 3.0) };
        /// Gaussian pair: the conditional standard deviation s_c.
        cond_std: f64 = 0.5, Range::new(0.05, 3.0);
        /// Gaussian pair: the unconditional mean m_u.
        uncond_mean: Vec<f64> = vec![0.0, 0.0], ListBound { min_len: 2, max_len: 2, each: Range::new(-3.0, 3.0) };
        /// Gaussian pair: the unconditional standard deviation s_u.
        uncond_std: f64 = 1.0, Range::new(0.05, 3.0);
        /// The class c guided towards (gmm8: component 0–7; the Gaussian pair has one).
        class: u32 = 0, Range::new(0, 7);
        /// The guidance weight w (1: no guidance, the conditional).
        w: f64 = 3.0, Range::new(0.0, 10.0);
        /// The sampler: CFG with DDIM, CFG with DDPM, or predictor-corrector guidance.
        sampler: GuidedSampler = GuidedSampler::Ddim, ();
        /// PCG: Langevin corrector steps per noise level.
        corrector_steps: u32 = 1, Range::new(1, MAX_CORRECTOR_STEPS);
        /// PCG: the corrector's step size δ (step δσ² at noise σ).
        corrector_delta: f64 = 0.1, Range::new(1e-3, 1.0);
        /// The β schedule of the forward process.
        schedule: ScheduleKind = ScheduleKind::Cosine, ();
        /// Sampling steps.
        steps: u32 = 200, Range::new(1, 1000);
        /// Particles.
        n: u32 = 8192, Range::new(16, 1 << 20);
        /// How w changes along the run (mean w in every case).
        w_schedule: WSchedule = WSchedule::Constant, ();
        /// Seed of the sampling noise and of the target's samples.
        seed: u32 = 0, Range::new(0, u32::MAX);
        /// Score source: exact, or (gmm8, CPU) the shipped MLP denoiser, which CADS needs.
        score: ScoreSource = ScoreSource::Exact, ();
        /// CADS: anneal the MLP's class input, ĉ = √γ(t)·c + s·√(1 − γ(t))·n (needs score = mlp).
        cads: bool = false, ();
        /// CADS: the noise scale s.
        cads_noise: f64 = 0.25, Range::new(0.0, 2.0);
        /// CADS: τ₁, below which the condition is clean.
        cads_tau1: f64 = 0.6, Range::new(0.0, 1.0);
        /// CADS: τ₂, above which the condition is all noise.
        cads_tau2: f64 = 0.9, Range::new(0.0, 1.0);
        /// Samples returned in the report (for plots; 0: none).
        points: u32 = 0, Range::new(0, 4096);
        /// Resolution of the tilted target's density returned in the report (for contours; 0: none).
        grid: u32 = 0, Range::new(0, 128);
    }
    reconcile = reconcile;
}

fn note(field: &str, message: String) -> ConfigError {
    ConfigError {
        field: field.into(),
        message,
    }
}

fn reconcile(cfg: &mut GuidanceConfig) -> Vec<ConfigError> {
    let mut out = Vec::new();
    let classes = cfg.class_count();
    if cfg.class >= classes {
        let had = cfg.class;
        cfg.class = 0;
        let data = cfg.dataset.as_str();
        out.push(note(
            "class",
            format!("is {had}, but {data} has {classes} class(es); using 0"),
        ));
    }
    // Only the CLI loads the shipped MLP (from static/); the page's one-shot runs have none.
    let mlp_here = cfg!(not(target_arch = "wasm32"));
    if cfg.score == ScoreSource::Mlp && (cfg.dataset != GuidanceData::Gmm8 || !mlp_here) {
        cfg.score = ScoreSource::Exact;
        out.push(note(
            "score",
            "mlp needs dataset gmm8 and the command line; using exact".into(),
        ));
    }
    if cfg.cads && cfg.score != ScoreSource::Mlp {
        cfg.cads = false;
        out.push(note(
            "cads",
            "needs score = mlp (a network with a class input); off".into(),
        ));
    }
    if cfg.cads_tau1 > cfg.cads_tau2 {
        cfg.cads_tau1 = cfg.cads_tau2;
        out.push(note(
            "cads-tau1",
            "is above cads-tau2; using cads-tau2".into(),
        ));
    }
    out
}

/// The box every grid and plot of the experiment covers: [−R, R]².
pub const VIEW_RADIUS: f64 = 3.0;
/// Resolution of the fine grid the mixture's tilted target is normalised on
/// (cell 0.015 against the components' 0.1 standard deviation).
pub const TARGET_RES: usize = 400;
/// Most samples the sliced Wasserstein distance compares (cost n log n per direction).
pub const SWD_MAX: usize = 8192;

impl GuidanceConfig {
    pub fn class_count(&self) -> u32 {
        match self.dataset {
            GuidanceData::GaussianPair => 1,
            GuidanceData::Gmm8 => 8,
        }
    }

    fn pair_params(&self) -> ([f64; 2], f64, [f64; 2], f64) {
        let m = |v: &[f64]| [v[0], v[1]];
        (
            m(&self.cond_mean),
            self.cond_std,
            m(&self.uncond_mean),
            self.uncond_std,
        )
    }

    /// The exact conditional and unconditional of this config.
    pub fn pair(&self) -> GuidancePair {
        match self.dataset {
            GuidanceData::GaussianPair => {
                let (mc, sc, mu, su) = self.pair_params();
                let f = |m: [f64; 2]| [m[0] as f32, m[1] as f32];
                GuidancePair::gaussians(f(mc), sc as f32, f(mu), su as f32)
            }
            GuidanceData::Gmm8 => {
                let data = DiffusionData::Gmm8
                    .mixture(&dk::data::CustomMixture {
                        means: Vec::new(),
                        std: 0.0,
                    })
                    .expect("gmm8 is a mixture");
                GuidancePair::class_of(&data, self.class)
            }
        }
    }

    /// The run of this config over `pair` (its levels are the DDIM sampler's
    /// of the diffusion experiment).
    pub fn run_with<S>(&self, pair: S) -> GuidedRun<S> {
        let sched = dk::schedule(self.schedule, dk::TRAIN_STEPS);
        let levels = dk::levels(SamplerKind::Ddim, &sched, self.steps as usize);
        GuidedRun {
            pair,
            sampler: self.sampler,
            weights: kg::step_weights(self.w_schedule, self.w as f32, levels.len() - 1),
            levels,
            corrector_steps: self.corrector_steps,
            corrector_delta: self.corrector_delta as f32,
            seed: self.seed,
            particles: self.n,
        }
    }

    /// The run of this config on the exact scores.
    pub fn run(&self) -> GuidedRun {
        self.run_with(self.pair())
    }

    /// The MLP pair of this config (score = mlp), with CADS if on.
    pub fn mlp_pair(&self, mlp: MlpDenoiser) -> MlpPair {
        MlpPair {
            mlp,
            class: self.class,
            cads: self.cads.then_some(CadsParams {
                tau1: self.cads_tau1 as f32,
                tau2: self.cads_tau2 as f32,
                noise_scale: self.cads_noise as f32,
            }),
            seed: self.seed,
        }
    }

    /// The tilted target's moments and `count` samples of it (`None`: not normalisable).
    pub fn target(&self, count: usize) -> Option<(Moments, Vec<[f32; 2]>)> {
        match self.dataset {
            GuidanceData::GaussianPair => {
                let (mc, sc, mu, su) = self.pair_params();
                let (mean, std) = kg::tilted_gaussian(mc, sc, mu, su, self.w)?;
                let var = std * std;
                let moments = Moments {
                    mean,
                    std: [std, std],
                    cov: [var, 0.0, var],
                };
                Some((moments, kg::gaussian_samples(mean, std, self.seed, count)))
            }
            GuidanceData::Gmm8 => {
                let lo = [-VIEW_RADIUS, -VIEW_RADIUS];
                let g =
                    GridDensity::tilted(&self.pair(), self.w, lo, 2.0 * VIEW_RADIUS, TARGET_RES)?;
                Some((g.moments(), g.sample(self.seed, count)))
            }
        }
    }
}

/// The tilted target's moments.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TargetMoments {
    pub mean: [f64; 2],
    pub std: [f64; 2],
    /// Covariance (xx, xy, yy).
    pub cov: [f64; 3],
}

/// What a run reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GuidanceReport {
    pub samples_mean: [f64; 2],
    /// Per coordinate.
    pub samples_std: [f64; 2],
    /// Covariance (xx, xy, yy).
    pub samples_cov: [f64; 3],
    /// Monte Carlo standard error of each mean coordinate: std/√n.
    pub mean_se: [f64; 2],
    /// `null` where p(x|c)^w p(x)^(1−w) is not normalisable.
    pub target: Option<TargetMoments>,
    /// Sliced 2-Wasserstein distance between min(n, 8192) samples and as many
    /// samples of the tilted target.
    pub swd_to_target: Option<f64>,
    /// Score evaluations per particle.
    pub nfe: usize,
    /// The first `points` samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<[f32; 2]>,
    /// The tilted target on a `grid`² grid over its mean ± 4 standard deviations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<GridDensity>,
}

/// Every particle of the config's run, on `on`. The MLP source (and CADS)
/// runs on the CPU only: its GPU twin is not built (see the report).
pub async fn sample(cfg: &GuidanceConfig, on: &Compute) -> Result<Vec<[f32; 2]>, RunError> {
    if cfg.score == ScoreSource::Mlp {
        if let Compute::Gpu(_) = on {
            return Err(RunError::Config(note(
                "score",
                "mlp (and CADS) has no GPU kernel; use --backend cpu".into(),
            )));
        }
        let mlp =
            shipped_mlp(DiffusionData::Gmm8).map_err(|m| RunError::Config(note("score", m)))?;
        return Ok(cfg.run_with(cfg.mlp_pair(mlp)).sample_all());
    }
    let run = cfg.run();
    Ok(match on {
        Compute::Cpu => run.sample_all(),
        Compute::Gpu(gpu) => {
            gpu.kernel::<GuidanceKernel>()
                .await?
                .sample(gpu, &run)
                .await?
        }
    })
}

/// The report of the config's samples.
pub fn report(cfg: &GuidanceConfig, samples: &[[f32; 2]]) -> GuidanceReport {
    let m = Moments::of(samples);
    let n = samples.len().max(1) as f64;
    let count = samples.len().min(SWD_MAX);
    let target = cfg.target(count);
    let swd_to_target = target
        .as_ref()
        .map(|(_, t)| sliced_wasserstein(&samples[..count], t));
    let target = target.map(|(t, _)| TargetMoments {
        mean: t.mean,
        std: t.std,
        cov: t.cov,
    });
    GuidanceReport {
        samples_mean: m.mean,
        samples_std: m.std,
        samples_cov: m.cov,
        mean_se: [m.std[0] / n.sqrt(), m.std[1] / n.sqrt()],
        swd_to_target,
        target,
        nfe: cfg.run().nfe(),
        points: samples.iter().take(cfg.points as usize).copied().collect(),
        grid: target
            .filter(|_| cfg.grid > 0)
            .and_then(|t| plot_grid(cfg, t.mean, t.std)),
    }
}

/// The tilted target for contours: `grid`² cells over its mean ± 4 standard
/// deviations (the larger of the two), where its mass is.
fn plot_grid(cfg: &GuidanceConfig, mean: [f64; 2], std: [f64; 2]) -> Option<GridDensity> {
    let half = 4.0 * std[0].max(std[1]);
    let lo = [mean[0] - half, mean[1] - half];
    GridDensity::tilted(&cfg.pair(), cfg.w, lo, 2.0 * half, cfg.grid as usize)
}

/// Most particles × steps a CPU run takes in the page (a few hundred ms of wasm).
pub const PAGE_CPU_WORK: u64 = 1 << 21;

/// Guided sampling in the registry.
pub struct Guidance;

impl Experiment for Guidance {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "guidance",
        title: "What classifier-free guidance samples",
        claim: "Guidance with weight w does not sample p(x|c)^w p(x)^(1−w): DDIM and DDPM with the same w sample different distributions, and the predictor-corrector view explains the gap.",
        papers: &[
            papers::BRADLEY_NAKKIRAN_2025,
            papers::HO_SALIMANS_2022,
            papers::SADAT_CADS_2024,
            papers::SADAT_2025,
            papers::WANG_CFG_SCHEDULERS_2024,
            papers::YEHEZKEL_2025,
        ],
        panels: PANELS,
    };
    type Config = GuidanceConfig;
    type Report = GuidanceReport;

    async fn run(cfg: &GuidanceConfig, on: &Compute) -> Result<GuidanceReport, RunError> {
        let samples = sample(cfg, on).await?;
        Ok(report(cfg, &samples))
    }

    /// The page's CPU takes at most [`PAGE_CPU_WORK`] particle-steps (fewer particles, same steps).
    fn page_cpu_config(cfg: &GuidanceConfig) -> GuidanceConfig {
        let per = u64::from(cfg.steps) * u64::from(cfg.corrector_steps.max(1));
        let n = (PAGE_CPU_WORK / per.max(1)).clamp(16, u64::from(cfg.n)) as u32;
        GuidanceConfig { n, ..cfg.clone() }
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        selftest_checks(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "guidance-sample",
        about: "one whole guided sampling run (CFG-DDPM on gmm8, all steps)",
        fields: BenchGuidanceConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, GuidanceBench::new),
    }];
}

/// GPU against CPU on every sampler: the final particles agree to 1e-3
/// (scaled, floor 1): f32 rounding through 100 steps of exp-weighted means
/// (~1e-6 measured on lavapipe).
pub async fn selftest_checks(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut out = Vec::new();
    for sampler in GuidedSampler::ALL {
        let cfg = GuidanceConfig {
            dataset: GuidanceData::Gmm8,
            sampler: *sampler,
            corrector_steps: 2,
            steps: 100,
            n: 512,
            ..GuidanceConfig::default()
        };
        let run = cfg.run();
        let cpu = run.sample_all();
        let on_gpu = gpu
            .kernel::<GuidanceKernel>()
            .await?
            .sample(gpu, &run)
            .await?;
        let flat = |v: &[[f32; 2]]| v.iter().flatten().copied().collect::<Vec<f32>>();
        out.push(check(
            "guidance_sample",
            match sampler {
                GuidedSampler::Ddim => "largest scaled CFG-DDIM particle difference",
                GuidedSampler::Ddpm => "largest scaled CFG-DDPM particle difference",
                GuidedSampler::Pcg => "largest scaled PCG particle difference",
            },
            agree::worst_scaled(&flat(&cpu), &flat(&on_gpu), 1.0),
            1e-3,
        ));
    }
    Ok(out)
}

crate::define_config! {
    /// Size of a guided sampling benchmark run.
    pub struct BenchGuidanceConfig {
        /// Particles.
        n: u32 = 1 << 14, Range::new(16, 1 << 20);
        /// Sampling steps.
        steps: u32 = 200, Range::new(1, 1000);
    }
}

/// The `guidance-sample` workload.
struct GuidanceBench {
    cfg: GuidanceConfig,
    on: Compute,
    kernel: Option<Arc<GuidanceKernel>>,
}

impl GuidanceBench {
    async fn new(b: BenchGuidanceConfig, on: Compute) -> Result<Self, RunError> {
        let kernel = on.kernel::<GuidanceKernel>().await?;
        Ok(Self {
            cfg: GuidanceConfig {
                dataset: GuidanceData::Gmm8,
                sampler: GuidedSampler::Ddpm,
                n: b.n,
                steps: b.steps,
                ..GuidanceConfig::default()
            },
            on,
            kernel,
        })
    }
}

impl Bench for GuidanceBench {
    fn items(&self) -> u64 {
        u64::from(self.cfg.n)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        Box::pin(async move {
            let run = self.cfg.run();
            match (&self.on, &self.kernel) {
                (Compute::Gpu(gpu), Some(k)) => {
                    std::hint::black_box(k.sample(gpu, &run).await?);
                }
                _ => {
                    std::hint::black_box(run.sample_all());
                }
            }
            Ok(())
        })
    }
}

/// `gradlab guidance ... --samples-out FILE`: the samples as JSON lines of
/// `[x, y]` (every particle), next to the report.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_samples(path: &str, samples: &[[f32; 2]]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for p in samples {
        writeln!(f, "[{},{}]", p[0], p[1])?;
    }
    f.flush()
}
