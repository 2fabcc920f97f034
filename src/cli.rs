//! The `gradlab` command line: every experiment headless, flags named like
//! its URL query keys, one JSON object on stdout.
//!
//! Exit status: 0 success; 1 a GPU fault mid-run; 2 bad input (unknown
//! command or flag, bad value); 3 a GPU was requested but none is available.

mod diffusion;
mod zo;

use std::io::Write;

use crate::experiments::Backend;
use crate::experiments::bench;
use crate::experiments::clipping::{self, RobustConfig};
use crate::experiments::config::{Config, ConfigError, FieldInfo, Param};
use crate::experiments::registry::{self, Compute, REGISTRY, RunError};
use crate::experiments::train_mlp::{self, TrainMlpConfig};
use crate::gpu::{Gpu, GpuError};
use crate::kernels::mlp::{self, Loss, Targets};
use crate::kernels::model_file;

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

impl From<RunError> for CliError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Config(e) => e.into(),
            RunError::Gpu(e) => gpu_fault(e),
        }
    }
}

/// The commands that are tools rather than experiments, for `gradlab help`.
const TOOLS: &str = "       gradlab robust --method M --grads \"1,2;3,4;100,-50\" [--threshold C] [--groups G] [--norm 2|inf] [--backend cpu|gpu]
       gradlab zo-estimate --objective quadratic|rosenbrock|l1|relu --dim D [--at x1,...,xD] --estimator E [--samples N] [--backend cpu|gpu]
       gradlab selftest                  (every GPU kernel against its CPU twin)
       gradlab experiments               (the registry as JSON: static/experiments.json)
       gradlab first-paint               (the gallery and About as static HTML: static/first-paint.html)
       gradlab train-mlp [--dataset ID] [--hidden 64,64] [--steps N] ... [--out model.bin]
       gradlab schedule --kind linear|scaled-linear|cosine [--steps 1000]
       gradlab score --gmm-means \"x,y;x,y\" --gmm-std S [--gmm-weights w,w] --sigma S --at \"x,y;...\"
       gradlab train-denoiser --dataset ID [--steps N] --out model.bin
       gradlab loss --logits \"1.5,-0.3,2.0\" --target 2 [--smoothing E] [--maxsup A]   (\";\" separates a batch)";

/// `gradlab help`: the experiments from the registry, then the tools.
fn usage() -> String {
    let mut out = String::from(
        "usage: gradlab list
       gradlab <experiment> [--key value]... [--backend cpu|gpu]
       gradlab <experiment> --help
       gradlab bench <workload> [--backend cpu|gpu] [--key value]...
       every command also takes --threads N (CPU threads; default all cores, same numbers for every N)
",
    );
    out.push_str(TOOLS);
    out.push_str("\n\nexperiments:\n");
    for e in REGISTRY {
        let i = e.info();
        out.push_str(&format!("  {:<16} {}\n", i.id, i.title));
    }
    out.push_str("\nbench workloads:\n");
    for e in REGISTRY {
        for w in e.workloads() {
            out.push_str(&format!("  {:<16} {}\n", w.name, w.about));
        }
    }
    out
}

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

/// Most threads `--threads` takes.
const MAX_THREADS: usize = 1024;

/// Takes `--threads N` (any command; default: all cores) out of `args`,
/// then runs the command on that many threads.
fn dispatch(args: &[String]) -> Result<String, CliError> {
    let (threads, args) = take_threads(args)?;
    crate::kernels::par::with_threads(threads, || command(&args))
        .map_err(|e| CliError::Usage(format!("invalid --threads: {e}")))?
}

/// `--threads N` or `--threads=N` out of `args`: the count and what is left.
fn take_threads(args: &[String]) -> Result<(Option<usize>, Vec<String>), CliError> {
    let mut threads = None;
    let mut left = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.strip_prefix("--threads") {
            Some("") => it.next().map(String::as_str),
            Some(v) if v.starts_with('=') => Some(&v[1..]),
            _ => {
                left.push(a.clone());
                continue;
            }
        };
        if threads.is_some() {
            return Err(CliError::Usage(
                "flag --threads given more than once".into(),
            ));
        }
        let n = value
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| (1..=MAX_THREADS).contains(n))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "invalid --threads: {} (a whole number from 1 to {MAX_THREADS})",
                    value.map_or_else(|| "no value".into(), crate::experiments::config::echo)
                ))
            })?;
        threads = Some(n);
    }
    Ok((threads, left))
}

fn command(args: &[String]) -> Result<String, CliError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(CliError::Usage(
            "no command given (try `gradlab help`)".into(),
        ));
    };
    match command.as_str() {
        "list" => {
            no_more_args(rest)?;
            Ok(serde_json::to_string(&registry::ids()).expect("ids serialise"))
        }
        "experiments" => {
            no_more_args(rest)?;
            Ok(registry::experiments_json().trim_end().to_string())
        }
        "first-paint" => {
            no_more_args(rest)?;
            Ok(crate::site::first_paint_html().trim_end().to_string())
        }
        "help" | "--help" | "-h" => Ok(usage()),
        "bench" => bench(rest),
        "schedule" => diffusion::schedule(rest),
        "score" => diffusion::score(rest),
        "train-denoiser" => diffusion::train_denoiser(rest),
        "train-mlp" => train_mlp(rest),
        "loss" => loss(rest),
        "robust" => robust(rest),
        "guidance" if rest.iter().any(|a| a.starts_with("--samples-out")) => guidance_samples(rest),
        "zo-estimate" => zo::zo_estimate(rest),
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
        id => match registry::find(id) {
            Some(e) => experiment(e, rest),
            None => Err(CliError::Usage(format!(
                "unknown command {} (try `gradlab list`)",
                crate::experiments::config::echo(id)
            ))),
        },
    }
}

/// `gradlab <experiment> [--key value]... [--backend cpu|gpu]`: one run, its report as JSON.
fn experiment(e: &dyn registry::Registered, rest: &[String]) -> Result<String, CliError> {
    let info = e.info();
    if wants_help(rest) {
        let about = format!("{}: {}\n", info.title, info.claim);
        return Ok(help_text(info.id, &about, &e.fields(), ""));
    }
    let (backend, pairs) = parse_flags(rest)?;
    let on = compute(backend)?;
    Ok(pollster::block_on(e.run_json(&pairs, &on))?)
}

/// `gradlab guidance ... --samples-out FILE`: the run's report, and every
/// sample written to FILE as JSON lines `[x, y]`.
fn guidance_samples(rest: &[String]) -> Result<String, CliError> {
    use crate::experiments::guidance::{self, GuidanceConfig};
    let (cfg, backend, extras) = parse_config::<GuidanceConfig>(rest, &["samples-out"])?;
    let path = extras.last().map(|(_, v)| *v).unwrap_or_default();
    let on = compute(backend)?;
    let samples = pollster::block_on(guidance::sample(&cfg, &on))?;
    guidance::write_samples(path, &samples)
        .map_err(|e| CliError::Usage(format!("cannot write --samples-out {path}: {e}")))?;
    Ok(serde_json::to_string(&guidance::report(&cfg, &samples)).expect("reports serialise"))
}

/// Where `--backend` asks to compute.
fn compute(backend: Backend) -> Result<Compute, CliError> {
    Ok(match backend {
        Backend::Cpu => Compute::Cpu,
        Backend::Gpu => Compute::Gpu(request_gpu()?),
    })
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

fn help<C: Config>(command: &str, extra: &str) -> String {
    help_text(command, "", &C::fields(), extra)
}

/// `--help` of a command: its usage line, `about`, every flag, then `extra`.
fn help_text(command: &str, about: &str, fields: &[FieldInfo], extra: &str) -> String {
    let mut out = format!("usage: gradlab {command} [--key value]... [--backend cpu|gpu]\n");
    out.push_str(about);
    out.push_str("\nflags (the same keys as the page's URL query):\n");
    for f in fields {
        out.push_str(&format!(
            "  --{:<10} {} [{}; default {}]\n",
            f.name, f.help, f.bound, f.default
        ));
    }
    out.push_str("  --backend    where to compute [one of: cpu, gpu; default cpu]\n");
    out.push_str(
        "  --threads    CPU threads [1 to 1024; default all cores; same numbers for every count]\n",
    );
    out.push_str(extra);
    out
}

fn request_gpu() -> Result<Gpu, CliError> {
    pollster::block_on(Gpu::request()).map_err(|e| CliError::GpuUnavailable(e.0))
}

/// Every workload name, for messages.
fn workload_names() -> String {
    REGISTRY
        .iter()
        .flat_map(|e| e.workloads().iter().map(|w| w.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `gradlab bench <workload> [--backend cpu|gpu] [--key value]...`.
fn bench(rest: &[String]) -> Result<String, CliError> {
    let Some((name, rest)) = rest.split_first() else {
        return Err(CliError::Usage(format!(
            "bench needs a workload (available: {})",
            workload_names()
        )));
    };
    let Some((_, workload)) = registry::workload(name) else {
        return Err(CliError::Usage(format!(
            "unknown bench workload {} (available: {})",
            crate::experiments::config::echo(name),
            workload_names()
        )));
    };
    if wants_help(rest) {
        let about = format!("{}\n", workload.about);
        return Ok(help_text(
            &format!("bench {}", workload.name),
            &about,
            &(workload.fields)(),
            "",
        ));
    }
    let (backend, pairs) = parse_flags(rest)?;
    let report = bench::run_blocking(workload, &pairs, compute(backend)?)?;
    Ok(serde_json::to_string(&report).expect("report serialises"))
}

/// Largest `--grads-file` read: 4,096 × 4,096 values of up to 24 characters.
const GRADS_FILE_MAX_BYTES: u64 = 4096 * 4096 * 24;

/// `gradlab robust`: one estimate from given sample gradients of any
/// dimension, on the CPU or the GPU; `{"estimate": [one value per component]}`.
fn robust(rest: &[String]) -> Result<String, CliError> {
    if wants_help(rest) {
        return Ok(help::<RobustConfig>(
            "robust",
            "  --grads-file read --grads from this file (for rows too long for one argument)\n",
        ));
    }
    let (mut cfg, backend, extras) = parse_config::<RobustConfig>(rest, &["grads-file"])?;
    match extras.as_slice() {
        [] => {}
        [(_, path)] => {
            if rest
                .iter()
                .any(|a| a == "--grads" || a.starts_with("--grads="))
            {
                return Err(CliError::Usage(
                    "give --grads or --grads-file, not both".into(),
                ));
            }
            let bad = |why: String| CliError::Usage(format!("invalid --grads-file: {why}"));
            let file =
                std::fs::File::open(path).map_err(|e| bad(format!("cannot read {path:?}: {e}")))?;
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut std::io::Read::take(file, GRADS_FILE_MAX_BYTES + 1),
                &mut text,
            )
            .map_err(|e| bad(format!("cannot read {path:?}: {e}")))?;
            if text.len() as u64 > GRADS_FILE_MAX_BYTES {
                return Err(bad(format!("larger than {GRADS_FILE_MAX_BYTES} bytes")));
            }
            // Line breaks may separate rows as well as `;`.
            let text = text.trim().replace(['\n', '\r'], ";").replace(";;", ";");
            cfg.set("grads", &text, true)
                .map_err(|e| CliError::Usage(format!("invalid --grads-file: {}", e.message)))?;
        }
        _ => {
            return Err(CliError::Usage(
                "flag --grads-file given more than once".into(),
            ));
        }
    }
    let estimate = match backend {
        Backend::Cpu => clipping::robust_estimate(&cfg),
        Backend::Gpu => {
            let gpu = request_gpu()?;
            pollster::block_on(clipping::robust_estimate_gpu(&gpu, &cfg)).map_err(gpu_fault)?
        }
    };
    Ok(serde_json::json!({ "estimate": estimate }).to_string())
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
