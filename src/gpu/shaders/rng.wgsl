// Counter-based randomness: the WGSL twin of src/kernels/rng.rs.
// Every function performs the same f32 operations in the same order as its
// Rust twin; keep the two files in step (tests/gpu_rng.rs holds them equal).

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// (hi, lo) words of the 64-bit product a * b, from 16-bit halves (WGSL has no u64).
fn mulhilo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = counter;
    var k = key;
    for (var round = 0u; round < 10u; round = round + 1u) {
        if (round > 0u) {
            k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        let p0 = mulhilo(PHILOX_M0, c.x);
        let p1 = mulhilo(PHILOX_M1, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    }
    return c;
}

// Word `index` of stream (seed, stream): lane index % 4 of block index / 4.
fn rng_u32(seed: u32, stream: u32, index: u32) -> u32 {
    let block = philox4x32_10(vec4<u32>(index >> 2u, 0u, 0u, 0u), vec2<u32>(seed, stream));
    return block[index & 3u];
}

// (j + 1/2) / 2^23 with j the top 23 bits: exact, strictly inside (0, 1).
fn uniform_from_u32(x: u32) -> f32 {
    return (f32(x >> 9u) + 0.5) * 1.1920929e-7;
}

// Natural log of a positive normal f32 (musl / fdlibm logf).
fn ln_f32(x: f32) -> f32 {
    var ix = bitcast<u32>(x);
    ix = ix + (0x3f800000u - 0x3f3504f3u);
    let k = i32(ix >> 23u) - 0x7f;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    let m = bitcast<f32>(ix);
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (0.40000972152 + w * 0.24279078841);
    let t2 = z * (0.66666662693 + w * 0.28498786688);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let dk = f32(k);
    return s * (hfsq + r) + dk * 9.0580006145e-06 - hfsq + f + dk * 6.9313812256e-01;
}

// Standard normal quantile (Wichura, "Algorithm AS 241", Appl. Stat. 1988, PPND7).
fn normal_icdf(p: f32) -> f32 {
    let q = p - 0.5;
    if (abs(q) <= 0.425) {
        let r = 0.180625 - q * q;
        return q * (((5.9109374720e+01 * r + 1.5929113202e+02) * r + 5.0434271938e+01) * r
            + 3.3871327179e+00)
            / (((6.7187563600e+01 * r + 7.8757757664e+01) * r + 1.7895169469e+01) * r + 1.0);
    }
    var tail = 1.0 - p;
    if (q < 0.0) {
        tail = p;
    }
    var r = sqrt(-ln_f32(tail));
    var z: f32;
    if (r <= 5.0) {
        r = r - 1.6;
        z = (((1.7023821103e-01 * r + 1.3067284816e+00) * r + 2.7568153900e+00) * r
            + 1.4234372777e+00)
            / ((1.2021132975e-01 * r + 7.3700164250e-01) * r + 1.0);
    } else {
        r = r - 5.0;
        z = (((1.7337203997e-02 * r + 4.2868294337e-01) * r + 3.0812263860e+00) * r
            + 6.6579051150e+00)
            / ((1.2258202635e-02 * r + 2.4197894225e-01) * r + 1.0);
    }
    if (q < 0.0) {
        return -z;
    }
    return z;
}

// Gumbel(0, 1) by inversion (Gumbel 1954).
fn gumbel_from_uniform(u: f32) -> f32 {
    return -ln_f32(-ln_f32(u));
}
