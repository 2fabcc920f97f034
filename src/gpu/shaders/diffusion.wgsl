// One sampler step of every particle, in place: one invocation per particle,
// the score source evaluated inside it. Prepended with rng.wgsl.
// CPU twin: kernels::diffusion::{step_particle, score::*}.

struct Params {
    n: u32,
    step: u32,          // k, from 1 (0 is the initial noise)
    seed: u32,
    noise_stream: u32,
    cur_a: f32,
    cur_v: f32,
    next_a: f32,
    next_v: f32,
    sampler: u32,       // 0 ddpm, 1 ddim, 2 euler, 3 heun, 4 langevin, 5 iadb, 6 ge
    eta: f32,
    langevin_steps: u32,
    langevin_delta: f32,
    source: u32,        // 0 mixture, 1 smoothed, 2 gaussian, 3 mlp
    components: u32,    // mixture components / gaussian classes
    var_: f32,          // mixture component variance
    smooth_sigma: f32,
    smooth_pairs: u32,
    smooth_stream: u32,
    guidance: f32,
    apg: u32,           // 1: adaptive projected guidance instead of CFG
    classes: u32,       // guidance classes (0 = unguided)
    layers: u32,        // mlp: linear layers
    feature_dim: u32,
    class_inputs: u32,
    apg_eta: f32,
    apg_r: f32,         // negative: no rescaling
    apg_beta: f32,
    mean_offset: u32,   // mlp: E[x0 | class] per class input, in `weights` from here
    widths: vec4<u32>,  // mlp: out width of layers 0..3 (the last layer's is 2)
    widths2: vec4<u32>, // mlp: out width of layer 4, activation (0 relu 1 silu 2 tanh), pad, pad
    // mlp: per level (0 = cur, 1 = next): (scale s, ᾱ, pure noise (a = 0) ? 1 : 0, pad) and 16 time features.
    level_in: array<vec4<f32>, 2>,
    tf: array<vec4<f32>, 8>,
    skip: vec4<u32>,    // skip predictor's points (0 = off), every, adaptive, mode (0 sampler step, 1 teleport)
    ctx: vec4<u32>,     // index among the sampler steps, sampler steps, protect first, protect last
    tele_m: vec4<f32>,  // teleport's M, row-major
    tele_b: vec4<f32>,  // teleport's μx, μy; GE's γ; pad
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> particles: array<vec2<f32>>;
// mixture: (μx, μy, log w, class); gaussian: per entry two vec4 (μx, μy, Σxx, Σxy), (Σyy, 0, 0, 0), entry 0 = all data.
@group(0) @binding(2) var<storage, read> comps: array<vec4<f32>>;
// mlp: parameters in the flat layout of kernels/mlp.rs.
@group(0) @binding(3) var<storage, read> weights: array<f32>;
// APG: the running average of Δ of each particle (its trajectory's momentum).
@group(0) @binding(4) var<storage, read_write> momentum: array<vec2<f32>>;
// Each particle's memory, 7 pairs (fewer::ParticleState::to_pairs): d_prev,
// ε_0..ε_3 (newest first), (len, run), (real, skipped).
@group(0) @binding(5) var<storage, read_write> states: array<vec2<f32>>;

var<private> running: vec2<f32>;

const TIME_FEATURES: u32 = 16u;
const MIN_VARIANCE: f32 = 1e-12;

fn normal_at(stream: u32, index: u32) -> f32 {
    return normal_icdf(uniform_from_u32(rng_u32(p.seed, stream, index)));
}

fn particle_normal(i: u32, k: u32, j: u32) -> vec2<f32> {
    let base = (k * p.n + i) * 128u + 2u * j;
    return vec2<f32>(normal_at(p.noise_stream, base), normal_at(p.noise_stream, base + 1u));
}

// has_class: false = all components.
fn mixture_denoise(x: vec2<f32>, a: f32, v: f32, has_class: bool, cls: u32) -> vec2<f32> {
    let c = max(a * a * p.var_ + v, MIN_VARIANCE);
    let shrink = a * p.var_ / c;
    let inv2c = 0.5 / c;
    var best = 0.0; // unused until `first` is false
    var first = true;
    var sum = 0.0;
    var acc = vec2<f32>(0.0, 0.0);
    for (var k = 0u; k < p.components; k = k + 1u) {
        let e = comps[k];
        if (has_class && u32(e.w) != cls) {
            continue;
        }
        let mu = e.xy;
        let r = vec2<f32>(x.x - a * mu.x, x.y - a * mu.y);
        let logit = e.z - (r.x * r.x + r.y * r.y) * inv2c;
        let m = vec2<f32>(mu.x + shrink * r.x, mu.y + shrink * r.y);
        if (first || logit > best) {
            let scale = select(exp(best - logit), 0.0, first);
            sum = sum * scale + 1.0;
            acc = vec2<f32>(acc.x * scale + m.x, acc.y * scale + m.y);
            best = logit;
            first = false;
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

fn smoothed_denoise(x: vec2<f32>, a: f32, v: f32, has_class: bool, cls: u32, i: u32) -> vec2<f32> {
    if (p.smooth_sigma == 0.0 || p.smooth_pairs == 0u) {
        return mixture_denoise(x, a, v, has_class, cls);
    }
    // The paper's σ on its path x_t = t·x1 + (1 − t)·x0: σ·(a + √v) in x (Smoothed::scale).
    let s = p.smooth_sigma * (a + sqrt(max(v, 0.0)));
    var acc = vec2<f32>(0.0, 0.0);
    for (var m = 0u; m < p.smooth_pairs; m = m + 1u) {
        let base = (i * p.smooth_pairs + m) * 2u;
        let z = vec2<f32>(normal_at(p.smooth_stream, base), normal_at(p.smooth_stream, base + 1u));
        let d1 = mixture_denoise(vec2<f32>(x.x + s * z.x, x.y + s * z.y), a, v, has_class, cls);
        acc = vec2<f32>(acc.x + d1.x, acc.y + d1.y);
        let d2 = mixture_denoise(vec2<f32>(x.x - s * z.x, x.y - s * z.y), a, v, has_class, cls);
        acc = vec2<f32>(acc.x + d2.x, acc.y + d2.y);
    }
    let n = f32(2u * p.smooth_pairs);
    return vec2<f32>(acc.x / n, acc.y / n);
}

fn gaussian_denoise(x: vec2<f32>, a: f32, v0: f32, entry: u32) -> vec2<f32> {
    let g0 = comps[2u * entry];
    let g1 = comps[2u * entry + 1u];
    let v = max(v0, MIN_VARIANCE);
    let sxx = g0.z;
    let sxy = g0.w;
    let syy = g1.x;
    let cxx = a * a * sxx + v;
    let cxy = a * a * sxy;
    let cyy = a * a * syy + v;
    let det = cxx * cyy - cxy * cxy;
    let r = vec2<f32>(x.x - a * g0.x, x.y - a * g0.y);
    let u = vec2<f32>((cyy * r.x - cxy * r.y) / det, (cxx * r.y - cxy * r.x) / det);
    return vec2<f32>(g0.x + a * (sxx * u.x + sxy * u.y), g0.y + a * (sxy * u.x + syy * u.y));
}

fn activate(z: f32) -> f32 {
    let act = p.widths2.y;
    if (act == 0u) {
        return max(z, 0.0);
    }
    if (act == 1u) {
        return z * (1.0 / (1.0 + exp(-z)));
    }
    return tanh(z);
}

fn layer_width(l: u32) -> u32 {
    if (l + 1u == p.layers) {
        return 2u;
    }
    if (l < 4u) {
        return p.widths[l];
    }
    return p.widths2.x;
}

var<private> h: array<f32, 256>;
var<private> z: array<f32, 256>;

fn mlp_denoise(x: vec2<f32>, lvl: u32, cls: u32) -> vec2<f32> {
    let li = p.level_in[lvl];
    if (li.z != 0.0) {
        // Pure noise: the exact E[x0 | class] (MlpDenoiser::denoise_at).
        let o = p.mean_offset + 2u * cls;
        return vec2<f32>(weights[o], weights[o + 1u]);
    }
    let xv = vec2<f32>(x.x / li.x, x.y / li.x);
    for (var j = 0u; j < p.feature_dim; j = j + 1u) {
        h[j] = 0.0;
    }
    h[0] = xv.x;
    h[1] = xv.y;
    for (var j = 0u; j < 4u; j = j + 1u) {
        let f = p.tf[lvl * 4u + j];
        h[2u + 4u * j] = f.x;
        h[3u + 4u * j] = f.y;
        h[4u + 4u * j] = f.z;
        h[5u + 4u * j] = f.w;
    }
    h[2u + TIME_FEATURES + cls] = 1.0;
    var fan_in = p.feature_dim;
    var w = 0u;
    for (var l = 0u; l < p.layers; l = l + 1u) {
        let fan_out = layer_width(l);
        let b = w + fan_in * fan_out;
        let chunks = fan_in / 8u;
        for (var o = 0u; o < fan_out; o = o + 1u) {
            // kernels::mlp::dot8: eight partial sums, combined in the same order.
            // (It also keeps the loop count low: lavapipe stops a loop after
            // 65,535 iterations per invocation, counted across its entries.)
            let row = w + o * fan_in;
            var a0 = vec4<f32>(0.0);
            var a1 = vec4<f32>(0.0);
            for (var c = 0u; c < chunks; c = c + 1u) {
                let i = 8u * c;
                a0 = a0 + vec4<f32>(weights[row + i], weights[row + i + 1u], weights[row + i + 2u], weights[row + i + 3u])
                    * vec4<f32>(h[i], h[i + 1u], h[i + 2u], h[i + 3u]);
                a1 = a1 + vec4<f32>(weights[row + i + 4u], weights[row + i + 5u], weights[row + i + 6u], weights[row + i + 7u])
                    * vec4<f32>(h[i + 4u], h[i + 5u], h[i + 6u], h[i + 7u]);
            }
            var acc = ((a0.x + a1.x) + (a0.y + a1.y)) + ((a0.z + a1.z) + (a0.w + a1.w));
            for (var i = 8u * chunks; i < fan_in; i = i + 1u) {
                acc = acc + weights[row + i] * h[i];
            }
            acc = acc + weights[b + o];
            if (l + 1u < p.layers) {
                acc = activate(acc);
            }
            z[o] = acc;
        }
        for (var o = 0u; o < fan_out; o = o + 1u) {
            h[o] = z[o];
        }
        w = b + fan_out;
        fan_in = fan_out;
    }
    let sa = sqrt(li.y);
    let sv = sqrt(1.0 - li.y);
    // DENOISER_CLIP of kernels/diffusion/score.rs.
    return clamp(vec2<f32>((xv.x - sv * h[0]) / sa, (xv.y - sv * h[1]) / sa), vec2<f32>(-3.0), vec2<f32>(3.0));
}

fn source_denoise(x: vec2<f32>, lvl: u32, has_class: bool, cls: u32, i: u32) -> vec2<f32> {
    let a = select(p.cur_a, p.next_a, lvl == 1u);
    let v = select(p.cur_v, p.next_v, lvl == 1u);
    if (p.source == 0u) {
        return mixture_denoise(x, a, v, has_class, cls);
    }
    if (p.source == 1u) {
        return smoothed_denoise(x, a, v, has_class, cls, i);
    }
    if (p.source == 2u) {
        var entry = 0u;
        if (has_class && cls + 1u < p.components) {
            entry = cls + 1u;
        }
        return gaussian_denoise(x, a, v, entry);
    }
    var c = p.class_inputs - 1u;
    if (has_class) {
        c = cls;
    }
    return mlp_denoise(x, lvl, c);
}

// ‖v‖ scaled by the larger |component| (score::norm2).
fn norm2(v: vec2<f32>) -> f32 {
    let m = max(abs(v.x), abs(v.y));
    if (m == 0.0) {
        return m;
    }
    let u = v / m;
    return m * sqrt(u.x * u.x + u.y * u.y);
}

// Adaptive projected guidance, as score::apg: the running average, the
// rescaling to norm <= r, and the split along D_c.
fn apg(cond: vec2<f32>, uncond: vec2<f32>) -> vec2<f32> {
    let delta = vec2<f32>(cond.x - uncond.x, cond.y - uncond.y);
    running = vec2<f32>(delta.x + p.apg_beta * running.x, delta.y + p.apg_beta * running.y);
    let n = norm2(running);
    var scale = 1.0;
    if (p.apg_r >= 0.0 && n > p.apg_r) {
        scale = p.apg_r / n;
    }
    let d = vec2<f32>(running.x * scale, running.y * scale);
    let nn = cond.x * cond.x + cond.y * cond.y;
    var par = 0.0;
    if (nn > 0.0) {
        par = (d.x * cond.x + d.y * cond.y) / nn;
    }
    let parallel = vec2<f32>(par * cond.x, par * cond.y);
    let update = vec2<f32>(
        d.x - parallel.x + p.apg_eta * parallel.x,
        d.y - parallel.y + p.apg_eta * parallel.y,
    );
    let k = p.guidance - 1.0;
    return vec2<f32>(cond.x + k * update.x, cond.y + k * update.y);
}

// Classifier-free guidance, as score::Guided.
fn denoise(x: vec2<f32>, lvl: u32, i: u32) -> vec2<f32> {
    let uncond = source_denoise(x, lvl, false, 0u, i);
    if (p.guidance == 0.0 || p.classes == 0u) {
        return uncond;
    }
    let cond = source_denoise(x, lvl, true, i % p.classes, i);
    if (p.apg != 0u) {
        return apg(cond, uncond);
    }
    let delta = vec2<f32>(cond.x - uncond.x, cond.y - uncond.y);
    return vec2<f32>(uncond.x + p.guidance * delta.x, uncond.y + p.guidance * delta.y);
}

fn ddim_step(eta: f32, x: vec2<f32>, i: u32, den: vec2<f32>) -> vec2<f32> {
    if (p.next_v <= 0.0) {
        return den;
    }
    let sv = sqrt(p.cur_v);
    let eps = vec2<f32>((x.x - p.cur_a * den.x) / sv, (x.y - p.cur_a * den.y) / sv);
    let ratio = (p.cur_a * p.cur_a) / (p.next_a * p.next_a);
    let sigma = eta * sqrt(p.next_v / p.cur_v) * sqrt(max(1.0 - ratio, 0.0));
    let c = sqrt(max(p.next_v - sigma * sigma, 0.0));
    var zz = vec2<f32>(0.0, 0.0);
    if (sigma > 0.0) {
        zz = particle_normal(i, p.step, 0u);
    }
    return vec2<f32>(
        p.next_a * den.x + c * eps.x + sigma * zz.x,
        p.next_a * den.y + c * eps.y + sigma * zz.y,
    );
}

// ---- Fewer score calls (kernels::diffusion::fewer) ----

const STATE_PAIRS: u32 = 7u;
const STABILISER_RATIO: f32 = 1.5;
const ADAPTIVE_TOL: f32 = 0.05;
const F32_MAX: f32 = 0x1.fffffep+127f; // f32::MAX, exactly (Tint rejects a rounded decimal)

var<private> hist: array<vec2<f32>, 4>;
var<private> hist_len: u32;
var<private> run_len: u32;

// fewer::extrapolate: the finite-difference predictor from `points` real ε.
fn extrapolate(points: u32) -> vec2<f32> {
    if (points == 2u) {
        return 2.0 * hist[0] - hist[1];
    }
    if (points == 3u) {
        return 3.0 * hist[0] - 3.0 * hist[1] + hist[2];
    }
    return 4.0 * hist[0] - 6.0 * hist[1] + 4.0 * hist[2] - hist[3];
}

// fewer::predicted_eps; .z = 1 when the step is skipped.
fn predicted_eps() -> vec3<f32> {
    let points = p.skip.x;
    let none = vec3<f32>(0.0, 0.0, 0.0);
    if (points == 0u || p.ctx.x < p.ctx.z || p.ctx.x + p.ctx.w >= p.ctx.y || hist_len < 2u) {
        return none;
    }
    let use_points = min(points, hist_len);
    if (p.skip.z != 0u) {
        if (run_len < 1u || hist_len < 3u) {
            return none;
        }
        let h3 = extrapolate(3u);
        let h2 = extrapolate(2u);
        let gap = norm2(h3 - h2);
        if (!(gap <= ADAPTIVE_TOL * norm2(hist[0]))) {
            return none;
        }
    } else if (run_len + 1u < p.skip.y) {
        return none;
    }
    var pred = extrapolate(use_points);
    // fewer::stabilise
    let np = norm2(pred);
    let cap = STABILISER_RATIO * norm2(hist[0]);
    if (np > cap && np > 0.0) {
        pred = pred * (cap / np);
    }
    if (!(abs(pred.x) <= F32_MAX && abs(pred.y) <= F32_MAX)) {
        return none;
    }
    return vec3<f32>(pred, 1.0);
}

fn push_eps(e: vec2<f32>) {
    hist[3] = hist[2];
    hist[2] = hist[1];
    hist[1] = hist[0];
    hist[0] = e;
    hist_len = min(hist_len + 1u, 4u);
}

fn teleport(x: vec2<f32>) -> vec2<f32> {
    let y = x / p.cur_a;
    let r = y - p.tele_b.xy;
    let yn = p.tele_b.xy + vec2<f32>(p.tele_m.x * r.x + p.tele_m.y * r.y, p.tele_m.z * r.x + p.tele_m.w * r.y);
    return yn * p.next_a;
}

@compute @workgroup_size(64)
fn diffusion_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= p.n) {
        return;
    }
    let x = particles[i];
    if (p.skip.w == 1u) {
        particles[i] = teleport(x);
        return;
    }
    running = momentum[i];
    let sb = STATE_PAIRS * i;
    var d_prev = states[sb];
    hist = array<vec2<f32>, 4>(states[sb + 1u], states[sb + 2u], states[sb + 3u], states[sb + 4u]);
    hist_len = u32(states[sb + 5u].x);
    run_len = u32(states[sb + 5u].y);
    var real = u32(states[sb + 6u].x);
    var skipped = u32(states[sb + 6u].y);
    var out = x;
    if (p.sampler == 4u) {
        real = real + p.langevin_steps + select(0u, 1u, p.next_v == 0.0);
        let s = sqrt(p.cur_v) / p.cur_a;
        var y = vec2<f32>(x.x / p.cur_a, x.y / p.cur_a);
        for (var j = 0u; j < p.langevin_steps; j = j + 1u) {
            let den = denoise(vec2<f32>(y.x * p.cur_a, y.y * p.cur_a), 0u, i);
            let zz = particle_normal(i, p.step, j);
            let noise_scale = sqrt(p.langevin_delta) * s;
            let drift = 0.5 * p.langevin_delta;
            y = vec2<f32>(
                y.x + drift * (den.x - y.x) + noise_scale * zz.x,
                y.y + drift * (den.y - y.y) + noise_scale * zz.y,
            );
        }
        if (p.next_v == 0.0) {
            out = denoise(vec2<f32>(y.x * p.cur_a, y.y * p.cur_a), 0u, i);
        } else {
            out = vec2<f32>(y.x * p.next_a, y.y * p.next_a);
        }
    } else {
        // The first call at the current level, real or predicted (step_particle_fewer).
        let pred = predicted_eps();
        let sv = sqrt(p.cur_v);
        var den: vec2<f32>;
        if (pred.z != 0.0) {
            skipped = skipped + 1u;
            run_len = 0u;
            den = vec2<f32>((x.x - sv * pred.x) / p.cur_a, (x.y - sv * pred.y) / p.cur_a);
        } else {
            den = denoise(x, 0u, i);
            real = real + 1u;
            run_len = run_len + 1u;
            push_eps(vec2<f32>((x.x - p.cur_a * den.x) / sv, (x.y - p.cur_a * den.y) / sv));
        }
        if (p.sampler == 0u) {
            out = ddim_step(1.0, x, i, den);
        } else if (p.sampler == 1u) {
            out = ddim_step(p.eta, x, i, den);
        } else if (p.sampler == 2u || p.sampler == 3u || p.sampler == 6u) {
            let s = sqrt(p.cur_v) / p.cur_a;
            let sn = sqrt(p.next_v) / p.next_a;
            let y = vec2<f32>(x.x / p.cur_a, x.y / p.cur_a);
            let slope = vec2<f32>((y.x - den.x) / s, (y.y - den.y) / s);
            var dir = slope;
            if (p.sampler == 6u) {
                // fewer::ge_direction: d̄_i = γd_i + (1 − γ)d_{i−1}, d̄_0 = d_0.
                if (p.ctx.x > 0u) {
                    let g = p.tele_b.z;
                    dir = vec2<f32>(g * slope.x + (1.0 - g) * d_prev.x, g * slope.y + (1.0 - g) * d_prev.y);
                }
                d_prev = slope;
            }
            var yn = vec2<f32>((sn - s) * dir.x + y.x, (sn - s) * dir.y + y.y);
            if (p.sampler == 3u && p.next_v > 0.0 && pred.z == 0.0) {
                real = real + 1u;
                let den2 = denoise(vec2<f32>(yn.x * p.next_a, yn.y * p.next_a), 1u, i);
                let slope2 = vec2<f32>((yn.x - den2.x) / sn, (yn.y - den2.y) / sn);
                let avg = vec2<f32>(0.5 * (slope.x + slope2.x), 0.5 * (slope.y + slope2.y));
                yn = vec2<f32>((sn - s) * avg.x + y.x, (sn - s) * avg.y + y.y);
            }
            out = vec2<f32>(yn.x * p.next_a, yn.y * p.next_a);
        } else {
            let alpha = p.cur_a;
            let x0 = vec2<f32>((x.x - alpha * den.x) / (1.0 - alpha), (x.y - alpha * den.y) / (1.0 - alpha));
            let da = p.next_a - alpha;
            out = vec2<f32>(x.x + da * (den.x - x0.x), x.y + da * (den.y - x0.y));
        }
    }
    states[sb] = d_prev;
    states[sb + 1u] = hist[0];
    states[sb + 2u] = hist[1];
    states[sb + 3u] = hist[2];
    states[sb + 4u] = hist[3];
    states[sb + 5u] = vec2<f32>(f32(hist_len), f32(run_len));
    states[sb + 6u] = vec2<f32>(f32(real), f32(skipped));
    particles[i] = out;
    momentum[i] = running;
}
