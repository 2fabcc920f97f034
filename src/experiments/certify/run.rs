//! One run of the certify experiment: the base classifier, the p_A heat map,
//! CERTIFY at the requested points with the true radius beside each
//! certificate, and certified accuracy on a data set's test points, hard
//! votes against soft smoothing.
//!
//! A run is (shared setup) + (parts over ranges of independent units) +
//! (join): [`Setup`] holds the base classifier, [`part`] computes a range of
//! heat-map pixels, requested points or test points ([`Units`]), and
//! [`join`] assembles the report. Every unit of a kind reads the same noise
//! (counters keyed by sample index, common random numbers), so any grouping
//! of units into parts joins into the same numbers: [`run`] computes each
//! kind as one part, the page splits them over its workers
//! (`ui::worker::certify_run`).

use std::ops::Range;

use super::config::{CertifyConfig, Model, Smoothing, Transform, VIEW};
use crate::experiments::registry::{Compute, RunError};
use crate::experiments::wire::f32s;
use crate::gpu::GpuError;
use crate::gpu::certify::CertifyCounts;
use crate::kernels::certify::base::{BaseClassifier, MAX_CLASSES};
use crate::kernels::certify::radius::{ExactOracle, Search, oracle_for, true_angle, true_radius};
use crate::kernels::certify::smooth::{
    Certificate, ESTIMATE_STREAM, MAP_STREAM, Noise, PointCounts, SELECT_STREAM, Smoother,
    TRUE_STREAM, certify, normal_pairs, select_class, split_alpha,
};
use crate::kernels::certify::stats::incomplete_beta;
use crate::kernels::certify::train::{mlp_spec, train_mlp};
use crate::kernels::datasets::{self, Dataset};
use crate::kernels::par;
use crate::kernels::rng::RngKey;

/// Training points of the MLP.
pub const TRAIN_POINTS: usize = 512;
/// Radii (as multiples of the noise scale) of the certified-accuracy curves: 0 to 4 in 41 steps.
pub const CURVE_STEPS: usize = 41;

/// One point's certificate and the true radius beside it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointReport {
    pub x: [f64; 2],
    /// The class CERTIFY predicts (also when it abstains).
    pub class: usize,
    /// Votes for it among the n estimation samples.
    pub n_a: u64,
    /// Its estimate p̂_A and lower bound p̲_A.
    pub pa_hat: f64,
    pub pa_lower: f64,
    /// The certified radius (an angle in radians under rotation); 0 when abstaining.
    pub radius: f64,
    /// The distance (angle) to the smoothed classifier's boundary; `None` when none was found within reach.
    pub true_radius: Option<f64>,
    /// The class of the smoothed classifier g at x (exact or Monte Carlo).
    pub true_class: usize,
    pub abstain: bool,
}

/// The p_A heat map of the smoothed classifier, beside the base classifier's regions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeatMap {
    /// Pixels per side; pixel (i, j) is centred at (−V + (i + ½)·2V/grid, −V + (j + ½)·2V/grid), row j.
    pub grid: u32,
    /// Half the side V of the square.
    pub view: f64,
    /// f's class at each pixel centre.
    pub base: Vec<u8>,
    /// The most voted class under noise.
    pub class: Vec<u8>,
    /// Its vote share p̂_A.
    pub pa: Vec<f32>,
    /// CERTIFY would abstain here with this many samples: the Clopper–Pearson bound p̲_A ≤ ½ at α.
    pub abstain: Vec<bool>,
    /// Samples per pixel.
    pub samples: u32,
}

/// Certified accuracy of hard votes and of soft smoothing on the same test
/// points, each at α/2 (Bonferroni), so the better of the two holds at α.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub soft_map: Smoothing,
    pub temp: f64,
    pub alpha_each: f64,
    pub hard: Vec<[f64; 2]>,
    pub soft: Vec<[f64; 2]>,
    /// Mean certified radius over the test points (0 for abstentions and wrong classes).
    pub hard_mean_radius: f64,
    pub soft_mean_radius: f64,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CertifyReport {
    pub points: Vec<PointReport>,
    /// (radius, fraction of test points certified correct at that radius), at α with the config's smoothing.
    pub certified_accuracy: Vec<[f64; 2]>,
    /// Accuracy of the base classifier f on the clean test points.
    pub clean_accuracy: f64,
    pub comparison: Comparison,
    pub map: HeatMap,
    /// The test points and their labels, for drawing.
    pub test_x: Vec<[f32; 2]>,
    pub test_y: Vec<u8>,
    /// "exact" (closed form) or "monte-carlo": how the true radius's g is evaluated.
    pub true_oracle: String,
    /// Rough 2-SE error of a Monte Carlo true radius at a boundary as sharp as a hyperplane's (0 when exact).
    pub true_radius_error: f64,
    /// The half-plane or MLP classes; the MLP's training accuracy on its clean points.
    pub classes: usize,
    pub train_accuracy: Option<f64>,
}

/// The base classifier of `cfg` (the MLP trained here, on the CPU in every backend).
pub fn base_classifier(cfg: &CertifyConfig, noise: Noise) -> (BaseClassifier, Option<Dataset>) {
    match cfg.model {
        Model::Linear => (
            BaseClassifier::Linear {
                w: [cfg.w[0] as f32, cfg.w[1] as f32],
                b: cfg.b as f32,
            },
            None,
        ),
        Model::Disk => (
            BaseClassifier::Disk {
                r: cfg.radius as f32,
            },
            None,
        ),
        Model::Mlp => {
            let train = datasets::generate(cfg.dataset, cfg.seed, TRAIN_POINTS, 0).train;
            // Augmentation always shifts (the classifier must see noisy inputs), at σ.
            let shift = Noise {
                transform: Transform::Shift,
                ..noise
            };
            (
                train_mlp(&train, shift, cfg.train_steps, cfg.seed),
                Some(train),
            )
        }
    }
}

/// The noise of `cfg`.
pub fn noise_of(cfg: &CertifyConfig) -> Noise {
    Noise {
        transform: cfg.transform,
        sigma: cfg.sigma as f32,
        sigma_angle: cfg.sigma_angle as f32,
    }
}

/// Monte Carlo counts on `on` (the GPU kernel, or its CPU twin).
pub async fn counts_on(
    on: &Compute,
    s: &Smoother,
    points: &[[f32; 2]],
    targets: Option<&[Option<usize>]>,
    key: RngKey,
    n: u32,
) -> Result<Vec<PointCounts>, GpuError> {
    match on {
        Compute::Cpu => Ok(s.counts(points, targets, key, n)),
        Compute::Gpu(gpu) => {
            gpu.kernel::<CertifyCounts>()
                .await?
                .counts(gpu, s, points, targets, key, n)
                .await
        }
    }
}

/// Pixel centres of the heat map, row by row.
pub fn pixel_centres(grid: u32) -> Vec<[f32; 2]> {
    let step = 2.0 * VIEW / f64::from(grid);
    (0..grid * grid)
        .map(|k| {
            let (i, j) = (k % grid, k / grid);
            [
                (-VIEW + (f64::from(i) + 0.5) * step) as f32,
                (-VIEW + (f64::from(j) + 0.5) * step) as f32,
            ]
        })
        .collect()
}

/// What every part of a run shares: the base classifier (the MLP trained
/// here) smoothed with the config's noise, and the MLP's training set.
/// Deterministic from the config. Training the MLP is its only costly step
/// (≈ 75 ms natively at 300 steps, about as much as the heat map), so the
/// page trains once and sends the parameters with every part
/// ([`Setup::with_params`]) rather than training in each.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub smoother: Smoother,
    /// The MLP's training set (`None` for the half-plane and disk).
    pub train: Option<Dataset>,
}

impl Setup {
    /// The setup of `cfg`, training the MLP where the model is one.
    pub fn new(cfg: &CertifyConfig) -> Self {
        let (model, train) = base_classifier(cfg, noise_of(cfg));
        Self::of(cfg, model, train)
    }

    fn of(cfg: &CertifyConfig, model: BaseClassifier, train: Option<Dataset>) -> Self {
        Self {
            smoother: Smoother {
                model,
                noise: noise_of(cfg),
                smoothing: cfg.smoothing,
                temp: cfg.temp as f32,
            },
            train,
        }
    }

    /// The MLP's trained parameters (empty for the half-plane and disk), to
    /// rebuild this setup elsewhere with [`Setup::with_params`].
    pub fn params(&self) -> &[f32] {
        match &self.smoother.model {
            BaseClassifier::Mlp { params, .. } => params,
            _ => &[],
        }
    }

    /// The setup of `cfg` with the MLP's parameters `params` (from
    /// [`Setup::params`]) instead of training it; an error where they do not fit.
    pub fn with_params(cfg: &CertifyConfig, params: Vec<f32>) -> Result<Self, String> {
        if cfg.model != Model::Mlp {
            return if params.is_empty() {
                Ok(Self::new(cfg))
            } else {
                Err(format!("{} has no parameters to set", cfg.model.as_str()))
            };
        }
        let spec = mlp_spec(cfg.dataset.classes());
        if params.len() != spec.param_count() {
            return Err(format!(
                "{} MLP parameters, but the network has {}",
                params.len(),
                spec.param_count()
            ));
        }
        let train = datasets::generate(cfg.dataset, cfg.seed, TRAIN_POINTS, 0).train;
        Ok(Self::of(
            cfg,
            BaseClassifier::Mlp { spec, params },
            Some(train),
        ))
    }
}

/// The independent Monte Carlo units a run splits into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Units {
    /// Heat-map pixels, row by row.
    Pixels,
    /// The requested points: CERTIFY and the true radius.
    Points,
    /// The test points of the certified accuracy.
    TestPoints,
}

impl Units {
    /// Every kind, in the order [`run`] computes them.
    pub const ALL: [Units; 3] = [Units::Pixels, Units::Points, Units::TestPoints];

    /// How many units of this kind the run of `cfg` has.
    pub fn count(self, cfg: &CertifyConfig) -> u32 {
        match self {
            Units::Pixels => cfg.grid * cfg.grid,
            // At most 16 points (the config's bound).
            #[allow(clippy::cast_possible_truncation)]
            Units::Points => cfg.points.0.len() as u32,
            Units::TestPoints => cfg.test_points,
        }
    }
}

/// Heat-map pixels of a part, as in [`HeatMap`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PixelPart {
    pub base: Vec<u8>,
    pub class: Vec<u8>,
    #[serde(with = "f32s")]
    pub pa: Vec<f32>,
    pub abstain: Vec<bool>,
}

/// What one test point contributes to the certified accuracy: the radius
/// it is certified correct at (`None`: abstained or wrong) at α with the
/// config's smoothing, and with hard votes and soft smoothing at α/2 each.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestOutcome {
    /// Whether f classifies the clean point correctly.
    pub clean: bool,
    pub main: Option<f64>,
    pub hard: Option<f64>,
    pub soft: Option<f64>,
}

/// What a range of units gives, for [`join`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Part {
    Pixels(PixelPart),
    Points(Vec<PointReport>),
    TestPoints(Vec<TestOutcome>),
}

impl Part {
    /// The kind of units it covers.
    pub fn units(&self) -> Units {
        match self {
            Part::Pixels(_) => Units::Pixels,
            Part::Points(_) => Units::Points,
            Part::TestPoints(_) => Units::TestPoints,
        }
    }

    /// How many units it covers.
    pub fn count(&self) -> usize {
        match self {
            Part::Pixels(p) => p.pa.len(),
            Part::Points(p) => p.len(),
            Part::TestPoints(t) => t.len(),
        }
    }
}

/// Units `range` of kind `units` (within [`Units::count`]) of the run of
/// `cfg` with `setup`, on `on`.
pub async fn part(
    cfg: &CertifyConfig,
    setup: &Setup,
    units: Units,
    range: Range<u32>,
    on: &Compute,
) -> Result<Part, GpuError> {
    let r = range.start as usize..range.end as usize;
    let s = &setup.smoother;
    Ok(match units {
        Units::Pixels => Part::Pixels(pixels(cfg, s, &pixel_centres(cfg.grid)[r], on).await?),
        Units::Points => Part::Points(point_reports(cfg, s, &requested_points(cfg)[r], on).await?),
        Units::TestPoints => {
            let (xs, ys) = test_set(cfg, &s.model);
            Part::TestPoints(test_outcomes(cfg, s, &xs[r.clone()], &ys[r], on).await?)
        }
    })
}

/// The heat map at pixel centres `px`, with the hard votes of [`MAP_STREAM`].
async fn pixels(
    cfg: &CertifyConfig,
    s: &Smoother,
    px: &[[f32; 2]],
    on: &Compute,
) -> Result<PixelPart, GpuError> {
    let hard = Smoother {
        smoothing: Smoothing::Hard,
        ..s.clone()
    };
    let counts = counts_on(
        on,
        &hard,
        px,
        None,
        RngKey::new(cfg.seed, MAP_STREAM),
        cfg.map_n,
    )
    .await?;
    let mut scratch = [0.0f32; MAX_CLASSES];
    let mut part = PixelPart {
        base: px
            .iter()
            .map(|&x| s.model.class(x, &mut scratch) as u8)
            .collect(),
        class: Vec::with_capacity(px.len()),
        pa: Vec::with_capacity(px.len()),
        abstain: Vec::with_capacity(px.len()),
    };
    for c in &counts {
        let a = select_class(Smoothing::Hard, c);
        let k = c.counts[a];
        part.class.push(a as u8);
        part.pa.push((k as f64 / f64::from(cfg.map_n)) as f32);
        // p̲_A ≤ ½ ⇔ I_½(k, n − k + 1) ≥ α (I increases in x): one evaluation, no quantile search.
        let n = f64::from(cfg.map_n);
        part.abstain
            .push(k == 0 || incomplete_beta(0.5, k as f64, n - k as f64 + 1.0) >= cfg.alpha);
    }
    Ok(part)
}

/// CERTIFY at every point: selection with n₀, estimation with n, both at once for all points.
async fn certify_points(
    cfg: &CertifyConfig,
    s: &Smoother,
    points: &[[f32; 2]],
    alpha: f64,
    on: &Compute,
) -> Result<Vec<Certificate>, GpuError> {
    let sel = counts_on(
        on,
        s,
        points,
        None,
        RngKey::new(cfg.seed, SELECT_STREAM),
        cfg.n0,
    )
    .await?;
    let classes: Vec<usize> = sel.iter().map(|c| select_class(s.smoothing, c)).collect();
    let targets: Vec<Option<usize>> = classes.iter().map(|&c| Some(c)).collect();
    let est = counts_on(
        on,
        s,
        points,
        Some(&targets),
        RngKey::new(cfg.seed, ESTIMATE_STREAM),
        cfg.n,
    )
    .await?;
    Ok(classes
        .iter()
        .zip(&est)
        .map(|(&c, e)| certify(s.smoothing, c, e, alpha, s.noise.scale()))
        .collect())
}

/// The requested points, in f32.
fn requested_points(cfg: &CertifyConfig) -> Vec<[f32; 2]> {
    cfg.points
        .0
        .iter()
        .map(|p| [p[0] as f32, p[1] as f32])
        .collect()
}

/// CERTIFY at the points `xs`, each with its true radius (searched in
/// parallel natively: with a Monte Carlo oracle it is most of an MLP run).
async fn point_reports(
    cfg: &CertifyConfig,
    s: &Smoother,
    xs: &[[f32; 2]],
    on: &Compute,
) -> Result<Vec<PointReport>, GpuError> {
    let certs = certify_points(cfg, s, xs, cfg.alpha, on).await?;
    let oracle = oracle_for(&s.model, s.noise, || {
        normal_pairs(RngKey::new(cfg.seed, TRUE_STREAM), 0, cfg.true_n)
    });
    let search = Search::default();
    Ok(par::map(xs.len(), |i| {
        let (x, c) = (xs[i], &certs[i]);
        let xd = [f64::from(x[0]), f64::from(x[1])];
        let true_radius = match cfg.transform {
            Transform::Shift => true_radius(&*oracle, xd, &search),
            Transform::Rotation => true_angle(&*oracle, xd, &search),
        };
        PointReport {
            x: xd,
            class: c.class,
            n_a: c.n_a,
            pa_hat: c.pa_hat,
            pa_lower: c.pa_lower,
            radius: c.radius.unwrap_or(0.0),
            true_radius,
            true_class: oracle.class(xd),
            abstain: c.abstain(),
        }
    }))
}

/// (radius, fraction certified correct at ≥ radius) on the curve's radii.
fn accuracy_curve(radii: &[f64], correct_radius: &[Option<f64>]) -> Vec<[f64; 2]> {
    let m = correct_radius.len().max(1) as f64;
    radii
        .iter()
        .map(|&r| {
            let ok = correct_radius
                .iter()
                .filter(|c| c.is_some_and(|c| c >= r))
                .count();
            [r, ok as f64 / m]
        })
        .collect()
}

fn mean_radius(r: &[Option<f64>]) -> f64 {
    r.iter().map(|c| c.unwrap_or(0.0)).sum::<f64>() / r.len().max(1) as f64
}

/// The test points and their labels: the data set's, or f's own for the half-plane and disk.
fn test_set(cfg: &CertifyConfig, model: &BaseClassifier) -> (Vec<[f32; 2]>, Vec<u32>) {
    let test = datasets::generate(
        cfg.dataset,
        cfg.seed,
        TRAIN_POINTS,
        cfg.test_points as usize,
    )
    .test;
    let xs: Vec<[f32; 2]> = (0..test.len()).map(|i| test.point(i)).collect();
    let mut scratch = [0.0f32; MAX_CLASSES];
    let ys = match model {
        BaseClassifier::Mlp { .. } => test.y.clone(),
        _ => xs
            .iter()
            .map(|&x| model.class(x, &mut scratch) as u32)
            .collect(),
    };
    (xs, ys)
}

/// The soft smoothing compared with hard votes: the config's, or softmax where it asks for hard votes.
fn soft_map_of(smoothing: Smoothing) -> Smoothing {
    if smoothing == Smoothing::Hard {
        Smoothing::Softmax
    } else {
        smoothing
    }
}

/// The test points `xs` (labels `ys`) certified at α with the config's
/// smoothing and, for the hard-vs-soft comparison, at α/2 each, from one
/// selection and one estimation pass: the soft smoother's passes count the
/// hard votes too (the same noise), so hard votes, soft smoothing and the
/// config's certificate all read the same samples.
async fn test_outcomes(
    cfg: &CertifyConfig,
    s: &Smoother,
    xs: &[[f32; 2]],
    ys: &[u32],
    on: &Compute,
) -> Result<Vec<TestOutcome>, GpuError> {
    let scale = s.noise.scale();
    let soft_map = soft_map_of(s.smoothing);
    let alpha_each = split_alpha(cfg.alpha, 2);
    let soft = Smoother {
        smoothing: soft_map,
        ..s.clone()
    };
    let sel = counts_on(
        on,
        &soft,
        xs,
        None,
        RngKey::new(cfg.seed, SELECT_STREAM),
        cfg.n0,
    )
    .await?;
    let c_soft: Vec<usize> = sel.iter().map(|c| select_class(soft_map, c)).collect();
    let targets: Vec<Option<usize>> = c_soft.iter().map(|&c| Some(c)).collect();
    let est = counts_on(
        on,
        &soft,
        xs,
        Some(&targets),
        RngKey::new(cfg.seed, ESTIMATE_STREAM),
        cfg.n,
    )
    .await?;
    let mut scratch = [0.0f32; MAX_CLASSES];
    let mut out = Vec::with_capacity(xs.len());
    for (i, e) in est.iter().enumerate() {
        let y = ys[i] as usize;
        let c_hard = select_class(Smoothing::Hard, &sel[i]);
        let correct = |smoothing: Smoothing, c: usize, alpha: f64| {
            let cert = certify(smoothing, c, e, alpha, scale);
            cert.radius.filter(|_| cert.class == y)
        };
        out.push(TestOutcome {
            clean: s.model.class(xs[i], &mut scratch) == y,
            main: if s.smoothing == Smoothing::Hard {
                correct(Smoothing::Hard, c_hard, cfg.alpha)
            } else {
                correct(soft_map, c_soft[i], cfg.alpha)
            },
            hard: correct(Smoothing::Hard, c_hard, alpha_each),
            soft: correct(soft_map, c_soft[i], alpha_each),
        });
    }
    Ok(out)
}

/// Certified accuracy at α with the config's smoothing, and the hard-vs-soft
/// comparison at α/2 each, from the test points' outcomes.
fn accuracy(
    cfg: &CertifyConfig,
    s: &Smoother,
    outcomes: &[TestOutcome],
) -> (Vec<[f64; 2]>, Comparison) {
    let scale = s.noise.scale();
    let radii: Vec<f64> = (0..CURVE_STEPS)
        .map(|i| 4.0 * scale * i as f64 / (CURVE_STEPS - 1) as f64)
        .collect();
    let main: Vec<Option<f64>> = outcomes.iter().map(|o| o.main).collect();
    let hard_r: Vec<Option<f64>> = outcomes.iter().map(|o| o.hard).collect();
    let soft_r: Vec<Option<f64>> = outcomes.iter().map(|o| o.soft).collect();
    (
        accuracy_curve(&radii, &main),
        Comparison {
            soft_map: soft_map_of(s.smoothing),
            temp: cfg.temp,
            alpha_each: split_alpha(cfg.alpha, 2),
            hard: accuracy_curve(&radii, &hard_r),
            soft: accuracy_curve(&radii, &soft_r),
            hard_mean_radius: mean_radius(&hard_r),
            soft_mean_radius: mean_radius(&soft_r),
        },
    )
}

/// The report of the run of `cfg` with `setup` from its parts: each kind's
/// units in order, grouped into any ranges ([`part`]).
pub fn join(
    cfg: &CertifyConfig,
    setup: &Setup,
    parts: impl IntoIterator<Item = Part>,
) -> CertifyReport {
    let s = &setup.smoother;
    let mut map = HeatMap {
        grid: cfg.grid,
        view: VIEW,
        base: Vec::new(),
        class: Vec::new(),
        pa: Vec::new(),
        abstain: Vec::new(),
        samples: cfg.map_n,
    };
    let (mut points, mut outcomes) = (Vec::new(), Vec::new());
    for p in parts {
        match p {
            Part::Pixels(px) => {
                map.base.extend(px.base);
                map.class.extend(px.class);
                map.pa.extend(px.pa);
                map.abstain.extend(px.abstain);
            }
            Part::Points(p) => points.extend(p),
            Part::TestPoints(t) => outcomes.extend(t),
        }
    }
    let (test_x, test_y) = test_set(cfg, &s.model);
    let (certified_accuracy, comparison) = accuracy(cfg, s, &outcomes);
    let clean = outcomes.iter().filter(|o| o.clean).count();
    let mut scratch = [0.0f32; MAX_CLASSES];
    let train_accuracy = setup.train.as_ref().map(|t| {
        let ok = (0..t.len())
            .filter(|&i| s.model.class(t.point(i), &mut scratch) == t.y[i] as usize)
            .count();
        ok as f64 / t.len().max(1) as f64
    });
    let exact = ExactOracle::new(&s.model, s.noise).is_some();
    CertifyReport {
        points,
        certified_accuracy,
        clean_accuracy: clean as f64 / outcomes.len().max(1) as f64,
        comparison,
        map,
        test_y: test_y.iter().map(|&y| y as u8).collect(),
        test_x,
        true_oracle: if exact { "exact" } else { "monte-carlo" }.into(),
        true_radius_error: if exact {
            0.0
        } else {
            s.noise.scale() * (2.0 * std::f64::consts::PI).sqrt() / f64::from(cfg.true_n).sqrt()
        },
        classes: s.model.classes(),
        train_accuracy,
    }
}

/// The whole run of `cfg` on `on`: the setup, each kind of units as one part, joined.
pub async fn run(cfg: &CertifyConfig, on: &Compute) -> Result<CertifyReport, RunError> {
    let setup = Setup::new(cfg);
    let mut parts = Vec::with_capacity(Units::ALL.len());
    for units in Units::ALL {
        parts.push(part(cfg, &setup, units, 0..units.count(cfg), on).await?);
    }
    Ok(join(cfg, &setup, parts))
}
