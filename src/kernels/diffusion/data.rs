//! The 2D data sets the diffusion widget samples. Point `i` of a built-in
//! set is a pure function of `(id, seed, i)` (the convention of
//! [`crate::kernels::datasets`]): the training set is points `0..n`, and
//! "fresh" data for the metrics are points from [`FRESH_OFFSET`] on.

use std::f32::consts::PI;

use super::score::Mixture;
use crate::kernels::datasets::{self, DatasetId};
use crate::kernels::rng::RngKey;

crate::param_enum! {
    /// A 2D data set to diffuse.
    pub enum DiffusionData {
        /// Eight labelled Gaussians on the unit circle.
        Gmm8 = "gmm8",
        /// scikit-learn's make_swiss_roll, projected to 2D.
        Swissroll = "swissroll",
        /// scikit-learn's two labelled moons.
        Moons = "moons",
        /// Eight squares of a 4×4 checkerboard.
        Checkerboard = "checkerboard",
        /// Three labelled concentric rings.
        Rings = "rings",
        /// A Gaussian mixture whose components the reader places.
        Custom = "custom",
        /// Points the reader draws (kept in the browser's storage).
        Drawn = "drawn",
        /// The standard normal N(0, I): everything about sampling it is exact.
        Gaussian = "gaussian",
    }
}

/// The RNG stream of the built-in sets.
pub const DIFFUSION_DATA_STREAM: u32 = 0x0000_D1FD;
/// First index of the "fresh" points the metrics compare against.
pub const FRESH_OFFSET: u32 = 1 << 28;
/// RNG words reserved per point.
const WORDS: u32 = 4;

/// Radius of the gmm8 circle and the standard deviation of each component.
pub const GMM8_RADIUS: f32 = 1.0;
pub const GMM8_STD: f32 = 0.1;
/// Ring radii of `rings` and their Gaussian noise.
pub const RING_RADII: [f32; 3] = [0.35, 0.75, 1.15];
pub const RING_NOISE: f32 = 0.03;
/// Noise of the swiss roll, in its 2D units.
pub const SWISS_NOISE: f32 = 0.02;
/// Most reader-drawn points kept.
pub const MAX_DRAWN_POINTS: usize = 4096;

/// Labelled 2D points.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PointSet {
    pub points: Vec<[f32; 2]>,
    pub classes: Vec<u32>,
    /// Number of classes (0 for an unlabelled set).
    pub class_count: usize,
}

/// A reader-placed mixture: components N(μ_k, s²I) of equal weight, each its own class.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMixture {
    pub means: Vec<[f32; 2]>,
    pub std: f32,
}

impl DiffusionData {
    /// Classes of the set (0 = unlabelled; the custom mixture labels each component).
    pub fn class_count(self, custom: &CustomMixture) -> usize {
        match self {
            DiffusionData::Gmm8 => 8,
            DiffusionData::Moons => 2,
            DiffusionData::Rings => 3,
            DiffusionData::Custom => custom.means.len(),
            DiffusionData::Swissroll
            | DiffusionData::Checkerboard
            | DiffusionData::Drawn
            | DiffusionData::Gaussian => 0,
        }
    }

    /// The exact mixture, for the sets that are one (`gaussian`: one
    /// component N(0, I), whose posterior mean is D = y/(1 + σ²)).
    pub fn mixture(self, custom: &CustomMixture) -> Option<Mixture> {
        let (means, std): (Vec<[f32; 2]>, f32) = match self {
            DiffusionData::Gmm8 => ((0..8).map(gmm8_mean).collect(), GMM8_STD),
            DiffusionData::Custom => (custom.means.clone(), custom.std),
            DiffusionData::Gaussian => (vec![[0.0, 0.0]], 1.0),
            _ => return None,
        };
        Some(Mixture {
            log_weights: vec![0.0; means.len()],
            classes: (0..means.len() as u32).collect(),
            var: std * std,
            means,
        })
    }

    /// Points `start..start + n` (with their classes) of a built-in or custom set.
    /// Drawn sets have no generator: this returns an empty set for them.
    pub fn points(self, seed: u32, start: u32, n: usize, custom: &CustomMixture) -> PointSet {
        let key = RngKey::new(seed, DIFFUSION_DATA_STREAM);
        let classes = self.class_count(custom);
        let mut out = PointSet {
            class_count: classes,
            ..PointSet::default()
        };
        if self == DiffusionData::Drawn || (self == DiffusionData::Custom && classes == 0) {
            return out;
        }
        for j in 0..n as u32 {
            let i = start.wrapping_add(j);
            let base = i.wrapping_mul(WORDS);
            let u = |w: u32| key.uniform_at(base.wrapping_add(w));
            let z = |w: u32| key.normal_at(base.wrapping_add(w));
            let k = if classes > 0 { i % classes as u32 } else { 0 };
            let p = match self {
                DiffusionData::Gmm8 => {
                    let m = gmm8_mean(k);
                    [m[0] + GMM8_STD * z(0), m[1] + GMM8_STD * z(1)]
                }
                DiffusionData::Custom => {
                    let m = custom.means[k as usize];
                    [m[0] + custom.std * z(0), m[1] + custom.std * z(1)]
                }
                DiffusionData::Moons => {
                    let (p, _) = datasets::point(DatasetId::Moons, seed, i);
                    p
                }
                DiffusionData::Swissroll => swiss_roll(u(0), z(1), z(2)),
                DiffusionData::Gaussian => [z(0), z(1)],
                DiffusionData::Checkerboard => checkerboard(u(0), u(1), u(2)),
                DiffusionData::Rings => {
                    let r = RING_RADII[k as usize] + RING_NOISE * z(1);
                    let (s, c) = (2.0 * PI * u(0)).sin_cos();
                    [r * c, r * s]
                }
                DiffusionData::Drawn => unreachable!("handled above"),
            };
            out.points.push(p);
            out.classes.push(k);
        }
        out
    }
}

/// Centre of gmm8 component k: angle 2πk/8 on the circle of radius 1.
pub fn gmm8_mean(k: u32) -> [f32; 2] {
    let (s, c) = (2.0 * PI * k as f32 / 8.0).sin_cos();
    [GMM8_RADIUS * c, GMM8_RADIUS * s]
}

/// make_swiss_roll (Pedregosa et al., JMLR 2011): t = 1.5π(1 + 2u), (t cos t, t sin t),
/// scaled by 1/10 into about [−1.3, 1.5]².
fn swiss_roll(u: f32, z0: f32, z1: f32) -> [f32; 2] {
    let t = 1.5 * PI * (1.0 + 2.0 * u);
    let (s, c) = t.sin_cos();
    [
        t * c / 10.0 + SWISS_NOISE * z0,
        t * s / 10.0 + SWISS_NOISE * z1,
    ]
}

/// Uniform on the 8 black squares of a 4×4 board on [−1, 1]²: a column from
/// u0, a row of matching parity from u1, a position inside from u2 (and u0's remainder).
fn checkerboard(u0: f32, u1: f32, u2: f32) -> [f32; 2] {
    let cx = (u0 * 4.0).floor().min(3.0);
    let fx = u0 * 4.0 - cx;
    let row_pair = (u1 * 2.0).floor().min(1.0);
    let cy = 2.0 * row_pair + (cx as i32 % 2) as f32;
    [-1.0 + 0.5 * (cx + fx), -1.0 + 0.5 * (cy + u2)]
}

/// Parses and bounds reader-drawn points: finite, inside [−3, 3]², at most
/// [`MAX_DRAWN_POINTS`]. Anything else is dropped and counted.
pub fn sanitize_drawn(points: &[[f32; 2]]) -> (Vec<[f32; 2]>, usize) {
    let ok: Vec<[f32; 2]> = points
        .iter()
        .copied()
        .filter(|p| p.iter().all(|c| c.is_finite() && c.abs() <= 3.0))
        .take(MAX_DRAWN_POINTS)
        .collect();
    let dropped = points.len() - ok.len();
    (ok, dropped)
}
