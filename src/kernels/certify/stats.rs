//! The statistics of a certificate, in f64: the normal distribution function
//! and quantile, the regularised incomplete beta function and its quantile
//! (the one-sided Clopper–Pearson bound), and the empirical-Bernstein bound.

use crate::kernels::rng::normal_pdf;

/// Φ(x) by Taylor series for |x| < 3 and Laplace's continued fraction for the
/// tails (Marsaglia, "Evaluating the Normal Distribution", J. Stat. Softw. 2004).
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() < 3.0 {
        // Φ(x) = 1/2 + φ(x) Σ_k x^(2k+1) / (1·3·5···(2k+1)).
        let (mut term, mut sum, x2) = (x, x, x * x);
        let mut k = 1.0;
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            k += 2.0;
            term *= x2 / k;
            sum += term;
        }
        return 0.5 + normal_pdf(x) * sum;
    }
    let tail = normal_pdf(x) * mills_ratio(x.abs());
    if x < 0.0 { tail } else { 1.0 - tail }
}

/// (1 − Φ(t)) / φ(t) for t ≥ 3 by Laplace's continued fraction
/// 1/(t + 1/(t + 2/(t + 3/(t + …)))), evaluated backwards from depth 200.
fn mills_ratio(t: f64) -> f64 {
    let mut f = t;
    for k in (1..=200).rev() {
        f = t + f64::from(k) / f;
    }
    1.0 / f
}

/// Φ⁻¹(p): Wichura's AS 241 (PPND7) as a start, then three Newton steps on
/// [`normal_cdf`] (Wichura, Appl. Stat. 1988); ±∞ at 0 and 1.
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    // Work in the lower tail q = min(p, 1 − p) and mirror, so p close to 1 keeps its digits.
    let q = p.min(1.0 - p);
    // PPND7 in f32 (accurate to ~1e-7 relative) as the start; the asymptote
    // −√(−2 ln q) below f32's range. Newton squares the error each step.
    let mut x = if q > 1e-37 {
        f64::from(crate::kernels::rng::normal_icdf(q as f32))
    } else {
        -(-2.0 * q.ln()).sqrt()
    };
    for _ in 0..6 {
        let d = normal_pdf(x);
        if d == 0.0 {
            break;
        }
        x -= (normal_cdf(x) - q) / d;
    }
    if p > 0.5 { -x } else { x }
}

/// ln Γ(x) for x > 0 by Lanczos' approximation, g = 7, 9 terms
/// (Lanczos, SIAM J. Numer. Anal. 1964; coefficients of Godfrey 2001), relative error ~1e-15.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    #[allow(clippy::excessive_precision, clippy::unreadable_literal)]
    const C: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b) by its continued
/// fraction, evaluated with the modified Lentz method (Press et al.,
/// "Numerical Recipes", 3rd ed. 2007, §6.4), using I_x(a,b) = 1 − I_{1−x}(b,a)
/// where the fraction converges faster.
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of I_x(a, b) (Numerical Recipes §6.4, `betacf`).
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The q-quantile of Beta(a, b): the x with I_x(a, b) = q, by bisection to
/// the last bit (I is increasing in x, so bisection cannot fail).
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    // 64 halvings of [0, 1] reach 2^-64, below f64's resolution near any bound above 2^-11.
    for _ in 0..64 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if incomplete_beta(mid, a, b) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The one-sided Clopper–Pearson lower confidence bound at level α on a
/// binomial proportion from k successes in n trials: the α-quantile of
/// Beta(k, n − k + 1), 0 when k = 0 (Clopper & Pearson, Biometrika 1934;
/// as used by Cohen et al., ICML 2019, `LowerConfBound`).
pub fn clopper_pearson_lower(k: u64, n: u64, alpha: f64) -> f64 {
    if k == 0 || n == 0 {
        return 0.0;
    }
    if k == n {
        // I_p(n, 1) = p^n, so the bound is α^(1/n) exactly.
        return alpha.powf(1.0 / n as f64);
    }
    beta_quantile(alpha, k as f64, (n - k + 1) as f64)
}

/// The empirical-Bernstein lower bound at level δ on the mean of n values in
/// [0, 1] with sample mean m and unbiased sample variance v:
/// m − √(2 v ln(2/δ) / n) − 7 ln(2/δ) / (3 (n − 1))
/// (Maurer & Pontil, "Empirical Bernstein Bounds and Sample Variance Penalization", COLT 2009, Thm 4).
pub fn empirical_bernstein_lower(mean: f64, var: f64, n: u64, delta: f64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let nf = n as f64;
    let l = (2.0 / delta).ln();
    mean - (2.0 * var.max(0.0) * l / nf).sqrt() - 7.0 * l / (3.0 * (nf - 1.0))
}

/// Cohen's radius σ Φ⁻¹(p̲_A) (Cohen, Rosenfeld & Kolter, ICML 2019, Thm 1 with p̲_B = 1 − p̲_A);
/// `None` (abstain) when p̲_A ≤ 1/2.
pub fn cohen_radius(sigma: f64, pa_lower: f64) -> Option<f64> {
    (pa_lower > 0.5).then(|| sigma * normal_quantile(pa_lower))
}
