//! "Same seed, same numbers": the lab's counter-based generator, drawn on
//! either backend, summarised against the exact distributions, and the two
//! backends compared draw by draw.

use super::config::Range;
use crate::gpu::{Gpu, GpuError, rng::RngFill};
use crate::kernels::agree;
use crate::kernels::rng::{self, RngDraws, RngKey};
use crate::kernels::stats::{Histogram, histogram, mean_var};
use std::sync::Arc;

use super::bench::{Bench, Workload, prepare_with};
use super::config::Config;
use super::papers;
use super::registry::{Compute, Experiment, ExperimentInfo, LocalFuture, PanelInfo, RunError};
use super::selftest::Check;

/// Most draws one run may ask for: 4 arrays of 4 MiB each, far below any
/// adapter's storage-binding limit and cheap to hold in a tab.
pub const MAX_COUNT: u32 = 1 << 20;

crate::define_config! {
    /// Draws of the lab's counter-based generator.
    pub struct RngConfig {
        /// Seed: the same seed gives the same draws on every backend.
        seed: u32 = 1, Range::new(0, u32::MAX);
        /// Stream id: independent sequences under one seed.
        stream: u32 = 0, Range::new(0, u32::MAX);
        /// Number of draws, starting at index 0 of the stream.
        count: u32 = 16_384, Range::new(1, MAX_COUNT);
    }
}

impl RngConfig {
    pub fn key(&self) -> RngKey {
        RngKey::new(self.seed, self.stream)
    }
}

/// Draws on the CPU.
pub fn draw_cpu(cfg: &RngConfig) -> RngDraws {
    rng::draw(cfg.key(), 0, cfg.count)
}

/// Draws per slice of [`draw_cpu_sliced`]: a few milliseconds of wasm.
pub const SLICE: u32 = 1 << 15;

/// The draws of [`draw_cpu`], made [`SLICE`] at a time with `pause` awaited
/// between slices (the page's main thread stays free); the same numbers,
/// since each draw depends on its index only. Also returns the milliseconds
/// spent drawing (by the clock `now_ms`), pauses left out.
pub async fn draw_cpu_sliced<P: std::future::Future<Output = ()>>(
    cfg: &RngConfig,
    now_ms: impl Fn() -> f64,
    pause: impl Fn() -> P,
) -> (RngDraws, f64) {
    let mut out = RngDraws::default();
    let mut offset = 0;
    let mut ms = 0.0;
    while offset < cfg.count {
        if offset > 0 {
            pause().await;
        }
        let n = (cfg.count - offset).min(SLICE);
        let t0 = now_ms();
        let d = rng::draw(cfg.key(), offset, n);
        ms += now_ms() - t0;
        out.u32.extend(d.u32);
        out.uniform.extend(d.uniform);
        out.normal.extend(d.normal);
        out.gumbel.extend(d.gumbel);
        offset += n;
    }
    (out, ms)
}

/// Draws on the GPU with a compiled kernel.
pub async fn draw_gpu(gpu: &Gpu, fill: &RngFill, cfg: &RngConfig) -> Result<RngDraws, GpuError> {
    fill.draw(gpu, cfg.key(), 0, cfg.count).await
}

/// Euler–Mascheroni constant γ, the mean of Gumbel(0, 1) (Gumbel 1954).
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// One variate's sample against its exact law.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VariateSummary {
    pub name: &'static str,
    pub mean: f64,
    pub var: f64,
    pub exact_mean: f64,
    pub exact_var: f64,
    pub histogram: Histogram,
    /// The exact density at each bin centre.
    pub exact_density: Vec<f64>,
}

fn summarise(
    name: &'static str,
    xs: &[f32],
    (lo, hi): (f64, f64),
    (exact_mean, exact_var): (f64, f64),
    pdf: fn(f64) -> f64,
) -> VariateSummary {
    const BINS: usize = 48;
    let (mean, var) = mean_var(xs.iter().map(|&x| f64::from(x)));
    let histogram = histogram(xs.iter().map(|&x| f64::from(x)), lo, hi, BINS);
    let w = histogram.bin_width();
    let exact_density = (0..BINS).map(|b| pdf(lo + (b as f64 + 0.5) * w)).collect();
    VariateSummary {
        name,
        mean,
        var,
        exact_mean,
        exact_var,
        histogram,
        exact_density,
    }
}

/// The summary of variate `i` (0 uniform, 1 normal, 2 Gumbel).
fn summary(d: &RngDraws, i: usize) -> VariateSummary {
    match i {
        0 => summarise("uniform", &d.uniform, (0.0, 1.0), (0.5, 1.0 / 12.0), |_| {
            1.0
        }),
        1 => summarise(
            "normal",
            &d.normal,
            (-4.0, 4.0),
            (0.0, 1.0),
            rng::normal_pdf,
        ),
        _ => summarise(
            "gumbel",
            &d.gumbel,
            (-3.0, 7.0),
            (EULER_GAMMA, std::f64::consts::PI.powi(2) / 6.0),
            rng::gumbel_pdf,
        ),
    }
}

/// Histograms, means and variances of the three variates, with their exact
/// values, awaiting `pause` after each variate (the page's main thread stays free).
pub async fn summaries_sliced<P: std::future::Future<Output = ()>>(
    d: &RngDraws,
    pause: impl Fn() -> P,
) -> [VariateSummary; 3] {
    let mut out = Vec::with_capacity(3);
    for i in 0..3 {
        out.push(summary(d, i));
        pause().await;
    }
    out.try_into().expect("three summaries")
}

/// How closely two backends' draws of one config agree.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Agreement {
    pub count: usize,
    /// Raw 32-bit words that are bit-identical.
    pub identical_words: usize,
    /// Largest |a - b| / max(1, |a|) over the uniform, normal and Gumbel draws.
    pub max_scaled_diff: f64,
}

impl Agreement {
    /// All words identical and every variate within 1e-6 (scaled): the lab's promise.
    pub fn holds(&self) -> bool {
        self.identical_words == self.count && self.max_scaled_diff <= 1e-6
    }
}

/// Compares draws of the same config from two backends.
pub fn agreement(a: &RngDraws, b: &RngDraws) -> Agreement {
    // A short read counts its missing words as differing.
    let count = a.u32.len().max(b.u32.len());
    let identical_words = a.u32.iter().zip(&b.u32).filter(|(x, y)| x == y).count();
    // |a − b| / max(1, |a|): relative for |a| ≥ 1, absolute below, so values
    // near a variate's zero crossing are not judged by a meaningless ratio.
    let max_scaled_diff = agree::worst(
        [
            (&a.uniform, &b.uniform),
            (&a.normal, &b.normal),
            (&a.gumbel, &b.gumbel),
        ]
        .iter()
        .map(|(xs, ys)| agree::worst_scaled(xs, ys, 1.0)),
    );
    Agreement {
        count,
        identical_words,
        max_scaled_diff,
    }
}

/// "Same seed, same numbers" in the registry.
pub struct Rng;

impl Experiment for Rng {
    const INFO: ExperimentInfo = ExperimentInfo {
        id: "rng",
        title: "Same seed, same numbers",
        claim: "One counter-based generator gives bit-identical draws on the CPU and the GPU.",
        papers: &[papers::SALMON_2011, papers::WICHURA_1988],
        panels: &[
            PanelInfo::new("histograms", "Histograms against the exact densities"),
            PanelInfo::new("moments", "Agreement and moments"),
        ],
    };
    type Config = RngConfig;
    type Report = RngDraws;

    async fn run(cfg: &RngConfig, on: &Compute) -> Result<RngDraws, RunError> {
        Ok(match on {
            Compute::Cpu => draw_cpu(cfg),
            Compute::Gpu(gpu) => draw_gpu(gpu, &*gpu.kernel::<RngFill>().await?, cfg).await?,
        })
    }

    async fn selftest(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
        super::selftest::rng(gpu).await
    }

    const WORKLOADS: &'static [Workload] = &[Workload {
        name: "rng",
        about: "2^20 draws of the four variates (u32, uniform, normal, Gumbel)",
        fields: BenchRngConfig::fields,
        prepare: |pairs, on| prepare_with(pairs, on, RngBench::new),
    }];
}

crate::define_config! {
    /// Size of an RNG benchmark run.
    pub struct BenchRngConfig {
        /// Draws per iteration.
        count: u32 = 1 << 20, Range::new(1, 1 << 22);
    }
}

/// The `rng` workload: fills `count` draws (on the GPU: left on the device).
struct RngBench {
    cfg: BenchRngConfig,
    on: Compute,
    fill: Option<Arc<RngFill>>,
}

impl RngBench {
    async fn new(cfg: BenchRngConfig, on: Compute) -> Result<Self, RunError> {
        let fill = on.kernel::<RngFill>().await?;
        Ok(Self { cfg, on, fill })
    }
}

impl Bench for RngBench {
    fn items(&self) -> u64 {
        u64::from(self.cfg.count)
    }

    fn iter(&mut self) -> LocalFuture<'_, Result<(), GpuError>> {
        let key = RngKey::new(1, 0);
        Box::pin(async move {
            match (&self.on, &self.fill) {
                (Compute::Gpu(gpu), Some(fill)) => fill.fill(gpu, key, 0, self.cfg.count).await,
                _ => {
                    std::hint::black_box(rng::draw(key, 0, self.cfg.count));
                    Ok(())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_from_one_backend_breaks_agreement() {
        let cpu = rng::draw(RngKey::new(3, 4), 0, 64);
        assert!(agreement(&cpu, &cpu).holds());
        let mut gpu = cpu.clone();
        gpu.normal[17] = f32::NAN;
        let a = agreement(&cpu, &gpu);
        assert_eq!(a.identical_words, 64, "the raw words still match");
        assert_eq!(a.max_scaled_diff, f64::INFINITY);
        assert!(!a.holds());
        // A short read: the missing words count as differing.
        let mut short = cpu.clone();
        short.u32.truncate(60);
        assert!(!agreement(&cpu, &short).holds());
    }
}
