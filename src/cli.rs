//! The `gradlab` command line: every experiment headless, flags named like
//! its URL query keys, one JSON object on stdout.
//!
//! Exit status: 0 success; 1 a GPU fault mid-run; 2 bad input (unknown
//! command or flag, bad value); 3 a GPU was requested but none is available.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::experiments::Backend;
use crate::experiments::catalog::{self, Status};
use crate::experiments::config::{Config, ConfigError, Param, Range};
use crate::experiments::rng::{self as rng_exp, RngConfig};
use crate::gpu::{Gpu, rng::RngFill};
use crate::kernels::rng::{self, RngKey};

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
       gradlab bench <kernel> [--backend cpu|gpu] [--count N]";

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
        "rng" => {
            if wants_help(rest) {
                return Ok(help::<RngConfig>("rng"));
            }
            let (backend, pairs) = parse_flags(rest)?;
            let cfg = RngConfig::from_pairs_strict(pairs.iter().map(|(k, v)| (*k, *v)))?;
            let draws = match backend {
                Backend::Cpu => rng_exp::draw_cpu(&cfg),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    pollster::block_on(async {
                        let fill = RngFill::new(&gpu).await?;
                        rng_exp::draw_gpu(&gpu, &fill, &cfg).await
                    })
                    .map_err(|e| CliError::Gpu(e.to_string()))?
                }
            };
            Ok(serde_json::to_string(&draws).expect("draws serialise"))
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

fn help<C: Config>(id: &str) -> String {
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
    out
}

fn request_gpu() -> Result<Gpu, CliError> {
    pollster::block_on(Gpu::request()).map_err(|e| CliError::GpuUnavailable(e.0))
}

crate::define_config! {
    /// Size of a benchmark run.
    pub struct BenchRngConfig {
        /// Draws per iteration.
        count: u32 = 1 << 20, Range::new(1, 1 << 22);
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

fn bench(rest: &[String]) -> Result<String, CliError> {
    let Some((kernel, rest)) = rest.split_first() else {
        return Err(CliError::Usage(
            "bench needs a kernel (available: rng)".into(),
        ));
    };
    match kernel.as_str() {
        "rng" => {
            if wants_help(rest) {
                return Ok(help::<BenchRngConfig>("bench rng"));
            }
            let (backend, pairs) = parse_flags(rest)?;
            let cfg = BenchRngConfig::from_pairs_strict(pairs.iter().map(|(k, v)| (*k, *v)))?;
            let key = RngKey::new(1, 0);
            let ms = match backend {
                Backend::Cpu => time_iterations(|| {
                    std::hint::black_box(rng::draw(key, 0, cfg.count));
                }),
                Backend::Gpu => {
                    let gpu = request_gpu()?;
                    let fill = pollster::block_on(RngFill::new(&gpu))
                        .map_err(|e| CliError::Gpu(e.to_string()))?;
                    time_iterations(|| fill.draw_and_wait(&gpu, key, 0, cfg.count))
                }
            };
            let report = BenchReport {
                kernel: "rng",
                backend,
                size: u64::from(cfg.count),
                items_per_s: f64::from(cfg.count) / (ms / 1e3),
                ms_per_iter: ms,
            };
            Ok(serde_json::to_string(&report).expect("report serialises"))
        }
        other => Err(CliError::Usage(format!(
            "unknown bench kernel {} (available: rng)",
            crate::experiments::config::echo(other)
        ))),
    }
}
