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
pub use crate::kernels::diffusion::fewer::SkipOrder;
use crate::kernels::diffusion::fewer::{
    self, FewerParams, ParticleState, SkipParams, StepCtx, Teleport,
};
use crate::kernels::diffusion::metrics::{
    memorized_fraction, memorized_fraction_ratio, sliced_wasserstein,
};
use crate::kernels::diffusion::score::{
    ApgParams, Gaussian2, GaussianScore, Guided, Mixture, SMOOTH_STREAM, Smoothed,
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
/// Particles stepped together on one core natively ([`Sampling::advance`]).
const PARTICLE_BLOCK: usize = 256;
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
        /// GE sampler's γ: d̄_i = γd_i + (1 − γ)d_{i−1} (Permenter & Yuan's default 2; 1 is Euler).
        ge_gamma: f64 = 2.0, Range::new(0.0, 4.0);
        /// Skipped calls: extrapolate ε from the last 2, 3 or 4 real ones (FSampler's h2/h3/h4).
        skip: SkipOrder = SkipOrder::None, ();
        /// Skip pattern: every k-th step is predicted (k − 1 real calls, then one skip).
        skip_every: u32 = 3, Range::new(2, 50);
        /// Adaptive skipping (skip when the h3 and h2 predictions agree) instead of every k-th step.
        skip_adaptive: bool = false, ();
        /// Steps at the start that never skip.
        protect_first: u32 = 2, Range::new(0, 1000);
        /// Steps at the end that never skip.
        protect_last: u32 = 4, Range::new(0, 1000);
        /// Teleport: below 1, the fraction of the first steps replaced by the Gaussian model's exact solution; from 1 on, the σ_s to jump to (0 = off).
        teleport: f64 = 0.0, Range::new(0.0, 80.0);
        /// Explicit noise levels σ, from noise to 0 (overrides schedule and steps; empty = off).
        sigmas: Vec<f64> = Vec::new(), ListBound { min_len: 0, max_len: 1001, each: Range::new(0.0, 10000.0) };
    }
    reconcile = reconcile;
}

/// Fixes combinations the fields' own bounds cannot see.
fn reconcile(cfg: &mut DiffusionConfig) -> Vec<ConfigError> {
    let mut notes = reconcile_fewer(cfg);
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
    matches!(
        d,
        DiffusionData::Gmm8 | DiffusionData::Custom | DiffusionData::Gaussian
    )
}

/// The fewer-calls keys' combinations: explicit σ's strictly decreasing and
/// ending at 0, no skipping under Langevin.
fn reconcile_fewer(cfg: &mut DiffusionConfig) -> Vec<ConfigError> {
    let mut notes = Vec::new();
    let note = |field: &str, message: &str| ConfigError {
        field: field.into(),
        message: message.into(),
    };
    if !cfg.sigmas.is_empty() {
        if cfg.sigmas.windows(2).any(|w| w[1] >= w[0]) {
            cfg.sigmas.clear();
            notes.push(note(
                "sigmas",
                "must decrease strictly; using the schedule and steps",
            ));
        } else if cfg.sigmas.len() < 2 || *cfg.sigmas.last().unwrap_or(&0.0) != 0.0 {
            cfg.sigmas.push(0.0);
            notes.push(note("sigmas", "must end at 0 (the data); appended 0"));
        }
    }
    if cfg.skip != SkipOrder::None && cfg.sampler == SamplerKind::Langevin {
        cfg.skip = SkipOrder::None;
        notes.push(note(
            "skip",
            "Langevin's calls all sit at one level; skipping is off",
        ));
    }
    notes
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
        DiffusionData::Custom | DiffusionData::Drawn | DiffusionData::Gaussian => return None,
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

    /// The noise levels of a run, from noise to data: the explicit `sigmas`
    /// when given, else the schedule's `steps + 1` levels.
    pub fn levels(&self) -> Vec<Level> {
        if !self.sigmas.is_empty() {
            return dk::levels_from_sigmas(self.sampler, &self.sigmas);
        }
        let sched = dk::schedule(self.schedule, dk::TRAIN_STEPS);
        dk::levels(self.sampler, &sched, self.steps as usize)
    }

    /// The level index teleportation jumps to (0: no teleport): below 1,
    /// `teleport` is the fraction of steps replaced (rounded); from 1 on, it is
    /// σ_s and the jump goes to the first level with σ ≤ σ_s. At least one
    /// sampler step always remains.
    pub fn teleport_index(&self, levels: &[Level]) -> usize {
        let steps = levels.len().saturating_sub(1);
        let t = self.teleport;
        let j = if t <= 0.0 {
            0
        } else if t < 1.0 {
            (t * steps as f64).round() as usize
        } else {
            levels
                .iter()
                .position(|l| (l.sigma() as f64) <= t)
                .unwrap_or(steps)
        };
        j.min(steps.saturating_sub(1))
    }

    /// GE's γ and the skipping knobs.
    pub fn fewer_params(&self) -> FewerParams {
        FewerParams {
            ge_gamma: self.ge_gamma as f32,
            skip: SkipParams {
                order: self.skip,
                every: self.skip_every,
                adaptive: self.skip_adaptive,
                protect_first: self.protect_first,
                protect_last: self.protect_last,
            },
        }
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

    /// Score evaluations per particle for the whole run without skipping
    /// (the teleported steps cost none).
    pub fn evaluations_per_particle(&self, classes: usize) -> usize {
        let guided = self.guidance_classes(classes) > 0;
        let levels = self.levels();
        let steps = levels.len() - 1 - self.teleport_index(&levels);
        dk::score_evaluations(&self.sampler_params(), steps) * if guided { 2 } else { 1 }
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
    initial_range(seed, n, 0..n)
}

/// Particles `range` of [`initial_particles`]`(seed, n)`.
pub fn initial_range(seed: u32, n: u32, range: std::ops::Range<u32>) -> Vec<[f32; 2]> {
    let key = RngKey::new(seed, NOISE_STREAM);
    range
        .map(|i| dk::particle_normal(key, n, i, 0, 0))
        .collect()
}

/// The particle ranges of a run of `n` split into at most `parts` parts of
/// whole [`PARTICLE_BLOCK`]s (fewer parts where there are fewer blocks;
/// always at least one), in order.
pub fn particle_parts(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let blocks = n.div_ceil(PARTICLE_BLOCK).max(1);
    let k = parts.clamp(1, blocks);
    let at = |i: usize| (blocks * i / k * PARTICLE_BLOCK).min(n);
    (0..k).map(|i| at(i)..at(i + 1)).collect()
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
/// advanced a bounded number of particle-steps per call. It may hold only a
/// range of the run's particles ([`Sampling::new_range`]): each particle
/// draws from counters keyed by its global index, so ranges sampled apart
/// join into the whole run bit for bit (the page splits a run over workers).
pub struct Sampling {
    /// Boxed: the worker hosts a `Sampling` in an enum beside smaller sessions.
    pub cfg: Box<DiffusionConfig>,
    /// The levels the run visits: with teleportation, the first level and
    /// then the levels from σ_s on (transition 0 is the teleport).
    pub levels: Vec<Level>,
    pub source: Source,
    pub classes: u32,
    /// The jump of transition 0, when the run teleports.
    pub teleport: Option<Teleport>,
    /// The run's global index of `particles[0]`, and its particle count.
    lo: usize,
    total: usize,
    particles: Vec<[f32; 2]>,
    next: Vec<[f32; 2]>,
    /// APG's running average of Δ, per particle (its trajectory's momentum).
    running: Vec<[f32; 2]>,
    /// Each particle's memory: GE's last direction, the real-ε history, call counts.
    state: Vec<ParticleState>,
    /// Transitions completed (0..=steps).
    step: usize,
    /// Particles of the current transition already advanced into `next`.
    done: usize,
    /// Paths of the run's first [`HISTORY_PARTICLES`] particles (those of
    /// them in this range), one frame per level reached.
    pub history: Vec<Vec<[f32; 2]>>,
    /// Score evaluations so far (all particles of the range).
    pub nfe: u64,
    /// Per transition: how many particles predicted ε instead of calling.
    pub skipped_per_step: Vec<u64>,
}

/// The teleport of a config over `source`: the Gaussian model of the data
/// (the exact moments of a mixture source, else the training points' fit)
/// solved from `levels[0]` to `levels[j]`; `None` when `j` is 0.
pub fn teleport_for(levels: &[Level], j: usize, source: &Source) -> Option<Teleport> {
    if j == 0 {
        return None;
    }
    let g = match source {
        Source::Mixture(m) => m.moments(),
        Source::Smoothed(s) => s.data.moments(),
        Source::Gaussian(g) => g.all,
        Source::Mlp(m) => Gaussian2 {
            mean: m.mean(None),
            cov: [1.0, 0.0, 1.0],
        },
    };
    Some(Teleport::new(&g, levels[0], levels[j]))
}

/// The levels a run visits after teleporting to index `j` (all of them for j = 0).
pub fn visited_levels(levels: &[Level], j: usize) -> Vec<Level> {
    let mut out = vec![levels[0]];
    out.extend_from_slice(&levels[j.max(1)..]);
    out
}

impl Sampling {
    /// The whole run of `cfg`: [`Sampling::new_range`] of all its particles.
    pub fn new(cfg: DiffusionConfig, source: Source, classes: usize) -> Self {
        let n = cfg.n as usize;
        Self::new_range(cfg, source, classes, 0..n)
    }

    /// Particles `range` (clamped to `0..cfg.n`) of the run of `cfg`. What is
    /// not per particle (the levels, the teleport from the source's moments,
    /// the guidance classes; the source itself, built by the caller from the
    /// config, training set and model file) is the same in every range.
    pub fn new_range(
        cfg: DiffusionConfig,
        source: Source,
        classes: usize,
        range: std::ops::Range<usize>,
    ) -> Self {
        let total = cfg.n as usize;
        let hi = range.end.min(total);
        let lo = range.start.min(hi);
        #[allow(clippy::cast_possible_truncation)]
        let particles = initial_range(cfg.seed, cfg.n, lo as u32..hi as u32);
        let history = vec![particles[..HISTORY_PARTICLES.saturating_sub(lo).min(hi - lo)].to_vec()];
        let all = cfg.levels();
        let j = cfg.teleport_index(&all);
        let levels = visited_levels(&all, j);
        Self {
            teleport: teleport_for(&all, j, &source),
            lo,
            total,
            skipped_per_step: vec![0; levels.len() - 1],
            levels,
            next: particles.clone(),
            running: vec![[0.0; 2]; particles.len()],
            state: vec![ParticleState::default(); particles.len()],
            particles,
            source,
            classes: cfg.guidance_classes(classes),
            cfg: Box::new(cfg),
            step: 0,
            done: 0,
            history,
            nfe: 0,
        }
    }

    pub fn particles(&self) -> &[[f32; 2]] {
        &self.particles
    }

    /// The run's indices of the particles held.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.lo..self.lo + self.particles.len()
    }

    /// How many of the held particles the history follows.
    fn history_len(&self) -> usize {
        HISTORY_PARTICLES
            .saturating_sub(self.lo)
            .min(self.particles.len())
    }

    /// Each particle's memory (its call counts among it).
    pub fn states(&self) -> &[ParticleState] {
        &self.state
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

    /// Where transition `step` sits among the sampler's own steps.
    fn ctx(&self, step: usize) -> StepCtx {
        let tele = usize::from(self.teleport.is_some());
        StepCtx {
            index: (step - tele) as u32,
            total: (self.total_steps() - tele) as u32,
        }
    }

    /// Advances at most `budget` particle-steps; returns the number done.
    /// The split into blocks of [`PARTICLE_BLOCK`] is fixed, so the numbers
    /// are the same on any number of threads.
    pub fn advance(&mut self, budget: usize) -> usize {
        let mut spent = 0;
        let n = self.particles.len();
        let (lo, total) = (self.lo as u32, self.total as u32);
        let params = self.cfg.sampler_params();
        let fewer = self.cfg.fewer_params();
        let key = RngKey::new(self.cfg.seed, NOISE_STREAM);
        let per_eval = self.guided().evaluations() as u64;
        while spent < budget && !self.finished() {
            let (cur, nxt) = (self.levels[self.step], self.levels[self.step + 1]);
            let end = (self.done + (budget - spent)).min(n);
            if let (0, Some(t)) = (self.step, self.teleport) {
                for i in self.done..end {
                    self.next[i] = t.apply(self.particles[i]);
                }
            } else {
                let k = self.step as u32 + 1;
                let ctx = self.ctx(self.step);
                // Particles are independent (each draws its own counters):
                // blocks of them go to the cores natively.
                let (done, step) = (self.done, self.step);
                let mut blocks: Vec<_> = self.next[done..end]
                    .chunks_mut(PARTICLE_BLOCK)
                    .zip(self.state[done..end].chunks_mut(PARTICLE_BLOCK))
                    .zip(self.running[done..end].chunks_mut(PARTICLE_BLOCK))
                    .map(|((next, state), running)| (next, state, running))
                    .collect();
                let (source, particles) = (&self.source, &self.particles);
                let (scale, apg, classes) =
                    (self.cfg.guidance as f32, self.cfg.apg(), self.classes);
                // Each block answers its real score calls and skipped ones.
                let counts = crate::kernels::par::map_mut(&mut blocks, |b, block| {
                    let (next, state, running) = block;
                    let (mut real_calls, mut skips) = (0u64, 0u64);
                    let guided = Guided::new(source, scale, apg, classes);
                    for (o, ((out, st), run)) in next
                        .iter_mut()
                        .zip(state.iter_mut())
                        .zip(running.iter_mut())
                        .enumerate()
                    {
                        let i = done + b * PARTICLE_BLOCK + o;
                        // Keyed by the run's index of the particle.
                        let g = lo + i as u32;
                        let noise = |j: u32| dk::particle_normal(key, total, g, k, j);
                        guided.running.set(*run);
                        let (real, skipped) = (st.real, st.skipped);
                        *out = dk::step_particle_fewer(
                            &params,
                            &fewer,
                            ctx,
                            &guided,
                            particles[i],
                            (cur, nxt),
                            g,
                            noise,
                            st,
                        );
                        real_calls += u64::from(st.real - real);
                        skips += u64::from(st.skipped - skipped);
                        *run = guided.running.get();
                    }
                    (real_calls, skips)
                });
                for (real_calls, skips) in counts {
                    self.nfe += real_calls * per_eval;
                    self.skipped_per_step[step] += skips;
                }
            }
            spent += end - self.done;
            self.done = end;
            if self.done == n {
                std::mem::swap(&mut self.particles, &mut self.next);
                self.done = 0;
                self.step += 1;
                let h = self.history_len();
                self.history.push(self.particles[..h].to_vec());
            }
        }
        spent
    }

    /// [`Sampling::advance`] within the current transition only: it stops
    /// where that transition completes (the parts of a split run keep in
    /// lockstep however small a part is).
    pub fn advance_in_step(&mut self, budget: usize) -> usize {
        self.advance(budget.min(self.particles.len() - self.done))
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
    /// Score evaluations per particle (real calls, rounded).
    pub nfe: usize,
    /// Real score evaluations per particle (a mean: adaptive skipping differs by particle).
    pub nfe_real: f64,
    /// Score evaluations per particle replaced by an extrapolated ε.
    pub nfe_skipped: f64,
    /// Per-coordinate mean of the samples.
    pub samples_mean: [f64; 2],
    /// Per-coordinate standard deviation of the samples (1/n).
    pub samples_std: [f64; 2],
    /// Steps replaced by teleportation (no calls).
    #[serde(default)]
    pub teleported_steps: usize,
    /// Per sampler step after the teleport: the fraction of particles that
    /// predicted ε instead of calling (empty for adaptive skipping on the GPU,
    /// which decides per particle and keeps no per-step record).
    #[serde(default)]
    pub skipped_per_step: Vec<f64>,
    pub backend: Backend,
}

/// Per-coordinate mean and standard deviation (1/n), in f64.
pub fn mean_std(points: &[[f32; 2]]) -> ([f64; 2], [f64; 2]) {
    let n = points.len().max(1) as f64;
    let mut mean = [0.0f64; 2];
    for p in points {
        mean[0] += p[0] as f64 / n;
        mean[1] += p[1] as f64 / n;
    }
    let mut var = [0.0f64; 2];
    for p in points {
        var[0] += (p[0] as f64 - mean[0]).powi(2) / n;
        var[1] += (p[1] as f64 - mean[1]).powi(2) / n;
    }
    (mean, [var[0].sqrt(), var[1].sqrt()])
}

/// Mean real and skipped score evaluations per particle, from their states
/// (`per_eval`: 2 under guidance).
pub fn call_counts(states: &[ParticleState], per_eval: usize) -> (f64, f64) {
    let n = states.len().max(1) as f64;
    let real: f64 = states.iter().map(|s| f64::from(s.real)).sum();
    let skipped: f64 = states.iter().map(|s| f64::from(s.skipped)).sum();
    (real * per_eval as f64 / n, skipped * per_eval as f64 / n)
}

impl DiffusionReport {
    /// The report of `samples` from a run of `cfg` with these call counts and
    /// per-step skip fractions.
    pub fn new(
        cfg: &DiffusionConfig,
        samples: Vec<[f32; 2]>,
        metrics: Metrics,
        (nfe_real, nfe_skipped): (f64, f64),
        skipped_per_step: Vec<f64>,
        backend: Backend,
    ) -> Self {
        let (samples_mean, samples_std) = mean_std(&samples);
        let levels = cfg.levels();
        Self {
            samples,
            metrics,
            nfe: nfe_real.round() as usize,
            nfe_real,
            nfe_skipped,
            samples_mean,
            samples_std,
            teleported_steps: cfg.teleport_index(&levels),
            skipped_per_step,
            backend,
        }
    }
}

impl DiffusionConfig {
    /// Sampler steps after the teleport.
    pub fn sampler_steps(&self) -> usize {
        let levels = self.levels();
        levels.len() - 1 - self.teleport_index(&levels)
    }

    /// The fixed skip pattern's steps (true: predicted), `None` when adaptive.
    pub fn skip_plan(&self) -> Option<Vec<bool>> {
        fewer::fixed_plan(&self.fewer_params().skip, self.sampler_steps() as u32)
    }

    /// Real and predicted calls per particle of a fixed pattern, from its
    /// plan (guidance doubles both); `None` when adaptive.
    pub fn planned_calls(&self, classes: usize) -> Option<(f64, f64)> {
        let plan = self.skip_plan()?;
        let per = if self.guidance_classes(classes) > 0 {
            2.0
        } else {
            1.0
        };
        let skipped = plan.iter().filter(|s| **s).count() as f64;
        // A predicted Heun step also saves its corrector call (not on the last step).
        let heun_extra = if self.sampler == SamplerKind::Heun {
            plan[..plan.len().saturating_sub(1)]
                .iter()
                .filter(|s| **s)
                .count() as f64
        } else {
            0.0
        };
        let real = self.evaluations_per_particle(classes) as f64 / per - skipped - heun_extra;
        Some((real * per, skipped * per))
    }
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
    let per_eval = s.guided().evaluations();
    let tele = usize::from(s.teleport.is_some());
    let n = s.particles.len().max(1) as f64;
    let per_step = s.skipped_per_step[tele..]
        .iter()
        .map(|&k| k as f64 / n)
        .collect();
    Ok(DiffusionReport::new(
        cfg,
        s.particles.clone(),
        metrics(s.particles(), &fresh, &train.points, cfg.delta),
        call_counts(s.states(), per_eval),
        per_step,
        Backend::Cpu,
    ))
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
    /// The levels a run visits ([`visited_levels`] after teleporting).
    pub fn run_levels(&self) -> Vec<Level> {
        let all = self.levels();
        visited_levels(&all, self.teleport_index(&all))
    }

    /// The GPU run of this config over `source`; `levels` are [`Self::run_levels`].
    pub fn gpu_setup<'a>(
        &self,
        levels: &'a [Level],
        source: &'a Source,
        classes: usize,
    ) -> RunSetup<'a> {
        let all = self.levels();
        RunSetup {
            sampler: self.sampler_params(),
            fewer: self.fewer_params(),
            teleport: teleport_for(&all, self.teleport_index(&all), source),
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
    let levels = cfg.run_levels();
    let setup = cfg.gpu_setup(&levels, &source, train.class_count);
    let mut run = DiffusionGpu::new(gpu, kernel, &setup, &initial_particles(cfg.seed, cfg.n))?;
    run.advance(gpu, levels.len())?;
    let samples = run.particles(gpu).await?;
    let states = run.states(gpu).await?;
    let fresh = cfg.fresh_data(&drawn);
    let per_eval = if setup.classes > 0 && setup.guidance != 0.0 {
        2
    } else {
        1
    };
    let per_step = cfg
        .skip_plan()
        .map(|p| p.iter().map(|&s| f64::from(u8::from(s))).collect())
        .unwrap_or_default();
    Ok(Ok(DiffusionReport::new(
        cfg,
        samples.clone(),
        metrics(&samples, &fresh, &train.points, cfg.delta),
        call_counts(&states, per_eval),
        per_step,
        Backend::Gpu,
    )))
}

/// The fewer-calls paths (GE, skipping with h3 and the adaptive gate,
/// teleportation) on `gpu` against the CPU, for the self-test: the largest
/// sample difference (infinite when the call counts differ or a run fails;
/// NaN-seeing through `kernels::agree`).
pub async fn fewer_calls_agreement(gpu: &Gpu, kernel: &DiffusionKernel) -> Result<f64, GpuError> {
    let base = DiffusionConfig {
        steps: 12,
        n: 256,
        ..DiffusionConfig::default()
    };
    let configs = [
        DiffusionConfig {
            sampler: SamplerKind::Ge,
            skip: SkipOrder::H3,
            skip_every: 2,
            teleport: 0.25,
            ..base.clone()
        },
        DiffusionConfig {
            sampler: SamplerKind::Heun,
            skip: SkipOrder::H2,
            skip_adaptive: true,
            ..base.clone()
        },
    ];
    let mut worst = Vec::new();
    for cfg in &configs {
        let cpu = sample_cpu(cfg, None);
        let on_gpu = sample_gpu(gpu, kernel, cfg, None).await?;
        worst.push(match (cpu, on_gpu) {
            (Ok(a), Ok(b)) if (a.nfe_real, a.nfe_skipped) == (b.nfe_real, b.nfe_skipped) => {
                crate::kernels::agree::worst_abs(a.samples.as_flattened(), b.samples.as_flattened())
            }
            _ => f64::INFINITY,
        });
    }
    Ok(crate::kernels::agree::worst(worst))
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
        let levels = cfg.run_levels();
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

/// Particles of each comparison run of the fewer-calls panels.
pub const COMPARE_PARTICLES: u32 = 1024;
/// Sampler steps of the quality-per-call (Pareto) plot.
pub const PARETO_STEPS: [u32; 4] = [4, 8, 16, 32];
/// The samplers the Pareto plot compares.
pub const PARETO_SAMPLERS: [SamplerKind; 3] =
    [SamplerKind::Ddim, SamplerKind::Heun, SamplerKind::Ge];
/// Teleportation's fraction of steps where the reader has not set one: 20%,
/// inside the 15–30% that Wang & Vastola report skipping; fixed, not tuned.
pub const DEFAULT_TELEPORT: f64 = 0.2;

/// What a comparison run adds to a sampler to save calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Trick {
    Plain,
    Skip,
    Teleport,
    Both,
}

impl Trick {
    pub const ALL: [Trick; 4] = [Trick::Plain, Trick::Skip, Trick::Teleport, Trick::Both];

    pub fn label(self) -> &'static str {
        match self {
            Trick::Plain => "every call",
            Trick::Skip => "skipping",
            Trick::Teleport => "teleport",
            Trick::Both => "skip + teleport",
        }
    }

    /// `cfg` with this trick: the reader's skip order (h2 where off) and
    /// teleport (20% where off), or neither.
    pub fn apply(self, cfg: &DiffusionConfig) -> DiffusionConfig {
        let mut c = cfg.clone();
        let skip = matches!(self, Trick::Skip | Trick::Both);
        let tele = matches!(self, Trick::Teleport | Trick::Both);
        c.skip = match (skip, cfg.skip) {
            (false, _) => SkipOrder::None,
            (true, SkipOrder::None) => SkipOrder::H2,
            (true, o) => o,
        };
        c.teleport = match (tele, cfg.teleport) {
            (false, _) => 0.0,
            (true, t) if t > 0.0 => t,
            (true, _) => DEFAULT_TELEPORT,
        };
        c
    }
}

impl DiffusionConfig {
    /// The reader's config as a comparison run: [`COMPARE_PARTICLES`] at
    /// most, the schedule's levels (the comparisons vary the steps), no
    /// Langevin (its calls cannot be skipped; DDIM instead).
    pub fn comparison_base(&self) -> DiffusionConfig {
        let mut c = self.clone();
        c.n = c.n.min(COMPARE_PARTICLES);
        c.sigmas.clear();
        if c.sampler == SamplerKind::Langevin {
            c.sampler = SamplerKind::Ddim;
        }
        c
    }

    /// Why the comparison runs cannot run for this config (they run one-shot
    /// in the compute worker, with no drawn points and no network loaded).
    pub fn comparison_blocker(&self) -> Option<&'static str> {
        match (self.dataset, self.score) {
            (DiffusionData::Drawn, _) => {
                Some("The comparisons need a built-in or custom data set, not drawn points.")
            }
            (_, ScoreKind::Mlp) => {
                Some("The comparisons use the closed-form score sources; pick one other than mlp.")
            }
            _ => None,
        }
    }

    /// The Pareto plot's runs: each sampler × trick × step count.
    pub fn pareto_runs(&self) -> Vec<(SamplerKind, Trick, DiffusionConfig)> {
        let base = self.comparison_base();
        let mut out = Vec::new();
        for sampler in PARETO_SAMPLERS {
            for trick in Trick::ALL {
                for steps in PARETO_STEPS {
                    let c = DiffusionConfig {
                        sampler,
                        steps,
                        ..trick.apply(&base)
                    };
                    out.push((sampler, trick, c));
                }
            }
        }
        out
    }

    /// The overlay's pair: the reader's run with every call, and the same run
    /// (same seed, so the same starting noise) with the reader's skipping and
    /// teleport, or both at their defaults when neither is on.
    pub fn overlay_runs(&self) -> (DiffusionConfig, DiffusionConfig) {
        let base = self.comparison_base();
        let cheap = if base.skip == SkipOrder::None && base.teleport == 0.0 {
            Trick::Both.apply(&base)
        } else {
            base.clone()
        };
        (Trick::Plain.apply(&base), cheap)
    }

    /// Two independent fresh samples of [`COMPARE_PARTICLES`] points each:
    /// their distance is the noise floor of the comparison runs' distance.
    pub fn floor_samples(&self, drawn: &PointSet) -> (Vec<[f32; 2]>, Vec<[f32; 2]>) {
        let n = COMPARE_PARTICLES as usize;
        let a = self.fresh_data(drawn);
        let b = self
            .dataset
            .points(
                self.seed,
                FRESH_OFFSET + METRIC_POINTS as u32,
                n,
                &self.custom(),
            )
            .points;
        (a[..a.len().min(n)].to_vec(), b)
    }
}

/// Each particle's distance between two runs of the same starting noise.
pub fn deviations(a: &[[f32; 2]], b: &[[f32; 2]]) -> Vec<f32> {
    a.iter()
        .zip(b)
        .map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
        .collect()
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

/// The widget's panels (`data-panel` ids) and their titles, in page order.
pub const PANELS: &[PanelInfo] = &[
    PanelInfo::new("particles", "Particles"),
    PanelInfo::new("metrics", "How close to the data"),
    PanelInfo::new("schedule", "The noise schedule"),
    PanelInfo::new("pareto", "Quality per score call"),
    PanelInfo::new("overlay", "Full run against a cheaper run, same noise"),
    PanelInfo::new("calls", "Real, skipped and teleported steps"),
];

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
            papers::PERMENTER_YUAN_2024,
            papers::VLADIMIR_2025,
        ],
        panels: PANELS,
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
                let levels = self.cfg.run_levels();
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
