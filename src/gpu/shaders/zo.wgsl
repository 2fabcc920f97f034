// Gradients without backpropagation: objectives with forward-mode (dual
// number) derivatives, the estimators, their single-estimate Monte Carlo
// (zo_draws, zo_mean) and descent runs (zo_descent). Prepended with rng.wgsl.
// CPU twin: src/kernels/zo/{mod,estimate,descent}.rs, the same f32
// operations in the same order, the same Philox counters.

struct Params {
    obj: u32,
    est: u32,
    d: u32,
    batch: u32,
    n: u32,
    seed: u32,
    stream: u32,
    steps: u32,
    mu: f32,
    delta: f32,
    guess_noise: f32,
    lr: f32,
    big_batch: u32,
    epoch: u32,
    runs: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// zo_draws / zo_mean: x at 0. zo_descent: x (runs·d), then g (runs·d), then x_prev (runs·d).
@group(0) @binding(1) var<storage, read_write> xs: array<f32>;
// zo_draws writes, zo_mean reads: the coefficient of every direction.
@group(0) @binding(2) var<storage, read_write> coefs: array<f32>;
// zo_draws: ‖ĝ_i‖² then ĝ_i·∇f; zo_mean: partial sums [j][chunk]; zo_descent: losses [run][t].
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<private> g_stream: u32;

const CHUNK: u32 = 256u;
const MAX_BATCH: u32 = 64u;

// Dual numbers v + d·ε as vec2(v, d) (Baydin et al. 2022).
fn dmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x, a.y * b.x + a.x * b.y);
}
fn dabs(a: vec2<f32>) -> vec2<f32> {
    if (a.x > 0.0) { return a; }
    if (a.x < 0.0) { return vec2<f32>(-a.x, -a.y); }
    return vec2<f32>(0.0, 0.0);
}
fn drelu(a: vec2<f32>) -> vec2<f32> {
    if (a.x > 0.0) { return a; }
    return vec2<f32>(0.0, 0.0);
}

fn relu_net(w1: vec2<f32>, w2: vec2<f32>) -> vec2<f32> {
    var acc = vec2<f32>(0.0, 0.0);
    for (var k = 0u; k < 5u; k = k + 1u) {
        let t = f32(k) - 2.0;
        let h1 = drelu(vec2<f32>(w1.x * t, w1.y * t) + vec2<f32>(0.5, 0.0));
        let h2 = drelu(vec2<f32>(w2.x * t, w2.y * t) - vec2<f32>(0.5, 0.0));
        let r = h1 + h2 - vec2<f32>(abs(t), 0.0);
        acc = acc + dmul(r, r);
    }
    return vec2<f32>(acc.x * 0.2, acc.y * 0.2);
}

// The local term at component j given y_{j-1} and y_j.
fn term(j: u32, prev: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
    if (p.obj == 0u) {
        let q = dmul(y, y);
        return vec2<f32>(q.x * 0.5, q.y * 0.5);
    }
    if (p.obj == 2u) {
        return dabs(y);
    }
    if (p.obj == 1u && j > 0u) {
        let a = y - dmul(prev, prev);
        let b = vec2<f32>(1.0, 0.0) - prev;
        let aa = dmul(a, a);
        return vec2<f32>(aa.x * 100.0, aa.y * 100.0) + dmul(b, b);
    }
    if (p.obj == 3u && j == 1u) {
        return relu_net(prev, y);
    }
    return vec2<f32>(0.0, 0.0);
}

fn value(xb: u32) -> f32 {
    var acc = vec2<f32>(0.0, 0.0);
    var prev = vec2<f32>(0.0, 0.0);
    for (var j = 0u; j < p.d; j = j + 1u) {
        let y = vec2<f32>(xs[xb + j], 0.0);
        acc = acc + term(j, prev, y);
        prev = y;
    }
    return acc.x;
}

fn grad_component(xb: u32, j: u32) -> f32 {
    var prev = vec2<f32>(0.0, 0.0);
    if (j > 0u) {
        prev = vec2<f32>(xs[xb + j - 1u], 0.0);
    }
    let here = vec2<f32>(xs[xb + j], 1.0);
    var g = term(j, prev, here).y;
    if (j + 1u < p.d) {
        g = g + term(j + 1u, here, vec2<f32>(xs[xb + j + 1u], 0.0)).y;
    }
    return g;
}

fn raw(dir: u32, j: u32) -> f32 {
    let index = dir * p.d + j;
    let word = rng_u32(p.seed, g_stream, index);
    if (p.est == 3u) {
        if ((word >> 31u) == 1u) { return 1.0; }
        return -1.0;
    }
    return normal_icdf(uniform_from_u32(word));
}

fn direction(xb: u32, dir: u32, j: u32) -> f32 {
    if (p.est == 0u) {
        return grad_component(xb, j);
    }
    if (p.est == 2u) {
        return grad_component(xb, j) + p.guess_noise * raw(dir, j);
    }
    return raw(dir, j);
}

fn jvp_d(xb: u32, dir: u32) -> f32 {
    var acc = vec2<f32>(0.0, 0.0);
    var prev = vec2<f32>(0.0, 0.0);
    for (var j = 0u; j < p.d; j = j + 1u) {
        let y = vec2<f32>(xs[xb + j], direction(xb, dir, j));
        acc = acc + term(j, prev, y);
        prev = y;
    }
    return acc.y;
}

fn norm_sq(xb: u32, dir: u32) -> f32 {
    var s = 0.0;
    for (var j = 0u; j < p.d; j = j + 1u) {
        let v = direction(xb, dir, j);
        s = s + v * v;
    }
    return s;
}

fn two_point_diff(xb: u32, h: f32, dir: u32) -> f32 {
    var acc = 0.0;
    var pp = vec2<f32>(0.0, 0.0);
    var pm = vec2<f32>(0.0, 0.0);
    for (var j = 0u; j < p.d; j = j + 1u) {
        let s = h * direction(xb, dir, j);
        let yp = vec2<f32>(xs[xb + j] + s, 0.0);
        let ym = vec2<f32>(xs[xb + j] - s, 0.0);
        acc = acc + (term(j, pp, yp).x - term(j, pm, ym).x);
        pp = yp;
        pm = ym;
    }
    return acc;
}

fn coefficient(xb: u32, dir: u32) -> f32 {
    switch (p.est) {
        case 0u: { return 1.0; }
        case 1u: { return jvp_d(xb, dir); }
        case 2u: { return jvp_d(xb, dir) / norm_sq(xb, dir); }
        case 3u, 4u: { return two_point_diff(xb, p.mu, dir) / (2.0 * p.mu); }
        default: {
            let r = 1.0 / sqrt(norm_sq(xb, dir));
            let diff = two_point_diff(xb, p.delta * r, dir);
            return f32(p.d) / (2.0 * p.delta) * diff * r;
        }
    }
}

fn thread_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 64u;
}

@compute @workgroup_size(64)
fn zo_draws(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread_index(gid, nwg);
    if (i >= p.n) {
        return;
    }
    g_stream = p.stream;
    let b = p.batch;
    let first = i * b;
    var c: array<f32, 64>;
    for (var k = 0u; k < b; k = k + 1u) {
        c[k] = coefficient(0u, first + k);
        coefs[first + k] = c[k];
    }
    let inv_b = 1.0 / f32(b);
    var nsq = 0.0;
    var dot = 0.0;
    for (var j = 0u; j < p.d; j = j + 1u) {
        var s = 0.0;
        for (var k = 0u; k < b; k = k + 1u) {
            s = s + c[k] * direction(0u, first + k, j);
        }
        let g = s * inv_b;
        nsq = nsq + g * g;
        dot = dot + g * grad_component(0u, j);
    }
    out[i] = nsq;
    out[p.n + i] = dot;
}

@compute @workgroup_size(64)
fn zo_mean(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    let chunks = (p.n + CHUNK - 1u) / CHUNK;
    if (t >= p.d * chunks) {
        return;
    }
    g_stream = p.stream;
    let j = t / chunks;
    let c = t % chunks;
    let b = p.batch;
    let inv_b = 1.0 / f32(b);
    var acc = 0.0;
    let last = min((c + 1u) * CHUNK, p.n);
    for (var i = c * CHUNK; i < last; i = i + 1u) {
        var s = 0.0;
        for (var k = 0u; k < b; k = k + 1u) {
            let dir = i * b + k;
            s = s + coefs[dir] * direction(0u, dir, j);
        }
        acc = acc + s * inv_b;
    }
    out[t] = acc;
}

// g ← (1/count) Σ_k c_k u_k over directions first..first+count at x.
fn batch_estimate(xb: u32, gb: u32, first: u32, count: u32) {
    var c: array<f32, 64>;
    for (var k = 0u; k < count; k = k + 1u) {
        c[k] = coefficient(xb, first + k);
    }
    let inv = 1.0 / f32(count);
    for (var j = 0u; j < p.d; j = j + 1u) {
        var s = 0.0;
        for (var k = 0u; k < count; k = k + 1u) {
            s = s + c[k] * direction(xb, first + k, j);
        }
        xs[gb + j] = s * inv;
    }
}

// GFM⁺ (Chen, Xu & Luo 2023, Alg. 2): v ← v + (1/b) Σ_k [g(x; w_k) − g(x_prev; w_k)].
fn recursive_update(xb: u32, pb: u32, gb: u32, first: u32) {
    var dc: array<f32, 64>;
    for (var k = 0u; k < p.batch; k = k + 1u) {
        dc[k] = coefficient(xb, first + k) - coefficient(pb, first + k);
    }
    let inv = 1.0 / f32(p.batch);
    for (var j = 0u; j < p.d; j = j + 1u) {
        var s = 0.0;
        for (var k = 0u; k < p.batch; k = k + 1u) {
            s = s + dc[k] * direction(xb, first + k, j);
        }
        xs[gb + j] = xs[gb + j] + s * inv;
    }
}

@compute @workgroup_size(64)
fn zo_descent(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = thread_index(gid, nwg);
    if (r >= p.runs) {
        return;
    }
    g_stream = p.stream + r;
    let xb = r * p.d;
    let gb = p.runs * p.d + r * p.d;
    let pb = 2u * p.runs * p.d + r * p.d;
    var stride = p.batch;
    if (p.est == 6u) {
        stride = max(p.batch, p.big_batch);
    }
    let row = r * (p.steps + 1u);
    out[row] = value(xb);
    for (var t = 0u; t < p.steps; t = t + 1u) {
        let first = t * stride;
        if (p.est != 6u) {
            batch_estimate(xb, gb, first, p.batch);
        } else if (t % p.epoch == 0u) {
            batch_estimate(xb, gb, first, p.big_batch);
        } else {
            recursive_update(xb, pb, gb, first);
        }
        for (var j = 0u; j < p.d; j = j + 1u) {
            xs[pb + j] = xs[xb + j];
            xs[xb + j] = xs[xb + j] - p.lr * xs[gb + j];
        }
        out[row + t + 1u] = value(xb);
    }
}
