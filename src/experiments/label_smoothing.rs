//! Label smoothing, side by side: two or three tiny MLP classifiers trained
//! from the same seed, data, initial weights and minibatches, with hard
//! labels, with smoothed labels (optionally two-stage), and with MaxSup; then
//! their calibration, selective classification and penultimate-layer
//! clusters (Müller et al. 2019; Xia et al. 2025; Zhou et al. 2025; Xu et al. 2020).

use serde::{Deserialize, Serialize};

use super::Backend;
use super::bench::{Bench, Workload, prepare_with};
use super::config::Config;
use super::config::{ListBound, Range};
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;
use super::train_mlp::{TrainMlpConfig, Trainer};
use crate::gpu::mlp::MlpGpu;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::calibration::{self, Bin, ECE_BINS, LOGNORM_P};
use crate::kernels::datasets;
use crate::kernels::mlp::{
    self, Activation, AdamConfig, AdamState, Loss, MlpSpec, Targets, featurize,
};
use crate::kernels::rng::RngKey;
/// The data sets, and the row softmax the widget colours decision regions with.
pub use crate::kernels::{calibration::softmax_rows, datasets::DatasetId};

crate::define_config! {
    /// The label-smoothing experiment.
    pub struct LabelSmoothingConfig {
        /// Dataset to classify.
        dataset: DatasetId = DatasetId::Gauss8, ();
        /// Label smoothing ε of the smoothed model: targets (1 − ε)·onehot + ε/K.
        smoothing: f64 = 0.2, Range::new(0.0, 0.5);
        /// MaxSup penalty α of a third model (0 = no MaxSup model).
        maxsup: f64 = 0.2, Range::new(0.0, 1.0);
        /// Two-stage label smoothing (TSLA): the smoothed model drops smoothing from this step on (0 = off).
        tsla: u32 = 0, Range::new(0, 100_000);
        /// Fraction of training labels flipped to a random other class (test labels stay clean).
        noise: f64 = 0.0, Range::new(0.0, 0.5);
        /// Hidden-layer widths, input to output.
        hidden: Vec<u32> = vec![64, 64], ListBound { min_len: 0, max_len: 4, each: Range::new(1, 256) };
        /// Adam steps.
        steps: u32 = 2000, Range::new(1, 100_000);
        /// Adam learning rate.
        lr: f64 = 0.01, Range::new(1e-6, 1.0);
        /// Minibatch size (sampled with replacement).
        batch: u32 = 64, Range::new(1, 4096);
        /// Seed of the data, the label noise, the initial weights and the minibatches.
        seed: u32 = 0, Range::new(0, u32::MAX);
        /// Training points.
        train: u32 = 256, Range::new(16, 100_000);
        /// Test points.
        test: u32 = 1536, Range::new(16, 100_000);
    }
}

crate::param_enum! {
    /// The models trained side by side.
    pub enum ModelKind {
        /// Hard one-hot labels.
        Hard = "hard",
        /// Smoothed labels (ε; two-stage if `tsla` > 0).
        Smoothed = "smoothed",
        /// Hard labels plus the MaxSup penalty α.
        MaxSup = "maxsup",
    }
}

impl LabelSmoothingConfig {
    /// The models this config trains: hard and smoothed, plus MaxSup if α > 0.
    pub fn kinds(&self) -> Vec<ModelKind> {
        let mut k = vec![ModelKind::Hard, ModelKind::Smoothed];
        if self.maxsup > 0.0 {
            k.push(ModelKind::MaxSup);
        }
        k
    }

    /// The smoothing ε of a model at training step `step` (TSLA, Xu et al.,
    /// "Towards Understanding Label Smoothing", 2020: ε until step `tsla`, then 0).
    pub fn smoothing_at(&self, kind: ModelKind, step: u32) -> f64 {
        match kind {
            ModelKind::Smoothed if self.tsla == 0 || step < self.tsla => self.smoothing,
            _ => 0.0,
        }
    }

    /// The loss of a model at training step `step`.
    pub fn loss_at(&self, kind: ModelKind, step: u32) -> Loss {
        Loss::CrossEntropy {
            smoothing: self.smoothing_at(kind, step) as f32,
            maxsup: if kind == ModelKind::MaxSup {
                self.maxsup as f32
            } else {
                0.0
            },
        }
    }

    /// The training config of one model at step 0: everything but the loss is shared.
    pub fn model_config(&self, kind: ModelKind) -> TrainMlpConfig {
        let Loss::CrossEntropy { smoothing, maxsup } = self.loss_at(kind, 0) else {
            unreachable!("a classifier loss")
        };
        TrainMlpConfig {
            dataset: self.dataset,
            hidden: self.hidden.clone(),
            activation: Activation::Relu,
            steps: self.steps,
            lr: self.lr,
            batch: self.batch,
            seed: self.seed,
            train: self.train,
            test: self.test,
            every: self.steps,
            smoothing: f64::from(smoothing),
            maxsup: f64::from(maxsup),
            weight_decay: 0.0,
        }
    }
}

/// A published effect and whether the default configuration shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Finding {
    /// Short name of the effect.
    pub effect: &'static str,
    /// Whether it holds for every one of seeds 0..5 at the default configuration
    /// (checked by `tests/label_smoothing.rs`).
    pub holds: bool,
    /// The effect's size in the claimed direction (ECE or AURC units), its
    /// mean and its smallest value over seeds 0..5 (checked by the tests).
    pub mean: f64,
    pub least: f64,
    /// What the widget says about it.
    pub text: &'static str,
}

/// What the default configuration shows over seeds 0..5 (checked by the tests).
pub const FINDINGS: &[Finding] = &[
    Finding {
        effect: "ece",
        holds: true,
        mean: 0.067,
        least: 0.033,
        text: "Calibration: the smoothed model's ECE is lower than the hard-label model's on every seed 0–4 at the default setting, by 0.067 on average and at least 0.033 (Müller et al. 2019).",
    },
    Finding {
        effect: "aurc",
        holds: true,
        mean: 0.018,
        least: 0.015,
        text: "Selective classification: the smoothed model's AURC is higher (worse) than the hard-label model's on every seed 0–4, by 0.018 on average and at least 0.015 (Xia et al. 2025).",
    },
    Finding {
        effect: "lognorm",
        holds: true,
        mean: 0.024,
        least: 0.003,
        text: "Logit normalisation lowers the smoothed model's AURC on every seed 0–4, by 0.024 on average but only 0.003 on seed 3 (Xia et al. 2025).",
    },
];

/// Where one model's test points fall in the plane through three class templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// The three classes whose templates span the plane.
    pub classes: [u32; 3],
    /// 2D coordinates of the test points of those classes.
    #[serde(with = "super::wire::points")]
    pub points: Vec<[f32; 2]>,
    /// Their (clean) labels.
    pub labels: Vec<u32>,
}

/// One model's measurements on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSnapshot {
    pub kind: ModelKind,
    /// Smoothing ε and MaxSup α of the model's loss at this step.
    pub smoothing: f32,
    pub maxsup: f32,
    pub test_acc: f32,
    /// Mean negative log-likelihood of the clean test labels.
    pub nll: f32,
    /// Expected calibration error, 15 equal-width bins.
    pub ece: f32,
    pub reliability: Vec<Bin>,
    /// (coverage, selective risk) from max-softmax confidence, and its area.
    #[serde(with = "super::wire::pairs")]
    pub risk_coverage: Vec<(f32, f32)>,
    pub aurc: f32,
    /// The same after logit normalisation (centred, p = 2).
    #[serde(with = "super::wire::pairs")]
    pub risk_coverage_lognorm: Vec<(f32, f32)>,
    pub aurc_lognorm: f32,
    /// `None` for fewer than three classes.
    pub projection: Option<Projection>,
    /// Test logits, `test × classes` row-major (for [`Snapshot::logit_view`]).
    #[serde(with = "super::wire::f32s")]
    pub logits: Vec<f32>,
}

/// All models at one training step (it crosses from the compute worker whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub step: u32,
    pub classes: usize,
    pub models: Vec<ModelSnapshot>,
    /// Clean test labels.
    pub test_labels: Vec<u32>,
}

/// The MaxSup paper's split of what label smoothing adds to the cross-entropy
/// for one example (Zhou et al., "MaxSup", 2025, §3): with q = (1 − ε)·onehot(y) + ε/K,
/// CE(q, z) = CE(onehot(y), z) + ε·(z_y − mean_k z_k) exactly, and
/// ε·(z_y − mean z) = ε/K Σ_{k: z_k < z_y} (z_y − z_k)  [regularisation, ≥ 0]
///                  + ε/K Σ_{k: z_k > z_y} (z_y − z_k)  [error enhancement, ≤ 0].
/// The error-enhancement term is nonzero only on a misclassified example;
/// descending it widens the gap of the wrong classes over the true one.
/// MaxSup replaces both by α·(max_k z_k − mean_k z_k), which equals the
/// regularisation term (with α = ε) whenever the example is classified right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decomposition {
    /// ε·(z_y − mean z) with the model's current ε.
    pub smoothing_term: f32,
    pub regularisation: f32,
    pub error_enhancement: f32,
    /// Gradients of the two terms with respect to the logits.
    pub regularisation_grad: Vec<f32>,
    pub error_enhancement_grad: Vec<f32>,
    /// α·(max z − mean z) with the model's α, and its (sub)gradient (argmax = first maximum).
    pub maxsup_term: f32,
    pub maxsup_grad: Vec<f32>,
}

/// One model's view of one test example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogitView {
    pub kind: ModelKind,
    pub label: u32,
    pub logits: Vec<f32>,
    pub probs: Vec<f32>,
    /// The smoothed target q of the model's current ε.
    pub target: Vec<f32>,
    /// softmax(z) − q: the gradient of the (smoothed) cross-entropy.
    pub softmax_minus_q: Vec<f32>,
    /// The model's whole per-example loss and its gradient (MaxSup included).
    pub loss: f32,
    pub grad: Vec<f32>,
    pub decomposition: Decomposition,
}

/// Per-example loss and gradient with respect to the logits: the one formula
/// of [`mlp::loss_and_grad`] on a batch of one, in f64.
pub fn example_loss_and_grad(loss: Loss, logits: &[f64], target: u32) -> (f64, Vec<f64>) {
    let z = ndarray::Array2::from_shape_vec((1, logits.len()), logits.to_vec()).expect("one row");
    let (l, g) = mlp::loss_and_grad(loss, &z, Targets::Labels(&[target]));
    (l, g.into_raw_vec_and_offset().0)
}

/// The logit view of one example for a model trained with (ε, α): see [`LogitView`].
pub fn logit_view(
    kind: ModelKind,
    logits: &[f32],
    label: u32,
    smoothing: f32,
    maxsup: f32,
) -> LogitView {
    let k = logits.len();
    let kf = k as f64;
    let y = label as usize;
    let z: Vec<f64> = logits.iter().map(|&v| f64::from(v)).collect();
    let eps = f64::from(smoothing);
    let alpha = f64::from(maxsup);
    let probs = calibration::softmax_rows(logits, k);
    let target: Vec<f32> = (0..k)
        .map(|i| (eps / kf + if i == y { 1.0 - eps } else { 0.0 }) as f32)
        .collect();
    let (loss, grad) = example_loss_and_grad(Loss::CrossEntropy { smoothing, maxsup }, &z, label);
    let mean = z.iter().sum::<f64>() / kf;
    let (arg_max, z_max) =
        z.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |b, (i, &v)| if v > b.1 { (i, v) } else { b },
        );
    let (mut reg, mut err) = (0f64, 0f64);
    let mut reg_grad = vec![0f64; k];
    let mut err_grad = vec![0f64; k];
    for (i, &v) in z.iter().enumerate() {
        if v < z[y] {
            reg += eps / kf * (z[y] - v);
            reg_grad[y] += eps / kf;
            reg_grad[i] -= eps / kf;
        } else if v > z[y] {
            err += eps / kf * (z[y] - v);
            err_grad[y] += eps / kf;
            err_grad[i] -= eps / kf;
        }
    }
    let maxsup_grad: Vec<f32> = (0..k)
        .map(|i| (alpha * (f64::from(u8::from(i == arg_max)) - 1.0 / kf)) as f32)
        .collect();
    let f = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    LogitView {
        kind,
        label,
        logits: logits.to_vec(),
        softmax_minus_q: probs.iter().zip(&target).map(|(p, q)| p - q).collect(),
        probs,
        target,
        loss: loss as f32,
        grad: f(grad),
        decomposition: Decomposition {
            smoothing_term: (eps * (z[y] - mean)) as f32,
            regularisation: reg as f32,
            error_enhancement: err as f32,
            regularisation_grad: f(reg_grad),
            error_enhancement_grad: f(err_grad),
            maxsup_term: (alpha * (z_max - mean)) as f32,
            maxsup_grad,
        },
    }
}

impl Snapshot {
    /// Every model's view of test example `example` (`None` if out of range).
    pub fn logit_view(&self, example: usize) -> Option<Vec<LogitView>> {
        let label = *self.test_labels.get(example)?;
        let c = self.classes;
        Some(
            self.models
                .iter()
                .map(|m| {
                    logit_view(
                        m.kind,
                        &m.logits[example * c..(example + 1) * c],
                        label,
                        m.smoothing,
                        m.maxsup,
                    )
                })
                .collect(),
        )
    }
}

/// The models training side by side.
pub struct LabelSmoothingRun {
    pub cfg: LabelSmoothingConfig,
    /// Classes whose last-layer weight rows span the projection plane
    /// (default 0, 1, 2; neighbours on `gauss8`'s circle).
    pub templates: [u32; 3],
    models: Vec<(ModelKind, Trainer)>,
    test_features: Vec<f32>,
}

impl LabelSmoothingRun {
    /// Generates the data (and the label noise) and the initial weights of
    /// every model; on the GPU when `gpu` is given.
    pub async fn new(cfg: LabelSmoothingConfig, gpu: Option<&Gpu>) -> Result<Self, GpuError> {
        let all = 0..cfg.kinds().len();
        Self::new_models(cfg, gpu, all).await
    }

    /// Models `range` (indices into `cfg.kinds()`, not empty) of the run of
    /// `cfg`: one part of a run split over the page's workers. A model's
    /// data, label noise, initial weights and minibatches come from the
    /// config and its kind alone, so each is the whole run's model, bit for bit.
    pub async fn new_models(
        cfg: LabelSmoothingConfig,
        gpu: Option<&Gpu>,
        range: std::ops::Range<usize>,
    ) -> Result<Self, GpuError> {
        let mut models = Vec::new();
        for kind in cfg
            .kinds()
            .into_iter()
            .skip(range.start)
            .take(range.len().max(1))
        {
            let mut t = Trainer::new(cfg.model_config(kind), gpu).await?;
            // Trainer::minibatch reads its labels from `split.train`, so the
            // noisy labels are what every model trains on.
            datasets::flip_labels(&mut t.split.train, cfg.seed, 0, cfg.noise as f32);
            models.push((kind, t));
        }
        let t = &models[0].1;
        let test_features = featurize(&t.spec, &t.split.test.x, None, None)
            .into_raw_vec_and_offset()
            .0;
        Ok(Self {
            cfg,
            templates: [0, 1, 2],
            models,
            test_features,
        })
    }

    pub fn kinds(&self) -> Vec<ModelKind> {
        self.models.iter().map(|(k, _)| *k).collect()
    }

    pub fn backend(&self) -> Backend {
        self.models[0].1.backend()
    }

    /// Steps taken so far (the same for every model).
    pub fn step(&self) -> u32 {
        self.models[0].1.step()
    }

    pub fn classes(&self) -> usize {
        self.cfg.dataset.classes()
    }

    /// The clean test set (labels never noised).
    pub fn test_set(&self) -> &datasets::Dataset {
        &self.models[0].1.split.test
    }

    /// The (possibly noised) training set every model trains on.
    pub fn train_set(&self) -> &datasets::Dataset {
        &self.models[0].1.split.train
    }

    /// Takes up to `n` Adam steps on every model, never past `cfg.steps`;
    /// returns how many were taken. The smoothed model's ε drops to 0 at step
    /// `tsla` (TSLA). On the GPU nothing is read back.
    pub fn train_steps(&mut self, n: u32) -> Result<u32, GpuError> {
        let n = n.min(self.cfg.steps.saturating_sub(self.step()));
        let cfg = &self.cfg;
        // The models are independent: one per core natively.
        crate::kernels::par::map_mut(&mut self.models, |_, (kind, t)| {
            let mut left = n;
            while left > 0 {
                let s = t.step();
                let chunk = if cfg.tsla > s {
                    left.min(cfg.tsla - s)
                } else {
                    left
                };
                t.cfg.smoothing = cfg.smoothing_at(*kind, s);
                t.train_steps(chunk)?;
                left -= chunk;
            }
            Ok(())
        })
        .into_iter()
        .collect::<Result<(), _>>()
        .map(|()| n)
    }

    /// Logits of model `model` (index into [`Self::kinds`]) for rows of 2D
    /// points, on the model's backend (e.g. a dense grid for decision regions).
    pub async fn predict(&mut self, model: usize, points: &[f32]) -> Result<Vec<f32>, GpuError> {
        self.models[model].1.predict(points).await
    }

    /// Measures every model on the clean test set. Parameters are read back
    /// once per model; logits and penultimate activations are then computed
    /// on the CPU (a forward pass over ~1.5k points).
    pub async fn snapshot(&mut self) -> Result<Snapshot, GpuError> {
        let classes = self.classes();
        let step = self.step();
        let labels = self.test_set().y.clone();
        let n = labels.len();
        let mut models = Vec::with_capacity(self.models.len());
        for (kind, t) in &self.models {
            let params = t.params().await?;
            let spec = &t.spec;
            let f = ndarray::Array2::from_shape_vec(
                (n, spec.feature_dim()),
                self.test_features.clone(),
            )
            .expect("feature shape");
            let fwd = mlp::forward(spec, &params, f);
            let logits = fwd.output().clone().into_raw_vec_and_offset().0;
            let probs = calibration::softmax_rows(&logits, classes);
            let correct = calibration::correct(&logits, &labels, classes);
            let conf = calibration::msp(&logits, classes);
            let conf_ln = calibration::lognorm_confidence(&logits, classes, LOGNORM_P);
            let reliability = calibration::reliability(&probs, &labels, classes, ECE_BINS);
            // A layer's input may be a strided view (e.g. a width-1 layer): copy
            // it into row-major order if so.
            let penultimate = fwd.inputs.last().expect("a layer").as_standard_layout();
            let projection = project(
                spec.layers().last().expect("a layer").0,
                &params[spec.offsets().last().expect("a layer").0..],
                penultimate.as_slice().expect("contiguous"),
                &labels,
                self.templates,
                classes,
            );
            let Loss::CrossEntropy { smoothing, maxsup } = self.cfg.loss_at(*kind, step) else {
                unreachable!("a classifier loss")
            };
            models.push(ModelSnapshot {
                kind: *kind,
                smoothing,
                maxsup,
                test_acc: correct.iter().filter(|&&c| c).count() as f32 / n.max(1) as f32,
                nll: calibration::nll(&logits, &labels, classes),
                ece: calibration::ece_of_bins(&reliability),
                reliability,
                aurc: calibration::aurc(&conf, &correct),
                risk_coverage: calibration::risk_coverage(&conf, &correct),
                aurc_lognorm: calibration::aurc(&conf_ln, &correct),
                risk_coverage_lognorm: calibration::risk_coverage(&conf_ln, &correct),
                projection,
                logits,
            });
        }
        Ok(Snapshot {
            step,
            classes,
            models,
            test_labels: labels,
        })
    }
}

/// Test points a projection keeps at most (the first ones of the three
/// classes): a scatter plot shows no more, and a snapshot stays small.
pub const PROJECTED_POINTS: usize = 2_000;

/// Müller et al.'s projection of the penultimate activations of the test
/// points of three classes onto the plane through those classes' templates
/// (rows of the last weight matrix, `classes × d` at the start of `last`).
fn project(
    d: usize,
    last: &[f32],
    penultimate: &[f32],
    labels: &[u32],
    templates: [u32; 3],
    classes: usize,
) -> Option<Projection> {
    let [a, b, c] = templates;
    if classes < 3 || templates.iter().any(|&k| k as usize >= classes) || a == b || b == c || a == c
    {
        return None;
    }
    let row = |k: u32| &last[k as usize * d..(k as usize + 1) * d];
    let mut acts = Vec::new();
    let mut kept = Vec::new();
    for (i, &y) in labels.iter().enumerate() {
        if templates.contains(&y) && kept.len() < PROJECTED_POINTS {
            acts.extend_from_slice(&penultimate[i * d..(i + 1) * d]);
            kept.push(y);
        }
    }
    let points = calibration::project_onto_templates(&acts, [row(a), row(b), row(c)])?;
    Some(Projection {
        classes: templates,
        points,
        labels: kept,
    })
}

/// One model's line of `gradlab label-smoothing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub name: ModelKind,
    pub test_acc: f32,
    pub nll: f32,
    pub ece: f32,
    pub aurc: f32,
    pub aurc_lognorm: f32,
}

/// What `gradlab label-smoothing` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub backend: Backend,
    pub models: Vec<ModelSummary>,
}

impl Report {
    /// The report of a snapshot taken on `backend` (what the CLI prints at
    /// the last step, and what the widget exports at any step).
    pub fn from_snapshot(s: &Snapshot, backend: Backend) -> Self {
        Self {
            backend,
            models: s
                .models
                .iter()
                .map(|m| ModelSummary {
                    name: m.kind,
                    test_acc: m.test_acc,
                    nll: m.nll,
                    ece: m.ece,
                    aurc: m.aurc,
                    aurc_lognorm: m.aurc_lognorm,
                })
                .collect(),
        }
    }
}

/// Trains every model for `cfg.steps` and measures them.
pub async fn run(cfg: &LabelSmoothingConfig, gpu: Option<&Gpu>) -> Result<Report, GpuError> {
    let mut r = LabelSmoothingRun::new(cfg.clone(), gpu).await?;
    r.train_steps(cfg.steps)?;
    let s = r.snapshot().await?;
    Ok(Report::from_snapshot(&s, r.backend()))
}

/// Label smoothing in the registry.
pub struct LabelSmoothing;

impl Experiment for LabelSmoothing {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "label-smoothing",
        title: "Label smoothing",
        claim: "Soft targets calibrate a classifier and tighten its clusters, yet hurt selective classification.",
        papers: &[
            papers::MULLER_2019,
            papers::XIA_2025,
            papers::ZHOU_2025,
            papers::XU_2020,
        ],
        panels: &[
            PanelInfo::new("regions", "Decision regions"),
            PanelInfo::new("loss", "What the loss sees on one example"),
            PanelInfo::new("clusters", "Penultimate-layer clusters"),
            PanelInfo::new("reliability", "Calibration"),
            PanelInfo::new("selective", "Selective classification"),
        ],
    };
    type Config = LabelSmoothingConfig;
    type Report = Report;

    async fn run(cfg: &LabelSmoothingConfig, on: &Compute) -> Result<Report, RunError> {
        Ok(run(cfg, on.gpu()).await?)
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        super::selftest::mlp(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[
        Workload {
            name: "mlp-forward",
            about: "a 2 → hidden → 2 ReLU MLP on a batch of points (on the GPU: upload, forward and read-back)",
            fields: BenchMlpForwardConfig::fields,
            prepare: |pairs, on| prepare_with(pairs, on, MlpBench::forward),
        },
        Workload {
            name: "mlp-train-step",
            about: "one Adam step of a 2 → hidden → 3 ReLU MLP under cross-entropy",
            fields: BenchMlpTrainConfig::fields,
            prepare: |pairs, on| prepare_with(pairs, on, MlpBench::train),
        },
    ];
}

crate::define_config! {
    /// Size of an MLP inference benchmark run (2 → hidden → 2, ReLU).
    pub struct BenchMlpForwardConfig {
        /// Points per forward pass.
        batch: u32 = 65_536, Range::new(1, 1 << 20);
        /// Hidden-layer widths.
        hidden: Vec<u32> = vec![128, 128], ListBound { min_len: 0, max_len: 4, each: Range::new(1, 256) };
    }
}

crate::define_config! {
    /// Size of an MLP training-step benchmark run (2 → hidden → 3, ReLU, cross-entropy, Adam).
    pub struct BenchMlpTrainConfig {
        /// Minibatch size.
        batch: u32 = 256, Range::new(1, 1 << 16);
        /// Hidden-layer widths.
        hidden: Vec<u32> = vec![128, 128], ListBound { min_len: 0, max_len: 4, each: Range::new(1, 256) };
    }
}

/// Where a benchmarked MLP lives.
enum BenchModel {
    Cpu(AdamState),
    Gpu(Gpu, Box<MlpGpu>),
}

/// The `mlp-forward` and `mlp-train-step` workloads.
struct MlpBench {
    spec: MlpSpec,
    params: Vec<f32>,
    features: ndarray::Array2<f32>,
    /// Labels when training.
    labels: Option<Vec<u32>>,
    model: BenchModel,
}

impl MlpBench {
    async fn new(hidden: &[u32], batch: u32, output: usize, on: Compute) -> Result<Self, RunError> {
        let hidden: Vec<usize> = hidden.iter().map(|&w| w as usize).collect();
        let spec = MlpSpec::for_2d_points(&hidden, output, Activation::Relu);
        let params = mlp::init_params(&spec, 1);
        let key = RngKey::new(1, 0);
        let x: Vec<f32> = (0..2 * batch).map(|i| key.normal_at(i)).collect();
        let features = mlp::featurize(&spec, &x, None, None);
        let model = match on {
            Compute::Cpu => BenchModel::Cpu(AdamState::new(params.len())),
            Compute::Gpu(gpu) => {
                let m = MlpGpu::new(&gpu, &spec, &params).await?;
                BenchModel::Gpu(gpu, Box::new(m))
            }
        };
        Ok(Self {
            spec,
            params,
            features,
            labels: None,
            model,
        })
    }

    async fn forward(cfg: BenchMlpForwardConfig, on: Compute) -> Result<Self, RunError> {
        Self::new(&cfg.hidden, cfg.batch, 2, on).await
    }

    async fn train(cfg: BenchMlpTrainConfig, on: Compute) -> Result<Self, RunError> {
        let mut b = Self::new(&cfg.hidden, cfg.batch, 3, on).await?;
        b.labels = Some((0..cfg.batch).map(|i| i % 3).collect());
        Ok(b)
    }
}

impl Bench for MlpBench {
    fn items(&self) -> u64 {
        self.features.nrows() as u64
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        let loss = Loss::CrossEntropy {
            smoothing: 0.0,
            maxsup: 0.0,
        };
        let adam_cfg = AdamConfig::default();
        Box::pin(async move {
            let flat = self.features.as_slice().expect("contiguous");
            match (&mut self.model, &self.labels) {
                (BenchModel::Cpu(_), None) => {
                    std::hint::black_box(mlp::predict_blocks(&self.spec, &self.params, flat));
                }
                (BenchModel::Cpu(adam), Some(y)) => {
                    let (_, g) = mlp::batch_gradient(&self.spec, &self.params, flat, y, loss);
                    mlp::adam_step(&adam_cfg, adam, &mut self.params, &g);
                }
                (BenchModel::Gpu(gpu, m), None) => {
                    std::hint::black_box(m.predict(gpu, flat).await?);
                }
                (BenchModel::Gpu(gpu, m), Some(y)) => {
                    m.train_step(gpu, flat, Targets::Labels(y), loss, &adam_cfg)?;
                    gpu.finish().await?;
                }
            }
            Ok(())
        })
    }
}
