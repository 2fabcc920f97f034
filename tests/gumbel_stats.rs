//! The Gumbel-Softmax CPU kernels (`kernels::gumbel`) against exact laws:
//! Gumbel-max frequencies (chi-square), the τ → 0 limit of the relaxed sample,
//! a closed-form K = 2 integral, the exact gradient of the six estimators,
//! their bias/variance trade-off in τ, straight-through against
//! Gumbel-Softmax under a quadratic objective, the leave-one-out baseline
//! (RLOO), and finite output on degenerate input.
//!
//! Every statistical tolerance is a multiple of a standard error (SE) that the
//! test computes. Seeds are fixed, so the tests are deterministic; the doc
//! comments say how often a correct kernel would fail for a random seed.

use gradlab::kernels::gumbel::{
    self, Estimates, EstimatorStats, GROUPS, GUMBEL_STREAM, Objective, Problem, estimates,
    moment_sums,
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

/// RLOO batch of the tests that do not study it.
const BATCH: u32 = 8;

/// Runs `n` samples from index 0 (linear objective, RLOO batch [`BATCH`]).
fn run(logits: &[f64], weights: &[f64], tau: f64, seed: u32, n: u32) -> Estimates {
    run_with(logits, weights, tau, Objective::Linear, seed, n)
}

/// Runs `n` samples from index 0 and turns the sums into estimates.
fn run_with(
    logits: &[f64],
    weights: &[f64],
    tau: f64,
    objective: Objective,
    seed: u32,
    n: u32,
) -> Estimates {
    let p = Problem::new(logits, weights, tau, objective, BATCH);
    let sums = moment_sums(&p, RngKey::new(seed, GUMBEL_STREAM), 0, n);
    assert_eq!(sums.len(), GROUPS * logits.len());
    estimates(logits, weights, &sums, u64::from(n), BATCH)
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
        let p = Problem::new(&LOGITS4, &WEIGHTS4, tau, Objective::Linear, BATCH);
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
        let problem = Problem::new(&LOGITS4, &weights, 1.0, Objective::Linear, BATCH);
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
    let fields: [(&str, &[f64]); 14] = [
        ("probs", &e.probs),
        ("hard_freq", &e.hard_freq),
        ("soft_mean", &e.soft_mean),
        ("exact", &g.exact),
        ("reinforce.mean", &g.reinforce.mean),
        ("reinforce.var", &g.reinforce.var),
        ("reinforce_baseline.mean", &g.reinforce_baseline.mean),
        ("reinforce_baseline.var", &g.reinforce_baseline.var),
        ("reinforce_loo.mean", &g.reinforce_loo.mean),
        ("reinforce_loo.var", &g.reinforce_loo.var),
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
        &g.reinforce_loo,
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
        for (tau, objective) in [(0.05, Objective::Quadratic), (10.0, Objective::Linear)] {
            let p = Problem::new(logits, weights, tau, objective, BATCH);
            let sums = moment_sums(&p, RngKey::new(61, GUMBEL_STREAM), 0, n);
            assert!(sums.iter().all(|s| s.is_finite()), "{label} τ={tau}: sums");
            let e = estimates(logits, weights, &sums, u64::from(n), BATCH);
            let label = format!("{label} τ={tau} {objective}");
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
/// RLOO batches are consecutive runs of B samples from a range's start, so
/// the cuts are multiples of B = 16 (77 776 = 16 · 4861) for its columns to
/// add up too.
#[test]
fn split_ranges_are_consistent() {
    let n = 200_000u32;
    for (logits, weights, tau) in [
        (LOGITS4.to_vec(), WEIGHTS4.to_vec(), 0.5),
        (logits16(), (0..16).map(|k| k as f64 - 7.5).collect(), 0.2),
    ] {
        let p = Problem::new(&logits, &weights, tau, Objective::Quadratic, 16);
        let key = RngKey::new(71, GUMBEL_STREAM);
        let whole = moment_sums(&p, key, 0, n);
        for cut in [n / 2, 77_776] {
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

/// The test problem of issue 16: θ, w = [1, 2, 3, 4], τ = 0.5.
const WEIGHTS_ISSUE: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
const TAU_ISSUE: f64 = 0.5;

/// SplitMix64 (Steele, Lea & Flood 2014): the independent generator of the
/// f64 reference Monte Carlo, unrelated to the kernels' Philox.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1): 53 random bits, centred in their cell.
    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

fn softmax_f64(a: &[f64]) -> Vec<f64> {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = a.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Central difference of `g` at `x` along each coordinate (step 1e-4: error
/// ~ 1e-8 · |g'''|, ≲ 1e-6 here where |g'''| ≲ (2/τ)³ · max|w| · 2 = 1024).
fn central_diff(g: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    const H: f64 = 1e-4;
    (0..x.len())
        .map(|j| {
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[j] += H;
            down[j] -= H;
            (g(&up) - g(&down)) / (2.0 * H)
        })
        .collect()
}

/// Mean and standard error per component.
type MeanSe = (Vec<f64>, Vec<f64>);

/// The reference Monte Carlo in f64, written without the kernels' formulas:
/// draws g with SplitMix64, and differentiates by central differences in θ
/// at fixed g, f(y) = Σ w_k y_k² with y = softmax((θ + g)/τ) for
/// Gumbel-Softmax, and the straight-through surrogate ∇f(h) · y(θ) =
/// 2 w_h y_h (forward value f(h), gradient through y) for straight-through.
/// Returns (Gumbel-Softmax, straight-through), each as mean and SE.
fn reference_quadratic(theta: &[f64], w: &[f64], tau: f64, n: u32) -> (MeanSe, MeanSe) {
    let k = theta.len();
    let mut rng = SplitMix64(0x5EED_0016_C0FF_EE00);
    let mut sums = [vec![0.0; k], vec![0.0; k]];
    let mut squares = [vec![0.0; k], vec![0.0; k]];
    for _ in 0..n {
        let g: Vec<f64> = (0..k).map(|_| -(-rng.uniform().ln()).ln()).collect();
        let relaxed = |th: &[f64]| -> Vec<f64> {
            let a: Vec<f64> = th.iter().zip(&g).map(|(t, g)| (t + g) / tau).collect();
            softmax_f64(&a)
        };
        let a: Vec<f64> = theta.iter().zip(&g).map(|(t, g)| t + g).collect();
        let h = (0..k).fold(0, |best, j| if a[j] > a[best] { j } else { best });
        let gs = central_diff(
            |th| {
                relaxed(th)
                    .iter()
                    .zip(w)
                    .map(|(y, w)| w * y * y)
                    .sum::<f64>()
            },
            theta,
        );
        let st = central_diff(|th| 2.0 * w[h] * relaxed(th)[h], theta);
        for (e, est) in [gs, st].iter().enumerate() {
            for j in 0..k {
                sums[e][j] += est[j];
                squares[e][j] += est[j] * est[j];
            }
        }
    }
    let nf = f64::from(n);
    let stats = |e: usize| -> MeanSe {
        let mean: Vec<f64> = sums[e].iter().map(|s| s / nf).collect();
        let se = squares[e]
            .iter()
            .zip(&mean)
            .map(|(q, m)| ((q / nf - m * m) / nf).sqrt())
            .collect();
        (mean, se)
    };
    (stats(0), stats(1))
}

/// Straight-through is J_y(θ)ᵀ ∇f(h), not a copy of Gumbel-Softmax: under
/// the quadratic f(z) = Σ w_k z_k² the two differ; under the linear f they
/// are bit-identical (∇f = w at y and at h, the same arithmetic).
///
/// Problem: θ = [0.5, 1, −1, 2], w = [1, 2, 3, 4], τ = 0.5, n = 2²⁰.
///
/// Exact gradient (both objectives, since f(e_k) = w_k for both):
/// E[f(z)] = Σ_k p_k w_k with p = softmax(θ), and ∂p_k/∂θ_j = p_k(δ_kj − p_j),
/// so ∂E/∂θ_j = Σ_k p_k(δ_kj − p_j) w_k = p_j (w_j − Σ_k p_k w_k). Here
/// p = [0.135989, 0.224208, 0.030343, 0.609460], Σ p w = 3.113282, so the
/// gradient is [−0.2874, −0.2496, −0.0034, 0.5404] (4 decimals, so held to
/// 5e-5); the test also takes it by central differences of Σ p w (error
/// ~1e-10) instead of trusting the closed form.
///
/// Gumbel-Softmax and straight-through references (issue 16):
/// GS ≈ [−0.309, −0.287, −0.045, 0.640], ST ≈ [−0.365, −0.350, −0.066, 0.780].
/// Verified independently by [`reference_quadratic`], an f64 Monte Carlo with
/// a different generator (SplitMix64) that differentiates by finite
/// differences instead of the kernel's J_yᵀu formula; a 2²⁶-sample run of it
/// gave GS [−0.3081, −0.2865, −0.0445, 0.6392] and ST [−0.3642, −0.3490,
/// −0.0652, 0.7784] (SE ≤ 2e-4), so the rounded references are within 0.002.
///
/// Tolerances: the kernel's means within 0.01 of the references. At n = 2²⁰
/// the per-component SE is ≤ 1e-3 for GS and ≤ 1.7e-3 for ST (printed), so
/// 0.01 is ≥ 4.5 SE beyond the references' own ≤ 0.002 error. The reference
/// Monte Carlo (also 2²⁰) and the kernel estimate the same expectation with
/// independent noise: |difference| ≤ 4·sqrt(SE₁² + SE₂²) per component
/// (probability of a false alarm 6e-5 each). The effect guarded: ST − GS ≈
/// [−0.056, −0.063, −0.021, 0.139], ‖·‖ ≈ 0.17, which the test requires to
/// exceed 10 times the SE of that difference and 5 times the 0.01 tolerance.
#[test]
fn straight_through_differs_from_gumbel_softmax_under_quadratic() {
    let n = 1u32 << 20;
    let nf = f64::from(n);
    let expected_exact = [-0.2874, -0.2496, -0.0034, 0.5404];
    let fd_exact = central_diff(
        |th| {
            softmax_f64(th)
                .iter()
                .zip(&WEIGHTS_ISSUE)
                .map(|(p, w)| p * w)
                .sum()
        },
        &LOGITS4,
    );
    let quad = run_with(
        &LOGITS4,
        &WEIGHTS_ISSUE,
        TAU_ISSUE,
        Objective::Quadratic,
        81,
        n,
    );
    let lin = run_with(
        &LOGITS4,
        &WEIGHTS_ISSUE,
        TAU_ISSUE,
        Objective::Linear,
        81,
        n,
    );
    for e in [&quad, &lin] {
        for j in 0..4 {
            assert!(
                (e.grad.exact[j] - expected_exact[j]).abs() <= 5e-5,
                "exact[{j}] = {}",
                e.grad.exact[j]
            );
            assert!((e.grad.exact[j] - fd_exact[j]).abs() <= 1e-8);
        }
    }
    assert_eq!(quad.grad.exact, lin.grad.exact);

    // Linear: straight-through and Gumbel-Softmax are the same numbers.
    assert_eq!(lin.grad.straight_through, lin.grad.gumbel_softmax);

    // Quadratic: each against the references and the independent Monte Carlo.
    let gs_ref = [-0.309, -0.287, -0.045, 0.640];
    let st_ref = [-0.365, -0.350, -0.066, 0.780];
    let ((gs_mc, gs_mc_se), (st_mc, st_mc_se)) =
        reference_quadratic(&LOGITS4, &WEIGHTS_ISSUE, TAU_ISSUE, n);
    let (gs, st) = (&quad.grad.gumbel_softmax, &quad.grad.straight_through);
    for (name, est, reference, mc, mc_se) in [
        ("gumbel_softmax", gs, gs_ref, &gs_mc, &gs_mc_se),
        ("straight_through", st, st_ref, &st_mc, &st_mc_se),
    ] {
        for j in 0..4 {
            let se = (est.var[j] / nf).sqrt();
            let both = (se * se + mc_se[j] * mc_se[j]).sqrt();
            println!(
                "{name}[{j}]: kernel {:+.4} ± {se:.1e}, f64 reference MC {:+.4} ± {:.1e}, issue {:+.3}",
                est.mean[j], mc[j], mc_se[j], reference[j]
            );
            assert!(
                (est.mean[j] - reference[j]).abs() <= 0.01,
                "{name}[{j}]: {} vs {}",
                est.mean[j],
                reference[j]
            );
            assert!(
                (mc[j] - reference[j]).abs() <= 0.01,
                "reference MC {name}[{j}]: {} vs {}",
                mc[j],
                reference[j]
            );
            assert!(
                (est.mean[j] - mc[j]).abs() <= 4.0 * both,
                "{name}[{j}]: kernel {} vs reference MC {} (4·SE = {})",
                est.mean[j],
                mc[j],
                4.0 * both
            );
        }
    }
    let gap: f64 = (0..4)
        .map(|j| (st.mean[j] - gs.mean[j]).powi(2))
        .sum::<f64>()
        .sqrt();
    // SE of the difference, ignoring their (positive) correlation: an overestimate.
    let gap_se = ((st.total_var() + gs.total_var()) / nf).sqrt();
    println!("‖ST − GS‖ = {gap:.4} (SE ≤ {gap_se:.1e})");
    assert!(
        gap > 10.0 * gap_se && gap > 0.05,
        "‖ST − GS‖ = {gap}, SE {gap_se}"
    );
}

/// RLOO on one batch, by hand: the kernel's count form equals the
/// leave-one-out definition (1/B) Σ_i (f(h_i) − (1/(B−1)) Σ_{i′≠i} f(h_i′)) (e_{h_i} − p).
///
/// Batch h = [0, 0, 1, 3] (B = 4), w = [1, 2, 3, 4]: f = [1, 1, 2, 4], the
/// baselines (8 − f_i)/3 = [7/3, 7/3, 2, 4/3], the advantages [−4/3, −4/3, 0,
/// 8/3], which sum to 0, so the −p part cancels for any p and the estimate is
/// [(−4/3 − 4/3)/4, 0, 0, (8/3)/4] = [−2/3, 0, 0, 2/3]. Held to 1e-6 (f32).
#[test]
fn rloo_batch_matches_leave_one_out_definition() {
    let w = [1.0f32, 2.0, 3.0, 4.0];
    let hard = [0usize, 0, 1, 3];
    let b = hard.len();
    let p = [0.1f64, 0.2, 0.3, 0.4];
    let f: Vec<f64> = hard.iter().map(|&h| f64::from(w[h])).collect();
    let total: f64 = f.iter().sum();
    let mut direct = [0.0f64; 4];
    for (i, &h) in hard.iter().enumerate() {
        let baseline = (total - f[i]) / (b - 1) as f64;
        for j in 0..4 {
            let score = if j == h { 1.0 } else { 0.0 } - p[j];
            direct[j] += (f[i] - baseline) * score / b as f64;
        }
    }
    let counts = [2.0f32, 1.0, 0.0, 1.0];
    let kernel = gumbel::rloo(&w, &counts, b as u32);
    let expected = [-2.0 / 3.0, 0.0, 0.0, 2.0 / 3.0];
    for j in 0..4 {
        assert!((direct[j] - expected[j]).abs() < 1e-12, "{direct:?}");
        assert!(
            (f64::from(kernel[j]) - expected[j]).abs() < 1e-6,
            "{kernel:?}"
        );
    }
}

/// RLOO is unbiased, and its variance is far below plain REINFORCE's.
///
/// Problem: θ = [0.5, 1, −1, 2], w = [1, 2, 3, 4], quadratic objective (RLOO
/// uses f(h) = w_h, the same for both), B = 8, n = 2²⁰ samples, i.e.
/// G = 2¹⁷ batches. Unbiased: |mean_j − exact_j| ≤ 4·SE_j with SE_j =
/// sqrt(var_j / n) = sqrt(Var[batch estimate]_j / G) (the report's var is B
/// times the batch variance); the batch estimates are i.i.d. and bounded, so
/// a 4-SE miss has probability 6e-5 per component.
///
/// Variance: plain REINFORCE's exact total per-sample variance, enumerated
/// over h (`score_moments`, b = 0), is 3.156. RLOO's reported total is
/// measured; each batch component is bounded, |ĝ_j| = c_j |w_j − S/B|/(B−1)
/// ≤ B (w_max − w_min)/(B − 1) = 24/7, so |x − μ| ≤ M = 48/7 and the SE of
/// B·(sample variance) is ≤ B·M·σ_j/sqrt(G) (as in the test above). The test
/// requires RLOO's total + 4 such SEs to be below half of REINFORCE's: the
/// measured total is ~0.83 (the oracle baseline's is 0.656; RLOO pays for
/// estimating its baseline), an effect of ~2.3 against a tolerance of ≲ 0.4.
#[test]
fn rloo_is_unbiased_and_cuts_variance() {
    let n = 1u32 << 20;
    let nf = f64::from(n);
    let e = run_with(
        &LOGITS4,
        &WEIGHTS_ISSUE,
        TAU_ISSUE,
        Objective::Quadratic,
        91,
        n,
    );
    let loo = &e.grad.reinforce_loo;
    for j in 0..4 {
        let se = (loo.var[j] / nf).sqrt();
        let z = (loo.mean[j] - e.grad.exact[j]) / se;
        println!(
            "rloo[{j}]: {:+.5} exact {:+.5} (SE {se:.1e}, z = {z:+.2})",
            loo.mean[j], e.grad.exact[j]
        );
        assert!(z.abs() <= 4.0, "rloo[{j}]: z = {z}");
    }
    let problem = Problem::new(
        &LOGITS4,
        &WEIGHTS_ISSUE,
        TAU_ISSUE,
        Objective::Quadratic,
        BATCH,
    );
    let p_f32: Vec<f64> = problem.probs.iter().map(|&v| f64::from(v)).collect();
    let plain_exact: f64 = (0..4)
        .map(|j| score_moments(&e.probs, &p_f32, &WEIGHTS_ISSUE, 0.0, j).1)
        .sum();
    let b = f64::from(BATCH);
    let g = nf / b;
    let m = 2.0 * b * 3.0 / (b - 1.0);
    let se_tv: f64 = loo
        .var
        .iter()
        .map(|v| b * m * (v / b).sqrt() / g.sqrt())
        .sum();
    let tv = loo.total_var();
    println!(
        "total var: REINFORCE {:.4} (exact {plain_exact:.4}), oracle baseline {:.4}, RLOO {tv:.4} (SE ≤ {se_tv:.3})",
        e.grad.reinforce.total_var(),
        e.grad.reinforce_baseline.total_var()
    );
    assert!((plain_exact - 3.156).abs() < 1e-3, "{plain_exact}");
    assert!(
        tv + 4.0 * se_tv < 0.5 * plain_exact,
        "RLOO total var {tv} (SE {se_tv}) vs REINFORCE {plain_exact}"
    );
}
