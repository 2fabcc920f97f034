//! `rng_fill`: draws of one stream on the GPU. CPU twin: [`crate::kernels::rng::draw`].

use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::rng::{RngDraws, RngKey};

/// The WGSL generator, to prepend to any kernel that draws randomness.
pub const RNG_WGSL: &str = include_str!("shaders/rng.wgsl");
const RNG_FILL_WGSL: &str = include_str!("shaders/rng_fill.wgsl");
const WORKGROUP: u32 = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    seed: u32,
    stream: u32,
    offset: u32,
    count: u32,
}

/// A compiled `rng_fill` pipeline; build once, run many times.
pub struct RngFill {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for RngFill {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{RNG_FILL_WGSL}");
        let pipeline = gpu
            .compute_pipeline("rng_fill", &source, "rng_fill")
            .await?;
        Ok(Self { pipeline })
    }
}

impl RngFill {
    /// Runs the kernel and leaves the four output buffers on the device.
    fn dispatch(&self, gpu: &Gpu, key: RngKey, offset: u32, count: u32) -> [wgpu::Buffer; 4] {
        let params = gpu.uniform_buffer(
            "rng_fill params",
            &Params {
                seed: key.seed,
                stream: key.stream,
                offset,
                count,
            },
        );
        let bytes = u64::from(count) * 4;
        let outs = ["u32", "uniform", "normal", "gumbel"].map(|n| gpu.storage_buffer(n, bytes));
        let bind_group = gpu.bind_group(
            "rng_fill",
            &self.pipeline,
            &[
                (0, &params),
                (1, &outs[0]),
                (2, &outs[1]),
                (3, &outs[2]),
                (4, &outs[3]),
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
        outs
    }

    /// Draws and reads all four arrays back.
    pub async fn draw(
        &self,
        gpu: &Gpu,
        key: RngKey,
        offset: u32,
        count: u32,
    ) -> Result<RngDraws, GpuError> {
        gpu.check_alive()?;
        let [w, u, n, g] = self.dispatch(gpu, key, offset, count);
        let len = count as usize;
        Ok(RngDraws {
            u32: gpu.read_back(&w, len).await?,
            uniform: gpu.read_back(&u, len).await?,
            normal: gpu.read_back(&n, len).await?,
            gumbel: gpu.read_back(&g, len).await?,
        })
    }

    /// Draws without reading back, then waits for the queue: for benchmarks.
    pub async fn fill(
        &self,
        gpu: &Gpu,
        key: RngKey,
        offset: u32,
        count: u32,
    ) -> Result<(), GpuError> {
        let _outs = self.dispatch(gpu, key, offset, count);
        gpu.finish().await
    }
}
