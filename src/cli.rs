//! The `gradlab` command line: every experiment headless, flags named like
//! its URL query keys, one JSON object on stdout.
//!
//! Exit status: 0 success; 1 a GPU fault mid-run; 2 bad input (unknown
//! command or flag, bad value); 3 a GPU was requested but none is available.

mod diffusion;

use std::io::Write;
use std::time::{Duration, Instant};

use crate::experiments::Backend;
use crate::experiments::catalog::{self, Status};
use crate::experiments::clipping::{self, ClippingConfig, RobustConfig};
use crate::experiments::config::{Config, ConfigError, ListBound, Param, Range};
use crate::experiments::diffusion::DiffusionConfig;
use crate::experiments::gumbel::{self as gumbel_exp, GumbelConfig};
use crate::experiments::label_smoothing::{self, LabelSmoothingConfig};
use crate::experiments::rng::{self as rng_exp, RngConfig};
use crate::experiments::train_mlp::{self, TrainMlpConfig};
use crate::gpu::gumbel::GumbelMoments;
use crate::gpu::mlp::MlpGpu;
use crate::gpu::robust::RobustRuns;
use crate::gpu::{Gpu, GpuError, rng::RngFill};
use crate::kernels::gumbel::{self as gumbel_kernels, Problem};
use crate::kernels::mlp::{self, Activation, AdamConfig, AdamState, Loss, MlpSpec, Targets};
use crate::kernels::model_file;
use crate::kernels::rng::{self, RngKey};
use crate::kernels::robust::{self, Method};

/// A failure the CLI reports on stderr, with its exit status.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    GpuUnavailable(String),
    Gpu(String),
}

impl CliError {
    pub fn status(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::GpuUnavailable(_) => 3,
            CliError::Gpu(_) => 1,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::GpuUnavailable(m) => write!(f, "GPU requested but unavailable: {m}"),
            CliError::Gpu(m) => write!(f, "{m}"),
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Usage(format!("invalid --{}: {}", e.field, e.message))
    }
}

const USAGE: &str = "usage: gradlab list
       gradlab <experiment> [--key value]... [--backend cpu|gpu]
       gradlab <experiment> --help
       gradlab robust --method M --grads \"1,2;3,4;100,-50\" [--threshold C] [--groups G] [--norm 2|inf]
       gradlab selftest                  (every GPU kernel against its CPU twin)
       gradlab train-mlp [--dataset ID] [--hidden 64,64] [--steps N] ... [--out model.bin]
       gradlab schedule --kind linear|scaled-linear|cosine [--steps 1000]
       gradlab score --gmm-means \"x,y;x,y\" --gmm-std S [--gmm-weights w,w] --sigma S --at \"x,y;...\"
       gradlab diffusion [--dataset gmm8] [--score exact-gmm] [--sampler ddim] ... [--backend cpu|gpu]
       gradlab train-denoiser --dataset ID [--steps N] --out model.bin
       gradlab loss --logits \"1.5,-0.3,2.0\" --target 2 [--smoothing E] [--maxsup A]   (\";\" separates a batch)
       gradlab label-smoothing [--dataset ID] [--smoothing E] [--steps N] [--seed S] ... [--backend cpu|gpu]
       gradlab bench <rng|mlp-forward|mlp-train-step> [--backend cpu|gpu] [--key value]...";

/// Runs the CLI on `args` (without the program name) and returns the exit status.
pub fn run(args: &[String]) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match dispatch(args) {
        Ok(text) => {
            let _ = writeln!(stdout, "{text}");
            0
        }
        Err(e) => {
            eprintln!("gradlab: {e}");
            e.status()
        }
    }
}

fn dispatch(args: &[String]) -> Result<String, CliError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(CliError::Usage(
            "no command given (try `gradlab help`)".into(),
        ));
    };
    match command.as_str() {
        "list" => {
            no_more_args(rest)?;
            Ok(serde_json::to_string(&catalog::runnable_ids()).expect("ids serialise"))
        }
        "help" | "--help" | "-h" => Ok(USAGE.to_string()),
        "bench" => bench(rest),
        "schedule" => diffusion::schedule(rest),
        "score" => diffusion::score(rest),
        "diffusion" => diffusion::diffusion(rest),
        "train-denoiser" => diffusion::train_denoiser(rest),
        "rng" => {
            if wants_help(rest) {
                return Ok(help::<RngConfig>("rng", ""));
            }
            let (cfg, backend, _) = parse_config::<RngConfig>(rest, &[])?;
            let draws = match backend {
                Backend::Cpu => rng_exp::draw_cpu(&cfg),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    pollster::block_on(async {
                        let fill = RngFill::new(&gpu).await?;
                        rng_exp::draw_gpu(&gpu, &fill, &cfg).await
                    })
                    .map_err(gpu_fault)?
                }
            };
            Ok(serde_json::to_string(&draws).expect("draws serialise"))
        }
        "train-mlp" => train_mlp(rest),
        "loss" => loss(rest),
        // Runs headless while its widget is still Coming: this arm comes
        // before the catalog fallback below.
        "label-smoothing" => {
            if wants_help(rest) {
                return Ok(help::<LabelSmoothingConfig>("label-smoothing", ""));
            }
            let (cfg, backend, _) = parse_config::<LabelSmoothingConfig>(rest, &[])?;
            let gpu = match backend {
                Backend::Cpu => None,
                Backend::Gpu => Some(request_gpu()?),
            };
            let report =
                pollster::block_on(label_smoothing::run(&cfg, gpu.as_ref())).map_err(gpu_fault)?;
            Ok(serde_json::to_string(&report).expect("report serialises"))
        }
        "robust" => {
            if wants_help(rest) {
                return Ok(help::<RobustConfig>("robust", ""));
            }
            let (cfg, _, _) = parse_config::<RobustConfig>(rest, &[])?;
            let e = clipping::robust_estimate(&cfg);
            Ok(serde_json::json!({ "estimate": e }).to_string())
        }
        "clipping" => {
            if wants_help(rest) {
                return Ok(help::<ClippingConfig>("clipping", ""));
            }
            let (cfg, backend, _) = parse_config::<ClippingConfig>(rest, &[])?;
            let report = match backend {
                Backend::Cpu => clipping::monte_carlo_cpu(&cfg, cfg.runs),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    pollster::block_on(async {
                        let kernel = RobustRuns::new(&gpu).await?;
                        clipping::monte_carlo_gpu(&gpu, &kernel, &cfg).await
                    })
                    .map_err(gpu_fault)?
                }
            };
            Ok(serde_json::to_string(&report).expect("report serialises"))
        }
        "gumbel" => {
            if wants_help(rest) {
                return Ok(help::<GumbelConfig>("gumbel", ""));
            }
            let (cfg, backend, _) = parse_config::<GumbelConfig>(rest, &[])?;
            let estimates = match backend {
                Backend::Cpu => gumbel_exp::estimate_cpu(&cfg),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    pollster::block_on(async {
                        let kernel = GumbelMoments::new(&gpu).await?;
                        gumbel_exp::estimate_gpu(&gpu, &kernel, &cfg).await
                    })
                    .map_err(gpu_fault)?
                }
            };
            Ok(serde_json::to_string(&estimates).expect("estimates serialise"))
        }
        "selftest" => {
            no_more_args(rest)?;
            let gpu = request_gpu()?;
            let checks =
                pollster::block_on(crate::experiments::selftest::run(&gpu)).map_err(gpu_fault)?;
            let failed = checks.iter().filter(|c| !c.pass).count();
            let json = serde_json::json!({ "adapter": gpu.adapter.name, "checks": checks });
            if failed > 0 {
                return Err(CliError::Gpu(format!(
                    "{failed} self-test check(s) failed: {json}"
                )));
            }
            Ok(json.to_string())
        }
        other => match catalog::find(other) {
            Some(e) if e.status == Status::Coming => Err(CliError::Usage(format!(
                "experiment `{other}` is not built yet (runnable: {})",
                catalog::runnable_ids().join(", ")
            ))),
            _ => Err(CliError::Usage(format!(
                "unknown command {} (try `gradlab list`)",
                crate::experiments::config::echo(other)
            ))),
        },
    }
}

fn wants_help(rest: &[String]) -> bool {
    rest.iter().any(|a| a == "--help" || a == "-h")
}

fn no_more_args(rest: &[String]) -> Result<(), CliError> {
    match rest.first() {
        None => Ok(()),
        Some(a) => Err(CliError::Usage(format!(
            "unexpected argument {}",
            crate::experiments::config::echo(a)
        ))),
    }
}

/// Flags as (key, value) pairs, in the order given.
type Pairs<'a> = Vec<(&'a str, &'a str)>;

/// Splits `--key value` / `--key=value` flags into pairs, taking out `--backend`.
fn parse_flags(rest: &[String]) -> Result<(Backend, Pairs<'_>), CliError> {
    let mut pairs = Vec::new();
    let mut backend = None;
    let mut i = 0;
    while i < rest.len() {
        let arg = &rest[i];
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(CliError::Usage(format!(
                "unexpected argument {} (flags look like --key value)",
                crate::experiments::config::echo(arg)
            )));
        };
        let (key, value) = match flag.split_once('=') {
            Some((k, v)) => (k, v),
            None => {
                i += 1;
                match rest.get(i) {
                    Some(v) if !v.starts_with("--") => (flag, v.as_str()),
                    _ => return Err(CliError::Usage(format!("flag --{flag} needs a value"))),
                }
            }
        };
        if key == "backend" {
            if backend.is_some() {
                return Err(CliError::Usage(
                    "flag --backend given more than once".into(),
                ));
            }
            backend = Some(
                Backend::parse(value)
                    .map_err(|m| CliError::Usage(format!("invalid --backend: {m}")))?,
            );
        } else {
            pairs.push((key, value));
        }
        i += 1;
    }
    Ok((backend.unwrap_or(Backend::Cpu), pairs))
}

/// Parses a command's flags into its config, its backend, and the values of
/// the command-only `extra` flags (such as `--out`).
fn parse_config<'a, C: Config>(
    rest: &'a [String],
    extra: &[&str],
) -> Result<(C, Backend, Pairs<'a>), CliError> {
    let (backend, pairs) = parse_flags(rest)?;
    let (extras, pairs): (Pairs<'a>, Pairs<'a>) =
        pairs.into_iter().partition(|(k, _)| extra.contains(k));
    let cfg = C::from_pairs_strict(pairs)?;
    Ok((cfg, backend, extras))
}

fn help<C: Config>(id: &str, extra: &str) -> String {
    let mut out = format!("usage: gradlab {id} [--key value]... [--backend cpu|gpu]\n");
    if let Some(e) = catalog::find(id) {
        out.push_str(&format!("{}: {}\n", e.title, e.claim));
    }
    out.push_str("\nflags (the same keys as the page's URL query):\n");
    for f in C::fields() {
        out.push_str(&format!(
            "  --{:<10} {} [{}; default {}]\n",
            f.name, f.help, f.bound, f.default
        ));
    }
    out.push_str("  --backend    where to compute [one of: cpu, gpu; default cpu]\n");
    out.push_str(extra);
    out
}

fn request_gpu() -> Result<Gpu, CliError> {
    pollster::block_on(Gpu::request()).map_err(|e| CliError::GpuUnavailable(e.0))
}

crate::define_config! {
    /// Size of an RNG benchmark run.
    pub struct BenchRngConfig {
        /// Draws per iteration.
        count: u32 = 1 << 20, Range::new(1, 1 << 22);
    }
}

crate::define_config! {
    /// Size of a Gumbel-Softmax estimator benchmark run (all five estimators, moments).
    pub struct BenchGumbelConfig {
        /// Samples per iteration.
        samples: u32 = 1 << 20, Range::new(1, 1 << 24);
        /// Categories.
        k: u32 = 4, Range::new(2, 16);
    }
}

crate::define_config! {
    /// Size of a robust-estimator benchmark: runs × steps SGD steps of one estimator,
    /// each step combining a minibatch of sample gradients.
    pub struct BenchRobustConfig {
        /// The estimator.
        method: Method = Method::ClipNorm, ();
        /// Independent runs per iteration.
        runs: u32 = 64, Range::new(1, 4096);
        /// SGD steps per run.
        steps: u32 = 200, Range::new(1, 10_000);
        /// Sample gradients per step.
        batch: u32 = 32, Range::new(1, 256);
    }
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

/// One benchmark result, as `gradlab bench` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub kernel: &'static str,
    pub backend: Backend,
    pub size: u64,
    pub items_per_s: f64,
    pub ms_per_iter: f64,
}

impl BenchReport {
    pub(crate) fn new(kernel: &'static str, backend: Backend, size: u32, ms_per_iter: f64) -> Self {
        Self {
            kernel,
            backend,
            size: u64::from(size),
            items_per_s: f64::from(size) / (ms_per_iter / 1e3),
            ms_per_iter,
        }
    }
}

/// Times `iter` after one warm-up: at least 3 runs and about half a second.
pub fn time_iterations(mut iter: impl FnMut()) -> f64 {
    iter();
    let start = Instant::now();
    let mut n = 0u32;
    while n < 3 || (start.elapsed() < Duration::from_millis(500) && n < 1000) {
        iter();
        n += 1;
    }
    start.elapsed().as_secs_f64() * 1e3 / f64::from(n)
}

const BENCH_KERNELS: &str = "rng, gumbel, robust, mlp-forward, mlp-train-step, diffusion-step";

fn bench(rest: &[String]) -> Result<String, CliError> {
    let Some((kernel, rest)) = rest.split_first() else {
        return Err(CliError::Usage(format!(
            "bench needs a kernel (available: {BENCH_KERNELS})"
        )));
    };
    let report = match kernel.as_str() {
        "robust" => {
            if wants_help(rest) {
                return Ok(help::<BenchRobustConfig>("bench robust", ""));
            }
            let (cfg, backend, _) = parse_config::<BenchRobustConfig>(rest, &[])?;
            let clip = ClippingConfig {
                steps: cfg.steps,
                runs: cfg.runs,
                batch: cfg.batch,
                ..ClippingConfig::default()
            };
            let spec = clip.run_spec(cfg.method);
            let ms = match backend {
                Backend::Cpu => time_iterations(|| {
                    for r in 0..cfg.runs {
                        std::hint::black_box(robust::run(&spec, r, false));
                    }
                }),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    let kernel = pollster::block_on(RobustRuns::new(&gpu)).map_err(gpu_fault)?;
                    let mut fault = None;
                    let ms = time_iterations(|| {
                        if let Err(e) =
                            pollster::block_on(kernel.curves(&gpu, &spec, &[cfg.method], cfg.runs))
                        {
                            fault = Some(e);
                        }
                    });
                    if let Some(e) = fault {
                        return Err(gpu_fault(e));
                    }
                    ms
                }
            };
            // Items: sample gradients combined (runs × steps × batch).
            let items = cfg.runs.saturating_mul(cfg.steps).saturating_mul(cfg.batch);
            let mut r = BenchReport::new("robust", backend, items, ms);
            r.kernel = cfg.method.as_str();
            r
        }
        "diffusion-step" => {
            if wants_help(rest) {
                return Ok(help::<DiffusionConfig>("bench diffusion-step", ""));
            }
            diffusion::bench_step(rest)?
        }
        "rng" => {
            if wants_help(rest) {
                return Ok(help::<BenchRngConfig>("bench rng", ""));
            }
            let (cfg, backend, _) = parse_config::<BenchRngConfig>(rest, &[])?;
            let key = RngKey::new(1, 0);
            let ms = match backend {
                Backend::Cpu => time_iterations(|| {
                    std::hint::black_box(rng::draw(key, 0, cfg.count));
                }),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    let fill = pollster::block_on(RngFill::new(&gpu)).map_err(gpu_fault)?;
                    time_iterations(|| fill.draw_and_wait(&gpu, key, 0, cfg.count))
                }
            };
            BenchReport::new("rng", backend, cfg.count, ms)
        }
        "gumbel" => {
            if wants_help(rest) {
                return Ok(help::<BenchGumbelConfig>("bench gumbel", ""));
            }
            let (cfg, backend, _) = parse_config::<BenchGumbelConfig>(rest, &[])?;
            let k = cfg.k as usize;
            let logits: Vec<f64> = (0..k).map(|i| (i as f64 * 0.7).sin()).collect();
            let weights: Vec<f64> = (0..k).map(|i| i as f64).collect();
            let problem = Problem::new(&logits, &weights, 0.5);
            let key = RngKey::new(1, gumbel_kernels::GUMBEL_STREAM);
            let ms = match backend {
                Backend::Cpu => time_iterations(|| {
                    std::hint::black_box(gumbel_kernels::moment_sums(
                        &problem,
                        key,
                        0,
                        cfg.samples,
                    ));
                }),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    let kernel = pollster::block_on(GumbelMoments::new(&gpu)).map_err(gpu_fault)?;
                    let problems = [problem];
                    time_iterations(|| {
                        std::hint::black_box(
                            pollster::block_on(kernel.sums(&gpu, &problems, key, 0, cfg.samples))
                                .ok(),
                        );
                    })
                }
            };
            BenchReport::new("gumbel", backend, cfg.samples, ms)
        }
        "mlp-forward" => {
            if wants_help(rest) {
                return Ok(help::<BenchMlpForwardConfig>("bench mlp-forward", ""));
            }
            let (cfg, backend, _) = parse_config::<BenchMlpForwardConfig>(rest, &[])?;
            let spec = bench_spec(&cfg.hidden, 2);
            let params = mlp::init_params(&spec, 1);
            let key = RngKey::new(1, 0);
            let x: Vec<f32> = (0..2 * cfg.batch).map(|i| key.normal_at(i)).collect();
            let features = mlp::featurize(&spec, &x, None, None);
            let ms = match backend {
                Backend::Cpu => time_iterations(|| {
                    std::hint::black_box(mlp::predict(&spec, &params, features.clone()));
                }),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    let mut model =
                        pollster::block_on(MlpGpu::new(&gpu, &spec, &params)).map_err(gpu_fault)?;
                    let flat = features.as_slice().expect("contiguous");
                    // Upload, forward and read-back: what drawing decision regions costs.
                    time_iterations(|| {
                        std::hint::black_box(pollster::block_on(model.predict(&gpu, flat)).ok());
                    })
                }
            };
            BenchReport::new("mlp-forward", backend, cfg.batch, ms)
        }
        "mlp-train-step" => {
            if wants_help(rest) {
                return Ok(help::<BenchMlpTrainConfig>("bench mlp-train-step", ""));
            }
            let (cfg, backend, _) = parse_config::<BenchMlpTrainConfig>(rest, &[])?;
            let spec = bench_spec(&cfg.hidden, 3);
            let mut params = mlp::init_params(&spec, 1);
            let key = RngKey::new(1, 0);
            let x: Vec<f32> = (0..2 * cfg.batch).map(|i| key.normal_at(i)).collect();
            let y: Vec<u32> = (0..cfg.batch).map(|i| i % 3).collect();
            let features = mlp::featurize(&spec, &x, None, None);
            let loss = Loss::CrossEntropy {
                smoothing: 0.0,
                maxsup: 0.0,
            };
            let adam_cfg = AdamConfig::default();
            let ms = match backend {
                Backend::Cpu => {
                    let mut adam = AdamState::new(params.len());
                    time_iterations(|| {
                        let fwd = mlp::forward(&spec, &params, features.clone());
                        let (_, d) = mlp::loss_and_grad(loss, fwd.output(), Targets::Labels(&y));
                        let g = mlp::backward(&spec, &params, &fwd, d);
                        mlp::adam_step(&adam_cfg, &mut adam, &mut params, &g);
                    })
                }
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    let mut model =
                        pollster::block_on(MlpGpu::new(&gpu, &spec, &params)).map_err(gpu_fault)?;
                    let flat = features.as_slice().expect("contiguous");
                    let mut fault = None;
                    let ms = time_iterations(|| {
                        if let Err(e) =
                            model.train_step(&gpu, flat, Targets::Labels(&y), loss, &adam_cfg)
                        {
                            fault = Some(e);
                        }
                        model.wait(&gpu);
                    });
                    if let Some(e) = fault {
                        return Err(gpu_fault(e));
                    }
                    ms
                }
            };
            BenchReport::new("mlp-train-step", backend, cfg.batch, ms)
        }
        other => {
            return Err(CliError::Usage(format!(
                "unknown bench kernel {} (available: {BENCH_KERNELS})",
                crate::experiments::config::echo(other)
            )));
        }
    };
    Ok(serde_json::to_string(&report).expect("report serialises"))
}

fn bench_spec(hidden: &[u32], output: usize) -> MlpSpec {
    let hidden: Vec<usize> = hidden.iter().map(|&w| w as usize).collect();
    MlpSpec::for_2d_points(&hidden, output, Activation::Relu)
}

fn gpu_fault(e: GpuError) -> CliError {
    CliError::Gpu(e.to_string())
}

fn train_mlp(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok(help::<TrainMlpConfig>(
            "train-mlp",
            "  --out        write the trained parameters to this file (gradlab model format)\n",
        ));
    }
    let (cfg, backend, extras) = parse_config::<TrainMlpConfig>(rest, &["out"])?;
    let out = match extras.as_slice() {
        [] => None,
        [(_, path)] if !path.is_empty() => Some(*path),
        [(_, _)] => return Err(CliError::Usage("invalid --out: empty path".into())),
        _ => return Err(CliError::Usage("flag --out given more than once".into())),
    };
    // Open the output first, so a bad path fails before training, not after.
    let mut file = out
        .map(|path| {
            std::fs::File::create(path)
                .map_err(|e| CliError::Usage(format!("invalid --out: cannot write {path:?}: {e}")))
        })
        .transpose()?;
    let gpu = match backend {
        Backend::Cpu => None,
        Backend::Gpu => Some(request_gpu()?),
    };
    let (report, params) =
        pollster::block_on(train_mlp::run(&cfg, gpu.as_ref())).map_err(gpu_fault)?;
    if let Some(f) = file.as_mut() {
        f.write_all(&model_file::encode(&report.spec, &params))
            .map_err(|e| CliError::Usage(format!("invalid --out: write failed: {e}")))?;
    }
    Ok(serde_json::to_string(&report).expect("report serialises"))
}

/// Parses a `;`-separated list of at most `max` rows of comma-separated
/// values (`"1,2;3,4"`); `item` names a row in messages ("example", "point").
fn parse_rows<T>(
    flag: &str,
    text: &str,
    max: usize,
    item: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<Vec<T>>, CliError> {
    let bad = |why: String| CliError::Usage(format!("invalid --{flag}: {why}"));
    if text.trim().is_empty() {
        return Err(bad("is empty".into()));
    }
    // Bounded before parsing, so a huge value costs nothing.
    let rows: Vec<&str> = text.split(';').take(max + 1).collect();
    if rows.len() > max {
        return Err(bad(format!("more than {max} {item}s")));
    }
    rows.iter()
        .enumerate()
        .map(|(b, row)| {
            if row.trim().is_empty() {
                return Err(bad(format!("{item} {b} is empty")));
            }
            row.split(',')
                .take(mlp::MAX_OUTPUT + 1)
                .map(|v| parse(v).map_err(|why| bad(format!("{item} {b}: {why}"))))
                .collect()
        })
        .collect()
}

/// Most examples `gradlab loss` takes in one batch.
const LOSS_MAX_BATCH: usize = 4096;

/// `gradlab loss`: the per-example training loss of the classifiers and its
/// gradient with respect to the logits, from the one formula in
/// [`mlp::loss_and_grad`] (evaluated in f64).
fn loss(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok(
            "usage: gradlab loss --logits \"1.5,-0.3,2.0\" --target 2 [--smoothing E] [--maxsup A]
Per-example loss (1 − ε)·CE(onehot) + ε·CE(uniform) + α·(max z − mean z) and its gradient
with respect to the logits (label smoothing, Szegedy et al. 2016; MaxSup, Zhou et al. 2025).
\";\" separates the examples of a batch (\"1,2,3;0,1,0\" with --target \"2;0\"): then loss is
the batch mean and grad holds the gradient of that mean for each example.

flags:
  --logits     K logits per example, 2 <= K <= 64, finite
  --target     the class of each example, in 0..K
  --smoothing  label smoothing ε [number in [0, 1]; default 0]
  --maxsup     MaxSup penalty α [number in [0, 10]; default 0]
"
            .to_string(),
        );
    }
    let (_, pairs) = parse_flags(rest)?;
    let (mut logits, mut target, mut smoothing, mut maxsup) = (None, None, None, None);
    for (k, v) in pairs {
        let slot = match k {
            "logits" => &mut logits,
            "target" => &mut target,
            "smoothing" => &mut smoothing,
            "maxsup" => &mut maxsup,
            other => {
                return Err(CliError::Usage(format!(
                    "unknown flag --{} (expected one of: logits, target, smoothing, maxsup)",
                    crate::experiments::config::echo(other).trim_matches('"')
                )));
            }
        };
        if slot.replace(v).is_some() {
            return Err(CliError::Usage(format!("flag --{k} given more than once")));
        }
    }
    let logits_text = logits.ok_or_else(|| CliError::Usage("loss needs --logits".into()))?;
    let target_text = target.ok_or_else(|| CliError::Usage("loss needs --target".into()))?;
    let number = |flag: &str, text: Option<&str>, max: f64| -> Result<f64, CliError> {
        let Some(text) = text else { return Ok(0.0) };
        let v = <f64 as Param>::parse(text)
            .map_err(|why| CliError::Usage(format!("invalid --{flag}: {why}")))?;
        if !(0.0..=max).contains(&v) {
            return Err(CliError::Usage(format!(
                "invalid --{flag}: {v} is outside [0, {max}]"
            )));
        }
        Ok(v)
    };
    let eps = number("smoothing", smoothing, 1.0)?;
    let alpha = number("maxsup", maxsup, 10.0)?;
    let rows = parse_rows(
        "logits",
        logits_text,
        LOSS_MAX_BATCH,
        "example",
        <f64 as Param>::parse,
    )?;
    let targets = parse_rows(
        "target",
        target_text,
        LOSS_MAX_BATCH,
        "example",
        <u32 as Param>::parse,
    )?;
    if rows.len() != targets.len() {
        return Err(CliError::Usage(format!(
            "--logits has {} example(s) but --target has {}",
            rows.len(),
            targets.len()
        )));
    }
    let k = rows[0].len();
    if !(2..=mlp::MAX_OUTPUT).contains(&k) {
        return Err(CliError::Usage(format!(
            "invalid --logits: needs 2 to {} classes per example, got {}",
            mlp::MAX_OUTPUT,
            k.min(mlp::MAX_OUTPUT + 1)
        )));
    }
    let mut labels = Vec::with_capacity(rows.len());
    for (b, (row, t)) in rows.iter().zip(&targets).enumerate() {
        if row.len() != k {
            return Err(CliError::Usage(format!(
                "invalid --logits: example {b} has {} logits, example 0 has {k}",
                row.len()
            )));
        }
        match t.as_slice() {
            [t] if (*t as usize) < k => labels.push(*t),
            [t] => {
                return Err(CliError::Usage(format!(
                    "invalid --target: example {b} has class {t}, outside 0..{k}"
                )));
            }
            _ => {
                return Err(CliError::Usage(format!(
                    "invalid --target: example {b} needs exactly one class"
                )));
            }
        }
    }
    let z = ndarray::Array2::from_shape_fn((rows.len(), k), |(b, i)| rows[b][i]);
    let loss = Loss::CrossEntropy {
        smoothing: eps as f32,
        maxsup: alpha as f32,
    };
    let (value, grad) = mlp::loss_and_grad(loss, &z, Targets::Labels(&labels));
    let grad: Vec<Vec<f64>> = grad.outer_iter().map(|g| g.to_vec()).collect();
    let grad = if logits_text.contains(';') {
        serde_json::json!(grad)
    } else {
        serde_json::json!(grad[0])
    };
    Ok(serde_json::json!({ "loss": value, "grad": grad }).to_string())
}
