//! Live tiny-diffusion sampling: particles flow from noise to a 2D data set
//! under a chosen score source, sampler, schedule and guidance. The same
//! [`Sampling`] runs the CLI to completion and the widget a bounded slice per
//! animation frame.

use serde::Serialize;

use super::Backend;
use super::config::{Config, ConfigError, ListBound, Range};
use crate::gpu::diffusion::{DiffusionGpu, DiffusionKernel, RunSetup, read_particles};
use crate::gpu::{Gpu, GpuError};
use crate::kernels::diffusion::data::{CustomMixture, FRESH_OFFSET};
/// The data, score and sampler types the widget names, from the kernels.
pub use crate::kernels::diffusion::data::{
    DiffusionData, MAX_DRAWN_POINTS, PointSet, sanitize_drawn,
};
use crate::kernels::diffusion::metrics::{
    memorized_fraction, memorized_fraction_ratio, sliced_wasserstein,
};
use crate::kernels::diffusion::score::{
    ApgParams, GaussianScore, Guided, Mixture, SMOOTH_STREAM, Smoothed,
};
pub use crate::kernels::diffusion::score::{MlpDenoiser, Source};
use crate::kernels::diffusion::{self as dk, NOISE_STREAM, SamplerParams};
pub use crate::kernels::diffusion::{Level, SamplerKind, ScheduleKind, TRAIN_STEPS, schedule};
use crate::kernels::rng::RngKey;
use std::sync::Arc;

use super::bench::{Bench, Workload, prepare_with};
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;

crate::param_enum! {
    /// Where the sampler's scores come from.
    pub enum ScoreKind {
        /// The exact score of the data's own Gaussian mixture (gmm8, custom).
        ExactGmm = "exact-gmm",
        /// The exact score of the noised empirical distribution of the training points.
        Empirical = "empirical",
        /// The smoothed closed-form score of Scarvelis et al.
        Smoothed = "smoothed",
        /// The Gaussian score approximation of Wang & Vastola.
        Gaussian = "gaussian",
        /// A tiny MLP ε-prediction network.
        Mlp = "mlp",
    }
}

/// Most particles a link can ask for.
pub const MAX_PARTICLES: u32 = 100_000;
/// Most particles on the CPU path of the page.
pub const MAX_CPU_PARTICLES: u32 = 20_000;
/// Particles whose whole path is kept for the timeline and the trails.
pub const HISTORY_PARTICLES: usize = 1024;
/// Points of fresh data the metrics compare with (and samples they use).
pub const METRIC_POINTS: usize = 2048;
/// Antithetic pairs of the smoothed score's Monte Carlo average.
pub const SMOOTH_PAIRS: u32 = 4;

crate::define_config! {
    /// Sampling a 2D data set with a diffusion model.
    pub struct DiffusionConfig {
        /// Data set.
        dataset: DiffusionData = DiffusionData::Gmm8, ();
        /// Score source.
        score: ScoreKind = ScoreKind::ExactGmm, ();
        /// Sampler.
        sampler: SamplerKind = SamplerKind::Ddim, ();
        /// Noise schedule (T = 1000 training steps).
        schedule: ScheduleKind = ScheduleKind::Cosine, ();
        /// Sampling steps.
        steps: u32 = 50, Range::new(1, 1000);
        /// DDIM stochasticity η (0 = deterministic, 1 = DDPM).
        eta: f64 = 0.0, Range::new(0.0, 1.0);
        /// Particles.
        n: u32 = 4096, Range::new(1, MAX_PARTICLES);
        /// Classifier-free guidance scale w (0 = unconditional, 1 = conditional).
        guidance: f64 = 0.0, Range::new(0.0, 15.0);
        /// Adaptive projected guidance (APG, Sadat et al.) instead of CFG.
        project: bool = false, ();
        /// APG: weight η of the part of Δ = D_c − D_u parallel to D_c (0 drops it; 1 keeps it, as CFG).
        apg_eta: f64 = 0.0, Range::new(0.0, 1.0);
        /// APG: Δ rescaled to norm ≤ r, in data units (0 = no rescaling, as in the reference code).
        apg_r: f64 = 2.5, Range::new(0.0, 100.0);
        /// APG: reverse momentum β of Δ's running average, per particle.
        apg_beta: f64 = -0.75, Range::new(-0.95, 0.95);
        /// Smoothing σ of the smoothed closed-form score, in the units of the paper's noisy point x_t (σ/t in data units).
        smoothing: f64 = 0.06, Range::new(0.0, 1.0);
        /// Training points behind the empirical, smoothed and Gaussian scores.
        train: u32 = 256, Range::new(2, 4096);
        /// Memorisation radius δ: a sample within δ of a training point is a copy.
        delta: f64 = 0.01, Range::new(1e-4, 1.0);
        /// Langevin steps per noise level.
        langevin_steps: u32 = 3, Range::new(1, 20);
        /// Langevin step size δ (relative to the level's σ²).
        langevin_delta: f64 = 0.5, Range::new(1e-4, 1.0);
        /// Seed of the data, the noise and every stochastic step.
        seed: u32 = 0, Range::new(0, u32::MAX);
        /// Means of the custom mixture, x1,y1,x2,y2,...
        gmm: Vec<f64> = vec![-0.8, -0.5, 0.8, -0.5, 0.0, 0.8], ListBound { min_len: 2, max_len: 32, each: Range::new(-2.5, 2.5) };
        /// Standard deviation of each custom component.
        gmm_std: f64 = 0.15, Range::new(0.01, 1.0);
        /// Draw particle trails.
        trails: bool = false, ();
        /// Draw the score field as arrows.
        field: bool = true, ();
    }
    reconcile = reconcile;
}

/// Fixes combinations the fields' own bounds cannot see.
fn reconcile(cfg: &mut DiffusionConfig) -> Vec<ConfigError> {
    let mut notes = Vec::new();
    if cfg.gmm.len() % 2 == 1 {
        cfg.gmm.pop();
        notes.push(ConfigError {
            field: "gmm".into(),
            message: "needs x,y pairs; dropped the unpaired last value".into(),
        });
    }
    if cfg.score == ScoreKind::ExactGmm && !has_mixture(cfg.dataset) {
        cfg.score = ScoreKind::Empirical;
        notes.push(ConfigError {
            field: "score".into(),
            message: format!(
                "exact-gmm needs a mixture data set (gmm8, custom), not {}; using empirical",
                cfg.dataset.as_str()
            ),
        });
    }
    if cfg.score == ScoreKind::Mlp && shipped_denoiser(cfg.dataset).is_none() {
        cfg.score = ScoreKind::Smoothed;
        notes.push(ConfigError {
            field: "score".into(),
            message: format!(
                "no shipped MLP denoiser for {}; using smoothed",
                cfg.dataset.as_str()
            ),
        });
    }
    notes
}

fn has_mixture(d: DiffusionData) -> bool {
    matches!(d, DiffusionData::Gmm8 | DiffusionData::Custom)
}

/// The shipped denoiser weights of a built-in data set, relative to the site root
/// (and to `static/` in the repository).
pub fn shipped_denoiser(d: DiffusionData) -> Option<&'static str> {
    Some(match d {
        DiffusionData::Gmm8 => "models/denoiser-gmm8.bin",
        DiffusionData::Swissroll => "models/denoiser-swissroll.bin",
        DiffusionData::Moons => "models/denoiser-moons.bin",
        DiffusionData::Checkerboard => "models/denoiser-checkerboard.bin",
        DiffusionData::Rings => "models/denoiser-rings.bin",
        DiffusionData::Custom | DiffusionData::Drawn => return None,
    })
}

impl DiffusionConfig {
    pub fn custom(&self) -> CustomMixture {
        CustomMixture {
            means: self
                .gmm
                .chunks_exact(2)
                .map(|p| [p[0] as f32, p[1] as f32])
                .collect(),
            std: self.gmm_std as f32,
        }
    }

    pub fn sampler_params(&self) -> SamplerParams {
        SamplerParams {
            kind: self.sampler,
            eta: self.eta as f32,
            langevin_steps: self.langevin_steps,
            langevin_delta: self.langevin_delta as f32,
        }
    }

    /// The noise levels of a run, from noise to data.
    pub fn levels(&self) -> Vec<Level> {
        let sched = dk::schedule(self.schedule, dk::TRAIN_STEPS);
        dk::levels(self.sampler, &sched, self.steps as usize)
    }

    /// The training set: the built-in set's first `train` points, or the drawn points.
    pub fn training_set(&self, drawn: &PointSet) -> PointSet {
        if self.dataset == DiffusionData::Drawn {
            return drawn.clone();
        }
        self.dataset
            .points(self.seed, 0, self.train as usize, &self.custom())
    }

    /// Fresh data for the metrics: points the training set never saw (the
    /// drawn set has nothing else, so it is its own reference).
    pub fn fresh_data(&self, drawn: &PointSet) -> Vec<[f32; 2]> {
        if self.dataset == DiffusionData::Drawn {
            return drawn.points.clone();
        }
        self.dataset
            .points(self.seed, FRESH_OFFSET, METRIC_POINTS, &self.custom())
            .points
    }

    /// Takes a stored mixture's means and std, strictly (as the CLI would).
    pub fn set_mixture(&mut self, m: &StoredMixture) -> Result<(), ConfigError> {
        let gmm: Vec<String> = m
            .means
            .iter()
            .flat_map(|p| [p[0].to_string(), p[1].to_string()])
            .collect();
        self.set("gmm", &gmm.join(","), true)?;
        self.set("gmm_std", &m.std.to_string(), true)
    }

    /// The custom mixture of this config, to store.
    pub fn stored_mixture(&self) -> StoredMixture {
        let c = self.custom();
        StoredMixture {
            means: c.means,
            std: c.std,
        }
    }

    /// The classes guidance steers towards: all of the data set's when
    /// guidance is on, none when it is off (w = 0 samples unconditionally).
    pub fn guidance_classes(&self, classes: usize) -> u32 {
        if self.guidance != 0.0 {
            classes as u32
        } else {
            0
        }
    }

    /// APG's knobs, when the run uses APG (r = 0: no rescaling).
    pub fn apg(&self) -> Option<ApgParams> {
        self.project.then_some(ApgParams {
            eta: self.apg_eta as f32,
            r: if self.apg_r > 0.0 {
                self.apg_r as f32
            } else {
                f32::INFINITY
            },
            beta: self.apg_beta as f32,
        })
    }

    /// Score evaluations per particle for the whole run.
    pub fn evaluations_per_particle(&self, classes: usize) -> usize {
        let guided = self.guidance_classes(classes) > 0;
        dk::score_evaluations(&self.sampler_params(), self.steps as usize)
            * if guided { 2 } else { 1 }
    }
}

/// Builds the score source of a config from its training set (and the
/// shipped network, for `mlp`). Says why when the combination is impossible.
pub fn build_source(
    cfg: &DiffusionConfig,
    train: &PointSet,
    mlp: Option<MlpDenoiser>,
) -> Result<Source, String> {
    if train.points.is_empty() {
        return Err("the data set is empty: draw some points first".into());
    }
    Ok(match cfg.score {
        ScoreKind::ExactGmm => Source::Mixture(
            cfg.dataset
                .mixture(&cfg.custom())
                .ok_or_else(|| format!("{} is not a Gaussian mixture", cfg.dataset.as_str()))?,
        ),
        ScoreKind::Empirical => Source::Mixture(Mixture::empirical(&train.points, &train.classes)),
        ScoreKind::Smoothed => Source::Smoothed(Smoothed {
            data: Mixture::empirical(&train.points, &train.classes),
            sigma: cfg.smoothing as f32,
            pairs: SMOOTH_PAIRS,
            key: RngKey::new(cfg.seed, SMOOTH_STREAM),
        }),
        ScoreKind::Gaussian => Source::Gaussian(GaussianScore::fit(
            &train.points,
            &train.classes,
            train.class_count,
        )),
        ScoreKind::Mlp => {
            let mut m =
                mlp.ok_or_else(|| format!("no MLP denoiser loaded for {}", cfg.dataset.as_str()))?;
            m.means = class_means(train, m.spec.class_inputs);
            Source::Mlp(m)
        }
    })
}

/// E[x0 | class] estimated by the training points' means, one per class
/// input of the network (the last, the "no class" slot: all points); a class
/// with no points gets the overall mean. The same estimate of E[x0] as the
/// empirical, smoothed and Gaussian sources.
pub fn class_means(train: &PointSet, class_inputs: usize) -> Vec<[f32; 2]> {
    let mean = |pick: &dyn Fn(u32) -> bool| {
        let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0usize);
        for (p, &c) in train.points.iter().zip(&train.classes) {
            if pick(c) {
                sx += p[0] as f64;
                sy += p[1] as f64;
                n += 1;
            }
        }
        (n > 0).then(|| [(sx / n as f64) as f32, (sy / n as f64) as f32])
    };
    let all = mean(&|_| true).unwrap_or([0.0; 2]);
    let last = class_inputs.saturating_sub(1);
    (0..class_inputs)
        .map(|k| {
            if k == last {
                all
            } else {
                mean(&|c| c as usize == k).unwrap_or(all)
            }
        })
        .collect()
}

/// The initial noise: particle i is N(0, I) from step 0 of the noise stream.
pub fn initial_particles(seed: u32, n: u32) -> Vec<[f32; 2]> {
    let key = RngKey::new(seed, NOISE_STREAM);
    (0..n)
        .map(|i| dk::particle_normal(key, n, i, 0, 0))
        .collect()
}

/// Live metrics of the current particles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Sliced Wasserstein distance to fresh data.
    pub swd: f64,
    /// Fraction of samples within δ of a training point.
    pub memorized: f64,
    /// The same fraction for fresh data: what "not memorising" looks like.
    pub memorized_fresh: f64,
    /// Fraction of samples whose nearest training point is closer than 1/3 of
    /// the second nearest (Gu et al.'s scale-free criterion).
    pub memorized_ratio: f64,
    /// The same fraction for fresh data.
    pub memorized_ratio_fresh: f64,
}

/// Metrics of (the first [`METRIC_POINTS`] of) `particles`.
pub fn metrics(
    particles: &[[f32; 2]],
    fresh: &[[f32; 2]],
    train: &[[f32; 2]],
    delta: f64,
) -> Metrics {
    let p = &particles[..particles.len().min(METRIC_POINTS)];
    let f = &fresh[..fresh.len().min(p.len())];
    Metrics {
        swd: sliced_wasserstein(p, f),
        memorized: memorized_fraction(p, train, delta as f32),
        memorized_fresh: memorized_fraction(f, train, delta as f32),
        memorized_ratio: memorized_fraction_ratio(p, train),
        memorized_ratio_fresh: memorized_fraction_ratio(f, train),
    }
}

/// A run in progress on the CPU: particles at the level of step `step`,
/// advanced a bounded number of particle-steps per call.
pub struct Sampling {
    pub cfg: DiffusionConfig,
    pub levels: Vec<Level>,
    pub source: Source,
    pub classes: u32,
    particles: Vec<[f32; 2]>,
    next: Vec<[f32; 2]>,
    /// APG's running average of Δ, per particle (its trajectory's momentum).
    running: Vec<[f32; 2]>,
    /// Transitions completed (0..=steps).
    step: usize,
    /// Particles of the current transition already advanced into `next`.
    done: usize,
    /// Paths of the first [`HISTORY_PARTICLES`] particles, one frame per level reached.
    pub history: Vec<Vec<[f32; 2]>>,
    /// Score evaluations so far (all particles).
    pub nfe: u64,
}

impl Sampling {
    pub fn new(cfg: DiffusionConfig, source: Source, classes: usize) -> Self {
        let particles = initial_particles(cfg.seed, cfg.n);
        let history = vec![particles[..particles.len().min(HISTORY_PARTICLES)].to_vec()];
        Self {
            levels: cfg.levels(),
            next: particles.clone(),
            running: vec![[0.0; 2]; particles.len()],
            particles,
            source,
            classes: cfg.guidance_classes(classes),
            cfg,
            step: 0,
            done: 0,
            history,
            nfe: 0,
        }
    }

    pub fn particles(&self) -> &[[f32; 2]] {
        &self.particles
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn total_steps(&self) -> usize {
        self.levels.len() - 1
    }

    pub fn finished(&self) -> bool {
        self.step >= self.total_steps()
    }

    /// The level the particles are at now.
    pub fn level(&self) -> Level {
        self.levels[self.step]
    }

    /// The guided denoiser, with a fresh APG momentum.
    pub fn guided(&self) -> Guided<'_> {
        Guided::new(
            &self.source,
            self.cfg.guidance as f32,
            self.cfg.apg(),
            self.classes,
        )
    }

    /// Advances at most `budget` particle-steps; returns the number done.
    pub fn advance(&mut self, budget: usize) -> usize {
        let mut spent = 0;
        let n = self.particles.len();
        let params = self.cfg.sampler_params();
        let key = RngKey::new(self.cfg.seed, NOISE_STREAM);
        let per_eval = self.guided().evaluations() as u64;
        while spent < budget && !self.finished() {
            let (cur, nxt) = (self.levels[self.step], self.levels[self.step + 1]);
            // Score evaluations of this transition: Heun's step onto the data
            // level and Langevin's final denoising differ from the others, so
            // the run adds up to `dk::score_evaluations`.
            let evals: u64 = match params.kind {
                SamplerKind::Heun if nxt.v > 0.0 => 2,
                SamplerKind::Langevin => u64::from(params.langevin_steps) + u64::from(nxt.v == 0.0),
                _ => 1,
            };
            let k = self.step as u32 + 1;
            let end = (self.done + (budget - spent)).min(n);
            let guided = Guided::new(
                &self.source,
                self.cfg.guidance as f32,
                self.cfg.apg(),
                self.classes,
            );
            for i in self.done..end {
                let noise = |j: u32| dk::particle_normal(key, n as u32, i as u32, k, j);
                guided.running.set(self.running[i]);
                self.next[i] = dk::step_particle(
                    &params,
                    &guided,
                    self.particles[i],
                    cur,
                    nxt,
                    i as u32,
                    noise,
                );
                self.running[i] = guided.running.get();
            }
            spent += end - self.done;
            self.nfe += (end - self.done) as u64 * evals * per_eval;
            self.done = end;
            if self.done == n {
                std::mem::swap(&mut self.particles, &mut self.next);
                self.done = 0;
                self.step += 1;
                self.history
                    .push(self.particles[..n.min(HISTORY_PARTICLES)].to_vec());
            }
        }
        spent
    }

    /// Runs to the end.
    pub fn run(&mut self) {
        while !self.finished() {
            self.advance(usize::MAX / 2);
        }
    }
}

/// What `gradlab diffusion` prints.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DiffusionReport {
    pub samples: Vec<[f32; 2]>,
    pub metrics: Metrics,
    /// Score evaluations per particle.
    pub nfe: usize,
    pub backend: Backend,
}

/// Samples a whole config on the CPU.
pub fn sample_cpu(
    cfg: &DiffusionConfig,
    mlp: Option<MlpDenoiser>,
) -> Result<DiffusionReport, String> {
    let drawn = PointSet::default();
    let train = cfg.training_set(&drawn);
    let source = build_source(cfg, &train, mlp)?;
    let mut s = Sampling::new(cfg.clone(), source, train.class_count);
    s.run();
    let fresh = cfg.fresh_data(&drawn);
    Ok(DiffusionReport {
        metrics: metrics(s.particles(), &fresh, &train.points, cfg.delta),
        nfe: cfg.evaluations_per_particle(s.classes as usize),
        samples: s.particles,
        backend: Backend::Cpu,
    })
}

/// Reads a denoiser in the gradlab model format and checks it fits `dataset`.
pub fn load_denoiser(bytes: &[u8], dataset: DiffusionData) -> Result<MlpDenoiser, String> {
    let (spec, params) = crate::kernels::model_file::decode(bytes).map_err(|e| e.to_string())?;
    let classes = dataset.class_count(&DiffusionConfig::default().custom());
    let want = MlpDenoiser::spec(&spec.hidden, classes);
    if spec != want {
        return Err(format!(
            "this model file is not a denoiser for {} (its shape is {:?})",
            dataset.as_str(),
            spec
        ));
    }
    Ok(MlpDenoiser {
        spec,
        params,
        alphas_cumprod: crate::kernels::diffusion::score::denoiser_schedule(),
        means: Vec::new(),
    })
}

impl DiffusionConfig {
    /// The GPU run of this config over `source`.
    pub fn gpu_setup<'a>(
        &self,
        levels: &'a [Level],
        source: &'a Source,
        classes: usize,
    ) -> RunSetup<'a> {
        RunSetup {
            sampler: self.sampler_params(),
            levels,
            source,
            seed: self.seed,
            guidance: self.guidance as f32,
            apg: self.apg(),
            classes: self.guidance_classes(classes),
        }
    }
}

/// Samples a whole config on the GPU: every step in one submission, one read-back.
/// The outer error is a GPU fault, the inner one an impossible config.
pub async fn sample_gpu(
    gpu: &Gpu,
    kernel: &DiffusionKernel,
    cfg: &DiffusionConfig,
    mlp: Option<MlpDenoiser>,
) -> Result<Result<DiffusionReport, String>, GpuError> {
    let drawn = PointSet::default();
    let train = cfg.training_set(&drawn);
    let source = match build_source(cfg, &train, mlp) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let levels = cfg.levels();
    let setup = cfg.gpu_setup(&levels, &source, train.class_count);
    let mut run = DiffusionGpu::new(gpu, kernel, &setup, &initial_particles(cfg.seed, cfg.n))?;
    run.advance(gpu, levels.len())?;
    let samples = run.particles(gpu).await?;
    let fresh = cfg.fresh_data(&drawn);
    Ok(Ok(DiffusionReport {
        metrics: metrics(&samples, &fresh, &train.points, cfg.delta),
        nfe: cfg.evaluations_per_particle(setup.classes as usize),
        samples,
        backend: Backend::Gpu,
    }))
}

/// A live sampling run on the GPU, owning its device handle: the page
/// advances it one step per frame and reads the particles back.
pub struct GpuSampling {
    gpu: Gpu,
    run: DiffusionGpu,
}

impl GpuSampling {
    /// Uploads the source and the initial particles of `cfg` to `gpu`.
    pub async fn start(
        cfg: &DiffusionConfig,
        source: &Source,
        classes: usize,
        gpu: Gpu,
    ) -> Result<Self, GpuError> {
        let kernel = gpu.kernel::<DiffusionKernel>().await?;
        let levels = cfg.levels();
        let setup = cfg.gpu_setup(&levels, source, classes);
        let run = DiffusionGpu::new(&gpu, &kernel, &setup, &initial_particles(cfg.seed, cfg.n))?;
        Ok(Self { gpu, run })
    }

    /// Submits one more step (not waited for).
    pub fn advance(&mut self) -> Result<(), GpuError> {
        self.run.advance(&self.gpu, 1).map(|_| ())
    }

    /// Reads the particles back, without borrowing the run.
    pub fn read(&self) -> impl Future<Output = Result<Vec<[f32; 2]>, GpuError>> + use<> {
        let (gpu, buffer) = (self.gpu.clone(), self.run.particle_buffer());
        async move { read_particles(&gpu, &buffer).await }
    }

    pub fn step(&self) -> usize {
        self.run.step()
    }

    pub fn finished(&self) -> bool {
        self.run.finished()
    }
}

/// Arrows of a score field: (tail, displacement) pairs.
pub type ScoreArrows = Vec<([f32; 2], [f32; 2])>;

/// Arrows of the (guided) score field at a level: for each point x of a
/// `side × side` grid over `[-extent, extent]²`, the displacement a·D(x) − x
/// towards the denoised point, which is v·∇log p(x) (Tweedie): the score
/// scaled to the units of positions, so arrows are comparable across levels.
/// Under APG a grid point has no history, so the field shows the update with
/// zero momentum (the first step of a trajectory).
pub fn score_field(
    cfg: &DiffusionConfig,
    source: &Source,
    level: Level,
    classes: usize,
    side: usize,
    extent: f32,
) -> ScoreArrows {
    let g = Guided::new(
        source,
        cfg.guidance as f32,
        cfg.apg(),
        cfg.guidance_classes(classes),
    );
    let step = 2.0 * extent / side as f32;
    let mut out = Vec::with_capacity(side * side);
    for r in 0..side {
        for c in 0..side {
            let x = [
                -extent + (c as f32 + 0.5) * step,
                -extent + (r as f32 + 0.5) * step,
            ];
            // A grid point has no trajectory: APG's momentum starts at zero.
            g.running.set([0.0; 2]);
            let d = dk::Denoiser::denoise(&g, x, level, (r * side + c) as u32);
            out.push((x, [level.a * d[0] - x[0], level.a * d[1] - x[1]]));
        }
    }
    out
}

/// What a reader made, as stored in the browser and exported: drawn points
/// and the last custom mixture they placed, in one versioned JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Drawing {
    pub version: u32,
    pub points: Vec<[f32; 2]>,
    /// The custom mixture (its means and component std), once placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixture: Option<StoredMixture>,
}

/// A reader-placed mixture: what the `gmm` and `gmm_std` keys hold.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredMixture {
    pub means: Vec<[f32; 2]>,
    pub std: f32,
}

/// The version of [`Drawing`] this build writes and reads.
pub const DRAWING_VERSION: u32 = 1;

impl Drawing {
    pub fn new(points: Vec<[f32; 2]>) -> Self {
        Self {
            version: DRAWING_VERSION,
            points,
            mixture: None,
        }
    }

    /// Parses a stored or imported drawing, rejecting other versions and bad
    /// values with a message; points outside the canvas are dropped, and a
    /// mixture is checked against the bounds of the `gmm` and `gmm_std` keys.
    pub fn parse(text: &str) -> Result<(Self, usize), String> {
        if text.len() > 1 << 20 {
            return Err("the drawing is larger than 1 MB".into());
        }
        let d: Drawing =
            serde_json::from_str(text).map_err(|e| format!("not a gradlab drawing: {e}"))?;
        if d.version != DRAWING_VERSION {
            return Err(format!(
                "drawing version {} is not supported (this build reads version {DRAWING_VERSION})",
                d.version
            ));
        }
        let mixture = match d.mixture {
            None => None,
            Some(m) => {
                let mut cfg = DiffusionConfig::default();
                cfg.set_mixture(&m)
                    .map_err(|e| format!("its mixture is not usable: {e}"))?;
                Some(m)
            }
        };
        let (points, dropped) = crate::kernels::diffusion::data::sanitize_drawn(&d.points);
        Ok((
            Self {
                mixture,
                ..Self::new(points)
            },
            dropped,
        ))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("drawing serialises")
    }

    pub fn point_set(&self) -> PointSet {
        PointSet {
            points: self.points.clone(),
            classes: vec![0; self.points.len()],
            class_count: 0,
        }
    }
}

/// Tiny diffusion in the registry.
pub struct Diffusion;

impl Experiment for Diffusion {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "diffusion",
        title: "Tiny diffusion",
        claim: "Particles flow from noise to data under DDPM, DDIM, Langevin and α-blending, live.",
        papers: &[
            papers::HO_2020,
            papers::NICHOL_2021,
            papers::SONG_DDIM_2021,
            papers::SONG_ERMON_2019,
            papers::HEITZ_2023,
            papers::SCARVELIS_2025,
            papers::WANG_VASTOLA_2024,
            papers::BRADLEY_NAKKIRAN_2025,
            papers::SADAT_2025,
            papers::GU_2025,
        ],
        panels: &[
            PanelInfo::new("particles", "Particles"),
            PanelInfo::new("metrics", "How close to the data"),
            PanelInfo::new("schedule", "The noise schedule"),
        ],
    };
    type Config = DiffusionConfig;
    type Report = DiffusionReport;

    async fn run(cfg: &DiffusionConfig, on: &Compute) -> Result<DiffusionReport, RunError> {
        let cfg = headless(cfg)?;
        let mlp = shipped_mlp_if_needed(&cfg)?;
        let report = match on {
            Compute::Cpu => sample_cpu(&cfg, mlp),
            Compute::Gpu(gpu) => {
                sample_gpu(gpu, &*gpu.kernel::<DiffusionKernel>().await?, &cfg, mlp).await?
            }
        };
        report.map_err(|m| config_error("score", m))
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        super::selftest::diffusion(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "diffusion-step",
        about: "one sampler step of every particle (the diffusion config's own flags)",
        fields: DiffusionConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, DiffusionBench::new),
    }];
}

fn config_error(field: &str, message: String) -> RunError {
    RunError::Config(ConfigError {
        field: field.into(),
        message,
    })
}

/// A config as a run without a page takes it: no drawn points (they live in
/// the browser), and no silent fix (what the page would fix is an error).
fn headless(cfg: &DiffusionConfig) -> Result<DiffusionConfig, RunError> {
    if cfg.dataset == DiffusionData::Drawn {
        return Err(config_error(
            "dataset",
            "drawn points live in the browser; use custom or a built-in set".into(),
        ));
    }
    let mut cfg = cfg.clone();
    match cfg.reconcile().into_iter().next() {
        Some(e) => Err(RunError::Config(e)),
        None => Ok(cfg),
    }
}

/// The shipped denoiser of a data set, read from `static/` of this checkout.
#[cfg(not(target_arch = "wasm32"))]
pub fn shipped_mlp(dataset: DiffusionData) -> Result<MlpDenoiser, String> {
    let rel = shipped_denoiser(dataset)
        .ok_or_else(|| format!("no shipped MLP denoiser for {}", dataset.as_str()))?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("static")
        .join(rel);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    load_denoiser(&bytes, dataset).map_err(|e| format!("{}: {e}", path.display()))
}

/// In the page the denoiser is fetched by the widget and handed to its
/// session; a one-shot run has none.
#[cfg(target_arch = "wasm32")]
pub fn shipped_mlp(dataset: DiffusionData) -> Result<MlpDenoiser, String> {
    Err(format!(
        "no MLP denoiser loaded for {} in a one-shot run",
        dataset.as_str()
    ))
}

fn shipped_mlp_if_needed(cfg: &DiffusionConfig) -> Result<Option<MlpDenoiser>, RunError> {
    (cfg.score == ScoreKind::Mlp)
        .then(|| shipped_mlp(cfg.dataset))
        .transpose()
        .map_err(|m| config_error("score", m))
}

/// The `diffusion-step` workload: one sampler step of all particles (a
/// finished run starts again).
struct DiffusionBench {
    cfg: DiffusionConfig,
    source: Source,
    classes: usize,
    on: Compute,
    cpu: Option<Sampling>,
    gpu: Option<(Arc<DiffusionKernel>, DiffusionGpu)>,
}

impl DiffusionBench {
    async fn new(cfg: DiffusionConfig, on: Compute) -> Result<Self, RunError> {
        let cfg = headless(&cfg)?;
        let train = cfg.training_set(&PointSet::default());
        let source = build_source(&cfg, &train, shipped_mlp_if_needed(&cfg)?)
            .map_err(|m| config_error("score", m))?;
        let mut bench = Self {
            cfg,
            source,
            classes: train.class_count,
            on,
            cpu: None,
            gpu: None,
        };
        bench.restart().await?;
        Ok(bench)
    }

    async fn restart(&mut self) -> Result<(), GpuError> {
        match &self.on {
            Compute::Cpu => {
                let s = Sampling::new(self.cfg.clone(), self.source.clone(), self.classes);
                self.cpu = Some(s);
            }
            Compute::Gpu(gpu) => {
                let kernel = gpu.kernel::<DiffusionKernel>().await?;
                let levels = self.cfg.levels();
                let setup = self.cfg.gpu_setup(&levels, &self.source, self.classes);
                let initial = initial_particles(self.cfg.seed, self.cfg.n);
                let run = DiffusionGpu::new(gpu, &kernel, &setup, &initial)?;
                self.gpu = Some((kernel, run));
            }
        }
        Ok(())
    }
}

impl Bench for DiffusionBench {
    fn items(&self) -> u64 {
        u64::from(self.cfg.n)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        Box::pin(async move {
            let finished = match (&self.cpu, &self.gpu) {
                (Some(s), _) => s.finished(),
                (_, Some((_, run))) => run.finished(),
                _ => true,
            };
            if finished {
                self.restart().await?;
            }
            match (&mut self.cpu, &mut self.gpu, &self.on) {
                (Some(s), _, _) => {
                    s.advance(self.cfg.n as usize);
                }
                (_, Some((_, run)), Compute::Gpu(gpu)) => {
                    run.advance(gpu, 1)?;
                    gpu.finish().await?;
                }
                _ => {}
            }
            Ok(())
        })
    }
}
