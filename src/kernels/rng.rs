//! Counter-based randomness, written once here and once in `gpu/shaders/rng.wgsl`.
//!
//! A draw is a pure function of `(seed, stream, index)`, so the CPU and the
//! GPU produce the same variates for the same config, in any order, on any
//! number of threads. Every operation below is mirrored in WGSL with the same
//! f32 operation order; only `+ - * /`, bit casts and `sqrt` are used, so the
//! two agree to the last bit or within a few ulps (see `tests/gpu_rng.rs`).

/// Philox4x32 round multiplier 0 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
const PHILOX_M0: u32 = 0xD251_1F53;
/// Philox4x32 round multiplier 1 (Salmon et al. 2011).
const PHILOX_M1: u32 = 0xCD9E_8D57;
/// Philox key schedule increment 0, the golden ratio (Salmon et al. 2011).
const PHILOX_W0: u32 = 0x9E37_79B9;
/// Philox key schedule increment 1, sqrt(3) - 1 (Salmon et al. 2011).
const PHILOX_W1: u32 = 0xBB67_AE85;

/// High and low words of the 64-bit product `a * b`.
#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32-10 bijection of a 128-bit counter under a 64-bit key (Salmon et al., SC 2011).
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let (hi0, lo0) = mulhilo(PHILOX_M0, c[0]);
        let (hi1, lo1) = mulhilo(PHILOX_M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// Where a draw comes from: the user's seed and an independent stream id.
///
/// Streams separate the uses of randomness inside one experiment (data,
/// initial weights, minibatches, noise), so changing one never shifts another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngKey {
    pub seed: u32,
    pub stream: u32,
}

impl RngKey {
    pub const fn new(seed: u32, stream: u32) -> Self {
        Self { seed, stream }
    }

    /// The `index`-th 32-bit word of this stream: word `index % 4` of the
    /// Philox block at counter `(index / 4, 0, 0, 0)` keyed by `(seed, stream)`.
    #[inline]
    pub fn u32_at(self, index: u32) -> u32 {
        philox4x32_10([index >> 2, 0, 0, 0], [self.seed, self.stream])[(index & 3) as usize]
    }

    /// The `index`-th uniform variate of this stream, in the open interval (0, 1).
    #[inline]
    pub fn uniform_at(self, index: u32) -> f32 {
        uniform_from_u32(self.u32_at(index))
    }

    /// The `index`-th standard normal variate of this stream.
    #[inline]
    pub fn normal_at(self, index: u32) -> f32 {
        normal_icdf(self.uniform_at(index))
    }

    /// The `index`-th standard Gumbel(0, 1) variate of this stream.
    #[inline]
    pub fn gumbel_at(self, index: u32) -> f32 {
        gumbel_from_uniform(self.uniform_at(index))
    }
}

/// 2^-23: the spacing of the uniform grid.
const TWO_POW_M23: f32 = 1.192_092_9e-7;

/// Maps 32 random bits to `(j + 1/2) / 2^23` with `j` their top 23 bits:
/// exact in f32, strictly inside (0, 1), and symmetric (`1 - u` is on the grid too).
#[inline(always)]
pub fn uniform_from_u32(x: u32) -> f32 {
    ((x >> 9) as f32 + 0.5) * TWO_POW_M23
}

// The constants below are written exactly as in their sources (and in the
// WGSL twin); both compilers round them to the same f32.
/// ln 2, high part, 0x3f317180 (musl `logf`, from Sun's fdlibm).
#[allow(clippy::excessive_precision)]
const LN2_HI: f32 = 6.9313812256e-01;
/// ln 2, low part, 0x3717f7d1 (musl `logf`).
#[allow(clippy::excessive_precision)]
const LN2_LO: f32 = 9.0580006145e-06;
/// Minimax coefficients of (log(1+s) - log(1-s))/s (musl `logf`, error < 2^-34.24).
#[allow(clippy::excessive_precision)]
const LG1: f32 = 0.66666662693;
#[allow(clippy::excessive_precision)]
const LG2: f32 = 0.40000972152;
#[allow(clippy::excessive_precision)]
const LG3: f32 = 0.28498786688;
#[allow(clippy::excessive_precision)]
const LG4: f32 = 0.24279078841;

/// Natural logarithm of a positive normal f32, < 1 ulp (musl/fdlibm `logf`).
///
/// Written out instead of calling `f32::ln` so the WGSL twin performs the
/// identical operations: GPU `log` builtins only promise a few ulps and
/// differ between drivers.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    // Reduce x to m * 2^k with m in [sqrt(2)/2, sqrt(2)).
    let mut ix = x.to_bits();
    ix = ix.wrapping_add(0x3f80_0000 - 0x3f35_04f3);
    let k = (ix >> 23) as i32 - 0x7f;
    ix = (ix & 0x007f_ffff) + 0x3f35_04f3;
    let m = f32::from_bits(ix);
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let dk = k as f32;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

/// Standard normal quantile Φ⁻¹(p), relative error ~1e-7 (Wichura, "Algorithm AS 241", Appl. Stat. 1988, PPND7).
///
/// Coefficients are the paper's, digit for digit.
#[inline(always)]
#[allow(clippy::excessive_precision)]
pub fn normal_icdf(p: f32) -> f32 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((5.9109374720e+01 * r + 1.5929113202e+02) * r + 5.0434271938e+01) * r
                + 3.3871327179e+00)
            / (((6.7187563600e+01 * r + 7.8757757664e+01) * r + 1.7895169469e+01) * r + 1.0);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let mut r = (-ln_f32(tail)).sqrt();
    let z = if r <= 5.0 {
        r -= 1.6;
        (((1.7023821103e-01 * r + 1.3067284816e+00) * r + 2.7568153900e+00) * r + 1.4234372777e+00)
            / ((1.2021132975e-01 * r + 7.3700164250e-01) * r + 1.0)
    } else {
        r -= 5.0;
        (((1.7337203997e-02 * r + 4.2868294337e-01) * r + 3.0812263860e+00) * r + 6.6579051150e+00)
            / ((1.2258202635e-02 * r + 2.4197894225e-01) * r + 1.0)
    };
    if q < 0.0 { -z } else { z }
}

/// Gumbel(0, 1) by inversion, g = -ln(-ln u) (Gumbel, "Statistical Theory of Extreme Values", 1954).
#[inline(always)]
pub fn gumbel_from_uniform(u: f32) -> f32 {
    -ln_f32(-ln_f32(u))
}

/// Standard normal density φ(x) (Gauss; any statistics text).
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Gumbel(0, 1) density exp(-(x + e^-x)) (Gumbel 1954).
pub fn gumbel_pdf(x: f64) -> f64 {
    (-(x + (-x).exp())).exp()
}

/// Gumbel(0, 1) distribution function exp(-e^-x) (Gumbel 1954).
pub fn gumbel_cdf(x: f64) -> f64 {
    (-(-x).exp()).exp()
}

/// Draws `offset..offset + count` of one stream, as raw words and the three variates.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct RngDraws {
    pub u32: Vec<u32>,
    pub uniform: Vec<f32>,
    pub normal: Vec<f32>,
    pub gumbel: Vec<f32>,
}

/// Draws one core takes at a time in [`draw`].
const DRAW_BLOCK: usize = 1 << 15;

/// CPU twin of the `rng_fill` WGSL kernel. Each draw is its own counter's,
/// so blocks of them are filled on the cores natively.
pub fn draw(key: RngKey, offset: u32, count: u32) -> RngDraws {
    let n = count as usize;
    let mut d = RngDraws {
        u32: vec![0; n],
        uniform: vec![0.0; n],
        normal: vec![0.0; n],
        gumbel: vec![0.0; n],
    };
    let mut blocks: Vec<_> = d
        .u32
        .chunks_mut(DRAW_BLOCK)
        .zip(d.uniform.chunks_mut(DRAW_BLOCK))
        .zip(d.normal.chunks_mut(DRAW_BLOCK))
        .zip(d.gumbel.chunks_mut(DRAW_BLOCK))
        .collect();
    super::par::map_mut(&mut blocks, |b, (((words, uniform), normal), gumbel)| {
        let start = offset.wrapping_add((b * DRAW_BLOCK) as u32);
        for (j, w) in words.iter_mut().enumerate() {
            let x = key.u32_at(start.wrapping_add(j as u32));
            let u = uniform_from_u32(x);
            *w = x;
            uniform[j] = u;
            normal[j] = normal_icdf(u);
            gumbel[j] = gumbel_from_uniform(u);
        }
    });
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors from Random123's `kat_vectors` (philox4x32, 10 rounds): exact.
    #[test]
    fn philox_known_answers() {
        assert_eq!(
            philox4x32_10([0, 0, 0, 0], [0, 0]),
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
                [0xa4093822, 0x299f31d0]
            ),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    /// The uniform grid is exact, open and symmetric.
    #[test]
    fn uniform_grid_is_open_and_symmetric() {
        assert_eq!(uniform_from_u32(0), 0.5 * TWO_POW_M23);
        assert_eq!(uniform_from_u32(u32::MAX), 1.0 - 0.5 * TWO_POW_M23);
        for x in [0u32, 1 << 9, 12345 << 9, u32::MAX] {
            let u = uniform_from_u32(x);
            assert!(u > 0.0 && u < 1.0);
            assert_eq!(
                1.0 - u,
                uniform_from_u32(!x),
                "1 - u is the mirrored grid point"
            );
        }
    }

    /// `ln_f32` within 1 ulp of the correctly rounded f64 logarithm over the domain the variates use.
    #[test]
    fn ln_f32_is_within_one_ulp() {
        let mut x = 0.5 * TWO_POW_M23;
        while x < 20.0 {
            let exact = f64::from(x).ln();
            let got = f64::from(ln_f32(x));
            let ulp = f64::from(f32::EPSILON) * exact.abs().max(f64::from(f32::MIN_POSITIVE));
            assert!((got - exact).abs() <= ulp, "ln({x}) = {got}, exact {exact}");
            x *= 1.000_37;
        }
    }
}
