//! `saliency_field`: the Monte Carlo attribution of every point (a grid of
//! the input plane and the probe) on the GPU, one thread per point.
//! CPU twin: [`crate::kernels::saliency::attributions`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::saliency::FieldJob;

const SALIENCY_WGSL: &str = include_str!("shaders/saliency.wgsl");
const WORKGROUP: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    points: u32,
    n: u32,
    method: u32,
    first: u32,
    seed: u32,
    stream: u32,
    hidden: u32,
    classes: u32,
    baselines: u32,
    sigma: f32,
    radius: f32,
    pad: u32,
}

/// The compiled kernel.
pub struct SaliencyField {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for SaliencyField {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{SALIENCY_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("saliency_field", &source, "saliency_field")
                .await?,
        })
    }
}

impl SaliencyField {
    /// The attribution and predicted class of every point, from one
    /// submission: the same draws as the CPU twin.
    pub async fn attributions(
        &self,
        gpu: &Gpu,
        job: &FieldJob<'_>,
    ) -> Result<(Vec<[f32; 2]>, Vec<u32>), GpuError> {
        gpu.check_alive()?;
        let FieldJob {
            net,
            points,
            first,
            baselines,
            key,
            ..
        } = *job;
        let s = &job.smoothing;
        let count = points.len() as u32;
        let params = gpu.uniform_buffer(
            "saliency params",
            &Params {
                points: count,
                n: s.draws(),
                method: s.method.code(),
                first,
                seed: key.seed,
                stream: key.stream,
                hidden: net.hidden as u32,
                classes: net.classes as u32,
                baselines: baselines.len() as u32,
                sigma: s.sigma,
                radius: s.radius,
                pad: 0,
            },
        );
        let flat = |v: &[[f32; 2]]| -> Vec<f32> {
            let mut f: Vec<f32> = v.iter().flatten().copied().collect();
            if f.is_empty() {
                f.extend([0.0, 0.0]);
            }
            f
        };
        let net_buf = gpu.storage_buffer_init("saliency net", bytemuck::cast_slice(&net.params));
        let pts_buf =
            gpu.storage_buffer_init("saliency points", bytemuck::cast_slice(&flat(points)));
        let base_buf =
            gpu.storage_buffer_init("saliency baselines", bytemuck::cast_slice(&flat(baselines)));
        let out = gpu.storage_buffer("saliency out", u64::from(count) * 8);
        let cls = gpu.storage_buffer("saliency classes", u64::from(count) * 4);
        let bind_group = gpu.bind_group(
            "saliency_field",
            &self.pipeline,
            &[
                (0, &params),
                (1, &net_buf),
                (2, &pts_buf),
                (3, &base_buf),
                (4, &out),
                (5, &cls),
            ],
        );
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let (x, y) = dispatch_2d(count, WORKGROUP);
            pass.dispatch_workgroups(x, y, 1);
        }
        gpu.queue.submit([encoder.finish()]);
        let values: Vec<f32> = gpu.read_back(&out, 2 * points.len()).await?;
        let classes: Vec<u32> = gpu.read_back(&cls, points.len()).await?;
        Ok((
            values.chunks_exact(2).map(|v| [v[0], v[1]]).collect(),
            classes,
        ))
    }
}
