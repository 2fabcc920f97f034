//! `guidance_sample`: whole guided sampling runs (CFG-DDIM, CFG-DDPM, PCG) on
//! the exact pair, one invocation per particle, [`STEPS_PER_DISPATCH`] steps
//! per dispatch (so no dispatch runs long enough to trip a browser's GPU
//! watchdog), all in one submission and one read-back.
//! CPU twin: [`crate::kernels::guidance::GuidedRun::sample`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::diffusion::score::Mixture;
use crate::kernels::guidance::{GuidedRun, GuidedSampler, noise_slots};

const GUIDANCE_WGSL: &str = include_str!("shaders/guidance.wgsl");
const WORKGROUP: u32 = 64;
/// Steps of every particle per dispatch.
pub const STEPS_PER_DISPATCH: u32 = 50;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    k_begin: u32,
    k_end: u32,
    sampler: u32,
    seed: u32,
    slots: u32,
    corrector_steps: u32,
    corrector_delta: f32,
    cond_count: u32,
    uncond_count: u32,
    cond_var: f32,
    uncond_var: f32,
}

/// The compiled kernel.
pub struct GuidanceKernel {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for GuidanceKernel {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{GUIDANCE_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("guidance_sample", &source, "guidance_sample")
                .await?,
        })
    }
}

fn entries(m: &Mixture) -> impl Iterator<Item = [f32; 4]> + '_ {
    (0..m.means.len()).map(|k| [m.means[k][0], m.means[k][1], m.log_weights[k], 0.0])
}

fn sampler_code(s: GuidedSampler) -> u32 {
    match s {
        GuidedSampler::Ddim => 0,
        GuidedSampler::Ddpm => 1,
        GuidedSampler::Pcg => 2,
    }
}

impl GuidanceKernel {
    /// Every particle of `run` (`run.particles` of them), from noise to data.
    pub async fn sample(&self, gpu: &Gpu, run: &GuidedRun) -> Result<Vec<[f32; 2]>, GpuError> {
        gpu.check_alive()?;
        let n = run.particles;
        let max = gpu.device.limits().max_storage_buffer_binding_size;
        if 8 * u64::from(n) > max {
            return Err(GpuError::Pipeline(format!(
                "{n} particles exceed this device's storage buffer limit ({max} bytes)"
            )));
        }
        let comps: Vec<[f32; 4]> = entries(&run.pair.cond)
            .chain(entries(&run.pair.uncond))
            .collect();
        let levels: Vec<[f32; 4]> = run
            .levels
            .iter()
            .enumerate()
            .map(|(k, l)| [l.a, l.v, run.weights.get(k).copied().unwrap_or(0.0), 0.0])
            .collect();
        let comps_buf = gpu.storage_buffer_init("guidance comps", bytemuck::cast_slice(&comps));
        let levels_buf = gpu.storage_buffer_init("guidance levels", bytemuck::cast_slice(&levels));
        let particles = gpu.storage_buffer("guidance particles", 8 * u64::from(n.max(1)));
        let steps = run.steps() as u32;
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        let mut k = 0;
        loop {
            let end = (k + STEPS_PER_DISPATCH).min(steps);
            let params = gpu.uniform_buffer(
                "guidance params",
                &Params {
                    n,
                    k_begin: k,
                    k_end: end,
                    sampler: sampler_code(run.sampler),
                    seed: run.seed,
                    slots: noise_slots(run.corrector_steps),
                    corrector_steps: run.corrector_steps,
                    corrector_delta: run.corrector_delta,
                    cond_count: run.pair.cond.means.len() as u32,
                    uncond_count: run.pair.uncond.means.len() as u32,
                    cond_var: run.pair.cond.var,
                    uncond_var: run.pair.uncond.var,
                },
            );
            let bind_group = gpu.bind_group(
                "guidance_sample",
                &self.pipeline,
                &[
                    (0, &params),
                    (1, &particles),
                    (2, &comps_buf),
                    (3, &levels_buf),
                ],
            );
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let (x, y) = dispatch_2d(n, WORKGROUP);
            pass.dispatch_workgroups(x, y, 1);
            drop(pass);
            k = end;
            if k >= steps {
                break;
            }
        }
        gpu.queue.submit([encoder.finish()]);
        gpu.read_back::<[f32; 2]>(&particles, n as usize).await
    }
}
