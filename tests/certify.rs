//! Randomized smoothing (`kernels::certify`) against values derived here,
//! independently of the code: the normal and beta quantiles against libm and
//! the binomial tail summed term by term; Cohen's radius for a half-plane
//! (p_A = Φ(margin/σ), tight as n → ∞, below by the Clopper–Pearson margin at
//! finite n); the disk at its centre (p_A = 1 − exp(−r²/2σ²), the true radius
//! from the non-central χ²(2) distribution as a Poisson mixture); rotation of
//! a half-plane (the wrapped-normal arc probability); and soundness over many
//! random points and seeds.
//!
//! Monte Carlo tolerances are 4.5 standard errors (a correct kernel fails one
//! comparison with probability < 1e-5; the seeds are fixed, so the tests are
//! deterministic).

use gradlab::kernels::certify::base::{BaseClassifier, Smoothing};
use gradlab::kernels::certify::radius::{
    ExactOracle, Search, SmoothedOracle, true_angle, true_radius,
};
use gradlab::kernels::certify::smooth::{
    ESTIMATE_STREAM, Noise, SELECT_STREAM, Smoother, Transform, certify, select_class,
};
use gradlab::kernels::certify::stats::{
    beta_quantile, clopper_pearson_lower, cohen_radius, empirical_bernstein_lower, incomplete_beta,
    normal_cdf, normal_quantile,
};
use gradlab::kernels::rng::RngKey;

/// Φ from libm's erfc: an implementation independent of `normal_cdf`.
fn phi_ref(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Φ⁻¹ by bisection on [`phi_ref`].
fn phi_inv_ref(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    for _ in 0..200 {
        let m = 0.5 * (lo + hi);
        if phi_ref(m) < p { lo = m } else { hi = m }
    }
    0.5 * (lo + hi)
}

/// P(X ≥ k) for X ~ Binomial(n, p), summed term by term in log space with libm's lgamma.
fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    let ln_choose = |j: u64| {
        libm::lgamma(n as f64 + 1.0)
            - libm::lgamma(j as f64 + 1.0)
            - libm::lgamma((n - j) as f64 + 1.0)
    };
    (k..=n)
        .map(|j| (ln_choose(j) + j as f64 * p.ln() + (n - j) as f64 * (1.0 - p).ln()).exp())
        .sum()
}

/// The Clopper–Pearson lower bound by its definition: the p at which P_p(X ≥ k) = α, by bisection.
fn cp_lower_ref(k: u64, n: u64, alpha: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let m = 0.5 * (lo + hi);
        if binomial_upper_tail(k, n, m) < alpha {
            lo = m
        } else {
            hi = m
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn normal_cdf_and_quantile_match_libm_and_tables() {
    for i in -80..=80 {
        let x = f64::from(i) * 0.1;
        let (got, want) = (normal_cdf(x), phi_ref(x));
        // Relative 1e-12: far below any radius digit the lab prints.
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "Φ({x}) = {got}, libm {want}"
        );
    }
    // Table values (Abramowitz & Stegun 26.2): 1.959963984540054 and 3.090232306167813.
    assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
    assert!((normal_quantile(0.999) - 3.090_232_306_167_813).abs() < 1e-12);
    for p in [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.77, 0.99, 1.0 - 1e-9] {
        // Above ½ by symmetry from 1 − p (exact in f64), where bisection on Φ keeps its digits.
        let want = if p > 0.5 {
            -phi_inv_ref(1.0 - p)
        } else {
            phi_inv_ref(p)
        };
        let got = normal_quantile(p);
        assert!(
            (got - want).abs() < 1e-9 * want.abs().max(1.0),
            "Φ⁻¹({p}) = {got}, ref {want}"
        );
    }
}

#[test]
fn incomplete_beta_and_its_quantile_hit_closed_forms() {
    // I_x(1, b) = 1 − (1 − x)^b; I_x(a, 1) = x^a; I_½(a, a) = ½.
    for (x, b) in [(0.1, 3.0), (0.5, 7.0), (0.93, 40.0)] {
        let want = 1.0 - (1.0f64 - x).powf(b);
        assert!((incomplete_beta(x, 1.0, b) - want).abs() < 1e-13);
        assert!((incomplete_beta(x, b, 1.0) - x.powf(b)).abs() < 1e-13);
    }
    for a in [0.5, 3.0, 250.0, 40_000.0] {
        assert!((incomplete_beta(0.5, a, a) - 0.5).abs() < 1e-10, "a = {a}");
    }
    // The quantile inverts it: Beta(1, b) has quantile 1 − (1 − q)^(1/b).
    for (q, b) in [(0.001, 100.0), (0.05, 5.0), (0.5, 1000.0)] {
        let want = 1.0 - (1.0f64 - q).powf(1.0 / b);
        assert!((beta_quantile(q, 1.0, b) - want).abs() < 1e-13);
    }
}

/// The bound sits where the binomial tail P_p(X ≥ k) equals α (Clopper & Pearson's definition).
#[test]
fn clopper_pearson_bound_is_where_the_binomial_tail_is_alpha() {
    for (k, n, alpha) in [
        (1, 10, 0.05),
        (7, 10, 0.001),
        (95, 100, 0.001),
        (990, 1000, 0.01),
        (9_000, 10_000, 0.001),
    ] {
        let got = clopper_pearson_lower(k, n, alpha);
        let want = cp_lower_ref(k, n, alpha);
        // 1e-10 absolute: both are bisections to double precision of smooth functions.
        assert!((got - want).abs() < 1e-10, "k={k} n={n}: {got} vs {want}");
    }
    // k = n: α^(1/n) exactly; k = 0: 0.
    assert!((clopper_pearson_lower(100, 100, 0.001) - 0.001f64.powf(0.01)).abs() < 1e-15);
    assert_eq!(clopper_pearson_lower(0, 100, 0.001), 0.0);
}

#[test]
fn empirical_bernstein_is_the_maurer_pontil_formula() {
    // m − √(2 v ln(2/δ)/n) − 7 ln(2/δ)/(3(n − 1)) at m = 0.9, v = 0.01, n = 1000, δ = 0.001.
    let l = (2.0f64 / 0.001).ln();
    let want = 0.9 - (2.0 * 0.01 * l / 1000.0).sqrt() - 7.0 * l / (3.0 * 999.0);
    assert!((empirical_bernstein_lower(0.9, 0.01, 1000, 0.001) - want).abs() < 1e-15);
}

fn shift(sigma: f32) -> Noise {
    Noise {
        transform: Transform::Shift,
        sigma,
        sigma_angle: 0.5,
    }
}

/// Hard CERTIFY of one point with n₀ = 100 and `n` estimation samples.
fn certify_hard(
    s: &Smoother,
    x: [f32; 2],
    n: u32,
    alpha: f64,
    seed: u32,
) -> gradlab::kernels::certify::smooth::Certificate {
    let sel = s.counts(&[x], None, RngKey::new(seed, SELECT_STREAM), 100);
    let c = select_class(s.smoothing, &sel[0]);
    let est = s.counts(
        &[x],
        Some(&[Some(c)]),
        RngKey::new(seed, ESTIMATE_STREAM),
        n,
    );
    certify(s.smoothing, c, &est[0], alpha, s.noise.scale())
}

/// Half-plane w = (3, 4), b = −1 at x = (0.6, 0.5): margin (w·x + b)/‖w‖ = 0.76, σ = 0.5.
#[test]
fn linear_pa_is_phi_of_margin_and_the_radius_tends_to_the_distance() {
    let (w, b, sigma) = ([3.0f32, 4.0], -1.0f32, 0.5f32);
    let x = [0.6f32, 0.5];
    let dist = (3.0 * 0.6 + 4.0 * 0.5 - 1.0) / 5.0; // 0.56
    let pa = phi_ref(dist / 0.5);
    let s = Smoother {
        model: BaseClassifier::Linear { w, b },
        noise: shift(sigma),
        smoothing: Smoothing::Hard,
        temp: 1.0,
    };
    // Monte Carlo p_A against Φ(margin/σ): n = 2^20, SE = √(p(1−p)/n) ≈ 2.8e-4.
    let n = 1u32 << 20;
    let cert = certify_hard(&s, x, n, 0.001, 3);
    assert_eq!(cert.class, 1);
    let se = (pa * (1.0 - pa) / f64::from(n)).sqrt();
    assert!(
        (cert.pa_hat - pa).abs() < 4.5 * se,
        "p̂_A {} vs Φ(margin/σ) {pa}",
        cert.pa_hat
    );
    // n → ∞: the radius at the exact p_A is the distance to the hyperplane (Cohen's bound is tight).
    let exact = cohen_radius(f64::from(sigma), pa).unwrap();
    assert!(
        (exact - dist).abs() < 1e-12,
        "σΦ⁻¹(p_A) = {exact}, distance {dist}"
    );
    // Finite n: R = σΦ⁻¹(p̲_A) with p̲_A the Clopper–Pearson bound, recomputed here from the binomial tail.
    let r = cert.radius.unwrap();
    let want = f64::from(sigma) * phi_inv_ref(cp_lower_ref(cert.n_a, u64::from(n), 0.001));
    assert!((r - want).abs() < 1e-8, "R = {r}, independent {want}");
    // …and it sits below the distance by about the CP margin plus the estimate's error.
    let margin = dist - f64::from(sigma) * phi_inv_ref(pa - 3.09 * se);
    assert!(
        r < dist && dist - r < 2.0 * margin + 4.5 * se * 0.5 / 0.28,
        "R = {r}, distance {dist}"
    );
}

/// P(χ²₂(λ) ≤ t) as a Poisson(λ/2) mixture of central χ²_{2+2j} (each an Erlang tail), summed here.
fn noncentral_chi2_2_cdf(lambda: f64, t: f64) -> f64 {
    let (h, u) = (lambda / 2.0, t / 2.0);
    let mut total = 0.0;
    // P(χ²_{2j+2} ≤ t) = 1 − e^{−u} Σ_{i≤j} u^i/i!
    let mut erlang_sum = 0.0;
    let mut term_u = (-u).exp();
    let mut pois = (-h).exp();
    for j in 0..2000 {
        if j > 0 {
            term_u *= u / f64::from(j);
            pois *= h / f64::from(j);
        }
        erlang_sum += term_u;
        total += pois * (1.0 - erlang_sum);
    }
    total
}

/// Disk r = 1, σ = 0.5 at its centre: p_A = 1 − e^{−r²/2σ²} = 1 − e^{−2}.
#[test]
fn disk_centre_pa_and_true_radius_from_the_noncentral_chi_square() {
    let (r, sigma) = (1.0f64, 0.5f64);
    let pa = 1.0 - (-r * r / (2.0 * sigma * sigma)).exp();
    let model = BaseClassifier::Disk { r: r as f32 };
    let noise = shift(sigma as f32);
    let oracle = ExactOracle::new(&model, noise).unwrap();
    // The oracle's quadrature against the closed form, 1e-9.
    assert!((oracle.probs([0.0, 0.0])[0] - pa).abs() < 1e-9);
    // The same at an off-centre point against the Poisson mixture.
    let off = noncentral_chi2_2_cdf(0.7 * 0.7 / (sigma * sigma), r * r / (sigma * sigma));
    assert!((oracle.probs([0.7, 0.0])[0] - off).abs() < 1e-9);
    // Monte Carlo at the centre: n = 2^18, SE ≈ 6.7e-4.
    let s = Smoother {
        model: model.clone(),
        noise,
        smoothing: Smoothing::Hard,
        temp: 1.0,
    };
    let n = 1u32 << 18;
    let cert = certify_hard(&s, [0.0, 0.0], n, 0.001, 5);
    let se = (pa * (1.0 - pa) / f64::from(n)).sqrt();
    assert_eq!(cert.class, 0);
    assert!(
        (cert.pa_hat - pa).abs() < 4.5 * se,
        "p̂_A {} vs {pa}",
        cert.pa_hat
    );
    // The true radius ρ* solves P(χ²₂(ρ²/σ²) ≤ r²/σ²) = ½, by bisection on the mixture.
    let (mut lo, mut hi) = (0.0f64, 3.0f64);
    for _ in 0..60 {
        let m = 0.5 * (lo + hi);
        if noncentral_chi2_2_cdf(m * m / (sigma * sigma), r * r / (sigma * sigma)) > 0.5 {
            lo = m
        } else {
            hi = m
        }
    }
    let rho = 0.5 * (lo + hi);
    let t = true_radius(&oracle, [0.0, 0.0], &Search::default()).unwrap();
    // 1e-5: the search bisects to step/2^20 and its finer pass leaves the ray within 0.4° of the nearest point.
    assert!((t - rho).abs() < 1e-5, "searched {t}, χ² equation {rho}");
    // The certificate is below it: even at the exact p_A, σΦ⁻¹(p_A) < ρ* (Cohen's bound is not tight for a disk).
    let at_exact = sigma * phi_inv_ref(pa);
    assert!(at_exact < rho - 0.05, "σΦ⁻¹(p_A) = {at_exact}, ρ* = {rho}");
    assert!(cert.radius.unwrap() < at_exact);
}

/// Half-plane y₁ > 0 under rotation, x at angle β: p_A = P(θ ∈ (−β, π − β) mod 2π) and the
/// certified angle σ_θΦ⁻¹(p_A) equals the angular distance min(β, π − β) when the wrap is negligible.
#[test]
fn rotation_of_a_half_plane_has_closed_forms() {
    let beta = 0.5f64;
    // σ_θ as the f32 the noise stores, so both sides use the same number.
    let sigma_angle = f64::from(0.3f32);
    let x = [(beta.cos()) as f32, (beta.sin()) as f32];
    let wrapped = |lo: f64, hi: f64| -> f64 {
        (-3..=3)
            .map(|k| {
                let m = 2.0 * std::f64::consts::PI * f64::from(k);
                phi_ref((hi + m) / sigma_angle) - phi_ref((lo + m) / sigma_angle)
            })
            .sum()
    };
    let pa = wrapped(-beta, std::f64::consts::PI - beta);
    let model = BaseClassifier::Linear {
        w: [0.0, 1.0],
        b: 0.0,
    };
    let noise = Noise {
        transform: Transform::Rotation,
        sigma: 0.5,
        sigma_angle: sigma_angle as f32,
    };
    let oracle = ExactOracle::new(&model, noise).unwrap();
    let got = oracle.probs([beta.cos(), beta.sin()])[1];
    assert!((got - pa).abs() < 1e-12, "oracle {got} vs {pa}");
    let s = Smoother {
        model,
        noise,
        smoothing: Smoothing::Hard,
        temp: 1.0,
    };
    let n = 1u32 << 18;
    let cert = certify_hard(&s, x, n, 0.001, 9);
    let se = (pa * (1.0 - pa) / f64::from(n)).sqrt();
    assert!(
        (cert.pa_hat - pa).abs() < 4.5 * se,
        "p̂_A {} vs {pa}",
        cert.pa_hat
    );
    // The other edge is π − β = 2.64 rad = 8.8 σ_θ away: its mass 1e-18 moves the angle < 1e-12.
    assert!((cohen_radius(sigma_angle, pa).unwrap() - beta).abs() < 1e-9);
    let t = true_angle(&oracle, [beta.cos(), beta.sin()], &Search::default()).unwrap();
    assert!((t - beta).abs() < 1e-5, "true angle {t} vs {beta}");
    assert!(cert.radius.unwrap() < t);
}

/// Over many random half-planes, disks, points and seeds (n = 500, α = 0.01) the certified
/// radius exceeds the true one only when p̲_A > p_A, which happens with probability ≤ α per
/// certificate: of 240 certificates at most 9 may (P(Bin(240, 0.01) > 9) < 1e-4).
#[test]
fn certificates_are_sound_over_random_points_and_seeds() {
    let (alpha, mut violations, mut certified) = (0.01, 0, 0);
    let search = Search {
        directions: 16,
        ..Search::default()
    };
    for i in 0..240u32 {
        let key = RngKey::new(i, 77);
        let u = |j: u32| f64::from(key.uniform_at(j));
        let model = if i % 2 == 0 {
            BaseClassifier::Linear {
                w: [(u(0) * 4.0 - 2.0) as f32, (u(1) * 4.0 - 2.0) as f32],
                b: (u(2) - 0.5) as f32,
            }
        } else {
            BaseClassifier::Disk {
                r: (0.5 + u(0)) as f32,
            }
        };
        let smoothing =
            [Smoothing::Hard, Smoothing::Softmax, Smoothing::Sparsemax][(i as usize / 2) % 3];
        // Soft smoothing keeps the hyperplane as the boundary (the maps are odd about ½), not the circle.
        let smoothing = if i % 2 == 1 {
            Smoothing::Hard
        } else {
            smoothing
        };
        let s = Smoother {
            model: model.clone(),
            noise: shift((0.2 + 0.6 * u(3)) as f32),
            smoothing,
            temp: 0.5,
        };
        let x = [(u(4) * 3.0 - 1.5) as f32, (u(5) * 3.0 - 1.5) as f32];
        let sel = s.counts(&[x], None, RngKey::new(i, SELECT_STREAM), 100);
        let c = select_class(smoothing, &sel[0]);
        let est = s.counts(&[x], Some(&[Some(c)]), RngKey::new(i, ESTIMATE_STREAM), 500);
        let cert = certify(smoothing, c, &est[0], alpha, s.noise.scale());
        let Some(r) = cert.radius else { continue };
        certified += 1;
        let oracle = ExactOracle::new(&model, s.noise).unwrap();
        let xd = [f64::from(x[0]), f64::from(x[1])];
        let wrong_class = oracle.class(xd) != c;
        let t = true_radius(&oracle, xd, &search).unwrap_or(f64::INFINITY);
        // 1e-4: the search's own error (bisection and the finer pass of directions).
        if wrong_class || r > t + 1e-4 {
            violations += 1;
        }
    }
    println!("shift: {violations} unsound of {certified} certificates");
    assert!(certified > 100, "only {certified} certificates");
    assert!(
        violations <= 9,
        "{violations} unsound certificates of {certified}"
    );
}

/// `--points` is strict on the CLI (exit 2 on a malformed point) and lenient in a link (a named note).
#[test]
fn points_parse_strictly_and_leniently() {
    use gradlab::experiments::certify::CertifyConfig;
    use gradlab::experiments::config::Config;
    let ok = CertifyConfig::from_pairs_strict([("points", "1,1;0,0;-2.5,3")]).unwrap();
    assert_eq!(ok.points.0, vec![[1.0, 1.0], [0.0, 0.0], [-2.5, 3.0]]);
    for bad in ["1,1;0", "1,1;x,2", "1,1;9,0", "1,2,3"] {
        let err = CertifyConfig::from_pairs_strict([("points", bad)]).unwrap_err();
        assert_eq!(err.field, "points", "{bad}");
    }
    let (cfg, notes) = CertifyConfig::from_pairs_lenient([("points", "1,1;9,0")]);
    assert_eq!(
        cfg.points.0,
        vec![[1.0, 1.0], [3.0, 0.0]],
        "clamped into the view"
    );
    assert!(notes.iter().any(|n| n.field == "points"));
}

/// The heat map's abstention test I_½(k, n − k + 1) ≥ α is the same decision as p̲_A ≤ ½.
#[test]
fn the_heat_maps_abstention_test_is_the_clopper_pearson_decision() {
    for n in [50u64, 200, 1000] {
        for k in 0..=n {
            let by_bound = clopper_pearson_lower(k, n, 0.001) <= 0.5;
            let by_cdf = k == 0 || incomplete_beta(0.5, k as f64, (n - k + 1) as f64) >= 0.001;
            assert_eq!(by_bound, by_cdf, "k = {k}, n = {n}");
        }
    }
}

/// Rotation: over 60 random half-planes, points and seeds (n = 500, α = 0.01) the certified
/// angle exceeds the true angle only when p̲_A > p_A: at most 4 may (P(Bin(60, 0.01) > 4) < 4e-4).
#[test]
fn rotation_certificates_are_sound_over_random_half_planes() {
    let (alpha, mut violations, mut certified) = (0.01, 0, 0);
    for i in 0..60u32 {
        let key = RngKey::new(i, 78);
        let u = |j: u32| f64::from(key.uniform_at(j));
        let model = BaseClassifier::Linear {
            w: [(u(0) * 4.0 - 2.0) as f32, (u(1) * 4.0 - 2.0) as f32],
            b: (u(2) - 0.5) as f32,
        };
        let noise = Noise {
            transform: Transform::Rotation,
            sigma: 0.5,
            sigma_angle: (0.05 + 0.5 * u(3)) as f32,
        };
        let s = Smoother {
            model: model.clone(),
            noise,
            smoothing: Smoothing::Hard,
            temp: 1.0,
        };
        let x = [(u(4) * 3.0 - 1.5) as f32, (u(5) * 3.0 - 1.5) as f32];
        let cert = certify_hard(&s, x, 500, alpha, 1000 + i);
        let Some(r) = cert.radius else { continue };
        certified += 1;
        let oracle = ExactOracle::new(&model, noise).unwrap();
        let xd = [f64::from(x[0]), f64::from(x[1])];
        let t = true_angle(&oracle, xd, &Search::default()).unwrap_or(f64::INFINITY);
        if oracle.class(xd) != cert.class || r > t + 1e-4 {
            violations += 1;
        }
    }
    println!("rotation: {violations} unsound of {certified} certificates");
    assert!(certified > 20, "only {certified} certificates");
    assert!(
        violations <= 4,
        "{violations} unsound certificates of {certified}"
    );
}

/// A run computed as parts and joined (what the page's worker pool does:
/// the MLP's parameters sent instead of retrained, every kind of units cut
/// into uneven ranges, empty ones included, the kinds interleaved) equals
/// the unsplit run, byte for byte in its JSON, for each model, smoothing
/// and transform.
#[test]
fn split_parts_join_into_the_unsplit_run() {
    use gradlab::experiments::certify::run::{Setup, Units, join, part, run};
    use gradlab::experiments::certify::{CertifyConfig, Model, Points, Transform};
    use gradlab::experiments::registry::Compute;

    let small = CertifyConfig {
        n: 2000,
        n0: 64,
        map_n: 64,
        grid: 9,
        test_points: 23,
        true_n: 128,
        train_steps: 20,
        points: Points(vec![[1.0, 1.0], [0.0, 0.0], [-1.5, 0.5], [2.0, -2.0]]),
        ..CertifyConfig::default()
    };
    let cfgs = [
        small.clone(),
        CertifyConfig {
            model: Model::Disk,
            smoothing: Smoothing::Softmax,
            transform: Transform::Rotation,
            ..small.clone()
        },
        CertifyConfig {
            model: Model::Mlp,
            smoothing: Smoothing::Sparsemax,
            ..small.clone()
        },
        CertifyConfig {
            model: Model::Mlp,
            points: Points(Vec::new()),
            ..small
        },
    ];
    let cpu = Compute::Cpu;
    for cfg in &cfgs {
        let whole = pollster::block_on(run(cfg, &cpu)).expect("a CPU run");
        let trained = Setup::new(cfg);
        let setup = Setup::with_params(cfg, trained.params().to_vec()).expect("its own parameters");
        assert_eq!(
            setup, trained,
            "{:?}: the setup rebuilt from its parameters",
            cfg.model
        );
        let mut parts = Vec::new();
        for units in [Units::TestPoints, Units::Pixels, Units::Points] {
            let n = units.count(cfg);
            let cuts = [0, 0, n.min(1), n / 3, n / 3, n];
            for w in cuts.windows(2) {
                let r = w[0]..w[1].max(w[0]);
                let p = pollster::block_on(part(cfg, &setup, units, r.clone(), &cpu)).unwrap();
                assert_eq!((p.units(), p.count()), (units, r.len()));
                parts.push(p);
            }
        }
        let joined = join(cfg, &setup, parts);
        assert_eq!(
            serde_json::to_string(&joined).unwrap(),
            serde_json::to_string(&whole).unwrap(),
            "{:?} {:?}: split and joined differs from the unsplit run",
            cfg.model,
            cfg.smoothing
        );
    }
    // Parameters that do not fit the network are refused.
    let mlp = CertifyConfig {
        model: Model::Mlp,
        ..CertifyConfig::default()
    };
    assert!(Setup::with_params(&mlp, vec![0.0; 3]).is_err());
    assert!(Setup::with_params(&CertifyConfig::default(), vec![0.0; 3]).is_err());
}
