// Gumbel-Softmax moments: each thread draws `per_thread` samples and writes
// its f32 partial sums of the 12·K moment columns (see kernels/gumbel.rs).
// `per_thread` is a multiple of the RLOO batch, so every batch of `batch`
// consecutive samples lies in one thread; a trailing partial batch is left out.
// Prepended with rng.wgsl. CPU twin: kernels::gumbel::{sample, rloo, moment_sums}.

struct Params {
    k: u32,
    n: u32,
    per_thread: u32,
    start: u32,
    seed: u32,
    stream: u32,
    tau: f32,
    baseline: f32,
    // 0: f(z) = Σ w z (linear), 1: f(z) = Σ w z² (quadratic).
    objective: u32,
    batch: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// logits[0..16], weights[16..32], probs[32..48]
@group(0) @binding(1) var<storage, read> vals: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

// ∇f(z)_j of the objective: w_j (linear) or 2 w_j z_j (quadratic).
fn objective_grad(j: u32, z: f32) -> f32 {
    if (p.objective == 1u) {
        return 2.0 * vals[16u + j] * z;
    }
    return vals[16u + j];
}

@compute @workgroup_size(64)
fn gumbel_moments(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    let first = t * p.per_thread;
    if (first >= p.n) {
        return;
    }
    let last = min(first + p.per_thread, p.n);
    let k = p.k;
    var acc: array<f32, 192>;
    var counts: array<f32, 16>;
    let inv_tau = 1.0 / p.tau;
    for (var i = first; i < last; i = i + 1u) {
        let base = (p.start + i) * k;
        var a: array<f32, 16>;
        var hard = 0u;
        for (var j = 0u; j < k; j = j + 1u) {
            let u = uniform_from_u32(rng_u32(p.seed, p.stream, base + j));
            a[j] = vals[j] + gumbel_from_uniform(u);
            if (a[j] > a[hard]) {
                hard = j;
            }
        }
        let s_max = a[hard] * inv_tau;
        var y: array<f32, 16>;
        var total = 0.0;
        for (var j = 0u; j < k; j = j + 1u) {
            y[j] = exp(a[j] * inv_tau - s_max);
            total = total + y[j];
        }
        for (var j = 0u; j < k; j = j + 1u) {
            y[j] = y[j] / total;
        }
        // Σ_k y_k ∇f(y)_k (Gumbel-Softmax) and Σ_k y_k ∇f(h)_k (straight-through).
        var yu_gs = 0.0;
        var yu_st = 0.0;
        for (var j = 0u; j < k; j = j + 1u) {
            yu_gs = yu_gs + y[j] * objective_grad(j, y[j]);
            yu_st = yu_st + y[j] * objective_grad(j, select(0.0, 1.0, j == hard));
        }
        // f(h) = w_h under both objectives (h is a vertex).
        let wh = vals[16u + hard];
        acc[hard] = acc[hard] + 1.0;
        counts[hard] = counts[hard] + 1.0;
        for (var j = 0u; j < k; j = j + 1u) {
            let onehot = select(0.0, 1.0, j == hard);
            let score = onehot - vals[32u + j];
            let rf = wh * score;
            let rfb = (wh - p.baseline) * score;
            let gs = inv_tau * y[j] * (objective_grad(j, y[j]) - yu_gs);
            let st = inv_tau * y[j] * (objective_grad(j, onehot) - yu_st);
            acc[k + j] = acc[k + j] + y[j];
            acc[2u * k + j] = acc[2u * k + j] + rf;
            acc[3u * k + j] = acc[3u * k + j] + rf * rf;
            acc[4u * k + j] = acc[4u * k + j] + rfb;
            acc[5u * k + j] = acc[5u * k + j] + rfb * rfb;
            acc[6u * k + j] = acc[6u * k + j] + gs;
            acc[7u * k + j] = acc[7u * k + j] + gs * gs;
            acc[8u * k + j] = acc[8u * k + j] + st;
            acc[9u * k + j] = acc[9u * k + j] + st * st;
        }
        // RLOO at the end of each batch: ĝ_j = c_j (w_j − S/B)/(B − 1), S = Σ c w.
        if ((i + 1u) % p.batch == 0u) {
            var s = 0.0;
            for (var j = 0u; j < k; j = j + 1u) {
                s = s + counts[j] * vals[16u + j];
            }
            let mean = s / f32(p.batch);
            let denom = f32(p.batch - 1u);
            for (var j = 0u; j < k; j = j + 1u) {
                let g = counts[j] * (vals[16u + j] - mean) / denom;
                acc[10u * k + j] = acc[10u * k + j] + g;
                acc[11u * k + j] = acc[11u * k + j] + g * g;
                counts[j] = 0.0;
            }
        }
    }
    let cols = 12u * k;
    for (var c = 0u; c < cols; c = c + 1u) {
        partial[t * cols + c] = acc[c];
    }
}
