// Bias gradients: column sums of dZ. CPU twin: kernels::mlp::backward.

struct BiasParams {
    batch: u32,
    n: u32,
    off: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> bp: BiasParams;
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let o = gid.x;
    if (o >= bp.n) {
        return;
    }
    var s = 0.0;
    for (var r = 0u; r < bp.batch; r = r + 1u) {
        s = s + dz[r * bp.n + o];
    }
    grads[bp.off + o] = s;
}
