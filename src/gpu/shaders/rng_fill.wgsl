// Fills four arrays with draws offset..offset+count of stream (seed, stream).
// Prepended with rng.wgsl. CPU twin: kernels::rng::draw.

struct Params {
    seed: u32,
    stream: u32,
    offset: u32,
    count: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out_u32: array<u32>;
@group(0) @binding(2) var<storage, read_write> out_uniform: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_normal: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_gumbel: array<f32>;

@compute @workgroup_size(256)
fn rng_fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= params.count) {
        return;
    }
    let x = rng_u32(params.seed, params.stream, params.offset + i);
    let u = uniform_from_u32(x);
    out_u32[i] = x;
    out_uniform[i] = u;
    out_normal[i] = normal_icdf(u);
    out_gumbel[i] = gumbel_from_uniform(u);
}
