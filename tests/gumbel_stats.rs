//! The Gumbel-Softmax CPU kernels (`kernels::gumbel`) against exact laws:
//! Gumbel-max frequencies (chi-square), the τ → 0 limit of the relaxed sample,
//! a closed-form K = 2 integral, the exact gradient of the five estimators,
//! their bias/variance trade-off in τ, and finite output on degenerate input.
//!
//! Every statistical tolerance is a multiple of a standard error (SE) that the
//! test computes. Seeds are fixed, so the tests are deterministic; the doc
//! comments say how often a correct kernel would fail for a random seed.

use gradlab::kernels::gumbel::{
    self, Estimates, EstimatorStats, GROUPS, GUMBEL_STREAM, Problem, estimates, moment_sums,
};
use gradlab::kernels::rng::RngKey;

/// Logits of the K = 4 problems: softmax ≈ [0.128, 0.211, 0.029, 0.633].
const LOGITS4: [f64; 4] = [0.5, 1.0, -1.0, 2.0];
/// Weights of a generic linear f (mixed signs, so no gradient component is ~0).
const WEIGHTS4: [f64; 4] = [1.0, -2.0, 3.0, 0.5];

/// K = 16 logits spread over about [−2, 2].
fn logits16() -> Vec<f64> {
    (0..16)
        .map(|k| 2.0 * (0.37 * k as f64 + 0.2).sin())
        .collect()
}

/// Runs `n` samples from index 0 and turns the sums into estimates.
fn run(logits: &[f64], weights: &[f64], tau: f64, seed: u32, n: u32) -> Estimates {
    let p = Problem::new(logits, weights, tau);
    let sums = moment_sums(&p, RngKey::new(seed, GUMBEL_STREAM), 0, n);
    assert_eq!(sums.len(), GROUPS * logits.len());
    estimates(logits, weights, &sums, u64::from(n))
}

fn sup_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Composite Simpson rule with `m` (even) sub-intervals on [a, b].
fn simpson(g: impl Fn(f64) -> f64, a: f64, b: f64, m: usize) -> f64 {
    assert!(m.is_multiple_of(2));
    let h = (b - a) / m as f64;
    let mut s = g(a) + g(b);
    for i in 1..m {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * g(a + i as f64 * h);
    }
    s * h / 3.0
}

/// Pearson's chi-square statistic of observed frequencies against probabilities.
fn chi_square(freq: &[f64], probs: &[f64], n: f64) -> f64 {
    freq.iter()
        .zip(probs)
        .map(|(f, p)| {
            let (o, e) = (f * n, p * n);
            (o - e).powi(2) / e
        })
        .sum()
}

/// Hard-sample frequencies match softmax(θ): Pearson chi-square with K − 1
/// degrees of freedom, 10^6 draws, at significance 1e-3.
///
/// Critical values χ²_{0.999}(df) are from the standard table:
/// df = 3 → 16.266 (K = 4), df = 15 → 37.697 (K = 16). (The Wilson–Hilferty
/// approximation df·(1 − 2/(9df) + 3.0902·sqrt(2/(9df)))³ gives 16.29 and
/// 37.84, a cross-check.) Why this tolerance: under a correct Gumbel-max
/// sampler the statistic is χ²(K − 1) (every expected count ≥ 10^4, so the
/// asymptotic law is exact to far better than needed) and exceeds the
/// critical value with probability 1e-3 for a random seed; the seed is fixed.
/// A wrong trick (argmin, −g instead of g, a shifted noise index) moves the
/// statistic into the thousands at this n.
#[test]
fn hard_samples_follow_softmax_chi_square() {
    let n = 1_000_000u32;
    for (logits, crit, seed) in [
        (LOGITS4.to_vec(), 16.266, 11u32),
        (logits16(), 37.697, 12u32),
    ] {
        let e = run(&logits, &vec![0.0; logits.len()], 1.0, seed, n);
        let total: f64 = e.hard_freq.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "frequencies sum to {total}");
        let chi2 = chi_square(&e.hard_freq, &e.probs, f64::from(n));
        println!(
            "chi-square K={}: {chi2:.3} (critical {crit}, df {})",
            logits.len(),
            logits.len() - 1
        );
        assert!(chi2 < crit, "K={}: chi2 = {chi2} ≥ {crit}", logits.len());
    }
}

/// Mean and per-sample variance (n − 1) of y_k − 1{h = k}, sample by sample,
/// via the public per-sample kernel `gumbel::sample`.
fn soft_minus_hard(p: &Problem, key: RngKey, n: u32) -> (Vec<f64>, Vec<f64>) {
    let k = p.k();
    let (mut s, mut q) = (vec![0.0; k], vec![0.0; k]);
    for i in 0..n {
        let d = gumbel::sample(p, key, i);
        for j in 0..k {
            let x = f64::from(d.soft[j]) - if j == d.hard { 1.0 } else { 0.0 };
            s[j] += x;
            q[j] += x * x;
        }
    }
    let nf = f64::from(n);
    let mean: Vec<f64> = s.iter().map(|v| v / nf).collect();
    let var = q
        .iter()
        .zip(&mean)
        .map(|(q, m)| ((q - nf * m * m) / (nf - 1.0)).max(0.0))
        .collect();
    (mean, var)
}

/// The mean relaxed sample E[y_τ] approaches softmax(θ) as τ → 0.
///
/// Exact targets: S(τ) = |soft_mean − p|_∞ strictly decreases over
/// τ = 1, 0.3, 0.1, 0.03, and S(0.03) ≤ 3e-3 + 4·SE.
///
/// SE at τ = 0.03: y_k ∈ [0, 1] so Var[y_k] ≤ E[y_k](1 − E[y_k]); SE =
/// max_k sqrt(ȳ_k(1 − ȳ_k)/n) ≤ 5e-4 at n = 10^6. The 3e-3 allows for the
/// remaining bias, which is O(τ²) (for K = 2, E[y₁] − p₁ ≈ −(π²/6) τ² f′(−Δ)
/// with f the logistic density, |f′| ≤ 0.1: ≤ 1.5e-4 at τ = 0.03).
///
/// Why the ordering is not luck: all four runs share the seed (common random
/// numbers), so S(τ) − S(τ′) is driven by the bias, not by the shared noise
/// of the hard draws. The test also estimates the bias itself with the
/// control variate C(τ) = |soft_mean − hard_freq|_∞ (unbiased for |E[y] − p|
/// componentwise, since E[hard_freq] = p exactly), whose per-component
/// variance Var[y_k − 1{h=k}] it measures sample by sample, and asserts
/// C(τ) − C(τ′) > 4·(SE_C(τ) + SE_C(τ′)) for consecutive τ > τ′.
#[test]
fn soft_mean_approaches_softmax_as_tau_falls() {
    let n = 1_000_000u32;
    let seed = 21;
    let taus = [1.0, 0.3, 0.1, 0.03];
    let mut sups = Vec::new();
    let mut cvs = Vec::new();
    for &tau in &taus {
        let e = run(&LOGITS4, &WEIGHTS4, tau, seed, n);
        let sup = sup_dist(&e.soft_mean, &e.probs);
        let cv = sup_dist(&e.soft_mean, &e.hard_freq);
        let p = Problem::new(&LOGITS4, &WEIGHTS4, tau);
        let (mean_d, var_d) = soft_minus_hard(&p, RngKey::new(seed, GUMBEL_STREAM), n);
        // Same samples, so the per-sample path agrees with the moment sums.
        let cv_direct = mean_d.iter().map(|v| v.abs()).fold(0.0, f64::max);
        assert!((cv - cv_direct).abs() < 1e-9, "{cv} vs {cv_direct}");
        let se_cv = var_d
            .iter()
            .map(|v| (v / f64::from(n)).sqrt())
            .fold(0.0, f64::max);
        let soft_total: f64 = e.soft_mean.iter().sum();
        assert!(
            (soft_total - 1.0).abs() < 1e-5,
            "Σ soft_mean = {soft_total}"
        );
        println!(
            "tau={tau}: |soft_mean - p|_inf = {sup:.3e}, control-variate bias {cv:.3e} ± {se_cv:.1e}"
        );
        sups.push(sup);
        cvs.push((cv, se_cv));
        if tau == 0.03 {
            let se = e
                .soft_mean
                .iter()
                .map(|m| (m * (1.0 - m) / f64::from(n)).sqrt())
                .fold(0.0, f64::max);
            assert!(sup <= 3e-3 + 4.0 * se, "τ=0.03: {sup} > 3e-3 + 4·{se}");
        }
    }
    for i in 1..taus.len() {
        assert!(
            sups[i] < sups[i - 1],
            "|soft_mean − p|_inf did not fall from τ={} to τ={}: {sups:?}",
            taus[i - 1],
            taus[i]
        );
        let ((hi, se_hi), (lo, se_lo)) = (cvs[i - 1], cvs[i]);
        assert!(
            hi - lo > 4.0 * (se_hi + se_lo),
            "bias τ={}: {hi} vs τ={}: {lo} not separated by 4 SE ({se_hi}, {se_lo})",
            taus[i - 1],
            taus[i]
        );
    }
}

/// K = 2: the mean relaxed sample matches its closed form.
///
/// y₁ = σ((Δ + L)/τ), Δ = θ₁ − θ₂, L = g₁ − g₂ ~ Logistic(0, 1) with density
/// f(l) = σ(l)σ(−l), so E[y₁^m] = ∫ σ((Δ + l)/τ)^m f(l) dl (m = 1, 2), taken
/// by composite Simpson on [−60, 60] with h = 1e-3. Quadrature error:
/// truncation ≤ 2e^{−60} ≈ 2e-26; Simpson ≤ (b − a) h⁴ max|g⁗| / 180 with
/// max|g⁗| ≤ 2^m (1 + 1/τ)⁴ (Leibniz rule, |σ^{(k)}| ≤ 1 for k ≤ 5) ≤ 324
/// at τ = 0.5, i.e. ≤ 2.2e-10; the test also checks the Richardson estimate
/// |S_h − S_{2h}|/15 < 1e-10. Δ uses the f32-rounded logits the kernel sees.
///
/// Target: |ȳ₁ − E[y₁]| ≤ 4·SE with SE = sqrt((E[y₁²] − E[y₁]²)/n), the exact
/// variance from the second integral; n = 10^6. Why: ȳ₁ is a mean of 10^6
/// i.i.d. bounded values, so it is normal to high accuracy and a 4-SE
/// two-sided miss has probability 6e-5 per τ. The Gumbel noise's f32
/// discretisation (uniform grid 2^-23, tails cut at g ∈ [−2.8, 16.6],
/// mass ~6e-8) shifts the mean by ≪ 1e-6, below SE ≈ 3e-4.
#[test]
fn two_class_soft_mean_matches_integral() {
    let n = 1_000_000u32;
    let logits = [0.3, -0.4];
    let delta = f64::from(logits[0] as f32) - f64::from(logits[1] as f32);
    for (tau, seed) in [(1.0f64, 31u32), (0.5, 32)] {
        let moment = |m: i32, steps: usize| {
            simpson(
                |l| sigmoid((delta + l) / tau).powi(m) * sigmoid(l) * sigmoid(-l),
                -60.0,
                60.0,
                steps,
            )
        };
        let (m1, m2) = (moment(1, 120_000), moment(2, 120_000));
        let richardson = (m1 - moment(1, 60_000)).abs() / 15.0;
        assert!(richardson < 1e-10, "quadrature error estimate {richardson}");
        let mass = simpson(|l| sigmoid(l) * sigmoid(-l), -60.0, 60.0, 120_000);
        assert!((mass - 1.0).abs() < 1e-10, "logistic mass {mass}");
        let var = m2 - m1 * m1;
        let se = (var / f64::from(n)).sqrt();
        let e = run(&logits, &[1.0, 0.0], tau, seed, n);
        let z = (e.soft_mean[0] - m1) / se;
        println!(
            "K=2 tau={tau}: MC {:.6} vs integral {m1:.6} (sd {:.4}, SE {se:.2e}, z = {z:.2})",
            e.soft_mean[0],
            var.sqrt()
        );
        assert!(z.abs() <= 4.0, "τ={tau}: z = {z}");
    }
}

/// Exact per-sample variance and fourth central moment of the score-function
/// estimator x_j(h) = (w_h − b)(1{h = j} − p̃_j), h ~ p, by enumeration of h.
fn score_moments(p: &[f64], p_f32: &[f64], w: &[f64], b: f64, j: usize) -> (f64, f64, f64) {
    let x = |h: usize| (w[h] - b) * (if h == j { 1.0 } else { 0.0 } - p_f32[j]);
    let mean: f64 = (0..p.len()).map(|h| p[h] * x(h)).sum();
    let var: f64 = (0..p.len()).map(|h| p[h] * (x(h) - mean).powi(2)).sum();
    let mu4: f64 = (0..p.len()).map(|h| p[h] * (x(h) - mean).powi(4)).sum();
    (mean, var, mu4)
}

/// REINFORCE and REINFORCE-with-baseline are unbiased for p ⊙ (w − Σ p w).
///
/// Target per component j: |mean_j − exact_j| ≤ 4·SE_j, SE_j = sqrt(var_j/n),
/// n = 10^6. Both estimators are functions of the discrete h only, so the
/// test also enumerates their exact variance σ_j² and fourth central moment
/// μ4_j and asserts |var_j − σ_j²| ≤ 4·sqrt((μ4_j − σ_j⁴)/n) (the asymptotic
/// SE of a sample variance). Why 4 SE: the means are of 10^6 i.i.d. bounded
/// values (CLT), a two-sided 4-SE miss has probability 6.3e-5 each; over the
/// 32 checks here the family-wise false-alarm rate is ≤ 2e-3 for a random
/// seed. The f32 rounding of p (6e-8 relative) in the score shifts the mean
/// by ~1e-6, far below SE ~ 1e-3.
///
/// Variance reduction: with w = [10, 11, 12, 13] the baseline b = Σ p w
/// removes the common offset, so the exact total variance drops by ~100×;
/// the test asserts the sample totals preserve the order with the exact
/// ratio, the sample variances being within 4 SE (≲ 1 %) of exact.
#[test]
fn reinforce_is_unbiased_and_baseline_cuts_variance() {
    let n = 1_000_000u32;
    let nf = f64::from(n);
    for (weights, seed) in [(WEIGHTS4, 41u32), ([10.0, 11.0, 12.0, 13.0], 42)] {
        let e = run(&LOGITS4, &weights, 1.0, seed, n);
        let problem = Problem::new(&LOGITS4, &weights, 1.0);
        let p_f32: Vec<f64> = problem.probs.iter().map(|&v| f64::from(v)).collect();
        let w32: Vec<f64> = problem.weights.iter().map(|&v| f64::from(v)).collect();
        let mut exact_tv = [0.0f64; 2];
        for (idx, (name, est, b)) in [
            ("reinforce", &e.grad.reinforce, 0.0),
            (
                "reinforce_baseline",
                &e.grad.reinforce_baseline,
                f64::from(problem.baseline),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            for j in 0..4 {
                let se = (est.var[j] / nf).sqrt();
                let z = (est.mean[j] - e.grad.exact[j]) / se;
                let (m_exact, var_exact, mu4) = score_moments(&e.probs, &p_f32, &w32, b, j);
                assert!((m_exact - e.grad.exact[j]).abs() < 1e-5);
                let se_var = ((mu4 - var_exact * var_exact) / nf).sqrt();
                let zv = (est.var[j] - var_exact) / se_var;
                println!(
                    "w={weights:?} {name}[{j}]: mean {:+.5} exact {:+.5} (z={z:+.2}); var {:.4} exact {var_exact:.4} (z={zv:+.2})",
                    est.mean[j], e.grad.exact[j], est.var[j]
                );
                assert!(z.abs() <= 4.0, "{name}[{j}] mean: z = {z}");
                assert!(zv.abs() <= 4.0, "{name}[{j}] var: z = {zv}");
                exact_tv[idx] += var_exact;
            }
        }
        let (tv, tvb) = (
            e.grad.reinforce.total_var(),
            e.grad.reinforce_baseline.total_var(),
        );
        println!(
            "w={weights:?}: total var reinforce {tv:.4} (exact {:.4}), baseline {tvb:.4} (exact {:.4})",
            exact_tv[0], exact_tv[1]
        );
        if weights[0] == 10.0 {
            assert!(exact_tv[1] < 0.05 * exact_tv[0]);
            assert!(tvb < 0.05 * tv, "baseline {tvb} vs plain {tv}");
        }
    }
}

/// Monte Carlo SE of ‖mean − E‖₂ for an estimator: sqrt(Σ_j var_j / n), the
/// RMS of the sampling error vector of the mean.
fn norm_se(s: &EstimatorStats, n: f64) -> f64 {
    (s.total_var() / n).sqrt()
}

/// Gumbel-Softmax trades bias for variance as τ falls; straight-through is
/// identical to it for linear f.
///
/// Targets (n = 10^6, common random numbers across τ):
/// * bias(τ=1) ≥ 10·SE, SE = sqrt(Σ_j var_j / n). Why: SE is the RMS of the
///   error vector of the mean, and | ‖m̂ − g‖ − ‖m − g‖ | ≤ ‖m̂ − m‖, so a zero
///   bias would show as ≲ 4 SE; 10 SE is a clear detection (observed ~400).
/// * bias(1) − bias(0.5) > 4·(SE₁ + SE₀.₅) and bias(0.5) − bias(0.2) >
///   4·(SE₀.₅ + SE₀.₂): the decrease exceeds both estimates' noise.
/// * total_var(0.2) − total_var(0.5) > 4·(SEv₀.₂ + SEv₀.₅), likewise 0.5 vs 1,
///   with SEv = Σ_j M σ_j / sqrt(n) a bound on the SE of the summed sample
///   variances: each component |y_j(w_j − Σ y w)|/τ ≤ (w_max − w_min)/(4τ),
///   so |x − μ| ≤ M = (w_max − w_min)/(2τ), μ4 ≤ M²σ², and
///   SE(s²) ≤ sqrt(μ4/n) ≤ Mσ/sqrt(n).
/// * straight_through == gumbel_softmax exactly (∂f/∂z = w for linear f).
#[test]
fn gumbel_softmax_bias_falls_and_variance_grows_with_tau() {
    let n = 1_000_000u32;
    let nf = f64::from(n);
    let spread = 3.0 - (-2.0); // max − min of WEIGHTS4
    let mut rows = Vec::new();
    for tau in [1.0, 0.5, 0.2] {
        let e = run(&LOGITS4, &WEIGHTS4, tau, 51, n);
        assert_eq!(e.grad.straight_through, e.grad.gumbel_softmax);
        let gs = &e.grad.gumbel_softmax;
        let bias = gs.bias(&e.grad.exact);
        let se = norm_se(gs, nf);
        let tv = gs.total_var();
        let m = spread / (2.0 * tau);
        let se_tv: f64 = gs.var.iter().map(|v| m * v.sqrt() / nf.sqrt()).sum();
        println!(
            "tau={tau}: GS bias {bias:.4e} (SE {se:.2e}, {:.0} SE), total var {tv:.4} (SE ≤ {se_tv:.1e}); reinforce total var {:.4}",
            bias / se,
            e.grad.reinforce.total_var()
        );
        rows.push((tau, bias, se, tv, se_tv));
    }
    let (_, bias1, se1, _, _) = rows[0];
    assert!(bias1 >= 10.0 * se1, "τ=1 bias {bias1} < 10·{se1}");
    for w in rows.windows(2) {
        let ((t_hi, b_hi, s_hi, v_hi, sv_hi), (t_lo, b_lo, s_lo, v_lo, sv_lo)) = (w[0], w[1]);
        assert!(
            b_hi - b_lo > 4.0 * (s_hi + s_lo),
            "bias τ={t_hi}: {b_hi} vs τ={t_lo}: {b_lo}"
        );
        assert!(
            v_lo - v_hi > 4.0 * (sv_hi + sv_lo),
            "total var τ={t_lo}: {v_lo} vs τ={t_hi}: {v_hi}"
        );
    }
}

fn assert_all_finite(label: &str, e: &Estimates) {
    let g = &e.grad;
    let fields: [(&str, &[f64]); 12] = [
        ("probs", &e.probs),
        ("hard_freq", &e.hard_freq),
        ("soft_mean", &e.soft_mean),
        ("exact", &g.exact),
        ("reinforce.mean", &g.reinforce.mean),
        ("reinforce.var", &g.reinforce.var),
        ("reinforce_baseline.mean", &g.reinforce_baseline.mean),
        ("reinforce_baseline.var", &g.reinforce_baseline.var),
        ("gumbel_softmax.mean", &g.gumbel_softmax.mean),
        ("gumbel_softmax.var", &g.gumbel_softmax.var),
        ("straight_through.mean", &g.straight_through.mean),
        ("straight_through.var", &g.straight_through.var),
    ];
    for (name, v) in fields {
        assert!(
            v.iter().all(|x| x.is_finite()),
            "{label}: {name} not finite: {v:?}"
        );
    }
    for s in [
        &g.reinforce,
        &g.reinforce_baseline,
        &g.gumbel_softmax,
        &g.straight_through,
    ] {
        assert!(s.bias(&g.exact).is_finite() && s.total_var().is_finite());
        assert!(s.var.iter().all(|&v| v >= 0.0));
    }
}

/// Degenerate input gives finite numbers in every output field (and every
/// moment sum). Exact targets: all values finite, variances ≥ 0, hard
/// frequencies summing to 1 and soft means to 1 within 1e-4 (f32 softmax,
/// ~1e-7 per sample). With a logit of +1e4 the other classes have
/// probability < e^{−9000}, so the hard frequency and the soft mean (τ ≤ 10:
/// the gap/τ ≥ 900, e^{−900} underflows f32) are exactly one-hot there.
/// Not statistical: 4096 samples per case suffice to hit the edge paths.
#[test]
fn degenerate_inputs_stay_finite() {
    let n = 4096u32;
    let mut big2 = vec![0.0; 16];
    big2[3] = 1e4;
    big2[9] = -1e4;
    let w16: Vec<f64> = (0..16)
        .map(|k| if k % 2 == 0 { 100.0 } else { -100.0 })
        .collect();
    let cases: Vec<(&str, Vec<f64>, Vec<f64>)> = vec![
        ("K=4 generic", LOGITS4.to_vec(), WEIGHTS4.to_vec()),
        ("K=4 equal logits", vec![0.7; 4], WEIGHTS4.to_vec()),
        (
            "K=4 ±1e4",
            vec![1e4, 0.0, -1e4, 1.0],
            vec![100.0, -100.0, 100.0, -100.0],
        ),
        ("K=2 equal", vec![0.0, 0.0], vec![100.0, -100.0]),
        ("K=2 ±1e4", vec![1e4, -1e4], vec![-100.0, 100.0]),
        ("K=16 equal", vec![-3.0; 16], w16.clone()),
        ("K=16 ±1e4", big2, w16.clone()),
        ("K=16 spread", logits16(), w16),
    ];
    for (label, logits, weights) in &cases {
        for tau in [0.05, 10.0] {
            let p = Problem::new(logits, weights, tau);
            let sums = moment_sums(&p, RngKey::new(61, GUMBEL_STREAM), 0, n);
            assert!(sums.iter().all(|s| s.is_finite()), "{label} τ={tau}: sums");
            let e = estimates(logits, weights, &sums, u64::from(n));
            let label = format!("{label} τ={tau}");
            assert_all_finite(&label, &e);
            let hf: f64 = e.hard_freq.iter().sum();
            let sm: f64 = e.soft_mean.iter().sum();
            assert!((hf - 1.0).abs() < 1e-12, "{label}: Σ hard_freq = {hf}");
            assert!((sm - 1.0).abs() < 1e-4, "{label}: Σ soft_mean = {sm}");
            if let Some(top) = logits.iter().position(|&l| l == 1e4) {
                assert_eq!(e.hard_freq[top], 1.0, "{label}");
                assert_eq!(e.soft_mean[top], 1.0, "{label}");
            }
        }
    }
}

/// Runs over disjoint index ranges add up: sums over [0, n) equal
/// [0, n/2) + [n/2, n) (and an uneven split) to 1e-9 relative (absolute floor
/// 1e-9 for a near-zero column). Why: each draw is a pure function of its
/// index, so the only difference is the order of f64 additions of f32 values,
/// an error ≲ n·2^-53·max|term| ≈ 1e-10 of the column scale at n = 2·10^5.
#[test]
fn split_ranges_are_consistent() {
    let n = 200_000u32;
    for (logits, weights, tau) in [
        (LOGITS4.to_vec(), WEIGHTS4.to_vec(), 0.5),
        (logits16(), (0..16).map(|k| k as f64 - 7.5).collect(), 0.2),
    ] {
        let p = Problem::new(&logits, &weights, tau);
        let key = RngKey::new(71, GUMBEL_STREAM);
        let whole = moment_sums(&p, key, 0, n);
        for cut in [n / 2, 77_777] {
            let a = moment_sums(&p, key, 0, cut);
            let b = moment_sums(&p, key, cut, n - cut);
            let mut worst = 0.0f64;
            for (i, w) in whole.iter().enumerate() {
                let parts = a[i] + b[i];
                let rel = (w - parts).abs() / w.abs().max(parts.abs()).max(1.0);
                worst = worst.max(rel);
            }
            println!(
                "K={} cut={cut}: worst relative difference {worst:.2e}",
                p.k()
            );
            assert!(worst <= 1e-9, "K={} cut={cut}: {worst}", p.k());
        }
    }
}
