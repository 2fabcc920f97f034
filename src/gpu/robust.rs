//! `robust_step`: many independent SGD runs per robust estimator on the GPU,
//! one invocation per (estimator, run) and one dispatch per SGD step, all
//! recorded into one submission. CPU twin: [`crate::kernels::robust::run`].
//! `robust_estimate`: one estimate from given sample gradients of any
//! dimension (`gradlab robust`), one dispatch per pass of the estimator. CPU
//! twin: [`crate::kernels::robust::estimate_rows`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError};
use crate::kernels::robust::{
    self, MAX_DIM, MAX_ROWS, Method, Noise, Norm, Objective, Rows, RunSpec, logistic_data,
};

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
        // Each invocation's sample gradients and estimator work space (robust.wgsl's Layout).
        let rows = gpu.storage_buffer(
            "robust rows",
            (invocations * robust::MAX_BATCH * 2 * 4) as u64,
        );
        let work = gpu.storage_buffer(
            "robust work",
            (invocations * work_len(robust::MAX_BATCH, 2) * 4) as u64,
        );
        let bind_group = gpu.bind_group(
            "robust_step",
            &self.pipeline,
            &[
                (0, &params),
                (1, &data_buf),
                (2, &codes_buf),
                (3, &out),
                (4, &state),
                (5, &rows),
                (7, &work),
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

/// Floats of work space one problem of `n` rows of `d` components uses
/// (robust.wgsl's `work_len`: out, mean, unit d each, 4 scalars, dist n, col n·d).
fn work_len(n: usize, d: usize) -> usize {
    n * d + n + 3 * d + 4
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ToolParams {
    phase: u32,
    n: u32,
    d: u32,
    groups: u32,
    norm: u32,
    _pad: [u32; 2],
    threshold: f32,
}

/// The passes of robust.wgsl (its `P_*` codes).
mod phase {
    pub const MEAN: u32 = 0;
    pub const CLIP_COORD: u32 = 1;
    pub const MEAN_TO: u32 = 2;
    pub const CLIP_FACTOR: u32 = 3;
    pub const SCALE_OUT: u32 = 4;
    pub const SAMPLE_FACTORS: u32 = 5;
    pub const SAMPLE_MEAN: u32 = 6;
    pub const MEDIAN: u32 = 7;
    pub const MOM: u32 = 8;
    pub const MEDIAN_ITER: u32 = 9;
    pub const GM_BEGIN: u32 = 10;
    pub const GM_DIST: u32 = 11;
    pub const GM_SUM: u32 = 12;
    pub const GM_FINISH: u32 = 13;
}

/// The passes of `method`, in order, as robust.wgsl's `estimate` runs them
/// (the geometric median repeats its last three; a converged one skips them).
fn phases(method: Method) -> Vec<u32> {
    use phase::*;
    match method {
        Method::Mean => vec![MEAN],
        Method::ClipNorm => vec![MEAN_TO, CLIP_FACTOR, SCALE_OUT],
        Method::ClipCoord => vec![CLIP_COORD],
        Method::ClipSample => vec![SAMPLE_FACTORS, SAMPLE_MEAN],
        Method::Median => vec![MEDIAN],
        Method::Mom => vec![MOM],
        Method::MedianIter => vec![MEDIAN_ITER],
        Method::GeoMedian => {
            let mut v = vec![MEDIAN, GM_BEGIN];
            for _ in 0..robust::WEISZFELD_MAX_ITER {
                v.extend([GM_DIST, GM_SUM, GM_FINISH]);
            }
            v
        }
    }
}

/// The compiled `robust_estimate` kernel.
pub struct RobustEstimate {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for RobustEstimate {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{ROBUST_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("robust_estimate", &source, "robust_estimate")
                .await?,
        })
    }
}

impl RobustEstimate {
    /// The estimate of `method` from the rows `g` (1 ≤ d ≤ [`MAX_DIM`]
    /// components, 1 to [`MAX_ROWS`] rows; the caller checks). `median-iter` is the running median from 0, as on the CPU.
    pub async fn estimate(
        &self,
        gpu: &Gpu,
        method: Method,
        g: Rows<'_>,
        threshold: f32,
        groups: u32,
        norm: Norm,
    ) -> Result<Vec<f32>, GpuError> {
        gpu.check_alive()?;
        let (n, d) = (g.n(), g.d());
        assert!(
            (1..=MAX_DIM).contains(&d) && (1..=MAX_ROWS).contains(&n),
            "robust_estimate: {n} rows of {d} components"
        );
        let rows = gpu.storage_buffer_init("robust_estimate rows", bytemuck::cast_slice(g.data()));
        // Zeroed by wgpu: median-iter starts from m = 0.
        let work = gpu.storage_buffer("robust_estimate work", (work_len(n, d) * 4) as u64);
        let list = phases(method);
        let mut distinct: Vec<u32> = list.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let bind_groups: Vec<(u32, wgpu::BindGroup)> = distinct
            .iter()
            .map(|&ph| {
                let params = gpu.uniform_buffer(
                    "robust_estimate params",
                    &ToolParams {
                        phase: ph,
                        n: n as u32,
                        d: d as u32,
                        groups,
                        norm: code(Norm::ALL, norm),
                        _pad: [0; 2],
                        threshold,
                    },
                );
                let bg = gpu.bind_group(
                    "robust_estimate",
                    &self.pipeline,
                    &[(5, &rows), (6, &params), (7, &work)],
                );
                (ph, bg)
            })
            .collect();
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            for ph in list {
                let bg = &bind_groups.iter().find(|(p, _)| *p == ph).expect("bound").1;
                let items = match ph {
                    phase::CLIP_FACTOR
                    | phase::MEDIAN_ITER
                    | phase::GM_BEGIN
                    | phase::GM_FINISH => 1,
                    phase::SAMPLE_FACTORS | phase::GM_DIST => n,
                    _ => d,
                };
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups((items as u32).div_ceil(64), 1, 1);
            }
        }
        gpu.queue.submit([encoder.finish()]);
        // `out` comes first in the work space.
        gpu.read_back(&work, d).await
    }
}
