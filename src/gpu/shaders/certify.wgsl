// Randomized smoothing Monte Carlo: for each point, samples [start + chunk·per_thread,
// …) of one run (several submissions of `block` samples for a large n), their hard votes (atomic counts per class) and, for soft
// smoothing, per-thread f32 sums of the simplex map and of the target class's
// value and square. Prepended with rng.wgsl.
// CPU twin: kernels::certify::smooth::Smoother::counts_at (same counters,
// same f32 operations in the same order; see kernels/certify/base.rs).

struct Params {
    model: u32,      // 0 linear, 1 disk, 2 MLP
    classes: u32,
    transform: u32,  // 0 shift, 1 rotation
    smoothing: u32,  // 0 hard, 1 softmax, 2 sparsemax
    n: u32,
    per_thread: u32,
    chunks: u32,
    points: u32,
    seed: u32,
    stream: u32,
    hidden0: u32,
    hidden1: u32,
    sigma: f32,
    sigma_angle: f32,
    temp: f32,
    // First sample of this submission; samples [start, min(start + block, n)).
    start: u32,
    block: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// linear: w0, w1, b; disk: r; MLP: the flat parameters of kernels/mlp.rs.
@group(0) @binding(1) var<storage, read> weights: array<f32>;
// x0, x1 per point.
@group(0) @binding(2) var<storage, read> xs: array<f32>;
// Target class per point (0xffffffff: none).
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

const MAX_WIDTH: u32 = 32u;
const MAX_CLASSES: u32 = 8u;
// 1/6, 1/12, …, 1/90: ratios of successive Taylor terms (kernels::certify::smooth::INV).
const INV = array<f32, 8>(1.0 / 6.0, 1.0 / 12.0, 1.0 / 20.0, 1.0 / 30.0, 1.0 / 42.0, 1.0 / 56.0, 1.0 / 72.0, 1.0 / 90.0);

// (sin θ, cos θ): Taylor at θ/8 and three double-angle steps (smooth::sin_cos).
fn sin_cos(theta: f32) -> vec2<f32> {
    let h = theta * 0.125;
    let h2 = h * h;
    var s = h * (1.0 - h2 * INV[0] * (1.0 - h2 * INV[2] * (1.0 - h2 * INV[4] * (1.0 - h2 * INV[6]))));
    var c = 1.0 - h2 * 0.5 * (1.0 - h2 * INV[1] * (1.0 - h2 * INV[3] * (1.0 - h2 * INV[5] * (1.0 - h2 * INV[7]))));
    for (var i = 0u; i < 3u; i = i + 1u) {
        let s2 = 2.0 * s * c;
        c = c * c - s * s;
        s = s2;
    }
    return vec2<f32>(s, c);
}

fn perturb(x: vec2<f32>, z: vec2<f32>) -> vec2<f32> {
    if (p.transform == 0u) {
        return vec2<f32>(x.x + p.sigma * z.x, x.y + p.sigma * z.y);
    }
    let sc = sin_cos(p.sigma_angle * z.x);
    return vec2<f32>(sc.y * x.x - sc.x * x.y, sc.x * x.x + sc.y * x.y);
}

var<private> logits: array<f32, 8>;

// One dense layer out[o] = dot8(W[o], h) + b[o] (kernels::mlp::predict_row's dot8 order), ReLU unless last.
fn dense(h: ptr<function, array<f32, 32>>, fan_in: u32, fan_out: u32, w: u32, relu: bool) -> array<f32, 32> {
    var out: array<f32, 32>;
    let b = w + fan_in * fan_out;
    let full = fan_in / 8u;
    for (var o = 0u; o < fan_out; o = o + 1u) {
        let row = w + o * fan_in;
        var acc: array<f32, 8>;
        for (var c = 0u; c < full; c = c + 1u) {
            for (var k = 0u; k < 8u; k = k + 1u) {
                acc[k] = acc[k] + weights[row + c * 8u + k] * (*h)[c * 8u + k];
            }
        }
        var s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for (var i = full * 8u; i < fan_in; i = i + 1u) {
            s = s + weights[row + i] * (*h)[i];
        }
        var v = s + weights[b + o];
        if (relu) {
            v = max(v, 0.0);
        }
        out[o] = v;
    }
    return out;
}

fn mlp_logits(y: vec2<f32>) {
    var h: array<f32, 32>;
    h[0] = y.x;
    h[1] = y.y;
    let h0 = p.hidden0;
    let h1 = p.hidden1;
    let w1 = 2u * h0 + h0;
    let w2 = w1 + h0 * h1 + h1;
    var a = dense(&h, 2u, h0, 0u, true);
    var b = dense(&a, h0, h1, w1, true);
    let out = dense(&b, h1, p.classes, w2, false);
    for (var c = 0u; c < p.classes; c = c + 1u) {
        logits[c] = out[c];
    }
}

fn argmax_logits() -> u32 {
    var best = 0u;
    for (var c = 1u; c < p.classes; c = c + 1u) {
        if (logits[c] > logits[best]) {
            best = c;
        }
    }
    return best;
}

// The hard prediction f(y) (BaseClassifier::class); leaves the MLP's logits in `logits`.
fn classify(y: vec2<f32>) -> u32 {
    if (p.model == 0u) {
        return select(0u, 1u, (weights[0] * y.x + weights[1] * y.y) + weights[2] > 0.0);
    }
    if (p.model == 1u) {
        return select(0u, 1u, y.x * y.x + y.y * y.y > weights[0] * weights[0]);
    }
    mlp_logits(y);
    return argmax_logits();
}

// The logits z(y) into `logits` (BaseClassifier::logits).
fn fill_logits(y: vec2<f32>) {
    if (p.model == 0u) {
        logits[0] = 0.0;
        logits[1] = (weights[0] * y.x + weights[1] * y.y) + weights[2];
    } else if (p.model == 1u) {
        logits[0] = weights[0] - sqrt(y.x * y.x + y.y * y.y);
        logits[1] = 0.0;
    } else {
        mlp_logits(y);
    }
}

// softmax(z/T) or sparsemax(z/T) of `logits` in place (base::softmax, base::sparsemax).
fn simplex_map() {
    let k = p.classes;
    if (p.smoothing == 1u) {
        let m = logits[argmax_logits()];
        var total = 0.0;
        for (var c = 0u; c < k; c = c + 1u) {
            logits[c] = exp((logits[c] - m) / p.temp);
            total = total + logits[c];
        }
        for (var c = 0u; c < k; c = c + 1u) {
            logits[c] = logits[c] / total;
        }
        return;
    }
    var sorted: array<f32, 8>;
    for (var c = 0u; c < k; c = c + 1u) {
        logits[c] = logits[c] / p.temp;
        // Insertion into the descending order.
        var j = c;
        while (j > 0u && sorted[j - 1u] < logits[c]) {
            sorted[j] = sorted[j - 1u];
            j = j - 1u;
        }
        sorted[j] = logits[c];
    }
    var cum = 0.0;
    var support_sum = 0.0;
    var support = 1u;
    for (var j = 0u; j < k; j = j + 1u) {
        cum = cum + sorted[j];
        if (1.0 + f32(j + 1u) * sorted[j] > cum) {
            support = j + 1u;
            support_sum = cum;
        }
    }
    let tau = (support_sum - 1.0) / f32(support);
    for (var c = 0u; c < k; c = c + 1u) {
        logits[c] = max(logits[c] - tau, 0.0);
    }
}

@compute @workgroup_size(64)
fn certify_counts(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (t >= p.points * p.chunks) {
        return;
    }
    let point = t / p.chunks;
    let first = p.start + (t % p.chunks) * p.per_thread;
    let last = min(min(first + p.per_thread, p.start + p.block), p.n);
    let x = vec2<f32>(xs[2u * point], xs[2u * point + 1u]);
    let target_class = targets[point];
    let k = p.classes;
    var votes: array<u32, 8>;
    var soft: array<f32, 8>;
    var soft_a = 0.0;
    var soft_a_sq = 0.0;
    for (var i = first; i < last; i = i + 1u) {
        let z0 = normal_icdf(uniform_from_u32(rng_u32(p.seed, p.stream, 2u * i)));
        let z1 = normal_icdf(uniform_from_u32(rng_u32(p.seed, p.stream, 2u * i + 1u)));
        let y = perturb(x, vec2<f32>(z0, z1));
        let c = classify(y);
        votes[c] = votes[c] + 1u;
        if (p.smoothing == 0u) {
            continue;
        }
        fill_logits(y);
        simplex_map();
        for (var j = 0u; j < k; j = j + 1u) {
            soft[j] = soft[j] + logits[j];
        }
        if (target_class < k) {
            let v = logits[target_class];
            soft_a = soft_a + v;
            soft_a_sq = soft_a_sq + v * v;
        }
    }
    for (var j = 0u; j < k; j = j + 1u) {
        if (votes[j] > 0u) {
            atomicAdd(&counts[point * k + j], votes[j]);
        }
    }
    let cols = k + 2u;
    // Accumulated over the submissions (each thread index keeps its point and chunk).
    for (var j = 0u; j < k; j = j + 1u) {
        partial[t * cols + j] = partial[t * cols + j] + soft[j];
    }
    partial[t * cols + k] = partial[t * cols + k] + soft_a;
    partial[t * cols + k + 1u] = partial[t * cols + k + 1u] + soft_a_sq;
}
