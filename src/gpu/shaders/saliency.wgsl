// Attribution smoothing: one thread per point, `n` Monte Carlo terms of the
// method's estimator of the predicted class's input gradient, averaged in f32.
// Prepended with rng.wgsl. CPU twin: kernels::saliency::{term, attributions}:
// sample s of point k reads the Philox block at counter (first + k)·n + s.
// Network layout (one ReLU hidden layer): W (H × 2), b (H), A (C × H), c (C).

struct Params {
    points: u32,
    n: u32,
    // 0 grad, 1 smoothgrad, 2 smoothgrad-sq, 3 expected gradients, 4 uniform ball.
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

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> net: array<f32>;
@group(0) @binding(2) var<storage, read> pts: array<f32>;
@group(0) @binding(3) var<storage, read> base: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> cls: array<u32>;

// m_j(x) = w_j·x + b_j.
fn pre(j: u32, x: vec2<f32>) -> f32 {
    return net[2u * j] * x.x + net[2u * j + 1u] * x.y + net[2u * p.hidden + j];
}

fn out_weight(c: u32, j: u32) -> f32 {
    return net[3u * p.hidden + c * p.hidden + j];
}

fn logit(c: u32, x: vec2<f32>) -> f32 {
    var s = net[3u * p.hidden + p.classes * p.hidden + c];
    for (var j = 0u; j < p.hidden; j = j + 1u) {
        s = s + out_weight(c, j) * max(pre(j, x), 0.0);
    }
    return s;
}

fn predicted_class(x: vec2<f32>) -> u32 {
    var best = 0u;
    var best_s = logit(0u, x);
    for (var c = 1u; c < p.classes; c = c + 1u) {
        let s = logit(c, x);
        if (s > best_s) {
            best = c;
            best_s = s;
        }
    }
    return best;
}

// ∇S_c(x) = Σ_j A[c, j] 1[m_j(x) > 0] w_j.
fn grad(c: u32, x: vec2<f32>) -> vec2<f32> {
    var g0 = 0.0;
    var g1 = 0.0;
    for (var j = 0u; j < p.hidden; j = j + 1u) {
        if (pre(j, x) > 0.0) {
            let a = out_weight(c, j);
            g0 = g0 + a * net[2u * j];
            g1 = g1 + a * net[2u * j + 1u];
        }
    }
    return vec2<f32>(g0, g1);
}

fn term(c: u32, x: vec2<f32>, r: vec4<u32>) -> vec2<f32> {
    let z = vec2<f32>(normal_icdf(uniform_from_u32(r.x)), normal_icdf(uniform_from_u32(r.y)));
    switch (p.method) {
        case 1u: {
            return grad(c, vec2<f32>(x.x + p.sigma * z.x, x.y + p.sigma * z.y));
        }
        case 2u: {
            let g = grad(c, vec2<f32>(x.x + p.sigma * z.x, x.y + p.sigma * z.y));
            return vec2<f32>(g.x * g.x, g.y * g.y);
        }
        case 3u: {
            let alpha = uniform_from_u32(r.z);
            let i = r.w % max(p.baselines, 1u);
            let xb = vec2<f32>(base[2u * i], base[2u * i + 1u]);
            let d = vec2<f32>(x.x - xb.x, x.y - xb.y);
            let g = grad(c, vec2<f32>(xb.x + alpha * d.x, xb.y + alpha * d.y));
            return vec2<f32>(d.x * g.x, d.y * g.y);
        }
        case 4u: {
            let scale = p.radius * sqrt(uniform_from_u32(r.z)) / sqrt(z.x * z.x + z.y * z.y);
            return grad(c, vec2<f32>(x.x + scale * z.x, x.y + scale * z.y));
        }
        default: {
            return grad(c, x);
        }
    }
}

@compute @workgroup_size(64)
fn saliency_field(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let k = gid.x + gid.y * nwg.x * 64u;
    if (k >= p.points) {
        return;
    }
    let x = vec2<f32>(pts[2u * k], pts[2u * k + 1u]);
    let c = predicted_class(x);
    var acc0 = 0.0;
    var acc1 = 0.0;
    for (var s = 0u; s < p.n; s = s + 1u) {
        let r = philox4x32_10(vec4<u32>((p.first + k) * p.n + s, 0u, 0u, 0u), vec2<u32>(p.seed, p.stream));
        let t = term(c, x, r);
        acc0 = acc0 + t.x;
        acc1 = acc1 + t.y;
    }
    let inv_n = 1.0 / f32(p.n);
    out[2u * k] = acc0 * inv_n;
    out[2u * k + 1u] = acc1 * inv_n;
    cls[k] = c;
}
