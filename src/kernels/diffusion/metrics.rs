//! How good a set of samples is: the sliced Wasserstein distance to data,
//! and how many samples are copies of training points.

/// Directions of the sliced Wasserstein distance.
pub const SWD_DIRECTIONS: usize = 64;

/// The sliced 2-Wasserstein distance (Rabin et al., "Wasserstein Barycenter
/// and its Application to Texture Mixing", 2011) between two equally sized
/// point sets: √(mean over directions θ_p = πp/P of W2² of the projections),
/// each W2² from sorted projections. Deterministic directions, no RNG.
pub fn sliced_wasserstein(a: &[[f32; 2]], b: &[[f32; 2]]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    let mut total = 0.0;
    let (mut pa, mut pb) = (vec![0.0f64; n], vec![0.0f64; n]);
    for p in 0..SWD_DIRECTIONS {
        let th = std::f64::consts::PI * p as f64 / SWD_DIRECTIONS as f64;
        let (s, c) = th.sin_cos();
        for (dst, src) in [(&mut pa, a), (&mut pb, b)] {
            for (d, x) in dst.iter_mut().zip(src) {
                *d = c * x[0] as f64 + s * x[1] as f64;
            }
            dst.sort_by(f64::total_cmp);
        }
        total += pa
            .iter()
            .zip(&pb)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            / n as f64;
    }
    (total / SWD_DIRECTIONS as f64).sqrt()
}

/// The fraction of samples within `delta` (Euclidean) of some training point:
/// the memorisation measure of "Closed-Form Diffusion Models" (Scarvelis et al. 2025).
/// Brute force over a grid of cells of side `delta`, so it is exact.
pub fn memorized_fraction(samples: &[[f32; 2]], train: &[[f32; 2]], delta: f32) -> f64 {
    if samples.is_empty() || train.is_empty() || delta <= 0.0 {
        return 0.0;
    }
    use std::collections::HashMap;
    let cell = |p: [f32; 2]| ((p[0] / delta).floor() as i64, (p[1] / delta).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<[f32; 2]>> = HashMap::new();
    for &t in train {
        grid.entry(cell(t)).or_default().push(t);
    }
    let d2 = delta * delta;
    let hits = samples
        .iter()
        .filter(|&&s| {
            if !s[0].is_finite() || !s[1].is_finite() {
                return false;
            }
            let (cx, cy) = cell(s);
            (-1..=1).any(|dx| {
                (-1..=1).any(|dy| {
                    grid.get(&(cx + dx, cy + dy)).is_some_and(|pts| {
                        pts.iter().any(|t| {
                            let (ex, ey) = (s[0] - t[0], s[1] - t[1]);
                            ex * ex + ey * ey <= d2
                        })
                    })
                })
            })
        })
        .count();
    hits as f64 / samples.len() as f64
}

/// The ratio below which a sample counts as a copy under the scale-free
/// criterion of Gu et al. ("On Memorization in Diffusion Models", TMLR 2025;
/// `sail-sg/DiffMemorize`, mem_ratio.py: `knn_distance[:, 0] / knn_distance[:, 1] < 1/3`).
pub const MEMORIZATION_RATIO: f64 = 1.0 / 3.0;

/// The distances from `p` to its nearest and second-nearest points of `train`
/// (in f64, brute force; infinite where `train` has fewer points).
pub fn two_nearest(p: [f32; 2], train: &[[f32; 2]]) -> (f64, f64) {
    let (mut d1, mut d2) = (f64::INFINITY, f64::INFINITY);
    for t in train {
        let (dx, dy) = (p[0] as f64 - t[0] as f64, p[1] as f64 - t[1] as f64);
        let d = dx.hypot(dy);
        if d < d1 {
            d2 = d1;
            d1 = d;
        } else if d < d2 {
            d2 = d;
        }
    }
    (d1, d2)
}

/// The fraction of samples whose nearest training point is closer than 1/3 of
/// the distance to the second nearest (Gu et al. 2025, see
/// [`MEMORIZATION_RATIO`]): a copy criterion that needs no length scale δ.
/// A non-finite sample is not a copy; with fewer than 2 training points
/// nothing is (the ratio is undefined). Brute force, exact.
pub fn memorized_fraction_ratio(samples: &[[f32; 2]], train: &[[f32; 2]]) -> f64 {
    if samples.is_empty() || train.len() < 2 {
        return 0.0;
    }
    let hits = samples
        .iter()
        .filter(|s| s[0].is_finite() && s[1].is_finite())
        .filter(|&&s| {
            let (d1, d2) = two_nearest(s, train);
            d1 < MEMORIZATION_RATIO * d2
        })
        .count();
    hits as f64 / samples.len() as f64
}
