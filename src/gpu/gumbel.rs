//! `gumbel_moments`: Monte Carlo moments of the Gumbel-Softmax estimators on
//! the GPU, several problems (e.g. a sweep over τ) per submission.
//! CPU twin: [`crate::kernels::gumbel::moment_sums`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::gumbel::{GROUPS, MAX_K, Problem};
use crate::kernels::rng::RngKey;

const GUMBEL_WGSL: &str = include_str!("shaders/gumbel.wgsl");
const WORKGROUP: u32 = 64;
/// Threads per problem at most: bounds the partial sums to 8192 × 192 floats (6 MiB).
const MAX_THREADS: u32 = 8192;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    k: u32,
    n: u32,
    per_thread: u32,
    start: u32,
    seed: u32,
    stream: u32,
    tau: f32,
    baseline: f32,
    objective: u32,
    batch: u32,
    pad: [u32; 2],
}

/// The compiled kernel.
pub struct GumbelMoments {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for GumbelMoments {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{GUMBEL_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("gumbel_moments", &source, "gumbel_moments")
                .await?,
        })
    }
}

impl GumbelMoments {
    /// Moment sums (in f64, `GROUPS · K` columns) of samples `start..start + count`
    /// for each problem, from one submission and one read-back. All problems
    /// share one RLOO batch (each thread's samples are whole batches).
    pub async fn sums(
        &self,
        gpu: &Gpu,
        problems: &[Problem],
        key: RngKey,
        start: u32,
        count: u32,
    ) -> Result<Vec<Vec<f64>>, GpuError> {
        gpu.check_alive()?;
        let batch = problems.first().map_or(2, |p| p.batch);
        assert!(
            problems.iter().all(|p| p.batch == batch),
            "one RLOO batch per submission"
        );
        let per_thread = count.div_ceil(MAX_THREADS).max(256).next_multiple_of(batch);
        let threads = count.div_ceil(per_thread).max(1);
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        let mut partials = Vec::new();
        for p in problems {
            let k = p.k();
            assert!((1..=MAX_K).contains(&k), "K out of range");
            let params = gpu.uniform_buffer(
                "gumbel params",
                &Params {
                    k: k as u32,
                    n: count,
                    per_thread,
                    start,
                    seed: key.seed,
                    stream: key.stream,
                    tau: p.tau,
                    baseline: p.baseline,
                    objective: p.objective.code(),
                    batch: p.batch,
                    pad: [0; 2],
                },
            );
            let mut vals = [0.0f32; 3 * MAX_K];
            vals[..k].copy_from_slice(&p.logits);
            vals[MAX_K..MAX_K + k].copy_from_slice(&p.weights);
            vals[2 * MAX_K..2 * MAX_K + k].copy_from_slice(&p.probs);
            let vals_buf = gpu.storage_buffer_init("gumbel values", bytemuck::cast_slice(&vals));
            let cols = (GROUPS * k) as u64;
            let partial = gpu.storage_buffer("gumbel partial sums", u64::from(threads) * cols * 4);
            let bind_group = gpu.bind_group(
                "gumbel_moments",
                &self.pipeline,
                &[(0, &params), (1, &vals_buf), (2, &partial)],
            );
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
                pass.set_pipeline(&self.pipeline);
                pass.set_bind_group(0, &bind_group, &[]);
                let (x, y) = dispatch_2d(threads, WORKGROUP);
                pass.dispatch_workgroups(x, y, 1);
            }
            partials.push((partial, cols as usize));
        }
        gpu.queue.submit([encoder.finish()]);
        let mut out = Vec::with_capacity(problems.len());
        for (partial, cols) in &partials {
            let values: Vec<f32> = gpu.read_back(partial, threads as usize * cols).await?;
            let mut sums = vec![0.0f64; *cols];
            for chunk in values.chunks_exact(*cols) {
                for (s, v) in sums.iter_mut().zip(chunk) {
                    *s += f64::from(*v);
                }
            }
            out.push(sums);
        }
        Ok(out)
    }
}
