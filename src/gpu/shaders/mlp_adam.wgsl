// The Adam/AdamW update. CPU twin: kernels::mlp::adam_step.

struct AdamParams {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    c1: f32,
    c2: f32,
}

@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

// Adam (Kingma & Ba 2015) with decoupled weight decay (Loshchilov & Hutter 2019).
@compute @workgroup_size(64)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 64u;
    if (i >= ap.n) {
        return;
    }
    let gi = g[i];
    let m = ap.beta1 * m1[i] + (1.0 - ap.beta1) * gi;
    let v = ap.beta2 * m2[i] + (1.0 - ap.beta2) * gi * gi;
    m1[i] = m;
    m2[i] = v;
    let update = (m * ap.c1) / (sqrt(v * ap.c2) + ap.eps) + ap.weight_decay * theta[i];
    theta[i] = theta[i] - ap.lr * update;
}
