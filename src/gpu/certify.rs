//! `certify_counts`: the Monte Carlo of randomized smoothing on the GPU, many
//! points per submission (a heat map, CERTIFY's selection and estimation).
//! CPU twin: [`crate::kernels::certify::smooth::Smoother::counts`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::certify::base::{BaseClassifier, MAX_CLASSES, Smoothing};
use crate::kernels::certify::smooth::{PointCounts, Smoother, Transform};
use crate::kernels::rng::RngKey;

const CERTIFY_WGSL: &str = include_str!("shaders/certify.wgsl");
const WORKGROUP: u32 = 64;
/// Threads per submission at most (bounds the soft partial sums to 2^16 × 10 floats).
const MAX_THREADS: u64 = 1 << 16;
/// Samples (over all points) per submission at most: a large n is split into
/// several submissions, so that no single dispatch runs long enough to trip a
/// driver's watchdog.
const MAX_PER_SUBMIT: u64 = 1 << 26;
/// Widest hidden layer the shader holds.
const MAX_WIDTH: usize = 32;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    model: u32,
    classes: u32,
    transform: u32,
    smoothing: u32,
    n: u32,
    per_thread: u32,
    chunks: u32,
    points: u32,
    seed: u32,
    stream: u32,
    hidden0: u32,
    hidden1: u32,
    sigma: f32,
    sigma_angle: f32,
    temp: f32,
    start: u32,
    block: u32,
    pad: [u32; 2],
}

/// The compiled kernel.
pub struct CertifyCounts {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for CertifyCounts {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{CERTIFY_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("certify_counts", &source, "certify_counts")
                .await?,
        })
    }
}

/// The model's code, its parameters as the shader reads them, and its hidden widths.
fn model_words(model: &BaseClassifier) -> (u32, Vec<f32>, [u32; 2]) {
    match model {
        BaseClassifier::Linear { w, b } => (0, vec![w[0], w[1], *b], [0, 0]),
        BaseClassifier::Disk { r } => (1, vec![*r], [0, 0]),
        BaseClassifier::Mlp { spec, params } => {
            assert!(
                spec.input == 2
                    && spec.hidden.len() == 2
                    && spec.hidden.iter().all(|&h| h <= MAX_WIDTH),
                "the shader runs 2 → h₀ → h₁ → K networks with widths ≤ {MAX_WIDTH}"
            );
            (
                2,
                params.clone(),
                [spec.hidden[0] as u32, spec.hidden[1] as u32],
            )
        }
    }
}

impl CertifyCounts {
    /// [`Smoother::counts`] on the GPU: counts at every point over samples
    /// `0..n` of `key`, in submissions of at most 2^26 samples, and two read-backs.
    pub async fn counts(
        &self,
        gpu: &Gpu,
        s: &Smoother,
        points: &[[f32; 2]],
        targets: Option<&[Option<usize>]>,
        key: RngKey,
        n: u32,
    ) -> Result<Vec<PointCounts>, GpuError> {
        self.counts_in_blocks(gpu, s, points, targets, key, n, MAX_PER_SUBMIT)
            .await
    }

    /// [`Self::counts`] with at most `max_per_submit` samples (over all points) per submission.
    #[allow(clippy::too_many_arguments)]
    pub async fn counts_in_blocks(
        &self,
        gpu: &Gpu,
        s: &Smoother,
        points: &[[f32; 2]],
        targets: Option<&[Option<usize>]>,
        key: RngKey,
        n: u32,
        max_per_submit: u64,
    ) -> Result<Vec<PointCounts>, GpuError> {
        gpu.check_alive()?;
        let k = s.model.classes();
        assert!(k <= MAX_CLASSES, "at most {MAX_CLASSES} classes");
        if points.is_empty() {
            return Ok(Vec::new());
        }
        let block = (max_per_submit / points.len() as u64).clamp(1, u64::from(n.max(1))) as u32;
        let total = u64::from(block) * points.len() as u64;
        let per_thread = total.div_ceil(MAX_THREADS).clamp(64, u64::from(block)) as u32;
        let chunks = block.div_ceil(per_thread).max(1);
        let threads = chunks * points.len() as u32;
        let (model, words, hidden) = model_words(&s.model);
        let params = |start: u32| Params {
            model,
            classes: k as u32,
            transform: u32::from(s.noise.transform == Transform::Rotation),
            smoothing: match s.smoothing {
                Smoothing::Hard => 0,
                Smoothing::Softmax => 1,
                Smoothing::Sparsemax => 2,
            },
            n,
            per_thread,
            chunks,
            points: points.len() as u32,
            seed: key.seed,
            stream: key.stream,
            hidden0: hidden[0],
            hidden1: hidden[1],
            sigma: s.noise.sigma,
            sigma_angle: s.noise.sigma_angle,
            temp: s.temp,
            start,
            block,
            pad: [0; 2],
        };
        let xs: Vec<f32> = points.iter().flatten().copied().collect();
        let tg: Vec<u32> = (0..points.len())
            .map(|j| targets.and_then(|t| t[j]).map_or(u32::MAX, |c| c as u32))
            .collect();
        let weights = gpu.storage_buffer_init("certify weights", bytemuck::cast_slice(&words));
        let xs = gpu.storage_buffer_init("certify points", bytemuck::cast_slice(&xs));
        let tg = gpu.storage_buffer_init("certify targets", bytemuck::cast_slice(&tg));
        let counts = gpu.storage_buffer("certify counts", (points.len() * k * 4) as u64);
        let cols = k + 2;
        let partial =
            gpu.storage_buffer("certify partial sums", u64::from(threads) * cols as u64 * 4);
        let mut start = 0u32;
        while start < n.max(1) {
            let params = gpu.uniform_buffer("certify params", &params(start));
            let bind_group = gpu.bind_group(
                "certify_counts",
                &self.pipeline,
                &[
                    (0, &params),
                    (1, &weights),
                    (2, &xs),
                    (3, &tg),
                    (4, &counts),
                    (5, &partial),
                ],
            );
            let mut encoder = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                let (x, y) = dispatch_2d(threads, WORKGROUP);
                pass.dispatch_workgroups(x, y, 1);
            }
            gpu.queue.submit([encoder.finish()]);
            start = start.saturating_add(block);
        }
        let votes: Vec<u32> = gpu.read_back(&counts, points.len() * k).await?;
        let sums: Vec<f32> = if s.smoothing == Smoothing::Hard {
            Vec::new()
        } else {
            gpu.read_back(&partial, threads as usize * cols).await?
        };
        Ok((0..points.len())
            .map(|j| {
                let mut out = PointCounts {
                    counts: votes[j * k..(j + 1) * k]
                        .iter()
                        .map(|&v| u64::from(v))
                        .collect(),
                    soft: vec![0.0; k],
                    ..PointCounts::default()
                };
                let rows = j * chunks as usize..(j + 1) * chunks as usize;
                for row in sums.chunks_exact(cols).skip(rows.start).take(rows.len()) {
                    for (s, &v) in out.soft.iter_mut().zip(&row[..k]) {
                        *s += f64::from(v);
                    }
                    out.soft_a += f64::from(row[k]);
                    out.soft_a_sq += f64::from(row[k + 1]);
                }
                out
            })
            .collect())
    }
}
