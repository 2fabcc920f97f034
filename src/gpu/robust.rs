//! `robust_step`: many independent SGD runs per robust estimator on the GPU,
//! one invocation per (estimator, run) and one dispatch per SGD step, all
//! recorded into one submission. CPU twin: [`crate::kernels::robust::run`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError};
use crate::kernels::robust::{self, Method, Noise, Norm, Objective, RunSpec, logistic_data};

const ROBUST_WGSL: &str = include_str!("shaders/robust.wgsl");

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    objective: u32,
    noise: u32,
    steps: u32,
    batch: u32,
    runs: u32,
    every: u32,
    points: u32,
    groups: u32,
    norm: u32,
    seed: u32,
    state_dependent: u32,
    methods: u32,
    lr: f32,
    threshold: f32,
    scale: f32,
    df: f32,
    alpha: f32,
    fraction: f32,
    opt_x: f32,
    opt_y: f32,
    start_x: f32,
    start_y: f32,
    _pad: [f32; 2],
}

fn code<T: PartialEq + Copy>(all: &[T], v: T) -> u32 {
    all.iter().position(|&a| a == v).unwrap_or(0) as u32
}

/// The compiled kernel.
pub struct RobustRuns {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for RobustRuns {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{ROBUST_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("robust_step", &source, "robust_step")
                .await?,
        })
    }
}

impl RobustRuns {
    /// Distance curves (`spec.points()` values each) of runs `0..runs` for every
    /// method in `methods` (`spec.method` is ignored): `out[m][r]`.
    pub async fn curves(
        &self,
        gpu: &Gpu,
        spec: &RunSpec,
        methods: &[Method],
        runs: u32,
    ) -> Result<Vec<Vec<Vec<f32>>>, GpuError> {
        gpu.check_alive()?;
        let points = spec.points();
        let opt = robust::optimum(spec.objective);
        let start = robust::start(spec.objective);
        let params = gpu.uniform_buffer(
            "robust params",
            &Params {
                objective: code(Objective::ALL, spec.objective),
                noise: code(Noise::ALL, spec.noise.kind),
                steps: spec.steps,
                batch: spec.batch,
                runs,
                every: spec.every.max(1),
                points,
                groups: spec.groups,
                norm: code(Norm::ALL, spec.norm),
                seed: spec.seed,
                state_dependent: u32::from(spec.noise.state_dependent),
                methods: methods.len() as u32,
                lr: spec.lr,
                threshold: spec.threshold,
                scale: spec.noise.scale,
                df: spec.noise.df,
                alpha: spec.noise.alpha,
                fraction: spec.noise.fraction,
                opt_x: opt[0] as f32,
                opt_y: opt[1] as f32,
                start_x: start[0],
                start_y: start[1],
                _pad: [0.0; 2],
            },
        );
        let data: Vec<f32> = logistic_data()
            .iter()
            .flat_map(|(x, y)| [x[0], x[1], *y])
            .collect();
        let codes: Vec<u32> = methods.iter().map(|&m| code(Method::ALL, m)).collect();
        let data_buf = gpu.storage_buffer_init("robust data", bytemuck::cast_slice(&data));
        let codes_buf = gpu.storage_buffer_init("robust methods", bytemuck::cast_slice(&codes));
        let total = methods.len() * runs as usize * points as usize;
        let out = gpu.storage_buffer("robust curves", total as u64 * 4);
        // State per invocation: x (2 f32), m (2 f32), t, recorded, padding (u32s).
        let invocations = methods.len() * runs as usize;
        let mut init = Vec::with_capacity(invocations * 8);
        for _ in 0..invocations {
            init.extend_from_slice(&[start[0].to_bits(), start[1].to_bits(), 0, 0, 0, 0, 0, 0]);
        }
        let state = gpu.storage_buffer_init("robust state", bytemuck::cast_slice(&init));
        let bind_group = gpu.bind_group(
            "robust_step",
            &self.pipeline,
            &[
                (0, &params),
                (1, &data_buf),
                (2, &codes_buf),
                (3, &out),
                (4, &state),
            ],
        );
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            for _ in 0..spec.steps.max(1) {
                pass.dispatch_workgroups((invocations as u32).div_ceil(64), 1, 1);
            }
        }
        gpu.queue.submit([encoder.finish()]);
        let flat: Vec<f32> = gpu.read_back(&out, total).await?;
        Ok(flat
            .chunks(runs as usize * points as usize)
            .map(|m| m.chunks(points as usize).map(<[f32]>::to_vec).collect())
            .collect())
    }
}
