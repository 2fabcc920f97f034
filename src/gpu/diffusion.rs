//! `diffusion_step`: one sampler step of every particle per dispatch, the
//! score source evaluated inside each invocation. Particles stay on the GPU;
//! each transition's parameters are uploaded once, so any number of steps
//! goes into one submission with no read-back.
//! CPU twin: [`crate::kernels::diffusion::step_particle`] with the sources of
//! [`crate::kernels::diffusion::score`].

use super::rng::RNG_WGSL;
use super::{Gpu, GpuError, dispatch_2d};
use crate::kernels::diffusion::fewer::{FewerParams, ParticleState, STATE_PAIRS, Teleport};
use crate::kernels::diffusion::score::{ApgParams, Gaussian2, MlpDenoiser, Source};
use crate::kernels::diffusion::{Level, NOISE_STREAM, SamplerKind, SamplerParams};
use crate::kernels::mlp::{Activation, MAX_HIDDEN_LAYERS};

const DIFFUSION_WGSL: &str = include_str!("shaders/diffusion.wgsl");
const WORKGROUP: u32 = 64;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    step: u32,
    seed: u32,
    noise_stream: u32,
    cur_a: f32,
    cur_v: f32,
    next_a: f32,
    next_v: f32,
    sampler: u32,
    eta: f32,
    langevin_steps: u32,
    langevin_delta: f32,
    source: u32,
    components: u32,
    var: f32,
    smooth_sigma: f32,
    smooth_pairs: u32,
    smooth_stream: u32,
    guidance: f32,
    apg: u32,
    classes: u32,
    layers: u32,
    feature_dim: u32,
    class_inputs: u32,
    apg_eta: f32,
    /// Negative: no rescaling (r = ∞).
    apg_r: f32,
    apg_beta: f32,
    /// mlp: index in `weights` of E[x0 | class] per class input (after the parameters).
    mean_offset: u32,
    widths: [u32; 4],
    widths2: [u32; 4],
    level_in: [[f32; 4]; 2],
    tf: [[f32; 4]; 8],
    /// (skip predictor's points (0 = off), every, adaptive, mode: 0 sampler step, 1 teleport).
    skip: [u32; 4],
    /// (index among the sampler steps, sampler steps, protect first, protect last).
    ctx: [u32; 4],
    /// Teleport's M, row-major.
    tele_m: [f32; 4],
    /// (teleport's μx, μy, GE's γ, pad).
    tele_b: [f32; 4],
}

/// Everything a run needs besides the particles.
pub struct RunSetup<'a> {
    pub sampler: SamplerParams,
    /// GE's γ and the skipping knobs.
    pub fewer: FewerParams,
    /// The jump of transition 0 (`levels[0]` → `levels[1]`), when the run teleports.
    pub teleport: Option<Teleport>,
    pub levels: &'a [Level],
    pub source: &'a Source,
    pub seed: u32,
    pub guidance: f32,
    /// Adaptive projected guidance instead of CFG.
    pub apg: Option<ApgParams>,
    /// Guidance classes (0 = unguided).
    pub classes: u32,
}

/// The compiled kernel: created once per device, shared by every run.
pub struct DiffusionKernel {
    pipeline: wgpu::ComputePipeline,
}

impl super::Kernel for DiffusionKernel {
    async fn compile(gpu: &Gpu) -> Result<Self, GpuError> {
        let source = format!("{RNG_WGSL}\n{DIFFUSION_WGSL}");
        Ok(Self {
            pipeline: gpu
                .compute_pipeline("diffusion_step", &source, "diffusion_step")
                .await?,
        })
    }
}

/// A run on the GPU: its buffers and every step's parameters uploaded once,
/// then stepped many times.
pub struct DiffusionGpu {
    particles: wgpu::Buffer,
    /// Each particle's memory ([`ParticleState::to_pairs`]).
    states: wgpu::Buffer,
    pipeline: wgpu::ComputePipeline,
    /// One bind group (with its own uniform) per transition.
    steps: Vec<wgpu::BindGroup>,
    n: u32,
    step: usize,
}

fn sampler_code(k: SamplerKind) -> u32 {
    match k {
        SamplerKind::Ddpm => 0,
        SamplerKind::Ddim => 1,
        SamplerKind::Euler => 2,
        SamplerKind::Heun => 3,
        SamplerKind::Langevin => 4,
        SamplerKind::Iadb => 5,
        SamplerKind::Ge => 6,
    }
}

/// A mixture's components as the kernel reads them: (μx, μy, log w, class).
fn mixture_entries(m: &crate::kernels::diffusion::score::Mixture) -> Vec<[f32; 4]> {
    (0..m.means.len())
        .map(|k| {
            [
                m.means[k][0],
                m.means[k][1],
                m.log_weights[k],
                m.classes[k] as f32,
            ]
        })
        .collect()
}

fn gaussian_entry(g: &Gaussian2) -> [[f32; 4]; 2] {
    [
        [g.mean[0], g.mean[1], g.cov[0], g.cov[1]],
        [g.cov[2], 0.0, 0.0, 0.0],
    ]
}

/// The score source as the kernel reads it: its components, its weights
/// (the MLP's parameters and class means) and the source's fields of `base`.
#[allow(clippy::type_complexity)]
fn source_data<'a>(
    source: &'a Source,
    seed: u32,
    base: &mut Params,
) -> Result<(Vec<[f32; 4]>, Vec<f32>, Option<&'a MlpDenoiser>), GpuError> {
    let mut comps: Vec<[f32; 4]> = Vec::new();
    let mut weights: Vec<f32> = Vec::new();
    let mut mlp = None;
    match source {
        Source::Mixture(m) => {
            base.source = 0;
            base.components = m.means.len() as u32;
            base.var = m.var;
            comps = mixture_entries(m);
        }
        Source::Smoothed(s) => {
            base.source = 1;
            base.components = s.data.means.len() as u32;
            base.var = s.data.var;
            base.smooth_sigma = s.sigma;
            base.smooth_pairs = s.pairs;
            base.smooth_stream = s.key.stream;
            if s.key.seed != seed {
                return Err(GpuError::Pipeline(
                    "the smoothing key must use the run's seed".into(),
                ));
            }
            comps = mixture_entries(&s.data);
        }
        Source::Gaussian(g) => {
            base.source = 2;
            base.components = 1 + g.per_class.len() as u32;
            comps.extend(gaussian_entry(&g.all));
            for c in &g.per_class {
                comps.extend(gaussian_entry(c));
            }
        }
        Source::Mlp(m) => {
            base.source = 3;
            let spec = &m.spec;
            if spec.hidden.len() > MAX_HIDDEN_LAYERS {
                return Err(GpuError::Pipeline("too many hidden layers".into()));
            }
            base.layers = spec.hidden.len() as u32 + 1;
            base.feature_dim = spec.feature_dim() as u32;
            base.class_inputs = spec.class_inputs as u32;
            let mut w = [0u32; 5];
            for (dst, &h) in w.iter_mut().zip(&spec.hidden) {
                *dst = h as u32;
            }
            base.widths = [w[0], w[1], w[2], w[3]];
            base.widths2 = [
                w[4],
                match spec.activation {
                    Activation::Relu => 0,
                    Activation::Silu => 1,
                    Activation::Tanh => 2,
                },
                0,
                0,
            ];
            weights = m.params.clone();
            base.mean_offset = weights.len() as u32;
            for k in 0..spec.class_inputs {
                let class = (k + 1 < spec.class_inputs).then_some(k as u32);
                weights.extend(m.mean(class));
            }
            mlp = Some(m);
        }
    }
    if comps.is_empty() {
        comps.push([0.0; 4]);
    }
    if weights.is_empty() {
        weights.push(0.0);
    }
    Ok((comps, weights, mlp))
}

impl DiffusionGpu {
    /// Uploads the source and the initial particles; builds every step's parameters.
    pub fn new(
        gpu: &Gpu,
        kernel: &DiffusionKernel,
        run: &RunSetup<'_>,
        initial: &[[f32; 2]],
    ) -> Result<Self, GpuError> {
        gpu.check_alive()?;
        let n = initial.len() as u32;
        let max = gpu.device.limits().max_storage_buffer_binding_size;
        if 8 * STATE_PAIRS as u64 * u64::from(n) > max {
            return Err(GpuError::Pipeline(format!(
                "{n} particles exceed this GPU's storage buffer limit ({max} bytes)"
            )));
        }
        let pipeline = kernel.pipeline.clone();
        let mut base = Params {
            n,
            seed: run.seed,
            noise_stream: NOISE_STREAM,
            sampler: sampler_code(run.sampler.kind),
            eta: run.sampler.eta,
            langevin_steps: run.sampler.langevin_steps,
            langevin_delta: run.sampler.langevin_delta,
            guidance: run.guidance,
            apg: u32::from(run.apg.is_some()),
            apg_eta: run.apg.map_or(0.0, |a| a.eta),
            apg_r: run
                .apg
                .map_or(-1.0, |a| if a.r.is_finite() { a.r } else { -1.0 }),
            apg_beta: run.apg.map_or(0.0, |a| a.beta),
            classes: run.classes,
            ..Params::default()
        };
        let sk = run.fewer.skip;
        base.skip = [sk.order.points(), sk.every, u32::from(sk.adaptive), 0];
        base.ctx = [0, 0, sk.protect_first, sk.protect_last];
        base.tele_b = [0.0, 0.0, run.fewer.ge_gamma, 0.0];
        if let Some(t) = &run.teleport {
            base.tele_m = t.m;
            base.tele_b[..2].copy_from_slice(&t.mean);
        }
        let tele = usize::from(run.teleport.is_some());
        let sampler_steps = run.levels.len().saturating_sub(1 + tele) as u32;
        let (comps, weights, mlp) = source_data(run.source, run.seed, &mut base)?;
        let particles = gpu.storage_buffer("diffusion particles", 8 * u64::from(n));
        // APG's running average of Δ per particle; wgpu zero-initialises it.
        let momentum = gpu.storage_buffer("diffusion apg momentum", 8 * u64::from(n));
        // The particles' memory starts at zero (ParticleState::default()).
        let states = gpu.storage_buffer(
            "diffusion particle states",
            8 * STATE_PAIRS as u64 * u64::from(n),
        );
        gpu.queue
            .write_buffer(&particles, 0, bytemuck::cast_slice(initial));
        let comps = gpu.storage_buffer_init("diffusion source", bytemuck::cast_slice(&comps));
        let weights = gpu.storage_buffer_init("diffusion weights", bytemuck::cast_slice(&weights));
        let steps = run
            .levels
            .windows(2)
            .enumerate()
            .map(|(k, w)| {
                let mut p = base;
                p.step = k as u32 + 1;
                if k < tele {
                    p.skip[3] = 1;
                } else {
                    p.ctx[0] = (k - tele) as u32;
                    p.ctx[1] = sampler_steps;
                }
                (p.cur_a, p.cur_v, p.next_a, p.next_v) = (w[0].a, w[0].v, w[1].a, w[1].v);
                if let Some(m) = mlp {
                    for (j, level) in [w[0], w[1]].into_iter().enumerate() {
                        let li = m.level_inputs(level);
                        let pure_noise = if li.pure_noise { 1.0 } else { 0.0 };
                        p.level_in[j] = [li.scale, li.alpha_bar, pure_noise, 0.0];
                        for (q, chunk) in li.time_features.chunks_exact(4).enumerate() {
                            p.tf[4 * j + q].copy_from_slice(chunk);
                        }
                    }
                }
                let uniform = gpu.uniform_buffer("diffusion params", &p);
                gpu.bind_group(
                    "diffusion_step",
                    &pipeline,
                    &[
                        (0, &uniform),
                        (1, &particles),
                        (2, &comps),
                        (3, &weights),
                        (4, &momentum),
                        (5, &states),
                    ],
                )
            })
            .collect();
        Ok(Self {
            particles,
            states,
            pipeline,
            steps,
            n,
            step: 0,
        })
    }

    pub fn step(&self) -> usize {
        self.step
    }

    pub fn total_steps(&self) -> usize {
        self.steps.len()
    }

    pub fn finished(&self) -> bool {
        self.step >= self.steps.len()
    }

    /// Encodes up to `count` further steps into one submission; returns how many.
    pub fn advance(&mut self, gpu: &Gpu, count: usize) -> Result<usize, GpuError> {
        gpu.check_alive()?;
        let end = (self.step + count).min(self.steps.len());
        if end == self.step {
            return Ok(0);
        }
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            pass.set_pipeline(&self.pipeline);
            let (x, y) = dispatch_2d(self.n, WORKGROUP);
            for bg in &self.steps[self.step..end] {
                pass.set_bind_group(0, bg, &[]);
                pass.dispatch_workgroups(x, y, 1);
            }
        }
        gpu.queue.submit([encoder.finish()]);
        let done = end - self.step;
        self.step = end;
        Ok(done)
    }

    /// The particles now (one read-back).
    pub async fn particles(&self, gpu: &Gpu) -> Result<Vec<[f32; 2]>, GpuError> {
        read_particles(gpu, &self.particle_buffer()).await
    }

    /// Each particle's memory now (one read-back): GE's direction, the ε history, call counts.
    pub async fn states(&self, gpu: &Gpu) -> Result<Vec<ParticleState>, GpuError> {
        let flat: Vec<f32> = gpu
            .read_back(&self.states, 2 * STATE_PAIRS * self.n as usize)
            .await?;
        let pairs: Vec<[f32; 2]> = flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
        Ok(pairs
            .chunks_exact(STATE_PAIRS)
            .map(ParticleState::from_pairs)
            .collect())
    }

    /// A handle on the particle buffer, to read it back without borrowing the run.
    pub fn particle_buffer(&self) -> wgpu::Buffer {
        self.particles.clone()
    }
}

/// Reads a particle buffer back.
pub async fn read_particles(gpu: &Gpu, buffer: &wgpu::Buffer) -> Result<Vec<[f32; 2]>, GpuError> {
    let n = (buffer.size() / 8) as usize;
    let flat: Vec<f32> = gpu.read_back(buffer, 2 * n).await?;
    Ok(flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect())
}
