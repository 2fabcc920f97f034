//! Summary statistics used by experiments and by the statistical tests.

/// Mean and unbiased sample variance in one pass (Welford, Technometrics 1962).
pub fn mean_var(xs: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut mean, mut m2) = (0.0f64, 0.0f64, 0.0f64);
    for x in xs {
        n += 1.0;
        let d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
    }
    let var = if n > 1.0 { m2 / (n - 1.0) } else { 0.0 };
    (mean, var)
}

/// Kolmogorov–Smirnov statistic sup |F_n(x) - F(x)| of a sample against a
/// continuous CDF (Kolmogorov 1933; Smirnov 1948). Sorts `xs` in place.
pub fn ks_statistic(xs: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    let mut d = 0.0f64;
    for (i, &x) in xs.iter().enumerate() {
        let f = cdf(x);
        d = d.max(f - i as f64 / n).max((i + 1) as f64 / n - f);
    }
    d
}

/// A histogram normalised as a density, so it is comparable with a pdf.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    /// Density per bin: count / (n * bin width); n counts every sample, in range or not.
    pub density: Vec<f64>,
}

impl Histogram {
    pub fn bin_width(&self) -> f64 {
        (self.hi - self.lo) / self.density.len() as f64
    }
}

/// Bins `xs` into `bins` equal bins over [lo, hi).
pub fn histogram(xs: impl IntoIterator<Item = f64>, lo: f64, hi: f64, bins: usize) -> Histogram {
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    let mut n = 0u64;
    for x in xs {
        n += 1;
        if x >= lo && x < hi {
            let b = (((x - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
    }
    let norm = if n == 0 {
        0.0
    } else {
        1.0 / (n as f64 * width)
    };
    Histogram {
        lo,
        hi,
        density: counts.iter().map(|&c| c as f64 * norm).collect(),
    }
}

/// erfc(x), fractional error < 1.2e-7 everywhere (Press et al., "Numerical
/// Recipes in C", 2nd ed. 1992, §6.2, `erfcc`).
#[allow(clippy::excessive_precision)]
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal distribution function Φ(x) = erfc(−x/√2)/2.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact values on a tiny sample, by hand.
    #[test]
    fn mean_var_and_ks_on_a_hand_checked_sample() {
        let (m, v) = mean_var([1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        assert!((v - 5.0 / 3.0).abs() < 1e-15);
        // Uniform(0,1) CDF against {0.1, 0.6}: sup is at x=0.6^- : F=0.6 vs 1/2 -> 0.1;
        // at x=0.1: F_n jumps 0 -> 0.5, F = 0.1 -> 0.4.
        let d = ks_statistic(&mut [0.6, 0.1], |x| x.clamp(0.0, 1.0));
        assert!((d - 0.4).abs() < 1e-15);
    }

    #[test]
    fn histogram_integrates_to_the_in_range_fraction() {
        let h = histogram([0.1, 0.2, 0.7, 5.0], 0.0, 1.0, 4);
        let mass: f64 = h.density.iter().sum::<f64>() * h.bin_width();
        assert!((mass - 0.75).abs() < 1e-12);
    }
}
