//! Attribution smoothing (Smilkov et al. 2017; Erion et al. 2021; Wang &
//! Kong 2024) on a network you can see whole: a one-hidden-layer ReLU MLP
//! trained live on a 2-D data set, or a single ReLU unit for closed-form
//! checks. The whole attribution field of the input plane, every method's
//! Monte Carlo estimate beside its closed form, the certified cosine bound
//! of the uniformly smoothed attribution against an exhaustive ring search,
//! and expected gradients' completeness.

use std::cell::RefCell;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bench::{Bench, Workload, prepare_with};
use super::config::{Config, ListBound, Range};
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;
use super::train_mlp::{TrainMlpConfig, Trainer};
use crate::gpu::saliency::SaliencyField;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::agree;
use crate::kernels::datasets::{self, DatasetId};
use crate::kernels::mlp::{Activation, MlpSpec, init_params};
use crate::kernels::rng::RngKey;
use crate::kernels::saliency::{self as ks, FieldJob, SALIENCY_STREAM, Smoothing};
/// The attribution methods, the network, the certificate and the completeness check.
pub use crate::kernels::saliency::{Certificate, Completeness, Method, Net};

crate::param_enum! {
    /// The network whose logit is attributed.
    pub enum Model {
        /// The single unit max(0, w·x + b), for checks against closed forms.
        ReluUnit = "relu-unit",
        /// A one-hidden-layer ReLU MLP trained on `dataset`.
        Mlp = "mlp",
    }
}

crate::define_config! {
    /// Attribution smoothing.
    pub struct SaliencyConfig {
        /// The network: `relu-unit` (max(0, w·x + b)) or `mlp` (trained live on `dataset`).
        model: Model = Model::Mlp, ();
        /// Weights w of the ReLU unit.
        w: Vec<f64> = vec![1.0, 2.0], ListBound { min_len: 2, max_len: 2, each: Range::new(-100.0, 100.0) };
        /// Bias b of the ReLU unit.
        b: f64 = -0.5, Range::new(-100.0, 100.0);
        /// Data set the MLP is trained on; expected gradients draw their baselines from it.
        dataset: DatasetId = DatasetId::Moons, ();
        /// Hidden ReLU units of the MLP (one hidden layer, so every smoothing has a closed form).
        width: u32 = 32, Range::new(1, 128);
        /// Adam steps of the MLP's training.
        steps: u32 = 1500, Range::new(0, 20_000);
        /// The attribution the field shows: grad, smoothgrad, smoothgrad-sq, eg (expected gradients) or uniform.
        method: Method = Method::SmoothGrad, ();
        /// Noise σ of SmoothGrad.
        sigma: f64 = 0.15, Range::new(0.001, 2.0);
        /// Monte Carlo samples per point.
        samples: u32 = 50, Range::new(1, 4096);
        /// Radius r of the uniform ball.
        radius: f64 = 0.3, Range::new(0.001, 2.0);
        /// Perturbation size ε of the certificate.
        eps: f64 = 0.05, Range::new(0.0, 2.0);
        /// The probe point x.
        at: Vec<f64> = vec![0.3, 0.4], ListBound { min_len: 2, max_len: 2, each: Range::new(-2.0, 2.0) };
        /// Cells per side of the field over [−2, 2]².
        grid: u32 = 64, Range::new(2, 128);
        /// Seed of the data, the training and the smoothing noise.
        seed: u32 = 0, Range::new(0, u32::MAX);
        /// Also every method's field and the noise panel (what the page draws).
        panels: bool = false, ();
    }
}

/// Half-width of the square [−2, 2]² the field covers.
pub const EXTENT: f64 = 2.0;
/// Training points (also the baselines of expected gradients).
pub const TRAIN_POINTS: usize = 512;
/// Sample counts of the noise panel.
pub const NOISE_SAMPLES: [u32; 3] = [1, 10, 50];
/// Data points the page draws.
pub const SHOWN_POINTS: usize = 200;

impl SaliencyConfig {
    /// The smoothing the config asks for.
    pub fn smoothing(&self, method: Method, samples: u32) -> Smoothing {
        Smoothing {
            method,
            sigma: self.sigma as f32,
            radius: self.radius as f32,
            samples,
        }
    }

    /// The noise of the run (one stream).
    pub fn key(&self) -> RngKey {
        RngKey::new(self.seed, SALIENCY_STREAM)
    }

    /// The probe point.
    pub fn probe(&self) -> [f32; 2] {
        [self.at[0] as f32, self.at[1] as f32]
    }

    fn training(&self) -> TrainMlpConfig {
        TrainMlpConfig {
            dataset: self.dataset,
            hidden: vec![self.width],
            activation: Activation::Relu,
            steps: self.steps,
            lr: 0.01,
            batch: 64,
            seed: self.seed,
            train: TRAIN_POINTS as u32,
            test: 16,
            ..TrainMlpConfig::default()
        }
    }
}

/// Cell centres of a `g × g` grid over [−2, 2]², row by row from the bottom.
pub fn grid_points(g: u32) -> Vec<[f32; 2]> {
    let at = |i: u32| (EXTENT * (-1.0 + (2.0 * f64::from(i) + 1.0) / f64::from(g))) as f32;
    (0..g)
        .flat_map(|i| (0..g).map(move |j| [at(j), at(i)]))
        .collect()
}

/// The training points of the config's data set and their labels.
pub fn data(cfg: &SaliencyConfig) -> (Vec<[f32; 2]>, Vec<u32>) {
    let d = datasets::generate(cfg.dataset, cfg.seed, TRAIN_POINTS, 0).train;
    ((0..d.len()).map(|i| d.point(i)).collect(), d.y)
}

thread_local! {
    /// The last trained network, so the page's runs of one config (one per
    /// panel) train once per worker.
    static TRAINED: RefCell<Option<(TrainMlpConfig, Net, f64)>> = const { RefCell::new(None) };
}

/// The network and its training accuracy (the MLP is trained on the CPU).
pub async fn network(cfg: &SaliencyConfig) -> Result<(Net, Option<f64>), GpuError> {
    if cfg.model == Model::ReluUnit {
        let unit = Net::relu_unit([cfg.w[0] as f32, cfg.w[1] as f32], cfg.b as f32);
        return Ok((unit, None));
    }
    let train = cfg.training();
    if let Some((net, acc)) = TRAINED.with(|t| {
        t.borrow()
            .as_ref()
            .filter(|(c, _, _)| *c == train)
            .map(|(_, n, a)| (n.clone(), *a))
    }) {
        return Ok((net, Some(acc)));
    }
    let mut t = Trainer::new(train.clone(), None).await?;
    t.train_steps(cfg.steps)?;
    let net = Net::new(cfg.width as usize, cfg.dataset.classes(), t.params().await?);
    let (points, labels) = data(cfg);
    let right = points
        .iter()
        .zip(&labels)
        .filter(|(x, y)| net.predicted_class(**x) as u32 == **y)
        .count();
    let acc = right as f64 / points.len() as f64;
    TRAINED.with(|t| *t.borrow_mut() = Some((train, net.clone(), acc)));
    Ok((net, Some(acc)))
}

/// Monte Carlo attributions and predicted classes of `points` on `on`.
pub async fn attributions(
    job: &FieldJob<'_>,
    on: &Compute,
) -> Result<(Vec<[f32; 2]>, Vec<u32>), GpuError> {
    match on {
        Compute::Cpu => Ok(ks::attributions(job)),
        Compute::Gpu(gpu) => {
            let k = gpu.kernel::<SaliencyField>().await?;
            k.attributions(gpu, job).await
        }
    }
}

/// The job of `points` (first counter block `first`) under `s`.
pub fn job<'a>(
    net: &'a Net,
    points: &'a [[f32; 2]],
    first: u32,
    smoothing: Smoothing,
    baselines: &'a [[f32; 2]],
    key: RngKey,
) -> FieldJob<'a> {
    FieldJob {
        net,
        points,
        first,
        smoothing,
        baselines,
        key,
    }
}

/// A field of attributions over the grid: `values[2k..2k + 2]` is cell k's
/// (row-major from the bottom-left), `classes[k]` its predicted class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub grid: u32,
    pub extent: f64,
    pub values: Vec<f64>,
    pub classes: Vec<u32>,
}

fn flat(v: &[[f32; 2]]) -> Vec<f64> {
    v.iter().flatten().map(|&x| f64::from(x)).collect()
}

/// One method's field, for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodField {
    pub method: Method,
    pub values: Vec<f64>,
}

/// SmoothGrad with `samples` draws per cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseField {
    pub samples: u32,
    pub values: Vec<f64>,
    /// Root-mean-square distance to the exact Gaussian blur over the cells.
    pub rms_error: f64,
}

/// What the page draws beyond the CLI's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panels {
    /// Every method's field, in [`Method::ALL`] order.
    pub methods: Vec<MethodField>,
    /// SmoothGrad with n = 1, 10, 50.
    pub noise: Vec<NoiseField>,
    /// The exact SmoothGrad field Σ_j a_j w_j Φ(m_j/(σ‖w_j‖)).
    pub exact_smoothgrad: Vec<f64>,
    /// Some training points `[x, y, label]`.
    pub data: Vec<[f32; 3]>,
}

/// What one run reports (`gradlab saliency` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaliencyReport {
    /// The method's Monte Carlo attribution at the probe.
    pub attribution: [f64; 2],
    /// Its closed form where there is one (grad, smoothgrad, uniform).
    pub exact: Option<[f64; 2]>,
    /// The class attributed: the one predicted at the probe.
    pub class: u32,
    pub field: Field,
    pub certificate: Certificate,
    pub completeness: Completeness,
    /// The network (its parameters: the page's GPU runs reuse it).
    pub net: Net,
    /// Training accuracy of the MLP.
    pub train_accuracy: Option<f64>,
    pub panels: Option<Panels>,
}

/// The method's closed form at x, where there is one.
pub fn exact(
    cfg: &SaliencyConfig,
    net: &Net,
    c: usize,
    method: Method,
    x: [f64; 2],
) -> Option<[f64; 2]> {
    match method {
        Method::Grad => Some(ks::grad_exact(net, c, x)),
        Method::SmoothGrad => Some(ks::smoothgrad_exact(net, c, x, cfg.sigma)),
        Method::Uniform => Some(ks::uniform_exact(net, c, x, cfg.radius)),
        Method::SmoothGradSq | Method::Eg => None,
    }
}

/// Everything for a given network on `on`: the CPU work beyond the Monte
/// Carlo fields is the closed forms and the ring (3,600 exact evaluations).
pub async fn report(
    cfg: &SaliencyConfig,
    net: Net,
    train_accuracy: Option<f64>,
    on: &Compute,
) -> Result<SaliencyReport, GpuError> {
    let (base, labels) = data(cfg);
    let cells = grid_points(cfg.grid);
    let probe_k = cells.len() as u32;
    let key = cfg.key();
    let s = cfg.smoothing(cfg.method, cfg.samples);
    let (values, classes) = attributions(&job(&net, &cells, 0, s, &base, key), on).await?;
    let (at, cls) = attributions(&job(&net, &[cfg.probe()], probe_k, s, &base, key), on).await?;
    let c = cls[0] as usize;
    let x = cfg.probe().map(f64::from);
    let panels = if cfg.panels {
        Some(panels(cfg, &net, &cells, &base, &labels, on).await?)
    } else {
        None
    };
    Ok(SaliencyReport {
        attribution: [f64::from(at[0][0]), f64::from(at[0][1])],
        exact: exact(cfg, &net, c, cfg.method, x),
        class: cls[0],
        field: Field {
            grid: cfg.grid,
            extent: EXTENT,
            values: flat(&values),
            classes,
        },
        certificate: ks::certificate(&net, c, x, cfg.radius, cfg.eps),
        completeness: ks::completeness(&net, cfg.probe(), probe_k, cfg.samples, &base, key),
        net,
        train_accuracy,
        panels,
    })
}

async fn panels(
    cfg: &SaliencyConfig,
    net: &Net,
    cells: &[[f32; 2]],
    base: &[[f32; 2]],
    labels: &[u32],
    on: &Compute,
) -> Result<Panels, GpuError> {
    let key = cfg.key();
    let mut methods = Vec::new();
    for &m in Method::ALL {
        let s = cfg.smoothing(m, cfg.samples);
        let (v, _) = attributions(&job(net, cells, 0, s, base, key), on).await?;
        methods.push(MethodField {
            method: m,
            values: flat(&v),
        });
    }
    let exact_smoothgrad: Vec<f64> = cells
        .iter()
        .flat_map(|x| {
            let c = net.predicted_class(*x);
            ks::smoothgrad_exact(net, c, x.map(f64::from), cfg.sigma)
        })
        .collect();
    let mut noise = Vec::new();
    for n in NOISE_SAMPLES {
        let s = cfg.smoothing(Method::SmoothGrad, n);
        let (v, _) = attributions(&job(net, cells, 0, s, base, key), on).await?;
        let values = flat(&v);
        let sq: f64 = values
            .iter()
            .zip(&exact_smoothgrad)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        noise.push(NoiseField {
            samples: n,
            rms_error: (sq / cells.len() as f64).sqrt(),
            values,
        });
    }
    let data = base
        .iter()
        .zip(labels)
        .take(SHOWN_POINTS)
        .map(|(p, &y)| [p[0], p[1], y as f32])
        .collect();
    Ok(Panels {
        methods,
        noise,
        exact_smoothgrad,
        data,
    })
}

/// Fraction of coordinates where the GPU's field differs from the CPU's by
/// more than `tol` (scaled, floor 1; a NaN or a short read counts as every
/// coordinate). Isolated cells may differ by a whole term: a sample whose
/// pre-activation lands within rounding of a ReLU kink can switch the unit on
/// one device and not the other (WGSL may fuse w·x + b into an FMA).
pub fn disagreement(cpu: &[[f32; 2]], gpu: &[[f32; 2]], tol: f64) -> f64 {
    if cpu.len() != gpu.len() || cpu.is_empty() {
        return 1.0;
    }
    let bad = cpu
        .iter()
        .flatten()
        .zip(gpu.iter().flatten())
        .filter(|&(&a, &b)| agree::scaled_diff(f64::from(a), f64::from(b), 1.0) > tol)
        .count();
    bad as f64 / (2 * cpu.len()) as f64
}

/// Agreement threshold of a coordinate: f32 sums of ≤ 64 terms of size ≲ 10.
pub const AGREE_TOL: f64 = 1e-4;
/// Most coordinates allowed to differ (kink flips, ~1e-4 of them expected).
pub const AGREE_FRACTION: f64 = 0.01;

/// The test network of the self-test and the benchmark: initial weights, 32 units, 3 classes.
pub fn test_net(seed: u32) -> Net {
    let spec = MlpSpec::for_2d_points(&[32], 3, Activation::Relu);
    Net::new(32, 3, init_params(&spec, seed))
}

/// Every method on a 16 × 16 grid, GPU against CPU.
pub async fn selftest_checks(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let net = test_net(3);
    let cells = grid_points(16);
    let cfg = SaliencyConfig::default();
    let (base, _) = data(&cfg);
    let on = Compute::Gpu(gpu.clone());
    let mut out = Vec::new();
    for &m in Method::ALL {
        let s = cfg.smoothing(m, 32);
        let j = job(&net, &cells, 0, s, &base, cfg.key());
        let (cpu, cpu_c) = ks::attributions(&j);
        let (g, g_c) = attributions(&j, &on).await?;
        let classes_differ = cpu_c.iter().zip(&g_c).filter(|(a, b)| a != b).count()
            + cpu_c.len().abs_diff(g_c.len());
        let value = disagreement(&cpu, &g, AGREE_TOL) + classes_differ as f64;
        out.push(Check {
            kernel: "saliency_field",
            metric: match m {
                Method::Grad => "grad: fraction of coordinates off by > 1e-4",
                Method::SmoothGrad => "smoothgrad: fraction of coordinates off by > 1e-4",
                Method::SmoothGradSq => "smoothgrad-sq: fraction of coordinates off by > 1e-4",
                Method::Eg => "eg: fraction of coordinates off by > 1e-4",
                Method::Uniform => "uniform: fraction of coordinates off by > 1e-4",
            },
            value: if value.is_nan() { f64::INFINITY } else { value },
            bound: AGREE_FRACTION,
            pass: value <= AGREE_FRACTION,
        });
    }
    Ok(out)
}

/// Most grid cells per side in a CPU run in the page.
pub const PAGE_CPU_GRID: u32 = 32;
/// Most samples per point in a CPU run in the page.
pub const PAGE_CPU_SAMPLES: u32 = 200;
/// Most training steps in a CPU run in the page.
pub const PAGE_CPU_STEPS: u32 = 3000;

/// Attribution smoothing in the registry.
pub struct Saliency;

/// The page's panels, in page order.
pub const PANELS: &[PanelInfo] = &[
    PanelInfo::new(
        "field",
        "Attribution field of each method over the decision regions",
    ),
    PanelInfo::new("ring", "Certified bound against the exhaustive ring search"),
    PanelInfo::new(
        "noise",
        "SmoothGrad with n = 1, 10, 50 against the exact Gaussian blur",
    ),
];

impl Experiment for Saliency {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "saliency",
        title: "Attribution smoothing",
        claim: "Averaging the gradient over input noise blurs a ReLU network's mosaic of linear regions into a smooth attribution whose stability can be certified.",
        papers: &[
            papers::SMILKOV_2017,
            papers::WANG_KONG_2024,
            papers::ERION_2021,
            papers::HOOKER_2019,
        ],
        panels: PANELS,
    };
    type Config = SaliencyConfig;
    type Report = SaliencyReport;

    async fn run(cfg: &SaliencyConfig, on: &Compute) -> Result<SaliencyReport, RunError> {
        let (net, acc) = network(cfg).await?;
        Ok(report(cfg, net, acc, on).await?)
    }

    fn page_cpu_config(cfg: &SaliencyConfig) -> SaliencyConfig {
        SaliencyConfig {
            grid: cfg.grid.min(PAGE_CPU_GRID),
            samples: cfg.samples.min(PAGE_CPU_SAMPLES),
            steps: cfg.steps.min(PAGE_CPU_STEPS),
            ..cfg.clone()
        }
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        selftest_checks(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "saliency",
        about: "SmoothGrad field of a 32-unit ReLU layer: 64 × 64 cells × 50 samples",
        fields: BenchSaliencyConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, SaliencyBench::new),
    }];
}

crate::define_config! {
    /// Size of a SmoothGrad field benchmark run.
    pub struct BenchSaliencyConfig {
        /// Cells per side.
        grid: u32 = 64, Range::new(2, 256);
        /// Samples per cell.
        samples: u32 = 50, Range::new(1, 4096);
    }
}

/// The `saliency` workload: one SmoothGrad field.
struct SaliencyBench {
    cells: Vec<[f32; 2]>,
    samples: u32,
    net: Net,
    base: Vec<[f32; 2]>,
    on: Compute,
    kernel: Option<Arc<SaliencyField>>,
}

impl SaliencyBench {
    async fn new(cfg: BenchSaliencyConfig, on: Compute) -> Result<Self, RunError> {
        let kernel = on.kernel::<SaliencyField>().await?;
        Ok(Self {
            cells: grid_points(cfg.grid),
            samples: cfg.samples,
            net: test_net(1),
            base: data(&SaliencyConfig::default()).0,
            on,
            kernel,
        })
    }
}

impl Bench for SaliencyBench {
    fn items(&self) -> u64 {
        self.cells.len() as u64 * u64::from(self.samples)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        let s = SaliencyConfig::default().smoothing(Method::SmoothGrad, self.samples);
        let key = RngKey::new(1, SALIENCY_STREAM);
        Box::pin(async move {
            match (&self.on, &self.kernel) {
                (Compute::Gpu(gpu), Some(k)) => {
                    let j = job(&self.net, &self.cells, 0, s, &self.base, key);
                    std::hint::black_box(k.attributions(gpu, &j).await?);
                }
                _ => {
                    let j = job(&self.net, &self.cells, 0, s, &self.base, key);
                    std::hint::black_box(ks::attributions(&j));
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_or_a_short_read_is_disagreement() {
        let cpu = [[1.0f32, 2.0], [3.0, 4.0]];
        assert_eq!(disagreement(&cpu, &cpu, AGREE_TOL), 0.0);
        assert_eq!(
            disagreement(&cpu, &[[1.0, 2.0], [3.0, f32::NAN]], AGREE_TOL),
            0.25
        );
        assert_eq!(disagreement(&cpu, &cpu[..1], AGREE_TOL), 1.0);
        assert_eq!(
            disagreement(&[[f32::NAN, 0.0]], &[[f32::NAN, 0.0]], AGREE_TOL),
            0.5
        );
    }

    #[test]
    fn the_grid_covers_the_square_row_by_row_from_the_bottom() {
        let g = grid_points(4);
        assert_eq!(g.len(), 16);
        assert_eq!(g[0], [-1.5, -1.5]);
        assert_eq!(g[1], [-0.5, -1.5]);
        assert_eq!(g[15], [1.5, 1.5]);
    }
}
