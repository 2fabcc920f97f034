// Per-row loss and its gradient with respect to the outputs, batch-averaged.
// CPU twin: kernels::mlp::loss_and_grad.

struct Params {
    batch: u32,
    k: u32,
    smoothing: f32,
    maxsup: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_loss: array<f32>;

// Softmax cross-entropy against (1-ε)·onehot + ε/K (Szegedy et al. 2016)
// plus α·(max z − mean z) (MaxSup, Zhou et al. 2025).
@compute @workgroup_size(64)
fn cross_entropy(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.batch) {
        return;
    }
    let base = r * p.k;
    let kf = f32(p.k);
    var z_max = z[base];
    var arg_max = 0u;
    var z_sum = 0.0;
    for (var i = 0u; i < p.k; i = i + 1u) {
        let v = z[base + i];
        if (v > z_max) {
            z_max = v;
            arg_max = i;
        }
        z_sum = z_sum + v;
    }
    var sum_exp = 0.0;
    for (var i = 0u; i < p.k; i = i + 1u) {
        sum_exp = sum_exp + exp(z[base + i] - z_max);
    }
    let lse = z_max + log(sum_exp);
    let y = labels[r];
    let inv_b = 1.0 / f32(p.batch);
    var loss = p.maxsup * (z_max - z_sum / kf);
    for (var i = 0u; i < p.k; i = i + 1u) {
        let v = z[base + i];
        var q = p.smoothing / kf;
        if (i == y) {
            q = q + 1.0 - p.smoothing;
        }
        loss = loss - q * (v - lse);
        var g = exp(v - lse) - q - p.maxsup / kf;
        if (i == arg_max) {
            g = g + p.maxsup;
        }
        dz[base + i] = g * inv_b;
    }
    row_loss[r] = loss;
}

// Mean squared error over batch and output dimensions (Ho et al. 2020).
@compute @workgroup_size(64)
fn mean_squared_error(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= p.batch) {
        return;
    }
    let inv_n = 1.0 / (f32(p.batch) * f32(p.k));
    var loss = 0.0;
    for (var i = 0u; i < p.k; i = i + 1u) {
        let d = z[r * p.k + i] - values[r * p.k + i];
        loss = loss + d * d;
        dz[r * p.k + i] = (d + d) * inv_n;
    }
    row_loss[r] = loss / f32(p.k);
}
