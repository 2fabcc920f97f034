//! Guided sampling against exact values: the tilted target's closed form, the
//! continuous-time limits of CFG-DDIM (probability-flow ODE) and CFG-DDPM
//! (reverse SDE) derived here from their linear moment equations, and the
//! claim that neither samples the tilted target.

use gradlab::experiments::guidance::{GuidanceConfig, GuidanceData};
use gradlab::kernels::diffusion::{self as dk, SamplerKind, ScheduleKind};
use gradlab::kernels::guidance::{self as kg, GridDensity, GuidancePair, GuidedSampler, Moments};

/// The Gaussian pair of the issue: p(x|c) = N((1, 0), 0.5²I), p(x) = N(0, I).
const MC: [f64; 2] = [1.0, 0.0];
const SC: f64 = 0.5;
const MU: [f64; 2] = [0.0, 0.0];
const SU: f64 = 1.0;

fn pair_cfg(sampler: GuidedSampler, w: f64, steps: u32, n: u32) -> GuidanceConfig {
    GuidanceConfig {
        dataset: GuidanceData::GaussianPair,
        sampler,
        w,
        steps,
        n,
        schedule: ScheduleKind::Linear,
        ..GuidanceConfig::default()
    }
}

fn samples(cfg: &GuidanceConfig) -> Moments {
    Moments::of(&cfg.run().sample_all())
}

/// p_c^w p_u^(1−w) by hand at w = 3: precision 3/0.25 − 2/1 = 10, mean
/// (3·1/0.25)/10 = 1.2; at w = 1 the conditional, at w = 0 the unconditional;
/// and at w = 2.5 against a direct 1-D quadrature of the product of the two
/// normal densities (5·10⁵ midpoints on [−10, 10]: error ≪ 1e-9).
#[test]
fn tilted_target_of_the_gaussian_pair_is_its_closed_form() {
    let (m, s) = kg::tilted_gaussian(MC, SC, MU, SU, 3.0).expect("normalisable");
    assert!((m[0] - 1.2).abs() < 1e-12 && m[1].abs() < 1e-12, "{m:?}");
    assert!((s * s - 0.1).abs() < 1e-12, "{s}");
    let (m, s) = kg::tilted_gaussian(MC, SC, MU, SU, 1.0).unwrap();
    assert!((m[0] - 1.0).abs() < 1e-12 && (s - SC).abs() < 1e-12);
    let (m, s) = kg::tilted_gaussian(MC, SC, MU, SU, 0.0).unwrap();
    assert!(m[0].abs() < 1e-12 && (s - SU).abs() < 1e-12);
    // s_c > s_u and w large: precision w/4 + (1 − w)/1 < 0, not normalisable.
    assert!(kg::tilted_gaussian(MC, 2.0, MU, 1.0, 3.0).is_none());

    let w = 2.5;
    let log_n = |x: f64, m: f64, s: f64| -0.5 * ((x - m) / s).powi(2) - s.ln();
    let (lo, hi, k) = (-10.0, 10.0, 500_000);
    let h = (hi - lo) / k as f64;
    let (mut z, mut m1, mut m2) = (0.0, 0.0, 0.0);
    for j in 0..k {
        let x = lo + (j as f64 + 0.5) * h;
        let d = (w * log_n(x, MC[0], SC) + (1.0 - w) * log_n(x, MU[0], SU)).exp();
        z += d;
        m1 += d * x;
        m2 += d * x * x;
    }
    let (mean, var) = (m1 / z, m2 / z - (m1 / z).powi(2));
    let (m, s) = kg::tilted_gaussian(MC, SC, MU, SU, w).unwrap();
    assert!((m[0] - mean).abs() < 1e-9, "{} vs {mean}", m[0]);
    assert!((s * s - var).abs() < 1e-9, "{} vs {var}", s * s);
}

/// The normalised grid reproduces the closed form: on 400² cells over [−3, 3]²
/// (h = 0.015) the midpoint rule is exact to ~h²·(curvature) ≪ 1e-4 on
/// moments of a Gaussian of standard deviation 0.32, and the mass outside the
/// box is below e^(−(3−1.2)²/0.2) ~ 1e-7.
#[test]
fn grid_tilted_target_matches_closed_form() {
    let pair = GuidancePair::gaussians([1.0, 0.0], 0.5, [0.0, 0.0], 1.0);
    let g = GridDensity::tilted(&pair, 3.0, [-3.0, -3.0], 6.0, 400).expect("normalisable");
    let m = g.moments();
    assert!(
        (m.mean[0] - 1.2).abs() < 1e-4 && m.mean[1].abs() < 1e-4,
        "{m:?}"
    );
    assert!(
        (m.cov[0] - 0.1).abs() < 1e-4 && (m.cov[2] - 0.1).abs() < 1e-4,
        "{m:?}"
    );
    // Its samples have the same moments within Monte Carlo error (20 000
    // samples: standard error of the mean 0.0022, of the variance 0.001; 5 SE).
    let s = Moments::of(&g.sample(3, 20_000));
    assert!((s.mean[0] - 1.2).abs() < 0.012, "{s:?}");
    assert!((s.cov[0] - 0.1).abs() < 0.005, "{s:?}");
}

/// The continuous-time moments of one coordinate for the Gaussian pair under
/// the guided score s_w(x) = −K(u)·x + k(u), in u = ln ᾱ (β dτ = du along the
/// reverse time τ). Each noised marginal is N(α·m, c) with c = α²s² + 1 − α²,
/// so K = w/c_c + (1 − w)/c_u, k = α·(w·m_c/c_c + (1 − w)·m_u/c_u).
/// Probability-flow ODE dx = (x/2 + s/2) du: μ' = μ/2 + (k − Kμ)/2, V' = (1 − K)V.
/// Reverse SDE dx = (x/2 + s) du + dW_u: μ' = μ/2 + k − Kμ, V' = (1 − 2K)V + 1.
/// Integrated with RK4 (20 000 steps) from u0 = ln ᾱ of the first level, where
/// the samplers start from N(0, 1), to u = 0.
fn continuous_moments(sde: bool, w: f64, mc: f64, mu: f64, u0: f64) -> (f64, f64) {
    let coef = |u: f64| {
        let a2 = u.exp();
        let (cc, cu) = (a2 * SC * SC + 1.0 - a2, a2 * SU * SU + 1.0 - a2);
        let big_k = w / cc + (1.0 - w) / cu;
        let small_k = a2.sqrt() * (w * mc / cc + (1.0 - w) * mu / cu);
        (big_k, small_k)
    };
    let f = |u: f64, y: [f64; 2]| {
        let (big_k, small_k) = coef(u);
        if sde {
            [
                0.5 * y[0] + small_k - big_k * y[0],
                (1.0 - 2.0 * big_k) * y[1] + 1.0,
            ]
        } else {
            [
                0.5 * y[0] + 0.5 * (small_k - big_k * y[0]),
                (1.0 - big_k) * y[1],
            ]
        }
    };
    let steps = 20_000;
    let h = -u0 / steps as f64;
    let mut y = [0.0, 1.0];
    for j in 0..steps {
        let u = u0 + j as f64 * h;
        let add = |y: [f64; 2], k: [f64; 2], s: f64| [y[0] + s * k[0], y[1] + s * k[1]];
        let k1 = f(u, y);
        let k2 = f(u + h / 2.0, add(y, k1, h / 2.0));
        let k3 = f(u + h / 2.0, add(y, k2, h / 2.0));
        let k4 = f(u + h, add(y, k3, h));
        y = [
            y[0] + h / 6.0 * (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]),
            y[1] + h / 6.0 * (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]),
        ];
    }
    (y[0], y[1].sqrt())
}

fn first_alpha_bar(steps: usize) -> f64 {
    let sched = dk::schedule(ScheduleKind::Linear, dk::TRAIN_STEPS);
    let l = dk::levels(SamplerKind::Ddim, &sched, steps)[0];
    f64::from(l.a).powi(2)
}

/// With 1000 steps the samplers' moments match the continuous-time limits at
/// w = 3. 4 000 particles: the standard error of a mean is std/√n ≤ 0.004, of
/// a std std/√(2n) ≤ 0.003; both coordinates are checked (x carries the
/// guidance, y only the spread). Tolerance 4 SE + 0.004 for the discretisation
/// (1000 linear-schedule steps move u = ln ᾱ by ≤ 0.02 each; the first-order
/// error of the moments measured against the 20 000-step RK4 is ~1e-3). The
/// effects this guards (DDIM vs DDPM vs target) are 0.06–0.3.
#[test]
fn samplers_match_continuous_time_limits_at_1000_steps() {
    let (w, n) = (3.0, 4_000);
    let u0 = first_alpha_bar(1000).ln();
    for (sampler, sde) in [(GuidedSampler::Ddim, false), (GuidedSampler::Ddpm, true)] {
        let m = samples(&pair_cfg(sampler, w, 1000, n));
        for (d, (mc, mu)) in [(MC[0], MU[0]), (MC[1], MU[1])].into_iter().enumerate() {
            let (mean, std) = continuous_moments(sde, w, mc, mu, u0);
            let se_mean = std / f64::from(n).sqrt();
            let se_std = std / f64::from(2 * n).sqrt();
            eprintln!(
                "{sampler} [{d}]: mean {:.4} vs {mean:.4}, std {:.4} vs {std:.4}",
                m.mean[d], m.std[d]
            );
            assert!(
                (m.mean[d] - mean).abs() < 4.0 * se_mean + 0.004,
                "{sampler}: mean[{d}] {} vs continuous {mean}",
                m.mean[d]
            );
            assert!(
                (m.std[d] - std).abs() < 4.0 * se_std + 0.004,
                "{sampler}: std[{d}] {} vs continuous {std}",
                m.std[d]
            );
        }
    }
}

/// At w = 1 every sampler samples p(x|c) = N((1, 0), 0.25 I) within Monte
/// Carlo error: 4 000 particles, 200 steps; 4 SE (mean 0.008, std 0.0056)
/// plus 0.01 for 200 steps' discretisation and PCG's Langevin bias (δ = 0.1).
#[test]
fn every_sampler_recovers_the_conditional_at_w_1() {
    let n = 4_000;
    for sampler in GuidedSampler::ALL {
        let m = samples(&pair_cfg(*sampler, 1.0, 200, n));
        let se_mean = SC / f64::from(n).sqrt();
        let se_std = SC / f64::from(2 * n).sqrt();
        for (d, mc) in MC.iter().enumerate() {
            assert!(
                (m.mean[d] - mc).abs() < 4.0 * se_mean + 0.01,
                "{sampler}: mean {:?}",
                m.mean
            );
            assert!(
                (m.std[d] - SC).abs() < 4.0 * se_std + 0.01,
                "{sampler}: std {:?}",
                m.std
            );
        }
    }
}

/// At w = 3, DDIM and DDPM differ from each other and from the tilted target
/// N((1.2, 0), 0.1 I) by more than 6 combined standard errors, in the std of
/// each coordinate and in the guided mean (4 000 particles, 1000 steps' worth
/// of limit is not needed: 200 steps, since the gaps are ≥ 0.1).
#[test]
fn ddim_and_ddpm_differ_from_each_other_and_from_the_tilted_target_at_w_3() {
    let n = 4_000;
    let ddim = samples(&pair_cfg(GuidedSampler::Ddim, 3.0, 200, n));
    let ddpm = samples(&pair_cfg(GuidedSampler::Ddpm, 3.0, 200, n));
    let (tm, ts) = kg::tilted_gaussian(MC, SC, MU, SU, 3.0).unwrap();
    let se = |s: f64| s / f64::from(2 * n).sqrt();
    let gap = |a: f64, b: f64, sa: f64, sb: f64| (a - b).abs() / (sa * sa + sb * sb).sqrt();
    for d in 0..2 {
        let z = gap(ddim.std[d], ddpm.std[d], se(ddim.std[d]), se(ddpm.std[d]));
        assert!(z > 6.0, "DDIM vs DDPM std[{d}]: z = {z}");
        for (name, m) in [("DDIM", &ddim), ("DDPM", &ddpm)] {
            let z = gap(m.std[d], ts, se(m.std[d]), 0.0);
            assert!(z > 6.0, "{name} vs target std[{d}]: z = {z}");
        }
    }
    let sem = |m: &Moments| m.std[0] / f64::from(n).sqrt();
    for (name, m) in [("DDIM", &ddim), ("DDPM", &ddpm)] {
        let z = gap(m.mean[0], tm[0], sem(m), 0.0);
        assert!(z > 6.0, "{name} vs target mean: z = {z}");
    }
    let z = gap(ddim.mean[0], ddpm.mean[0], sem(&ddim), sem(&ddpm));
    assert!(z > 6.0, "DDIM vs DDPM mean: z = {z}");
}

/// The mixture's class target at w = 1 is its one component N(μ_k, 0.1²I);
/// the grid normalises it (cell 0.015: moments to 1e-4).
#[test]
fn gmm8_class_target_at_w_1_is_its_component() {
    let cfg = GuidanceConfig {
        dataset: GuidanceData::Gmm8,
        class: 2,
        w: 1.0,
        ..GuidanceConfig::default()
    };
    let (m, _) = cfg.target(0).expect("normalisable");
    assert!(
        m.mean[0].abs() < 1e-4 && (m.mean[1] - 1.0).abs() < 1e-4,
        "{m:?}"
    );
    assert!(
        (m.cov[0] - 0.01).abs() < 1e-4 && (m.cov[2] - 0.01).abs() < 1e-4,
        "{m:?}"
    );
}

/// The schedules have mean w over t ∈ [0, 1] (midpoint rule, 10⁴ points).
#[test]
fn w_schedules_average_to_w() {
    for kind in kg::WSchedule::ALL {
        let k = 10_000;
        let mean: f64 = (0..k)
            .map(|j| f64::from(kg::w_at(*kind, 3.0, (j as f32 + 0.5) / k as f32)))
            .sum::<f64>()
            / k as f64;
        assert!((mean - 3.0).abs() < 1e-3, "{kind}: {mean}");
    }
}

/// CADS's schedule by hand: γ = 1 up to τ₁ = 0.6, 0 from τ₂ = 0.9, linear
/// between (γ(0.75) = 0.5); and ĉ = √γ·c + s·√(1 − γ)·n at γ = 0.25, s = 0.5,
/// c = (1, 0), n = (2, −2): (0.5 + 0.5·√0.75·2, −0.5·√0.75·2). f32: 1e-6.
#[test]
fn cads_schedule_and_annealed_condition_by_hand() {
    use gradlab::kernels::guidance::cads::{anneal_condition, cads_gamma};
    assert_eq!(cads_gamma(0.3, 0.6, 0.9), 1.0);
    assert_eq!(cads_gamma(0.6, 0.6, 0.9), 1.0);
    assert!((cads_gamma(0.75, 0.6, 0.9) - 0.5).abs() < 1e-6);
    assert_eq!(cads_gamma(0.9, 0.6, 0.9), 0.0);
    assert_eq!(cads_gamma(1.0, 0.6, 0.9), 0.0);
    let mut c = [1.0f32, 0.0];
    anneal_condition(&mut c, 0.25, 0.5, |j| if j == 0 { 2.0 } else { -2.0 });
    let r = 0.75f32.sqrt();
    assert!(
        (c[0] - (0.5 + r)).abs() < 1e-6 && (c[1] + r).abs() < 1e-6,
        "{c:?}"
    );
}

/// The MLP with a real-valued class input equals the lab's MLP denoiser
/// exactly when that input is the one-hot of the class (the same f32
/// operations), at several levels and points; CADS off, the MLP pair's guided
/// mean is D_u + w·(D_c − D_u) of the lab's denoiser.
#[test]
fn mlp_class_input_matches_the_shipped_denoiser_on_one_hot() {
    use gradlab::experiments::diffusion::shipped_mlp;
    use gradlab::kernels::diffusion::Level;
    use gradlab::kernels::diffusion::data::DiffusionData;
    use gradlab::kernels::guidance::GuidedScores;
    use gradlab::kernels::guidance::cads::MlpPair;
    let mlp = shipped_mlp(DiffusionData::Gmm8).expect("shipped gmm8 denoiser");
    let pair = MlpPair {
        mlp: mlp.clone(),
        class: 3,
        cads: None,
        seed: 0,
    };
    let mut one_hot = vec![0.0f32; mlp.spec.class_inputs];
    one_hot[3] = 1.0;
    for ab in [0.01, 0.3, 0.9, 0.999] {
        let level = Level::vp(ab);
        for x in [[0.1f32, -0.4], [1.2, 0.7], [-2.0, 0.0]] {
            let want = mlp.denoise(x, level, Some(3));
            assert_eq!(pair.denoise_embedded(x, level, &one_hot), want);
            let u = mlp.denoise(x, level, None);
            let g = pair.guided(x, level, 3.0, 0, 1, 0.5);
            assert_eq!(
                g,
                [u[0] + 3.0 * (want[0] - u[0]), u[1] + 3.0 * (want[1] - u[1])]
            );
        }
    }
}

/// `gradlab guidance` prints the keys, writes every sample with
/// `--samples-out`, and exits 2 on a bad value or a config it cannot take.
#[test]
fn cli_report_samples_out_and_strict_errors() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_gradlab");
    let out_path =
        std::env::temp_dir().join(format!("guidance-samples-{}.jsonl", std::process::id()));
    let out = Command::new(bin)
        .args([
            "guidance",
            "--n",
            "64",
            "--steps",
            "20",
            "--sampler",
            "pcg",
            "--samples-out",
        ])
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "samples_mean",
        "samples_std",
        "target",
        "swd_to_target",
        "nfe",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["target"]["mean"][0].as_f64(), Some(1.2));
    let lines = std::fs::read_to_string(&out_path).unwrap();
    assert_eq!(lines.lines().count(), 64);
    std::fs::remove_file(&out_path).ok();
    for bad in [
        vec!["guidance", "--w", "NaN"],
        vec!["guidance", "--sampler", "euler"],
        vec!["guidance", "--class", "3"],
        vec!["guidance", "--cads", "1"],
        vec![
            "guidance",
            "--score",
            "mlp",
            "--dataset",
            "gmm8",
            "--backend",
            "gpu",
            "--n",
            "16",
        ],
    ] {
        let out = Command::new(bin).args(&bad).output().unwrap();
        let code = out.status.code();
        // The GPU case exits 2 (a config the GPU cannot take) or 3 (no GPU at all).
        assert!(
            code == Some(2) || (bad.contains(&"gpu") && code == Some(3)),
            "{bad:?}: {code:?}"
        );
    }
}
