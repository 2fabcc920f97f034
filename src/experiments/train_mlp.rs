//! Train a tiny MLP classifier on a 2D dataset, on either backend, from one
//! seed: the data, the initial weights and every minibatch are the same on
//! both, so their loss curves and accuracies agree.

use serde::Serialize;

use super::Backend;
use super::config::{ListBound, Range};
use crate::gpu::mlp::MlpGpu;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::datasets::{self, Dataset, DatasetId, Split};
use crate::kernels::mlp::{
    self, Activation, AdamConfig, AdamState, Loss, MlpSpec, Targets, featurize,
};
use crate::kernels::rng::RngKey;

/// RNG stream of the minibatch indices.
pub const BATCH_STREAM: u32 = 0x0000_BA7C;

crate::define_config! {
    /// Training a tiny MLP classifier.
    pub struct TrainMlpConfig {
        /// Dataset to classify.
        dataset: DatasetId = DatasetId::Spirals3, ();
        /// Hidden-layer widths, input to output.
        hidden: Vec<u32> = vec![64, 64], ListBound { min_len: 0, max_len: 4, each: Range::new(1, 256) };
        /// Hidden-layer nonlinearity.
        activation: Activation = Activation::Relu, ();
        /// Adam steps.
        steps: u32 = 2000, Range::new(1, 100_000);
        /// Adam learning rate.
        lr: f64 = 0.01, Range::new(1e-6, 1.0);
        /// Minibatch size (sampled with replacement).
        batch: u32 = 128, Range::new(1, 4096);
        /// Seed of the data, the initial weights and the minibatches.
        seed: u32 = 1, Range::new(0, u32::MAX);
        /// Training points.
        train: u32 = 1536, Range::new(16, 100_000);
        /// Test points.
        test: u32 = 1536, Range::new(16, 100_000);
        /// Steps between two points of the loss curve.
        every: u32 = 100, Range::new(1, 100_000);
        /// Label smoothing ε.
        smoothing: f64 = 0.0, Range::new(0.0, 0.99);
        /// MaxSup penalty α.
        maxsup: f64 = 0.0, Range::new(0.0, 10.0);
        /// Decoupled weight decay (AdamW).
        weight_decay: f64 = 0.0, Range::new(0.0, 1.0);
    }
}

impl TrainMlpConfig {
    pub fn spec(&self) -> MlpSpec {
        let hidden: Vec<usize> = self.hidden.iter().map(|&w| w as usize).collect();
        MlpSpec::for_2d_points(&hidden, self.dataset.classes(), self.activation)
    }

    pub fn loss(&self) -> Loss {
        Loss::CrossEntropy {
            smoothing: self.smoothing as f32,
            maxsup: self.maxsup as f32,
        }
    }

    pub fn adam(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr as f32,
            weight_decay: self.weight_decay as f32,
            ..AdamConfig::default()
        }
    }
}

/// Where the model lives.
enum Model {
    Cpu { params: Vec<f32>, adam: AdamState },
    Gpu { gpu: Gpu, mlp: Box<MlpGpu> },
}

/// Accuracy and mean loss of a model on a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
}

/// One point of the loss curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    pub step: u32,
    /// Mean training loss on the whole training set.
    pub loss: f32,
}

/// What `gradlab train-mlp` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainReport {
    pub dataset: DatasetId,
    pub backend: Backend,
    pub spec: MlpSpec,
    pub param_count: usize,
    pub loss_curve: Vec<CurvePoint>,
    pub train_accuracy: f32,
    pub test_accuracy: f32,
}

/// A training run in progress.
pub struct Trainer {
    pub cfg: TrainMlpConfig,
    pub spec: MlpSpec,
    pub split: Split,
    train_features: Vec<f32>,
    test_features: Vec<f32>,
    step: u32,
    model: Model,
}

fn features_of(spec: &MlpSpec, d: &Dataset) -> Vec<f32> {
    featurize(spec, &d.x, None, None)
        .into_raw_vec_and_offset()
        .0
}

impl Trainer {
    /// Generates the data and the initial weights; on the GPU when `gpu` is given.
    pub async fn new(cfg: TrainMlpConfig, gpu: Option<&Gpu>) -> Result<Self, GpuError> {
        let spec = cfg.spec();
        let split =
            datasets::generate(cfg.dataset, cfg.seed, cfg.train as usize, cfg.test as usize);
        let params = mlp::init_params(&spec, cfg.seed);
        let model = match gpu {
            None => Model::Cpu {
                adam: AdamState::new(params.len()),
                params,
            },
            Some(gpu) => Model::Gpu {
                gpu: gpu.clone(),
                mlp: Box::new(MlpGpu::new(gpu, &spec, &params).await?),
            },
        };
        Ok(Self {
            train_features: features_of(&spec, &split.train),
            test_features: features_of(&spec, &split.test),
            cfg,
            spec,
            split,
            step: 0,
            model,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.model {
            Model::Cpu { .. } => Backend::Cpu,
            Model::Gpu { .. } => Backend::Gpu,
        }
    }

    pub fn step(&self) -> u32 {
        self.step
    }

    /// The minibatch of step `s`: indices drawn with replacement from the
    /// training set by `RngKey(seed, BATCH_STREAM)`, the same on every backend.
    pub fn minibatch(&self, s: u32) -> (Vec<f32>, Vec<u32>) {
        let key = RngKey::new(self.cfg.seed, BATCH_STREAM);
        let n = self.split.train.len() as u32;
        let d = self.spec.feature_dim();
        let mut x = Vec::with_capacity(self.cfg.batch as usize * d);
        let mut y = Vec::with_capacity(self.cfg.batch as usize);
        for j in 0..self.cfg.batch {
            let i = (key.u32_at(s.wrapping_mul(self.cfg.batch).wrapping_add(j)) % n) as usize;
            x.extend_from_slice(&self.train_features[i * d..(i + 1) * d]);
            y.push(self.split.train.y[i]);
        }
        (x, y)
    }

    /// Takes `n` Adam steps. On the GPU nothing is read back.
    pub fn train_steps(&mut self, n: u32) -> Result<(), GpuError> {
        let (loss, adam) = (self.cfg.loss(), self.cfg.adam());
        for _ in 0..n {
            let (x, y) = self.minibatch(self.step);
            match &mut self.model {
                Model::Cpu {
                    params,
                    adam: state,
                } => {
                    let f = ndarray::Array2::from_shape_vec((y.len(), self.spec.feature_dim()), x)
                        .expect("batch shape");
                    let fwd = mlp::forward(&self.spec, params, f);
                    let (_, d_out) = mlp::loss_and_grad(loss, fwd.output(), Targets::Labels(&y));
                    let grads = mlp::backward(&self.spec, params, &fwd, d_out);
                    mlp::adam_step(&adam, state, params, &grads);
                }
                Model::Gpu { gpu, mlp } => {
                    mlp.train_step(gpu, &x, Targets::Labels(&y), loss, &adam)?;
                }
            }
            self.step += 1;
        }
        Ok(())
    }

    /// Outputs (logits) for rows of features.
    pub async fn predict(&mut self, features: &[f32]) -> Result<Vec<f32>, GpuError> {
        match &mut self.model {
            Model::Cpu { params, .. } => Ok(mlp::predict_blocks(&self.spec, params, features)),
            Model::Gpu { gpu, mlp } => mlp.predict(gpu, features).await,
        }
    }

    /// The current parameters (read back from the GPU if they live there).
    pub async fn params(&self) -> Result<Vec<f32>, GpuError> {
        match &self.model {
            Model::Cpu { params, .. } => Ok(params.clone()),
            Model::Gpu { gpu, mlp } => mlp.params(gpu).await,
        }
    }

    async fn evaluate_on(&mut self, test: bool) -> Result<Evaluation, GpuError> {
        let features = if test {
            std::mem::take(&mut self.test_features)
        } else {
            std::mem::take(&mut self.train_features)
        };
        let logits = self.predict(&features).await;
        if test {
            self.test_features = features;
        } else {
            self.train_features = features;
        }
        let data = if test {
            &self.split.test
        } else {
            &self.split.train
        };
        Ok(evaluate(
            self.cfg.loss(),
            self.spec.output,
            &logits?,
            &data.y,
        ))
    }

    /// Loss and accuracy on the training and the test set.
    pub async fn evaluate(&mut self) -> Result<(Evaluation, Evaluation), GpuError> {
        Ok((
            self.evaluate_on(false).await?,
            self.evaluate_on(true).await?,
        ))
    }
}

/// Mean loss and accuracy (argmax) of logits against labels.
pub fn evaluate(loss: Loss, classes: usize, logits: &[f32], labels: &[u32]) -> Evaluation {
    let n = labels.len();
    let z = ndarray::ArrayView2::from_shape((n, classes), logits).expect("logit shape");
    let (mean_loss, _) = mlp::loss_and_grad(loss, &z.to_owned(), Targets::Labels(labels));
    let correct = z
        .outer_iter()
        .zip(labels)
        .filter(|(row, y)| {
            let best = row
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                );
            best.0 == **y as usize
        })
        .count();
    Evaluation {
        loss: mean_loss,
        accuracy: correct as f32 / n.max(1) as f32,
    }
}

/// Runs a whole config and reports the loss curve and final accuracies.
pub async fn run(
    cfg: &TrainMlpConfig,
    gpu: Option<&Gpu>,
) -> Result<(TrainReport, Vec<f32>), GpuError> {
    let mut t = Trainer::new(cfg.clone(), gpu).await?;
    let mut curve = vec![CurvePoint {
        step: 0,
        loss: t.evaluate_on(false).await?.loss,
    }];
    while t.step() < cfg.steps {
        let n = cfg.every.min(cfg.steps - t.step());
        t.train_steps(n)?;
        curve.push(CurvePoint {
            step: t.step(),
            loss: t.evaluate_on(false).await?.loss,
        });
    }
    let (train, test) = t.evaluate().await?;
    let params = t.params().await?;
    Ok((
        TrainReport {
            dataset: cfg.dataset,
            backend: t.backend(),
            param_count: t.spec.param_count(),
            spec: t.spec.clone(),
            loss_curve: curve,
            train_accuracy: train.accuracy,
            test_accuracy: test.accuracy,
        },
        params,
    ))
}
