//! The registry: every experiment of the lab, once. The gallery and About
//! page, `gradlab list`, CLI dispatch and `--help`, the compute worker's
//! generic job, `/selftest`, the benchmark workloads (`gradlab bench`, the
//! `/bench` page and criterion), the routes and embed routes and
//! `experiments.json` (which `embed.js` and the e2e specs read) all iterate
//! [`REGISTRY`]; nothing else names the experiments.
//!
//! An experiment implements [`Experiment`] (typed: its config, its report,
//! how it runs on a [`Compute`]) and is listed once here; the blanket
//! [`Registered`] impl gives the registry its untyped face.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Backend;
use super::bench::Workload;
use super::config::{Config, ConfigError, FieldInfo, FieldInput};
use super::papers::Paper;
use super::selftest::Check;
use crate::gpu::Gpu;
pub use crate::gpu::GpuError;

/// What the gallery, the About page, `--help` and `experiments.json` say of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExperimentInfo {
    /// The route (`/gumbel`), the CLI command (`gradlab gumbel`) and the embed id.
    pub id: &'static str,
    pub title: &'static str,
    /// The paper's claim in one line.
    pub claim: &'static str,
    /// Its papers, the first the main one.
    pub papers: &'static [Paper],
    /// Its figures, in page order: each can be embedded alone
    /// (`/embed/<id>?panels=<panel>`); the first is the default figure.
    pub panels: &'static [PanelInfo],
}

/// One figure of a widget, as a figure embed names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PanelInfo {
    /// Stable kebab-case id, unique within its experiment (`bias-variance`).
    pub id: &'static str,
    /// Its heading.
    pub title: &'static str,
}

impl PanelInfo {
    pub const fn new(id: &'static str, title: &'static str) -> Self {
        Self { id, title }
    }
}

/// Where a run computes. Chosen once: by the CLI's `--backend`, by the
/// page's backend switch (which also picks worker or main thread for
/// [`Compute::Cpu`]); experiments and their kernels never choose.
#[derive(Clone)]
pub enum Compute {
    /// Plain Rust (ndarray), natively or as wasm.
    Cpu,
    /// wgpu on this device: WebGPU in the page, Vulkan natively.
    Gpu(Gpu),
}

impl Compute {
    pub fn backend(&self) -> Backend {
        match self {
            Compute::Cpu => Backend::Cpu,
            Compute::Gpu(_) => Backend::Gpu,
        }
    }

    /// The device, on the GPU.
    pub fn gpu(&self) -> Option<&Gpu> {
        match self {
            Compute::Cpu => None,
            Compute::Gpu(g) => Some(g),
        }
    }

    /// The kernel `K` compiled on the device (`None` on the CPU).
    pub async fn kernel<K: crate::gpu::Kernel>(&self) -> Result<Option<Arc<K>>, GpuError> {
        match self {
            Compute::Cpu => Ok(None),
            Compute::Gpu(g) => g.kernel::<K>().await.map(Some),
        }
    }
}

/// Why a run gave no report.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// A config the run cannot take (the CLI exits 2).
    Config(ConfigError),
    /// A GPU fault mid-run (the CLI exits 1; the page falls back to the CPU).
    Gpu(GpuError),
}

impl From<GpuError> for RunError {
    fn from(e: GpuError) -> Self {
        RunError::Gpu(e)
    }
}

impl From<ConfigError> for RunError {
    fn from(e: ConfigError) -> Self {
        RunError::Config(e)
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Config(e) => write!(f, "invalid --{}: {}", e.field, e.message),
            RunError::Gpu(e) => write!(f, "{e}"),
        }
    }
}

/// A future that stays on its thread (wgpu's web futures are not `Send`).
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One experiment: what it is, what it takes, what it reports, how it runs.
pub trait Experiment: Sync + 'static {
    const INFO: ExperimentInfo;
    /// Its URL query and CLI flags (`define_config!`).
    type Config: Config;
    /// What one run reports: `gradlab <id>` prints it as JSON, the worker
    /// sends it to the page as JSON text.
    type Report: Serialize + DeserializeOwned;
    /// One whole run of `cfg` on `on`.
    fn run(
        cfg: &Self::Config,
        on: &Compute,
    ) -> impl Future<Output = Result<Self::Report, RunError>>;
    /// The config a CPU run in the page takes: the page has one thread for
    /// it, so some experiments bound their work there (and say so). By
    /// default, the config itself.
    fn page_cpu_config(cfg: &Self::Config) -> Self::Config {
        cfg.clone()
    }
    /// This experiment's GPU kernels against their CPU twins on `gpu`.
    fn selftest(gpu: &Gpu) -> impl Future<Output = Result<Vec<Check>, GpuError>>;
    /// Its benchmark workloads.
    const WORKLOADS: &'static [Workload];
}

/// The registry's untyped face of an [`Experiment`].
pub trait Registered: Sync {
    fn info(&self) -> &'static ExperimentInfo;
    /// Every config field (key, help, bound, default).
    fn fields(&self) -> Vec<FieldInfo>;
    /// Parses `pairs` strictly and runs; the report as JSON text.
    fn run_json<'a>(
        &self,
        pairs: &[(&str, &str)],
        on: &'a Compute,
    ) -> LocalFuture<'a, Result<String, RunError>>;
    /// `pairs` parsed leniently (as the page does): every field's canonical value.
    fn lenient_pairs(&self, pairs: &[(&str, &str)]) -> Vec<(&'static str, String)>;
    /// The report in `json` read back and written again (the worker's wire format).
    fn reencode(&self, json: &str) -> Result<String, String>;
    fn selftest<'a>(&self, gpu: &'a Gpu) -> LocalFuture<'a, Result<Vec<Check>, GpuError>>;
    fn workloads(&self) -> &'static [Workload];
}

impl<E: Experiment> Registered for E {
    fn info(&self) -> &'static ExperimentInfo {
        &E::INFO
    }

    fn fields(&self) -> Vec<FieldInfo> {
        E::Config::fields()
    }

    fn run_json<'a>(
        &self,
        pairs: &[(&str, &str)],
        on: &'a Compute,
    ) -> LocalFuture<'a, Result<String, RunError>> {
        let cfg = E::Config::from_pairs_strict(pairs.iter().copied());
        Box::pin(async move {
            let report = E::run(&cfg?, on).await?;
            Ok(serde_json::to_string(&report).expect("reports serialise"))
        })
    }

    fn lenient_pairs(&self, pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        E::Config::from_pairs_lenient(pairs.iter().copied())
            .0
            .to_pairs()
    }

    fn reencode(&self, json: &str) -> Result<String, String> {
        let report: E::Report = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(serde_json::to_string(&report).expect("reports serialise"))
    }

    fn selftest<'a>(&self, gpu: &'a Gpu) -> LocalFuture<'a, Result<Vec<Check>, GpuError>> {
        Box::pin(E::selftest(gpu))
    }

    fn workloads(&self) -> &'static [Workload] {
        E::WORKLOADS
    }
}

/// Every experiment, in gallery order: the one list of them.
pub static REGISTRY: &[&dyn Registered] = &[
    &super::rng::Rng,
    &super::gumbel::Gumbel,
    &super::label_smoothing::LabelSmoothing,
    &super::clipping::Clipping,
    &super::diffusion::Diffusion,
    &super::zo::Zo,
    &super::certify::Certify,
    &super::saliency::Saliency,
    &super::guidance::Guidance,
];

/// The experiment with this id.
pub fn find(id: &str) -> Option<&'static dyn Registered> {
    REGISTRY.iter().copied().find(|e| e.info().id == id)
}

/// Every id, in gallery order.
pub fn ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.info().id).collect()
}

/// The benchmark workload with this name, and its experiment.
pub fn workload(name: &str) -> Option<(&'static dyn Registered, &'static Workload)> {
    REGISTRY
        .iter()
        .flat_map(|e| e.workloads().iter().map(move |w| (*e, w)))
        .find(|(_, w)| w.name == name)
}

/// One field as `experiments.json` lists it.
#[derive(Serialize)]
struct FieldJson {
    key: &'static str,
    help: &'static str,
    default: String,
    bound: String,
    input: FieldInput,
}

/// One experiment as `experiments.json` lists it.
#[derive(Serialize)]
struct ExperimentJson {
    #[serde(flatten)]
    info: ExperimentInfo,
    route: String,
    embed: String,
    fields: Vec<FieldJson>,
    workloads: Vec<&'static str>,
}

/// `experiments.json`: what embed.js and the e2e specs know of the lab
/// (`gradlab experiments` prints it; `static/experiments.json` is this text,
/// checked by `tests/registry.rs`).
pub fn experiments_json() -> String {
    let list: Vec<ExperimentJson> = REGISTRY
        .iter()
        .map(|e| ExperimentJson {
            info: *e.info(),
            route: format!("/{}", e.info().id),
            embed: format!("/embed/{}", e.info().id),
            fields: e
                .fields()
                .into_iter()
                .map(|f| FieldJson {
                    key: f.name,
                    help: f.help,
                    default: f.default,
                    bound: f.bound,
                    input: f.input,
                })
                .collect(),
            workloads: e.workloads().iter().map(|w| w.name).collect(),
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&list).expect("the registry serialises");
    text.push('\n');
    text
}
