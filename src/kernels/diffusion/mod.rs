//! Tiny diffusion in 2D: noise schedules, the noise levels a sampler walks
//! through, and the samplers themselves. The score sources live in
//! [`score`], the toy datasets in [`data`], the sample metrics in [`metrics`].
//!
//! Every noise level is written as `x = a·x0 + √v·z` with `z ~ N(0, I)`: the
//! variance-preserving path of DDPM has `a = √ᾱ, v = 1 − ᾱ`, the α-blending
//! path of IADB has `a = α, v = (1 − α)²`. A source answers one question,
//! the posterior mean `D(x) = E[x0 | x]` at a level (Tweedie's formula gives
//! the score `(a·D − x)/v`), so every sampler works with every source.
//!
//! The particle state is always kept in the variance-preserving coordinates
//! `x` (so a particle at pure noise is ~N(0, I) on screen); samplers that think
//! in the variance-exploding variable `y = x/a` (Euler, Heun, Langevin)
//! convert on the way in and out.

pub mod data;
pub mod fewer;
pub mod metrics;
pub mod score;

use crate::kernels::rng::RngKey;

/// Diffusion steps of the training discretisation (DDPM's T).
pub const TRAIN_STEPS: usize = 1000;
/// β at the first and last training step of the linear schedule (Ho et al. 2020).
pub const BETA_START: f64 = 1e-4;
pub const BETA_END: f64 = 0.02;
/// Offset s of the cosine schedule (Nichol & Dhariwal 2021).
pub const COSINE_S: f64 = 0.008;
/// Cap on β of the cosine schedule (Nichol & Dhariwal 2021).
pub const COSINE_MAX_BETA: f64 = 0.999;

crate::param_enum! {
    /// A β schedule of the forward process.
    pub enum ScheduleKind {
        /// β linear from 1e-4 to 0.02 (Ho et al., "Denoising Diffusion Probabilistic Models", 2020).
        Linear = "linear",
        /// √β linear between the same end points (the "scaled_linear" of the common libraries).
        ScaledLinear = "scaled-linear",
        /// ᾱ(t) = cos²((t/T + s)/(1 + s)·π/2) (Nichol & Dhariwal, "Improved DDPM", 2021).
        Cosine = "cosine",
    }
}

/// β_t and ᾱ_t = Π_{s≤t} (1 − β_s) for t = 0..steps.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Schedule {
    pub betas: Vec<f64>,
    pub alphas_cumprod: Vec<f64>,
}

/// The β schedule of `kind` over `steps` steps, with the definitions of the
/// common diffusion libraries (ᾱ is always the cumulative product of 1 − β).
pub fn schedule(kind: ScheduleKind, steps: usize) -> Schedule {
    let lerp = |a: f64, b: f64, i: usize| {
        if steps == 1 {
            a
        } else {
            a + (b - a) * i as f64 / (steps - 1) as f64
        }
    };
    let betas: Vec<f64> = match kind {
        ScheduleKind::Linear => (0..steps).map(|i| lerp(BETA_START, BETA_END, i)).collect(),
        ScheduleKind::ScaledLinear => (0..steps)
            .map(|i| lerp(BETA_START.sqrt(), BETA_END.sqrt(), i).powi(2))
            .collect(),
        ScheduleKind::Cosine => {
            let abar = |t: f64| {
                ((t / steps as f64 + COSINE_S) / (1.0 + COSINE_S) * std::f64::consts::FRAC_PI_2)
                    .cos()
                    .powi(2)
            };
            (0..steps)
                .map(|i| (1.0 - abar(i as f64 + 1.0) / abar(i as f64)).min(COSINE_MAX_BETA))
                .collect()
        }
    };
    let alphas_cumprod = betas
        .iter()
        .scan(1.0, |acc, b| {
            *acc *= 1.0 - b;
            Some(*acc)
        })
        .collect();
    Schedule {
        betas,
        alphas_cumprod,
    }
}

/// One noise level: `x = a·x0 + √v·z`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Level {
    pub a: f32,
    pub v: f32,
}

impl Level {
    /// Clean data.
    pub const DATA: Level = Level { a: 1.0, v: 0.0 };

    /// The variance-preserving level of ᾱ (Ho et al. 2020).
    pub fn vp(alpha_bar: f64) -> Self {
        Self {
            a: alpha_bar.sqrt() as f32,
            v: (1.0 - alpha_bar) as f32,
        }
    }

    /// The α-blending level x = α·x1 + (1 − α)·x0 (Heitz et al. 2023), written
    /// with data as x0 here: a = α, v = (1 − α)².
    pub fn blend(alpha: f32) -> Self {
        Self {
            a: alpha,
            v: (1.0 - alpha) * (1.0 - alpha),
        }
    }

    /// The variance-exploding noise σ = √v / a of `y = x / a` (Karras et al. 2022).
    pub fn sigma(self) -> f32 {
        self.v.sqrt() / self.a
    }

    /// The level of a sampler's path with noise σ = √v/a: variance-preserving
    /// a = 1/√(1 + σ²) (Karras et al. 2022), or for IADB the α-blending
    /// α = 1/(1 + σ) (σ = (1 − α)/α); σ = 0 is [`Level::DATA`].
    pub fn from_sigma(kind: SamplerKind, sigma: f64) -> Self {
        if sigma <= 0.0 {
            return Level::DATA;
        }
        if kind == SamplerKind::Iadb {
            return Level::blend((1.0 / (1.0 + sigma)) as f32);
        }
        let a2 = 1.0 / (1.0 + sigma * sigma);
        Self {
            a: a2.sqrt() as f32,
            v: (1.0 - a2) as f32,
        }
    }
}

/// The levels of explicit noise levels σ_0 > σ_1 > … (the `--sigmas` of a run),
/// in the order given.
pub fn levels_from_sigmas(kind: SamplerKind, sigmas: &[f64]) -> Vec<Level> {
    sigmas.iter().map(|&s| Level::from_sigma(kind, s)).collect()
}

crate::param_enum! {
    /// How particles move from noise to data.
    pub enum SamplerKind {
        /// Ancestral sampling (Ho et al. 2020), i.e. DDIM with η = 1.
        Ddpm = "ddpm",
        /// DDIM with stochasticity η (Song, Meng & Ermon, "Denoising Diffusion Implicit Models", 2021).
        Ddim = "ddim",
        /// Probability-flow ODE, Euler steps in σ (Karras et al., "Elucidating the Design Space", 2022).
        Euler = "euler",
        /// Probability-flow ODE, Heun's second-order steps (Karras et al. 2022, Algorithm 1).
        Heun = "heun",
        /// Annealed Langevin dynamics (Song & Ermon, "Generative Modeling by Estimating Gradients", 2019).
        Langevin = "langevin",
        /// Deterministic iterative α-(de)blending (Heitz, Belcour & Chambon, SIGGRAPH 2023).
        Iadb = "iadb",
        /// Gradient estimation: d̄_i = γd_i + (1 − γ)d_{i−1} in σ (Permenter & Yuan, "Interpreting and Improving Diffusion Models Using the Euclidean Distance Function", 2024).
        Ge = "ge",
    }
}

/// The sampler's knobs besides its kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerParams {
    pub kind: SamplerKind,
    /// DDIM's η (ignored by the other samplers).
    pub eta: f32,
    /// Langevin steps per noise level.
    pub langevin_steps: u32,
    /// Langevin step size relative to the level's σ²: Song & Ermon's
    /// α_i = ε·σ_i²/σ_L² with ε = δ·σ_L².
    pub langevin_delta: f32,
}

/// The largest noise σ = √((1 − ᾱ)/ᾱ) a sampler starts from: Karras et al.'s
/// σ_max = 80 (EDM, 2022). The cosine schedule's last ᾱ (~10⁻⁸, σ ~ 10⁴) would
/// otherwise magnify any denoiser error at the first step ~10⁴-fold.
pub const SIGMA_MAX: f64 = 80.0;
/// ᾱ at σ_max: 1/(1 + σ_max²).
pub const MIN_ALPHA_BAR: f64 = 1.0 / (1.0 + SIGMA_MAX * SIGMA_MAX);

/// The "trailing" timesteps of the common diffusion libraries (Lin et al.,
/// "Common Diffusion Noise Schedules and Sample Steps Are Flawed", WACV 2024;
/// diffusers' `timestep_spacing="trailing"`): round(arange(T, 0, −T/n)) − 1,
/// i.e. τ_j = round(T − j·T/n) − 1 for j = 0 … n−1, from noise (τ_0 = T − 1) to
/// data. numpy's `round` takes ties to even, and so does this.
pub fn trailing_timesteps(t_max: usize, steps: usize) -> Vec<usize> {
    let steps = steps.max(1);
    let ratio = t_max as f64 / steps as f64;
    (0..steps)
        .map(|j| {
            let t = (t_max as f64 - j as f64 * ratio).round_ties_even();
            (t.max(1.0) as usize - 1).min(t_max.saturating_sub(1))
        })
        .collect()
}

/// The noise levels a sampler walks through, from noise to `Level::DATA`:
/// `steps + 1` levels. The VP samplers take the [`trailing_timesteps`] (so the
/// first level is t = T − 1 for every step count), with ᾱ floored at
/// [`MIN_ALPHA_BAR`]; IADB takes α = k/steps.
pub fn levels(kind: SamplerKind, sched: &Schedule, steps: usize) -> Vec<Level> {
    let steps = steps.max(1);
    let mut out: Vec<Level> = if kind == SamplerKind::Iadb {
        (0..steps)
            .map(|k| Level::blend(k as f32 / steps as f32))
            .collect()
    } else {
        trailing_timesteps(sched.alphas_cumprod.len(), steps)
            .into_iter()
            .map(|tau| Level::vp(sched.alphas_cumprod[tau].max(MIN_ALPHA_BAR)))
            .collect()
    };
    out.push(Level::DATA);
    out
}

/// Score evaluations one particle costs for a whole run (doubled by guidance).
pub fn score_evaluations(p: &SamplerParams, steps: usize) -> usize {
    match p.kind {
        SamplerKind::Heun => 2 * steps - 1,
        SamplerKind::Langevin => steps * p.langevin_steps as usize + 1,
        _ => steps,
    }
}

/// RNG stream of the initial noise and of every stochastic step.
pub const NOISE_STREAM: u32 = 0x0000_D1FF;
/// Normal variates reserved per particle per step (Langevin uses up to 2 per substep).
pub const NORMALS_PER_STEP: u32 = 2 * 64;

/// The `j`-th of a pair of normal variates of particle `i` at step `k`
/// (step 0 is the initial noise). Indices wrap modulo 2^32.
pub fn particle_normal(key: RngKey, particles: u32, i: u32, k: u32, j: u32) -> [f32; 2] {
    let base = k
        .wrapping_mul(particles)
        .wrapping_add(i)
        .wrapping_mul(NORMALS_PER_STEP)
        .wrapping_add(2 * j);
    [key.normal_at(base), key.normal_at(base + 1)]
}

/// The denoiser a sampler queries: posterior mean D(x) = E[x0 | x] at a level.
pub trait Denoiser {
    fn denoise(&self, x: [f32; 2], level: Level, particle: u32) -> [f32; 2];
}

impl<F: Fn([f32; 2], Level, u32) -> [f32; 2]> Denoiser for F {
    fn denoise(&self, x: [f32; 2], level: Level, particle: u32) -> [f32; 2] {
        self(x, level, particle)
    }
}

fn axpy(a: f32, x: [f32; 2], y: [f32; 2]) -> [f32; 2] {
    [a * x[0] + y[0], a * x[1] + y[1]]
}

/// One sampler step of particle `i` from level `cur` to level `next` (`k` is the
/// step's index, from 1; `noise(j)` its `j`-th normal pair).
pub fn step_particle(
    p: &SamplerParams,
    d: &impl Denoiser,
    x: [f32; 2],
    cur: Level,
    next: Level,
    i: u32,
    noise: impl Fn(u32) -> [f32; 2],
) -> [f32; 2] {
    match p.kind {
        SamplerKind::Ddpm => ddim_step(1.0, d, x, cur, next, i, noise),
        SamplerKind::Ddim => ddim_step(p.eta, d, x, cur, next, i, noise),
        // GE without its memory ([`step_particle_fewer`] keeps it) is its
        // first step, d̄_0 = d_0: an Euler step.
        SamplerKind::Euler | SamplerKind::Heun | SamplerKind::Ge => {
            let (s, sn) = (cur.sigma(), next.sigma());
            let y = [x[0] / cur.a, x[1] / cur.a];
            let den = d.denoise(x, cur, i);
            let slope = [(y[0] - den[0]) / s, (y[1] - den[1]) / s];
            let mut yn = axpy(sn - s, slope, y);
            if p.kind == SamplerKind::Heun && next.v > 0.0 {
                let den2 = d.denoise([yn[0] * next.a, yn[1] * next.a], next, i);
                let slope2 = [(yn[0] - den2[0]) / sn, (yn[1] - den2[1]) / sn];
                let avg = [0.5 * (slope[0] + slope2[0]), 0.5 * (slope[1] + slope2[1])];
                yn = axpy(sn - s, avg, y);
            }
            [yn[0] * next.a, yn[1] * next.a]
        }
        SamplerKind::Langevin => {
            // Song & Ermon 2019, Algorithm 1 in y = x/a: y += (α/2)·∇log p_σ(y) + √α·z
            // with α = δ·σ², ∇log p_σ(y) = (D − y)/σ²; then a final Tweedie
            // denoising step onto the data level.
            let s = cur.sigma();
            let mut y = [x[0] / cur.a, x[1] / cur.a];
            for j in 0..p.langevin_steps {
                let den = d.denoise([y[0] * cur.a, y[1] * cur.a], cur, i);
                let z = noise(j);
                let noise_scale = p.langevin_delta.sqrt() * s;
                let drift = 0.5 * p.langevin_delta;
                y = [
                    y[0] + drift * (den[0] - y[0]) + noise_scale * z[0],
                    y[1] + drift * (den[1] - y[1]) + noise_scale * z[1],
                ];
            }
            if next.v == 0.0 {
                return d.denoise([y[0] * cur.a, y[1] * cur.a], cur, i);
            }
            // Move to the next (smaller) level's coordinates.
            [y[0] * next.a, y[1] * next.a]
        }
        SamplerKind::Iadb => {
            // Heitz et al. 2023, Algorithm 2: x_{α'} = x_α + (α' − α)(x̄1 − x̄0),
            // with x̄1 = D(x_α) and x̄0 = (x_α − α·x̄1)/(1 − α).
            let den = d.denoise(x, cur, i);
            let alpha = cur.a;
            let x0 = [
                (x[0] - alpha * den[0]) / (1.0 - alpha),
                (x[1] - alpha * den[1]) / (1.0 - alpha),
            ];
            let da = next.a - alpha;
            [x[0] + da * (den[0] - x0[0]), x[1] + da * (den[1] - x0[1])]
        }
    }
}

/// DDIM (Song et al. 2021, Eq. 12): x' = a'·D + √(v' − σ²)·ε̂ + σ·z with
/// ε̂ = (x − a·D)/√v and σ = η·√(v'/v)·√(1 − ᾱ/ᾱ'); η = 1 is DDPM's posterior.
fn ddim_step(
    eta: f32,
    d: &impl Denoiser,
    x: [f32; 2],
    cur: Level,
    next: Level,
    i: u32,
    noise: impl Fn(u32) -> [f32; 2],
) -> [f32; 2] {
    let den = d.denoise(x, cur, i);
    if next.v <= 0.0 {
        return den;
    }
    let sv = cur.v.sqrt();
    let eps = [(x[0] - cur.a * den[0]) / sv, (x[1] - cur.a * den[1]) / sv];
    let ratio = (cur.a * cur.a) / (next.a * next.a);
    let sigma = eta * (next.v / cur.v).sqrt() * (1.0 - ratio).max(0.0).sqrt();
    let c = (next.v - sigma * sigma).max(0.0).sqrt();
    let z = if sigma > 0.0 { noise(0) } else { [0.0, 0.0] };
    [
        next.a * den[0] + c * eps[0] + sigma * z[0],
        next.a * den[1] + c * eps[1] + sigma * z[1],
    ]
}

/// One step of particle `i` with its memory `st` (GE's previous direction,
/// the real-ε history of skipping, the call counters): the denoiser is called
/// once at `cur` — or, on a step FSampler skips, replaced by the extrapolated
/// ε̂ ([`fewer::predicted_eps`]), D = (x − √v·ε̂)/a — and the sampler's own
/// update rule runs unchanged on that D. A skipped Heun step has no point to
/// evaluate its corrector at, so it is an Euler step (0 calls). Langevin is
/// never skipped (its calls sit at one level). Real steps give exactly the
/// samples of [`step_particle`].
#[allow(clippy::too_many_arguments)]
pub fn step_particle_fewer(
    p: &SamplerParams,
    f: &fewer::FewerParams,
    ctx: fewer::StepCtx,
    d: &impl Denoiser,
    x: [f32; 2],
    (cur, next): (Level, Level),
    i: u32,
    noise: impl Fn(u32) -> [f32; 2],
    st: &mut fewer::ParticleState,
) -> [f32; 2] {
    if p.kind == SamplerKind::Langevin {
        st.real += p.langevin_steps + u32::from(next.v == 0.0);
        return step_particle(p, d, x, cur, next, i, noise);
    }
    let predicted = fewer::predicted_eps(&f.skip, ctx, st);
    let den = match predicted {
        Some(eps) => {
            st.skipped += 1;
            st.run = 0;
            fewer::den_of(x, eps, cur)
        }
        None => {
            let den = d.denoise(x, cur, i);
            st.real += 1;
            st.run += 1;
            st.push(fewer::eps_of(x, den, cur));
            den
        }
    };
    if p.kind == SamplerKind::Ge {
        let (s, sn) = (cur.sigma(), next.sigma());
        let y = [x[0] / cur.a, x[1] / cur.a];
        let di = [(y[0] - den[0]) / s, (y[1] - den[1]) / s];
        let dbar = fewer::ge_direction(f.ge_gamma, di, st.d_prev, ctx.index == 0);
        st.d_prev = di;
        let yn = axpy(sn - s, dbar, y);
        return [yn[0] * next.a, yn[1] * next.a];
    }
    let first = std::cell::Cell::new(Some(den));
    let once = |xx: [f32; 2], lvl: Level, ii: u32| match first.take() {
        Some(dn) => dn,
        None => d.denoise(xx, lvl, ii),
    };
    let kind = match (predicted, p.kind) {
        (Some(_), SamplerKind::Heun) => SamplerKind::Euler,
        (None, SamplerKind::Heun) if next.v > 0.0 => {
            st.real += 1;
            SamplerKind::Heun
        }
        (_, k) => k,
    };
    step_particle(&SamplerParams { kind, ..*p }, &once, x, cur, next, i, noise)
}
