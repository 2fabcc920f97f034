//! `--threads N`: the native splits (Monte Carlo runs, certificate points,
//! label-smoothing models, diffusion particles, MLP row blocks) give the
//! same numbers, bit for bit, on every number of threads.

use std::process::{Command, Output};

use gradlab::kernels::mlp::{self, Activation, Loss, MlpSpec, Targets};
use gradlab::kernels::par;
use gradlab::kernels::rng::RngKey;

fn gradlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradlab"))
        .args(args)
        .output()
        .expect("gradlab runs")
}

/// The report of `args` on `threads` threads, which must succeed.
fn report(args: &[&str], threads: &str) -> String {
    let mut all = args.to_vec();
    all.extend(["--threads", threads]);
    let out = gradlab(&all);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    serde_json::from_str::<serde_json::Value>(&text).expect("one JSON report");
    text
}

/// Exact equality of whole reports: a split that leaked into the numbers
/// (a shared generator, a sum in thread order) changes some digit of them.
fn same_for_every_thread_count(args: &[&str]) {
    let one = report(args, "1");
    for n in ["2", "3"] {
        assert_eq!(
            one,
            report(args, n),
            "{args:?} differs between 1 and {n} threads"
        );
    }
}

#[test]
fn clipping_monte_carlo_runs() {
    same_for_every_thread_count(&["clipping", "--runs", "24", "--steps", "200"]);
}

#[test]
fn certify_points_and_samples() {
    same_for_every_thread_count(&["certify", "--n", "2000", "--grid", "16"]);
}

#[test]
fn label_smoothing_models() {
    same_for_every_thread_count(&["label-smoothing", "--steps", "60"]);
}

#[test]
fn rng_draws() {
    same_for_every_thread_count(&["rng", "--count", "70000"]);
}

#[test]
fn diffusion_particles() {
    // 700 particles: blocks of 256 and a partial one.
    same_for_every_thread_count(&["diffusion", "--n", "700", "--steps", "20"]);
}

#[test]
fn threads_flag_is_checked() {
    for (args, needle) in [
        (vec!["list", "--threads", "0"], r#"invalid --threads: "0""#),
        (
            vec!["list", "--threads", "many"],
            r#"invalid --threads: "many""#,
        ),
        (
            vec!["list", "--threads=2000"],
            r#"invalid --threads: "2000""#,
        ),
        (vec!["list", "--threads"], "invalid --threads: no value"),
        (
            vec!["list", "--threads", "1", "--threads", "2"],
            "--threads given more than once",
        ),
    ] {
        let out = gradlab(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    // Every command takes it, the bench too.
    let out = gradlab(&["bench", "rng", "--count", "4096", "--threads=2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn batch(spec: &MlpSpec, rows: usize) -> (Vec<f32>, Vec<u32>) {
    let key = RngKey::new(3, 0);
    let x: Vec<f32> = (0..2 * rows as u32).map(|i| key.normal_at(i)).collect();
    let f = mlp::featurize(spec, &x, None, None)
        .into_raw_vec_and_offset()
        .0;
    (f, (0..rows as u32).map(|i| i % 3).collect())
}

/// The row-blocked gradient is the full batch's gradient (backpropagation on
/// the whole batch at once, f64, as the reference): f32 sums in another order
/// differ by rounding only, ~1e-7 relative; 1e-4 relative leaves room for
/// that and none for a block weighted wrongly (a 64-row block of 200 rows
/// mis-weighted moves the gradient by tens of percent).
#[test]
fn blocked_gradient_is_the_batch_gradient() {
    let spec = MlpSpec::for_2d_points(&[16, 16], 3, Activation::Relu);
    let params = mlp::init_params(&spec, 7);
    let (f, y) = batch(&spec, 200);
    let loss = Loss::CrossEntropy {
        smoothing: 0.1,
        maxsup: 0.0,
    };
    let (l, g) = mlp::batch_gradient(&spec, &params, &f, &y, loss);

    let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
    let f64s = ndarray::Array2::from_shape_vec(
        (200, spec.feature_dim()),
        f.iter().map(|&v| f64::from(v)).collect(),
    )
    .unwrap();
    let fwd = mlp::forward(&spec, &p64, f64s);
    let (l_ref, d) = mlp::loss_and_grad(loss, fwd.output(), Targets::Labels(&y));
    let g_ref = mlp::backward(&spec, &p64, &fwd, d);

    let scale = g_ref.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 1e-3, "a gradient worth comparing");
    assert!(
        (f64::from(l) - l_ref).abs() <= 1e-4 * l_ref.abs(),
        "{l} vs {l_ref}"
    );
    for (i, (a, b)) in g.iter().zip(&g_ref).enumerate() {
        let diff = (f64::from(*a) - b).abs();
        assert!(diff <= 1e-4 * scale, "parameter {i}: {a} vs {b}"); // NaN fails too
    }
}

/// Bit for bit on 1 and 3 threads: the blocked forward and gradient.
#[test]
fn blocked_mlp_kernels_ignore_the_thread_count() {
    let spec = MlpSpec::for_2d_points(&[32, 32], 3, Activation::Relu);
    let params = mlp::init_params(&spec, 2);
    let (f, y) = batch(&spec, 3000);
    let loss = Loss::CrossEntropy {
        smoothing: 0.0,
        maxsup: 0.0,
    };
    let on = |n| {
        par::with_threads(Some(n), || {
            (
                mlp::predict_blocks(&spec, &params, &f),
                mlp::batch_gradient(&spec, &params, &f, &y, loss),
            )
        })
        .unwrap()
    };
    let (one, three) = (on(1), on(3));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&three.0));
    assert_eq!(one.1.0.to_bits(), three.1.0.to_bits());
    assert_eq!(bits(&one.1.1), bits(&three.1.1));
    assert!(one.0.iter().all(|v| v.is_finite()));
}
