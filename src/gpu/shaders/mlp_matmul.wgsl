// Tiled matrix product C = A·B with a fused epilogue: the three products of
// an MLP layer (forward, backward to the input, backward to the weights).
// CPU twins: kernels::mlp::{forward, backward}.
//
// A[m][k] = a[a_off + m*a_sm + k*a_sk], B[k][n] = b[b_off + k*b_sk + n*b_sn],
// C[m][n] = c[c_off + m*c_sm + n]. The k-sum runs in order 0..K.
//   mode 0 (forward):       Z = acc + bias[n] -> c;  φ(Z) -> c2   (aux = bias at aux_off)
//   mode 1 (backward data): c = acc · φ'(aux[aux_off + m*c_sm + n])  (aux = previous Z)
//   mode 2 (weight grad):   c = acc

struct Params {
    m: u32, n: u32, k: u32, mode: u32,
    a_off: u32, a_sm: u32, a_sk: u32, act: u32,
    b_off: u32, b_sk: u32, b_sn: u32, aux_off: u32,
    c_off: u32, c_sm: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> aux: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> c2: array<f32>;

const TILE: u32 = 16u;
var<workgroup> ta: array<array<f32, 16>, 16>;
var<workgroup> tb: array<array<f32, 16>, 16>;

// act: 0 identity, 1 ReLU, 2 SiLU, 3 tanh.
fn activate(act: u32, z: f32) -> f32 {
    switch act {
        case 1u: { return max(z, 0.0); }
        case 2u: { return z / (1.0 + exp(-z)); }
        case 3u: { return tanh(z); }
        default: { return z; }
    }
}

fn activate_grad(act: u32, z: f32) -> f32 {
    switch act {
        case 1u: { return select(0.0, 1.0, z > 0.0); }
        case 2u: {
            let s = 1.0 / (1.0 + exp(-z));
            return s * (1.0 + z * (1.0 - s));
        }
        case 3u: {
            let t = tanh(z);
            return 1.0 - t * t;
        }
        default: { return 1.0; }
    }
}

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wg.y * TILE + lid.y;
    let col = wg.x * TILE + lid.x;
    var acc = 0.0;
    let tiles = (p.k + TILE - 1u) / TILE;
    for (var t = 0u; t < tiles; t = t + 1u) {
        let ka = t * TILE + lid.x;
        var va = 0.0;
        if (row < p.m && ka < p.k) {
            va = a[p.a_off + row * p.a_sm + ka * p.a_sk];
        }
        ta[lid.y][lid.x] = va;
        let kb = t * TILE + lid.y;
        var vb = 0.0;
        if (col < p.n && kb < p.k) {
            vb = b[p.b_off + kb * p.b_sk + col * p.b_sn];
        }
        tb[lid.y][lid.x] = vb;
        workgroupBarrier();
        let kmax = min(TILE, p.k - t * TILE);
        for (var kk = 0u; kk < kmax; kk = kk + 1u) {
            acc = acc + ta[lid.y][kk] * tb[kk][lid.x];
        }
        workgroupBarrier();
    }
    if (row >= p.m || col >= p.n) {
        return;
    }
    let at = row * p.c_sm + col;
    switch p.mode {
        case 0u: {
            let z = acc + aux[p.aux_off + col];
            c[p.c_off + at] = z;
            c2[at] = activate(p.act, z);
        }
        case 1u: {
            c[p.c_off + at] = acc * activate_grad(p.act, aux[p.aux_off + at]);
        }
        default: {
            c[p.c_off + at] = acc;
        }
    }
}
