// Guided sampling of the exact pair (p(x|c), p(x)): steps [k_begin, k_end) of
// every particle's trajectory per dispatch, one invocation per particle.
// Prepended with rng.wgsl.
// CPU twin: kernels::guidance::GuidedRun::sample (its steps are
// kernels::diffusion::step_particle with DDIM η = 0 / DDPM, and
// kernels::guidance::langevin_step; the posterior means Mixture::denoise).

struct Params {
    n: u32,
    k_begin: u32,       // steps k_begin .. k_end (step k moves level k to level k + 1)
    k_end: u32,
    sampler: u32,       // 0 ddim, 1 ddpm, 2 pcg
    seed: u32,
    slots: u32,         // normal pairs per particle per step
    corrector_steps: u32,
    corrector_delta: f32,
    cond_count: u32,    // comps[0 .. cond_count] are p(x|c)'s, then p(x)'s
    uncond_count: u32,
    cond_var: f32,
    uncond_var: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> particles: array<vec2<f32>>;
// (μx, μy, log w, 0) of each component.
@group(0) @binding(2) var<storage, read> comps: array<vec4<f32>>;
// (a, v, w of the step leaving this level, 0) of each level.
@group(0) @binding(3) var<storage, read> levels: array<vec4<f32>>;

const MIN_VARIANCE: f32 = 1e-12;
const GUIDANCE_STREAM: u32 = 0x6D000000u;

fn step_normal(k: u32, i: u32, j: u32) -> vec2<f32> {
    let stream = GUIDANCE_STREAM | k;
    let base = 2u * (i * p.slots + j);
    return vec2<f32>(
        normal_icdf(uniform_from_u32(rng_u32(p.seed, stream, base))),
        normal_icdf(uniform_from_u32(rng_u32(p.seed, stream, base + 1u))),
    );
}

// E[x0 | x] of components [first, first + count) with variance var (Mixture::denoise, class None).
fn mixture_denoise(x: vec2<f32>, a: f32, v: f32, first: u32, count: u32, var_: f32) -> vec2<f32> {
    let c = max(a * a * var_ + v, MIN_VARIANCE);
    let shrink = a * var_ / c;
    let inv2c = 0.5 / c;
    var best = 0.0;
    var start = true;
    var sum = 0.0;
    var acc = vec2<f32>(0.0, 0.0);
    for (var k = first; k < first + count; k = k + 1u) {
        let e = comps[k];
        let mu = e.xy;
        let r = vec2<f32>(x.x - a * mu.x, x.y - a * mu.y);
        let logit = e.z - (r.x * r.x + r.y * r.y) * inv2c;
        let m = vec2<f32>(mu.x + shrink * r.x, mu.y + shrink * r.y);
        if (start || logit > best) {
            let scale = select(exp(best - logit), 0.0, start);
            sum = sum * scale + 1.0;
            acc = vec2<f32>(acc.x * scale + m.x, acc.y * scale + m.y);
            best = logit;
            start = false;
        } else {
            let w = exp(logit - best);
            sum = sum + w;
            acc = vec2<f32>(acc.x + w * m.x, acc.y + w * m.y);
        }
    }
    if (sum > 0.0) {
        return vec2<f32>(acc.x / sum, acc.y / sum);
    }
    return x;
}

// D_w = D_u + w (D_c − D_u) (GuidancePair::guided_denoise).
fn guided_denoise(x: vec2<f32>, a: f32, v: f32, w: f32) -> vec2<f32> {
    let c = mixture_denoise(x, a, v, 0u, p.cond_count, p.cond_var);
    if (w == 1.0) {
        return c;
    }
    let u = mixture_denoise(x, a, v, p.cond_count, p.uncond_count, p.uncond_var);
    return vec2<f32>(u.x + w * (c.x - u.x), u.y + w * (c.y - u.y));
}

// DDIM (Song et al. 2021, Eq. 12) with η ∈ {0, 1} on D_w (kernels::diffusion::ddim_step).
fn ddim_step(x: vec2<f32>, cur: vec4<f32>, next: vec4<f32>, w: f32, eta: f32, z: vec2<f32>) -> vec2<f32> {
    let den = guided_denoise(x, cur.x, cur.y, w);
    if (next.y <= 0.0) {
        return den;
    }
    let sv = sqrt(cur.y);
    let eps = vec2<f32>((x.x - cur.x * den.x) / sv, (x.y - cur.x * den.y) / sv);
    let ratio = (cur.x * cur.x) / (next.x * next.x);
    let sigma = eta * sqrt(next.y / cur.y) * sqrt(max(1.0 - ratio, 0.0));
    let c = sqrt(max(next.y - sigma * sigma, 0.0));
    let zz = select(vec2<f32>(0.0, 0.0), z, sigma > 0.0);
    return vec2<f32>(
        next.x * den.x + c * eps.x + sigma * zz.x,
        next.x * den.y + c * eps.y + sigma * zz.y,
    );
}

// Langevin on the γ power, step δ·v in x (kernels::guidance::langevin_step).
fn langevin_step(x: vec2<f32>, lv: vec4<f32>, gamma: f32, z: vec2<f32>) -> vec2<f32> {
    let d = guided_denoise(x, lv.x, lv.y, gamma);
    let noise = sqrt(p.corrector_delta * lv.y);
    let h = 0.5 * p.corrector_delta;
    return vec2<f32>(
        x.x + h * (lv.x * d.x - x.x) + noise * z.x,
        x.y + h * (lv.x * d.y - x.y) + noise * z.y,
    );
}

@compute @workgroup_size(64)
fn guidance_sample(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= p.n) {
        return;
    }
    var x = particles[i];
    if (p.k_begin == 0u) {
        x = step_normal(0u, i, 0u);
    }
    for (var k = p.k_begin; k < p.k_end; k = k + 1u) {
        let cur = levels[k];
        let next = levels[k + 1u];
        let w = cur.z;
        let step = k + 1u;
        if (p.sampler == 0u) {
            x = ddim_step(x, cur, next, w, 0.0, vec2<f32>(0.0, 0.0));
        } else if (p.sampler == 1u) {
            x = ddim_step(x, cur, next, w, 1.0, step_normal(step, i, 0u));
        } else {
            x = ddim_step(x, cur, next, 1.0, 0.0, vec2<f32>(0.0, 0.0));
            if (next.y > 0.0) {
                for (var j = 0u; j < p.corrector_steps; j = j + 1u) {
                    x = langevin_step(x, next, 2.0 * w - 1.0, step_normal(step, i, j));
                }
            }
        }
    }
    particles[i] = x;
}
