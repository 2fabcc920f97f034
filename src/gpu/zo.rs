//! `zo_draws`, `zo_mean` ([`ZoKernels`]) and `zo_descent` ([`ZoDescent`]): the estimators of gradients without
//! backpropagation on the GPU. CPU twins: [`crate::kernels::zo::estimate::draws`],
//! [`crate::kernels::zo::estimate::mean_partials`] and
//! [`crate::kernels::zo::descent::losses`], the same Philox counters.

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::zo::descent::Descent;
use crate::kernels::zo::estimate::{CHUNK, Draws, Problem};

const ZO_WGSL: &str = include_str!("shaders/zo.wgsl");
const WORKGROUP: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    obj: u32,
    est: u32,
    d: u32,
    batch: u32,
    n: u32,
    seed: u32,
    stream: u32,
    steps: u32,
    mu: f32,
    delta: f32,
    guess_noise: f32,
    lr: f32,
    big_batch: u32,
    epoch: u32,
    runs: u32,
    pad: u32,
}

/// The compiled single-estimate kernels (`zo_draws`, `zo_mean`).
pub struct ZoKernels {
    draws: wgpu::ComputePipeline,
    mean: wgpu::ComputePipeline,
}

/// The compiled descent kernel (`zo_descent`), apart so a page that only
/// estimates never compiles it.
pub struct ZoDescent {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for ZoKernels {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{ZO_WGSL}");
        Ok(Self {
            draws: gpu
                .compute_pipeline("zo_draws", &source, "zo_draws")
                .await?,
            mean: gpu.compute_pipeline("zo_mean", &source, "zo_mean").await?,
        })
    }
}

impl super::Kernel for ZoDescent {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{ZO_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("zo_descent", &source, "zo_descent")
                .await?,
        })
    }
}

fn dispatch(
    encoder: &mut wgpu::CommandEncoder,
    pipeline: &wgpu::ComputePipeline,
    bind: &wgpu::BindGroup,
    items: u32,
) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind, &[]);
    let (x, y) = dispatch_2d(items, WORKGROUP);
    pass.dispatch_workgroups(x, y, 1);
}

impl ZoKernels {
    /// Draws `0..n` of `p` and the partial sums of their mean, in one submission.
    pub async fn draws(
        &self,
        gpu: &Gpu,
        p: &Problem,
        n: u32,
    ) -> Result<(Draws, Vec<f32>), GpuError> {
        gpu.check_alive()?;
        let d = p.d() as u32;
        let params = gpu.uniform_buffer(
            "zo params",
            &Params {
                obj: p.obj.code(),
                est: p.est.code(),
                d,
                batch: p.batch,
                n,
                seed: p.key.seed,
                stream: p.key.stream,
                steps: 0,
                mu: p.radii.mu,
                delta: p.radii.delta,
                guess_noise: p.radii.guess_noise,
                lr: 0.0,
                big_batch: 0,
                epoch: 1,
                runs: 0,
                pad: 0,
            },
        );
        let xs = gpu.storage_buffer_init("zo x", bytemuck::cast_slice(&p.x));
        let coefs = gpu.storage_buffer("zo coefficients", u64::from(n * p.batch) * 4);
        let stats = gpu.storage_buffer("zo draw statistics", u64::from(2 * n) * 4);
        let partial_len = d * n.div_ceil(CHUNK);
        let partials = gpu.storage_buffer("zo mean partial sums", u64::from(partial_len) * 4);
        let entries = |out| [(0, &params), (1, &xs), (2, &coefs), (3, out)];
        let bind_draws = gpu.bind_group("zo_draws", &self.draws, &entries(&stats));
        let bind_mean = gpu.bind_group("zo_mean", &self.mean, &entries(&partials));
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        dispatch(&mut encoder, &self.draws, &bind_draws, n);
        dispatch(&mut encoder, &self.mean, &bind_mean, partial_len);
        gpu.queue.submit([encoder.finish()]);
        let coefs: Vec<f32> = gpu.read_back(&coefs, (n * p.batch) as usize).await?;
        let stats: Vec<f32> = gpu.read_back(&stats, 2 * n as usize).await?;
        let partials: Vec<f32> = gpu.read_back(&partials, partial_len as usize).await?;
        let (norm_sq, dot) = stats.split_at(n as usize);
        Ok((
            Draws {
                coefs,
                norm_sq: norm_sq.to_vec(),
                dot: dot.to_vec(),
            },
            partials,
        ))
    }
}

impl ZoDescent {
    /// Runs `0..runs` of `p`: their losses, run after run, `steps + 1` each.
    pub async fn losses(&self, gpu: &Gpu, p: &Descent, runs: u32) -> Result<Vec<f32>, GpuError> {
        gpu.check_alive()?;
        let params = gpu.uniform_buffer(
            "zo params",
            &Params {
                obj: p.obj.code(),
                est: p.est.code(),
                d: p.d,
                batch: p.batch,
                n: 0,
                seed: p.seed,
                stream: crate::kernels::zo::DESCENT_STREAM,
                steps: p.steps,
                mu: p.radii.mu,
                delta: p.radii.delta,
                guess_noise: p.radii.guess_noise,
                lr: p.lr,
                big_batch: p.big_batch,
                epoch: p.epoch.max(1),
                runs,
                pad: 0,
            },
        );
        let start = p.obj.start(p.d as usize);
        let mut state = Vec::with_capacity(3 * (runs * p.d) as usize);
        for region in 0..3 {
            for _ in 0..runs {
                if region == 1 {
                    state.extend(std::iter::repeat_n(0.0f32, p.d as usize));
                } else {
                    state.extend_from_slice(&start);
                }
            }
        }
        let xs = gpu.storage_buffer_init("zo descent state", bytemuck::cast_slice(&state));
        let len = runs * (p.steps + 1);
        let losses = gpu.storage_buffer("zo losses", u64::from(len) * 4);
        let bind = gpu.bind_group(
            "zo_descent",
            &self.pipeline,
            &[(0, &params), (1, &xs), (3, &losses)],
        );
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        dispatch(&mut encoder, &self.pipeline, &bind, runs);
        gpu.queue.submit([encoder.finish()]);
        gpu.read_back(&losses, len as usize).await
    }
}
