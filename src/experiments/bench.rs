//! Benchmark workloads: one definition of each serves `gradlab bench`, the
//! `/bench` page and the criterion benches, and one timing loop ([`time`])
//! measures them everywhere.

use std::future::Future;

use super::Backend;
use super::config::{Config, ConfigError, FieldInfo};
use super::registry::{Compute, LocalFuture, RunError};
use crate::gpu::GpuError;

/// A prepared workload: its inputs made, its kernels compiled.
pub trait Bench {
    /// Items one iteration processes (draws, points, particles, …).
    fn items(&self) -> u64;
    /// One iteration, GPU work included and waited for.
    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>>;
    /// The name a report gives this run, when not the workload's (e.g. the estimator).
    fn label(&self) -> Option<&'static str> {
        None
    }
}

/// Something that [`Workload::prepare`] returns: a bench to be, or a bad config.
pub type Prepared = Result<LocalFuture<'static, Result<Box<dyn Bench>, RunError>>, ConfigError>;

/// One benchmark workload of an experiment.
pub struct Workload {
    /// `gradlab bench <name>`.
    pub name: &'static str,
    /// What one iteration does, in words.
    pub about: &'static str,
    /// Its size flags.
    pub fields: fn() -> Vec<FieldInfo>,
    /// Parses the size flags strictly and prepares the bench on `on`.
    pub prepare: fn(&[(&str, &str)], Compute) -> Prepared,
}

/// Parses `pairs` into `C` and prepares a bench with `make`: the body of
/// every [`Workload::prepare`].
pub fn prepare_with<C, B, F>(
    pairs: &[(&str, &str)],
    on: Compute,
    make: impl FnOnce(C, Compute) -> F + 'static,
) -> Prepared
where
    C: Config + 'static,
    B: Bench + 'static,
    F: Future<Output = Result<B, RunError>> + 'static,
{
    let cfg = C::from_pairs_strict(pairs.iter().copied())?;
    Ok(Box::pin(async move {
        let bench = make(cfg, on).await?;
        Ok(Box::new(bench) as Box<dyn Bench>)
    }))
}

/// One benchmark result, as `gradlab bench` prints it and `/bench` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchReport {
    pub kernel: &'static str,
    pub backend: Backend,
    pub size: u64,
    pub items_per_s: f64,
    pub ms_per_iter: f64,
}

impl BenchReport {
    pub fn new(kernel: &'static str, backend: Backend, size: u64, ms_per_iter: f64) -> Self {
        Self {
            kernel,
            backend,
            size,
            items_per_s: size as f64 / (ms_per_iter / 1e3),
            ms_per_iter,
        }
    }
}

/// Mean milliseconds per iteration of `bench`, after one warm-up: at least 3
/// iterations and about half a second (at most 1,000). `now_ms` is the clock
/// (performance.now in the page); `pause` runs between iterations (the page
/// lets the browser paint there; natively it does nothing).
pub async fn time<P: Future<Output = ()>>(
    bench: &mut dyn Bench,
    now_ms: &dyn Fn() -> f64,
    pause: impl Fn() -> P,
) -> Result<f64, GpuError> {
    time_at_least(bench, now_ms, pause, 3, 500.0).await
}

/// Mean milliseconds per iteration after one warm-up, over two iterations:
/// the page's quick calibration of WebGPU against the CPU (`ui::backend`).
pub async fn time_quick<P: Future<Output = ()>>(
    bench: &mut dyn Bench,
    now_ms: &dyn Fn() -> f64,
    pause: impl Fn() -> P,
) -> Result<f64, GpuError> {
    time_at_least(bench, now_ms, pause, 2, 0.0).await
}

/// Mean milliseconds per iteration, after one warm-up: at least `min`
/// iterations and about `ms` milliseconds (at most 1,000 iterations).
async fn time_at_least<P: Future<Output = ()>>(
    bench: &mut dyn Bench,
    now_ms: &dyn Fn() -> f64,
    pause: impl Fn() -> P,
    min: u32,
    ms: f64,
) -> Result<f64, GpuError> {
    bench.iter().await?;
    let start = now_ms();
    let mut n = 0u32;
    while n < min || (now_ms() - start < ms && n < 1000) {
        bench.iter().await?;
        n += 1;
        pause().await;
    }
    Ok((now_ms() - start) / f64::from(n))
}

/// Runs workload `name` of `pairs` on `on` and reports it (natively: blocks).
#[cfg(not(target_arch = "wasm32"))]
pub fn run_blocking(
    workload: &Workload,
    pairs: &[(&str, &str)],
    on: Compute,
) -> Result<BenchReport, RunError> {
    let backend = on.backend();
    let start = std::time::Instant::now();
    let clock = move || start.elapsed().as_secs_f64() * 1e3;
    let mut bench = pollster::block_on((workload.prepare)(pairs, on)?)?;
    let ms = pollster::block_on(time(bench.as_mut(), &clock, || async {}))?;
    let name = bench.label().unwrap_or(workload.name);
    Ok(BenchReport::new(name, backend, bench.items(), ms))
}
