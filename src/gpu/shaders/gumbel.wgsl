// Gumbel-Softmax moments: each thread draws `per_thread` samples and writes
// its f32 partial sums of the 8·K moment columns (see kernels/gumbel.rs).
// Prepended with rng.wgsl. CPU twin: kernels::gumbel::{sample, moment_sums}.

struct Params {
    k: u32,
    n: u32,
    per_thread: u32,
    start: u32,
    seed: u32,
    stream: u32,
    tau: f32,
    baseline: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
// logits[0..16], weights[16..32], probs[32..48]
@group(0) @binding(1) var<storage, read> vals: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn gumbel_moments(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    let first = t * p.per_thread;
    if (first >= p.n) {
        return;
    }
    let last = min(first + p.per_thread, p.n);
    let k = p.k;
    var acc: array<f32, 128>;
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
        var fy = 0.0;
        for (var j = 0u; j < k; j = j + 1u) {
            y[j] = y[j] / total;
            fy = fy + y[j] * vals[16u + j];
        }
        let wh = vals[16u + hard];
        acc[hard] = acc[hard] + 1.0;
        for (var j = 0u; j < k; j = j + 1u) {
            let score = select(0.0, 1.0, j == hard) - vals[32u + j];
            let rf = wh * score;
            let rfb = (wh - p.baseline) * score;
            let gs = inv_tau * y[j] * (vals[16u + j] - fy);
            acc[k + j] = acc[k + j] + y[j];
            acc[2u * k + j] = acc[2u * k + j] + rf;
            acc[3u * k + j] = acc[3u * k + j] + rf * rf;
            acc[4u * k + j] = acc[4u * k + j] + rfb;
            acc[5u * k + j] = acc[5u * k + j] + rfb * rfb;
            acc[6u * k + j] = acc[6u * k + j] + gs;
            acc[7u * k + j] = acc[7u * k + j] + gs * gs;
        }
    }
    let cols = 8u * k;
    for (var c = 0u; c < cols; c = c + 1u) {
        partial[t * cols + c] = acc[c];
    }
}
