//! Seeded 2D toy classification datasets.
//!
//! Point `i` of a dataset is a pure function of `(id, seed, i)`: it reads only
//! the words `8 i .. 8 i + 7` of the stream [`DATA_STREAM`] under `seed`
//! (see [`RngKey`]), so adding points never moves the earlier ones, and the
//! test split is simply the points after the training split. Labels are
//! `i % classes`, so every prefix is balanced to within one point.
//!
//! Indices wrap modulo 2^32 words, so a dataset holds at most 2^29 distinct
//! points; all of them lie roughly inside `[-1.5, 1.5]²` (a normal variate of
//! this RNG never exceeds 5.5 in magnitude, so every point is within `[-3, 3]²`).

use super::rng::RngKey;
use std::f32::consts::PI;

crate::param_enum! {
    /// A 2D classification dataset.
    pub enum DatasetId {
        Blobs3 = "blobs3",
        Spirals3 = "spirals3",
        Moons = "moons",
        Circles = "circles",
        Gauss8 = "gauss8",
    }
}

/// The [`RngKey`] stream that datasets draw from.
pub const DATA_STREAM: u32 = 0x0000_D474;

/// RNG words reserved for each point (not all are used).
pub const WORDS_PER_POINT: u32 = 8;

/// Standard deviation of each blob (isotropic).
pub const BLOB_STD: f32 = 0.25;
/// Radius of the circle the blob centres lie on.
pub const BLOB_RADIUS: f32 = 1.0;
/// Total turn of a spiral arm from its centre to its tip, in radians.
pub const SPIRAL_TURN: f32 = 7.0;
/// Standard deviation of the angular noise of a spiral, in radians.
pub const SPIRAL_ANGLE_STD: f32 = 0.12;
/// Gaussian noise of the moons, in the units of scikit-learn's unit half circles.
pub const MOONS_NOISE: f32 = 0.1;
/// Radii of the outer (class 0) and inner (class 1) circles.
pub const CIRCLE_RADII: [f32; 2] = [1.0, 0.5];
/// Gaussian noise of the circles.
pub const CIRCLES_NOISE: f32 = 0.08;
/// Standard deviation of each of the eight overlapping Gaussians of `gauss8`
/// (isotropic). Chosen so that the Bayes classifier (the nearest centre) is
/// about 80 % accurate: a hard, many-class set on which a small MLP must be
/// uncertain.
pub const GAUSS8_STD: f32 = 0.3;
/// Radius of the circle the eight `gauss8` centres lie on.
pub const GAUSS8_RADIUS: f32 = 1.0;
/// The [`RngKey`] stream of training-label noise (see [`flip_labels`]).
pub const LABEL_NOISE_STREAM: u32 = 0x0000_F11B;

/// A labelled point set.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dataset {
    /// Coordinates, `len() × 2` row-major.
    pub x: Vec<f32>,
    /// Class of every point, in `0..classes`.
    pub y: Vec<u32>,
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Coordinates of point `i` (panics if `i >= len()`).
    pub fn point(&self, i: usize) -> [f32; 2] {
        [self.x[2 * i], self.x[2 * i + 1]]
    }
}

/// A training set and a disjoint test set drawn from the same distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

impl DatasetId {
    /// Number of classes.
    pub fn classes(self) -> usize {
        match self {
            DatasetId::Blobs3 | DatasetId::Spirals3 => 3,
            DatasetId::Moons | DatasetId::Circles => 2,
            DatasetId::Gauss8 => 8,
        }
    }
}

/// Centre of blob `k`: on the circle of radius [`BLOB_RADIUS`] at 90° + 120° k
/// (the three-centre layout of scikit-learn's make_blobs demos, Pedregosa et al., JMLR 2011).
pub fn blob_centre(k: u32) -> [f32; 2] {
    let angle = PI / 2.0 + 2.0 * PI / 3.0 * k as f32;
    let (s, c) = angle.sin_cos();
    [BLOB_RADIUS * c, BLOB_RADIUS * s]
}

/// Point `i` (global index) of a dataset and its class: a pure function of `(id, seed, i)`.
///
/// Uses only the words `8 i .. 8 i + 7` of `RngKey::new(seed, DATA_STREAM)`.
pub fn point(id: DatasetId, seed: u32, i: u32) -> ([f32; 2], u32) {
    let key = RngKey::new(seed, DATA_STREAM);
    let base = i.wrapping_mul(WORDS_PER_POINT);
    let uniform = |j: u32| key.uniform_at(base.wrapping_add(j));
    let normal = |j: u32| key.normal_at(base.wrapping_add(j));
    let k = i % id.classes() as u32;
    let p = match id {
        DatasetId::Blobs3 => blobs3(k, normal(0), normal(1)),
        DatasetId::Spirals3 => spirals3(k, uniform(0), normal(1)),
        DatasetId::Moons => moons(k, uniform(0), normal(1), normal(2)),
        DatasetId::Circles => circles(k, uniform(0), normal(1), normal(2)),
        DatasetId::Gauss8 => gauss8(k, normal(0), normal(1)),
    };
    (p, k)
}

/// Isotropic Gaussian blob: `centre_k + 0.25 (z0, z1)` (scikit-learn make_blobs, Pedregosa et al., JMLR 2011).
fn blobs3(k: u32, z0: f32, z1: f32) -> [f32; 2] {
    let [cx, cy] = blob_centre(k);
    [cx + BLOB_STD * z0, cy + BLOB_STD * z1]
}

/// Spiral arm `k` (CS231n spiral data, Karpathy): `r = u`,
/// `θ = 2πk/3 + 7 r + 0.12 z`, point `r (cos θ, sin θ)`.
///
/// Arm tips lie on the unit circle. Neighbouring arms are `2π/3` apart in
/// angle at every radius (`(2π/3)/7 ≈ 0.3` apart radially), so the noise
/// (0.12 rad) leaves a wide margin everywhere except within a few hundredths of
/// the centre: clearly separable, but only by a nonlinear boundary that winds
/// more than a full turn.
fn spirals3(k: u32, u: f32, z: f32) -> [f32; 2] {
    let r = u;
    let theta = 2.0 * PI / 3.0 * k as f32 + SPIRAL_TURN * r + SPIRAL_ANGLE_STD * z;
    let (s, c) = theta.sin_cos();
    [r * c, r * s]
}

/// Two interleaving half circles (scikit-learn make_moons, Pedregosa et al., JMLR 2011):
/// class 0 `(cos t, sin t)`, class 1 `(1 - cos t, 1 - sin t - 0.5)`, `t = π u`,
/// plus Gaussian noise 0.1, shifted by `(-0.5, -0.25)` so the pair is centred
/// (x in about [-1.5, 1.5], y in about [-0.75, 0.75]).
fn moons(k: u32, u: f32, z0: f32, z1: f32) -> [f32; 2] {
    let (s, c) = (PI * u).sin_cos();
    let [x, y] = if k == 0 {
        [c, s]
    } else {
        [1.0 - c, 1.0 - s - 0.5]
    };
    [x - 0.5 + MOONS_NOISE * z0, y - 0.25 + MOONS_NOISE * z1]
}

/// Two concentric circles, radii 1 (class 0) and 0.5 (class 1), angle `2π u`,
/// plus Gaussian noise 0.08 (scikit-learn make_circles with factor 0.5, Pedregosa et al., JMLR 2011).
fn circles(k: u32, u: f32, z0: f32, z1: f32) -> [f32; 2] {
    let r = CIRCLE_RADII[k as usize];
    let (s, c) = (2.0 * PI * u).sin_cos();
    [r * c + CIRCLES_NOISE * z0, r * s + CIRCLES_NOISE * z1]
}

/// Centre of `gauss8` class `k`: on the circle of radius [`GAUSS8_RADIUS`] at angle 2πk/8.
pub fn gauss8_centre(k: u32) -> [f32; 2] {
    let (s, c) = (2.0 * PI / 8.0 * k as f32).sin_cos();
    [GAUSS8_RADIUS * c, GAUSS8_RADIUS * s]
}

/// Eight overlapping isotropic Gaussians: `centre_k + 0.3 (z0, z1)`, centres
/// 2 sin(π/8) ≈ 0.77 apart (a Gaussian mixture in the style of scikit-learn
/// make_blobs, Pedregosa et al., JMLR 2011). Neighbours overlap, so even the
/// Bayes classifier errs on about 20 % of the points.
fn gauss8(k: u32, z0: f32, z1: f32) -> [f32; 2] {
    let [cx, cy] = gauss8_centre(k);
    [cx + GAUSS8_STD * z0, cy + GAUSS8_STD * z1]
}

/// Symmetric label noise: point `start + j` of `d` (global index `i`) keeps
/// its label unless `u_i < fraction`, and then gets one of the other
/// `classes − 1` labels uniformly at random. `u_i` and the choice are words
/// `2i` and `2i + 1` of `RngKey::new(seed, LABEL_NOISE_STREAM)`, so a label's
/// fate depends only on `(seed, i)` (the uniform-flip noise model of
/// Natarajan et al., "Learning with Noisy Labels", NeurIPS 2013).
pub fn flip_labels(d: &mut Dataset, seed: u32, start: usize, fraction: f32) {
    let k = d.classes as u32;
    if k < 2 || fraction <= 0.0 {
        return;
    }
    let key = RngKey::new(seed, LABEL_NOISE_STREAM);
    for (j, y) in d.y.iter_mut().enumerate() {
        let i = (start + j) as u32;
        if key.uniform_at(i.wrapping_mul(2)) < fraction {
            let shift = 1 + key.u32_at(i.wrapping_mul(2).wrapping_add(1)) % (k - 1);
            *y = (*y + shift) % k;
        }
    }
}

/// Points `start .. start + n` of a dataset.
fn range(id: DatasetId, seed: u32, start: usize, n: usize) -> Dataset {
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for i in start..start + n {
        // Global indices wrap modulo 2^32 (documented in the module comment).
        let (p, k) = point(id, seed, i as u32);
        x.extend_from_slice(&p);
        y.push(k);
    }
    Dataset {
        x,
        y,
        classes: id.classes(),
    }
}

/// Train = points `0..n_train`, test = points `n_train..n_train + n_test`.
pub fn generate(id: DatasetId, seed: u32, n_train: usize, n_test: usize) -> Split {
    Split {
        train: range(id, seed, 0, n_train),
        test: range(id, seed, n_train, n_test),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: u32 = 12345;

    #[test]
    fn same_seed_gives_identical_datasets() {
        for &id in DatasetId::ALL {
            assert_eq!(generate(id, SEED, 300, 100), generate(id, SEED, 300, 100));
        }
    }

    #[test]
    fn different_seeds_differ() {
        for &id in DatasetId::ALL {
            let a = generate(id, 1, 300, 100);
            let b = generate(id, 2, 300, 100);
            assert_ne!(a.train.x, b.train.x, "{id}");
            assert_ne!(a.test.x, b.test.x, "{id}");
        }
    }

    /// The test split continues the index range of the training split, and a
    /// point never depends on how many points are drawn.
    #[test]
    fn train_and_test_are_disjoint_index_ranges() {
        for &id in DatasetId::ALL {
            let n_train = 257;
            let s = generate(id, SEED, n_train, 50);
            let (p, k) = point(id, SEED, n_train as u32);
            assert_eq!(s.test.point(0), p, "{id}");
            assert_eq!(s.test.y[0], k, "{id}");
            let longer = generate(id, SEED, n_train + 50, 0);
            assert_eq!(longer.train.x[..2 * n_train], s.train.x[..], "{id}");
            assert_eq!(longer.train.x[2 * n_train..], s.test.x[..], "{id}");
            assert_eq!(longer.train.y[n_train..], s.test.y[..], "{id}");
        }
    }

    #[test]
    fn labels_are_balanced() {
        for &id in DatasetId::ALL {
            for n in [0, 1, 2, 3, 100, 301] {
                let d = generate(id, SEED, n, 0).train;
                assert_eq!(d.len(), n);
                assert_eq!(d.x.len(), 2 * n);
                assert_eq!(d.is_empty(), n == 0);
                let mut counts = vec![0usize; id.classes()];
                for &k in &d.y {
                    counts[k as usize] += 1;
                }
                let (lo, hi) = (counts.iter().min(), counts.iter().max());
                assert!(hi.unwrap() - lo.unwrap() <= 1, "{id} n={n}: {counts:?}");
            }
        }
    }

    #[test]
    fn coordinates_are_finite_and_bounded() {
        for &id in DatasetId::ALL {
            for seed in [0, 1, u32::MAX] {
                let d = generate(id, seed, 5000, 0).train;
                assert!(
                    d.x.iter().all(|v| v.is_finite() && v.abs() <= 3.0),
                    "{id} seed {seed}"
                );
            }
        }
    }

    /// Each class mean is within 0.05 of its centre for 1000 points per class:
    /// the standard error of a mean coordinate is 0.25 / sqrt(1000) ≈ 0.008,
    /// so 0.05 is about 6 SE (a false failure has probability ~1e-9 per coordinate).
    #[test]
    fn blob_means_match_centres() {
        let d = generate(DatasetId::Blobs3, SEED, 3000, 0).train;
        let mut sums = [[0.0f64; 2]; 3];
        let mut counts = [0usize; 3];
        for i in 0..d.len() {
            let [x, y] = d.point(i);
            let k = d.y[i] as usize;
            sums[k][0] += f64::from(x);
            sums[k][1] += f64::from(y);
            counts[k] += 1;
        }
        for k in 0..3 {
            assert_eq!(counts[k], 1000);
            let c = blob_centre(k as u32);
            for j in 0..2 {
                let mean = sums[k][j] / counts[k] as f64;
                assert!(
                    (mean - f64::from(c[j])).abs() < 0.05,
                    "class {k} coordinate {j}: mean {mean}, centre {}",
                    c[j]
                );
            }
        }
        assert!((blob_centre(0)[0]).abs() < 1e-6 && (blob_centre(0)[1] - 1.0).abs() < 1e-6);
    }

    /// Every dataset is nonlinearly but clearly separable: 5-nearest-neighbour
    /// classification of 600 test points from 3000 training points is ≥ 95 %
    /// accurate (a cheap stand-in for the small MLP these sets are made for).
    #[test]
    fn datasets_are_separable_by_nearest_neighbours() {
        for &id in DatasetId::ALL.iter().filter(|&&id| id != DatasetId::Gauss8) {
            let s = generate(id, SEED, 3000, 600);
            let mut correct = 0;
            for t in 0..s.test.len() {
                let [qx, qy] = s.test.point(t);
                let mut dist: Vec<(f32, u32)> = (0..s.train.len())
                    .map(|i| {
                        let [x, y] = s.train.point(i);
                        ((x - qx).powi(2) + (y - qy).powi(2), s.train.y[i])
                    })
                    .collect();
                dist.select_nth_unstable_by(4, |a, b| a.0.total_cmp(&b.0));
                let mut votes = vec![0; id.classes()];
                for &(_, k) in &dist[..5] {
                    votes[k as usize] += 1;
                }
                let best = (0..votes.len()).max_by_key(|&k| votes[k]).unwrap();
                correct += usize::from(best as u32 == s.test.y[t]);
            }
            let acc = correct as f64 / s.test.len() as f64;
            // Half-moons and blobs touch a little where their noise overlaps;
            // the spiral arms must be fully resolved.
            let min = if id == DatasetId::Spirals3 {
                0.97
            } else {
                0.95
            };
            assert!(acc >= min, "{id}: 5-NN accuracy {acc}");
        }
    }

    /// `gauss8` is hard by design: the Bayes classifier (nearest centre, as the
    /// classes are equiprobable isotropic Gaussians with one std) is correct on
    /// about 80 % of the points (numerically, 0.798 for σ = 0.3). On 8000
    /// points the standard error is sqrt(0.8·0.2/8000) ≈ 0.0045, so [0.75, 0.85]
    /// is about ±11 SE around the target.
    #[test]
    fn gauss8_bayes_accuracy_is_about_80_percent() {
        let d = generate(DatasetId::Gauss8, SEED, 8000, 0).train;
        let correct = (0..d.len())
            .filter(|&i| {
                let [x, y] = d.point(i);
                let best = (0..8u32)
                    .min_by(|&a, &b| {
                        let da = gauss8_centre(a);
                        let db = gauss8_centre(b);
                        let dist = |c: [f32; 2]| (x - c[0]).powi(2) + (y - c[1]).powi(2);
                        dist(da).total_cmp(&dist(db))
                    })
                    .unwrap();
                best == d.y[i]
            })
            .count();
        let acc = correct as f64 / d.len() as f64;
        assert!((0.75..=0.85).contains(&acc), "Bayes accuracy {acc}");
    }

    /// Label noise flips about the requested fraction, never to the same
    /// class, depends only on (seed, global index), and is a no-op at 0.
    /// 6000 labels at 0.3: SE sqrt(0.3·0.7/6000) ≈ 0.006, tolerance 0.03 = 5 SE.
    #[test]
    fn label_noise_flips_the_requested_fraction() {
        for &id in DatasetId::ALL {
            let clean = generate(id, SEED, 6000, 0).train;
            let mut noisy = clean.clone();
            flip_labels(&mut noisy, SEED, 0, 0.3);
            assert!(noisy.y.iter().all(|&y| (y as usize) < id.classes()));
            let flipped = clean.y.iter().zip(&noisy.y).filter(|(a, b)| a != b).count();
            let frac = flipped as f64 / 6000.0;
            assert!((frac - 0.3).abs() < 0.03, "{id}: {frac}");
            // A suffix flipped on its own gets the same labels.
            let mut tail = clean.clone();
            tail.y.drain(..1000);
            flip_labels(&mut tail, SEED, 1000, 0.3);
            assert_eq!(tail.y[..], noisy.y[1000..], "{id}");
            let mut none = clean.clone();
            flip_labels(&mut none, SEED, 0, 0.0);
            assert_eq!(none, clean);
        }
    }
}
