//! The training race's estimators on the MLP against exact values: the
//! forward-mode JVP against backprop, fwd and spsa unbiased in the mean, the
//! local-loss guess against f64 finite differences, the cost model against a
//! hand count, determinism, and the CLI.

use gradlab::experiments::zo::{RaceRun, Verdict, ZoConfig, race::Lane};
use gradlab::kernels::agree;
use gradlab::kernels::datasets::{DatasetId, generate};
use gradlab::kernels::mlp::{self, MlpSpec};
use gradlab::kernels::rng::RngKey;
use gradlab::kernels::zo::Estimator;
use gradlab::kernels::zo::race::{
    self, backprop, classifier, fwd_estimate, guess_estimate, init_heads, jvp, local_guess,
    passes_per_step, spsa_estimate,
};
use std::process::Command;

/// A small net at a trained-looking point: its weights, heads and a minibatch.
fn setup(hidden: &[usize], batch: usize) -> (MlpSpec, Vec<f32>, Vec<f32>, Vec<f32>, Vec<u32>) {
    let spec = classifier(hidden);
    let params = mlp::init_params(&spec, 3);
    let heads = init_heads(&spec, 3);
    let d = generate(DatasetId::Spirals3, 5, batch, 0).train;
    (spec, params, heads, d.x, d.y)
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// ∇L·v by forward mode equals backprop's ∇L dotted with v, and L itself,
/// to f32 rounding: relative 1e-4 of Σ|∂_j L v_j| (P ≈ 1,200 f32 products
/// summed, ~P·6e-8 ≈ 7e-5), NaN an infinite difference.
#[test]
fn jvp_equals_backprop_dotted_with_v() {
    let (spec, params, _, x, y) = setup(&[32, 32], 16);
    let (l, g) = backprop(&spec, &params, &x, &y);
    let key = RngKey::new(9, 1);
    for k in 0..8 {
        let v = race::direction(key, Estimator::Fwd, k, params.len());
        let j = jvp(&spec, &params, &v, &x, &y);
        let exact = dot(&g, &v);
        let scale: f64 = g.iter().zip(&v).map(|(a, b)| f64::from(a * b).abs()).sum();
        let diff = agree::abs_diff(f64::from(j.d), exact) / scale;
        assert!(
            diff < 1e-4,
            "direction {k}: jvp {} vs {exact} ({diff})",
            j.d
        );
        assert!(agree::scaled_diff(f64::from(l), f64::from(j.v), 1e-3) < 1e-5);
    }
}

/// Mean and standard error.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// E ĝ = ∇L at a fixed θ for fwd (exactly) and spsa (to O(c²), c = 1e-3):
/// projected on ∇L itself and on three fixed random vectors w, the mean over
/// 20,000 directions is within 4 standard errors of ∇L·w (a false alarm about
/// once in 4,000 per check), and 4 SE is under a quarter of ‖∇L‖², so a 25 %
/// bias would be caught.
#[test]
fn fwd_and_spsa_are_unbiased_on_the_mlp() {
    let (spec, params, _, x, y) = setup(&[8, 8], 16);
    let (_, g) = backprop(&spec, &params, &x, &y);
    let key = RngKey::new(4, 2);
    let mut tests = vec![g.clone()];
    for s in 0..3 {
        tests.push(race::direction(
            RngKey::new(77, s),
            Estimator::Fwd,
            0,
            g.len(),
        ));
    }
    let n = 20_000;
    for est in [Estimator::Fwd, Estimator::Spsa] {
        let mut proj = vec![Vec::with_capacity(n); tests.len()];
        for k in 0..n as u32 {
            let e = match est {
                Estimator::Fwd => fwd_estimate(&spec, &params, &x, &y, key, k, 1),
                _ => spsa_estimate(&spec, &params, &x, &y, 1e-3, key, k, 1),
            };
            for (p, w) in proj.iter_mut().zip(&tests) {
                p.push(dot(&e, w));
            }
        }
        let g2 = dot(&g, &g);
        for (i, (p, w)) in proj.iter().zip(&tests).enumerate() {
            let (m, se) = mean_se(p);
            let exact = dot(&g, w);
            assert!(
                (m - exact).abs() < 4.0 * se,
                "{est:?} test vector {i}: mean {m} vs {exact} (se {se})"
            );
            if i == 0 {
                assert!(
                    4.0 * se < 0.25 * g2,
                    "{est:?}: se {se} too large against ‖∇L‖² {g2}"
                );
            }
        }
    }
}

/// Hidden layer k's local loss on one point in f64: the head's
/// cross-entropy on relu(W_k h + b_k), h the layer's input (held fixed).
fn local_loss_f64(
    spec: &MlpSpec,
    params: &[f64],
    heads: &[f32],
    k: usize,
    p: &[f32],
    y: usize,
) -> f64 {
    let layers = spec.layers();
    let offsets = spec.offsets();
    let mut h: Vec<f64> = p.iter().map(|&v| f64::from(v)).collect();
    let mut act = Vec::new();
    for l in 0..=k {
        let ((fi, fo), (wo, bo)) = (layers[l], offsets[l]);
        act = (0..fo)
            .map(|o| {
                let z =
                    params[bo + o] + (0..fi).map(|i| params[wo + o * fi + i] * h[i]).sum::<f64>();
                z.max(0.0)
            })
            .collect();
        h = act.clone();
    }
    let w = spec.hidden[k];
    let (a, c) = race::head_offsets(spec)[k];
    let logits: Vec<f64> = (0..3)
        .map(|cl| {
            f64::from(heads[c + cl])
                + (0..w)
                    .map(|o| f64::from(heads[a + cl * w + o]) * act[o])
                    .sum::<f64>()
        })
        .collect();
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + logits.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    lse - logits[y]
}

/// The guess u for hidden layer k is the gradient of its local loss in its
/// own weights and bias: against central differences of the loss in f64
/// (step 1e-6, error ~1e-10 away from ReLU kinks), to f32 rounding
/// (1e-4 of the largest component, floor 1e-6).
#[test]
fn the_guess_is_the_local_loss_gradient() {
    let (spec, params, heads, x, y) = setup(&[16, 16], 4);
    let offsets = spec.offsets();
    let layers = spec.layers();
    for k in 0..2 {
        for (n, p) in x.chunks_exact(2).enumerate() {
            let u = local_guess(&spec, &params, &heads, k, p, y[n]);
            let ((fi, fo), (wo, _)) = (layers[k], offsets[k]);
            assert_eq!(u.len(), fi * fo + fo);
            let mut theta: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
            let h = 1e-6;
            let fd: Vec<f64> = (0..fi * fo + fo)
                .map(|j| {
                    let at = wo + j; // weights then bias are contiguous in the layout
                    let keep = theta[at];
                    theta[at] = keep + h;
                    let a = local_loss_f64(&spec, &theta, &heads, k, p, y[n] as usize);
                    theta[at] = keep - h;
                    let b = local_loss_f64(&spec, &theta, &heads, k, p, y[n] as usize);
                    theta[at] = keep;
                    (a - b) / (2.0 * h)
                })
                .collect();
            let big = fd.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
            let worst = agree::worst(
                u.iter()
                    .zip(&fd)
                    .map(|(a, b)| agree::abs_diff(f64::from(*a), *b) / big),
            );
            assert!(worst < 1e-4, "layer {k} point {n}: {worst}");
            assert!(
                fd.iter().any(|v| v.abs() > 1e-3),
                "a nonzero guess to compare"
            );
        }
    }
}

/// On a one-point minibatch the guess step for hidden layer k is the
/// projection (g_k·u/‖u‖²)u of backprop's g_k on u, and the output layer's
/// part is backprop's: to f32 rounding (1e-4 of the largest component).
#[test]
fn the_guess_step_projects_the_true_gradient() {
    let (spec, params, heads, x, y) = setup(&[16, 16], 3);
    let offsets = spec.offsets();
    let layers = spec.layers();
    for n in 0..3 {
        let (p, label) = (&x[2 * n..2 * n + 2], &y[n..=n]);
        let (_, g) = backprop(&spec, &params, p, label);
        let s = guess_estimate(&spec, &params, &heads, p, label);
        let mut expect = vec![0.0f64; g.len()];
        for k in 0..2 {
            let u = local_guess(&spec, &params, &heads, k, p, y[n]);
            let ((fi, fo), (wo, _)) = (layers[k], offsets[k]);
            let gk = &g[wo..wo + fi * fo + fo];
            let c = dot(gk, &u) / dot(&u, &u);
            for (j, uj) in u.iter().enumerate() {
                expect[wo + j] = c * f64::from(*uj);
            }
        }
        let (wo, _) = offsets[2];
        for j in wo..g.len() {
            expect[j] = f64::from(g[j]);
        }
        let big = expect.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
        let worst = agree::worst(
            s.grad
                .iter()
                .zip(&expect)
                .map(|(a, b)| agree::abs_diff(f64::from(*a), *b) / big),
        );
        assert!(worst < 1e-4, "point {n}: {worst}");
    }
}

/// The cost model against a hand count for 2 → 32 → 32 → 3 (P = 64 + 1,024 + 96
/// = 1,184 multiply–adds a point): exact up to f64 rounding.
#[test]
fn the_cost_model_counts_multiply_adds() {
    let spec = classifier(&[32, 32]);
    let p = 1184.0;
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(
        passes_per_step(&spec, Estimator::Backprop, 1),
        (3.0 * p - 64.0) / p
    ));
    assert!(close(
        passes_per_step(&spec, Estimator::Fwd, 2),
        (p + 2.0 * (2.0 * p - 64.0)) / p
    ));
    assert!(close(passes_per_step(&spec, Estimator::Spsa, 3), 6.0));
    // Primal, heads 3·(32·3) each, layer 0: u 64 + above 1,120; layer 1: u 1,024 + above 96; output 96.
    let guess = p + 2.0 * 288.0 + 64.0 + 1120.0 + 1024.0 + 96.0 + 96.0;
    assert!(close(
        passes_per_step(&spec, Estimator::Guess, 1),
        guess / p
    ));
}

fn small() -> ZoConfig {
    ZoConfig {
        hidden: vec![8, 8],
        train: 60,
        test: 60,
        budget: 300,
        ..ZoConfig::default()
    }
}

/// The race is a pure function of its config: two runs give identical frames.
#[test]
fn the_race_is_deterministic_for_a_seed() {
    let run = |cfg: &ZoConfig| {
        let mut r = RaceRun::new(cfg);
        let mut frames = Vec::new();
        let mut slices = 0;
        while !r.advance(|| {
            slices += 1;
            slices % 7 != 0
        }) {
            frames.push(r.frame());
        }
        frames.push(r.frame());
        frames
    };
    let a = run(&small());
    assert_eq!(a, run(&small()));
    assert!(a.last().unwrap().finished);
    for lane in &a.last().unwrap().lanes {
        assert!(lane.passes >= 300.0, "{lane:?}");
        assert!(lane.curve.iter().all(|p| p.1.is_finite()));
    }
    let other = run(&ZoConfig { seed: 2, ..small() });
    assert_ne!(a.last(), other.last());
}

fn lane(e: Estimator, acc: f32) -> Lane {
    Lane {
        estimator: e,
        step: 10,
        passes: 100.0,
        lr: 0.1,
        curve: vec![(0.0, 0.33), (100.0, acc)],
        loss: 1.0,
        region: None,
    }
}

/// The verdict reads the run's numbers: it holds only when backprop leads
/// every other lane and guess leads fwd by more than the stated margin.
#[test]
fn the_verdict_follows_the_numbers() {
    let frame = |bp, fwd, guess, spsa| gradlab::experiments::zo::RaceFrame {
        lanes: vec![
            lane(Estimator::Backprop, bp),
            lane(Estimator::Fwd, fwd),
            lane(Estimator::Guess, guess),
            lane(Estimator::Spsa, spsa),
        ],
        budget: 100.0,
        finished: true,
        test_x: Vec::new(),
        test_y: Vec::new(),
    };
    let v = Verdict::of(&frame(0.9, 0.5, 0.7, 0.4));
    assert!(v.reproduced(), "{}", v.text());
    assert!(v.text().contains("reproduces here"));
    let v = Verdict::of(&frame(0.9, 0.68, 0.7, 0.4));
    assert!(!v.reproduced());
    assert!(v.text().contains("does not reproduce"), "{}", v.text());
    let v = Verdict::of(&frame(0.6, 0.5, 0.7, 0.4));
    assert!(!v.backprop_ahead && v.guess_well_ahead_of_fwd);
}

fn gradlab_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradlab"))
        .args(args)
        .output()
        .expect("gradlab runs")
}

/// `gradlab zo --objective mlp` prints the documented object: T + 1 losses,
/// test accuracy against steps and passes, the parameter count as `dim`.
#[test]
fn cli_runs_the_mlp_objective() {
    for est in ["backprop", "fwd", "guess", "spsa"] {
        let out = gradlab_cli(&[
            "zo",
            "--objective",
            "mlp",
            "--estimator",
            est,
            "--steps",
            "12",
            "--runs",
            "2",
            "--hidden",
            "8",
            "--train",
            "30",
            "--test",
            "30",
            "--backend",
            "cpu",
        ]);
        assert!(
            out.status.success(),
            "{est}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON value");
        assert_eq!(v["estimator"], est);
        assert_eq!(v["dim"], 2 * 8 + 8 + 8 * 3 + 3);
        for k in ["mean", "q10", "q90"] {
            let l = v["loss"][k].as_array().unwrap();
            assert_eq!(l.len(), 13, "{est} {k}");
            assert!(l.iter().all(|x| x.as_f64().unwrap().is_finite()));
        }
        let acc = &v["accuracy"];
        let n = acc["steps"].as_array().unwrap().len();
        assert_eq!(acc["steps"][n - 1], 12);
        assert_eq!(acc["passes"].as_array().unwrap().len(), n);
        let per = v["evals_per_step"].as_f64().unwrap();
        assert!((acc["passes"][n - 1].as_f64().unwrap() - 12.0 * per).abs() < 1e-9);
        for a in acc["test_accuracy"].as_array().unwrap() {
            assert!((0.0..=1.0).contains(&a.as_f64().unwrap()));
        }
    }
}

/// Estimators the race does not run, and the GPU, are named errors with exit 2.
#[test]
fn cli_rejects_what_the_mlp_objective_does_not_run() {
    for (args, needle) in [
        (
            vec!["zo", "--objective", "mlp", "--estimator", "gauss"],
            "--estimator",
        ),
        (
            vec!["zo", "--objective", "mlp", "--estimator", "sphere-vr"],
            "--estimator",
        ),
        (
            vec![
                "zo",
                "--objective",
                "mlp",
                "--estimator",
                "fwd",
                "--backend",
                "gpu",
            ],
            "--objective",
        ),
    ] {
        let out = gradlab_cli(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        // The GPU may be absent (exit 3 before the config is read); else exit 2 naming the flag.
        if out.status.code() == Some(3) {
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
