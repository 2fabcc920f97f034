//! The `gradlab` binary as a user runs it: JSON out, status codes for bad input.

use std::process::{Command, Output};

fn gradlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gradlab"))
        .args(args)
        .output()
        .expect("gradlab runs")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON value")
}

/// Exit status 2, one line on stderr naming `needle`, nothing on stdout.
fn assert_usage_error(args: &[&str], needle: &str) {
    let out = gradlab(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: one line, got {err}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
}

#[test]
fn list_prints_the_runnable_experiments() {
    let v = stdout_json(&gradlab(&["list"]));
    assert_eq!(
        v,
        serde_json::json!([
            "rng",
            "gumbel",
            "label-smoothing",
            "clipping",
            "diffusion",
            "certify"
        ])
    );
}

/// Hand-checked estimates for the rows (1,2), (3,4), (100,−50): exact up to f32 rounding.
#[test]
fn robust_prints_the_estimate() {
    let mean_norm = (34.666_668f64.powi(2) + 14.666_667f64.powi(2)).sqrt();
    for (method, extra, expect) in [
        ("mean", vec![], [104.0 / 3.0, -44.0 / 3.0]),
        ("median", vec![], [3.0, 2.0]),
        ("clip-coord", vec![], [1.0, -1.0]),
        (
            "clip-norm",
            vec![],
            [
                34.666_668 / (mean_norm + 1e-6),
                -14.666_667 / (mean_norm + 1e-6),
            ],
        ),
        (
            "clip-norm",
            vec!["--norm", "inf"],
            [
                34.666_668 / (34.666_668 + 1e-6),
                -14.666_667 / (34.666_668 + 1e-6),
            ],
        ),
        ("mom", vec!["--groups", "3"], [3.0, 2.0]),
        ("mom", vec!["--groups", "1"], [104.0 / 3.0, -44.0 / 3.0]),
    ] {
        let args = [
            vec![
                "robust",
                "--method",
                method,
                "--threshold",
                "1.0",
                "--grads",
                "1,2;3,4;100,-50",
            ],
            extra,
        ]
        .concat();
        let v = stdout_json(&gradlab(&args));
        for k in 0..2 {
            let got = v["estimate"][k].as_f64().unwrap();
            assert!(
                (got - expect[k]).abs() <= 1e-6 * expect[k].abs().max(1.0),
                "{method}: {v}"
            );
        }
    }
}

#[test]
fn clipping_prints_the_documented_object_on_both_backends() {
    let args = [
        "clipping",
        "--objective",
        "quadratic",
        "--noise",
        "student-t",
        "--df",
        "1.5",
        "--steps",
        "100",
        "--runs",
        "16",
        "--lr",
        "0.05",
        "--threshold",
        "1.0",
        "--seed",
        "0",
    ];
    let cpu = stdout_json(&gradlab(&[&args[..], &["--backend", "cpu"]].concat()));
    let gpu = stdout_json(&gradlab(&[&args[..], &["--backend", "gpu"]].concat()));
    for name in [
        "mean",
        "clip-norm",
        "clip-coord",
        "clip-sample",
        "median",
        "geomedian",
        "mom",
        "median-iter",
    ] {
        for v in [&cpu, &gpu] {
            let e = &v["estimators"][name];
            assert!(e["final_dist_median"].as_f64().is_some(), "{name}");
            assert!(e["final_dist_p90"].as_f64().is_some(), "{name}");
            assert_eq!(e["curve"].as_array().unwrap().len(), 101, "{name}");
        }
        let (a, b) = (
            cpu["estimators"][name]["final_dist_median"]
                .as_f64()
                .unwrap(),
            gpu["estimators"][name]["final_dist_median"]
                .as_f64()
                .unwrap(),
        );
        assert!((a - b).abs() <= 1e-3 * a.max(0.1), "{name}: {a} vs {b}");
    }
}

#[test]
fn gumbel_prints_the_documented_object_on_both_backends() {
    let args = [
        "gumbel",
        "--logits",
        "0.5,1,-1,2",
        "--tau",
        "0.5",
        "--samples",
        "20000",
        "--seed",
        "1",
        "--weights",
        "1,2,3,4",
    ];
    let cpu = stdout_json(&gradlab(&[&args[..], &["--backend", "cpu"]].concat()));
    let gpu = stdout_json(&gradlab(&[&args[..], &["--backend", "gpu"]].concat()));
    for v in [&cpu, &gpu] {
        for k in ["probs", "hard_freq", "soft_mean"] {
            assert_eq!(v[k].as_array().expect(k).len(), 4);
        }
        assert_eq!(v["grad"]["exact"].as_array().unwrap().len(), 4);
        for e in [
            "reinforce",
            "reinforce_baseline",
            "reinforce_loo",
            "gumbel_softmax",
            "straight_through",
        ] {
            for m in ["mean", "var"] {
                assert_eq!(v["grad"][e][m].as_array().expect(e).len(), 4, "{e}.{m}");
            }
        }
    }
    assert_eq!(cpu["hard_freq"], gpu["hard_freq"]);
    // The default objective is quadratic, where straight-through is its own
    // estimator; under --objective linear it is Gumbel-Softmax's gradient.
    assert_ne!(
        cpu["grad"]["straight_through"],
        cpu["grad"]["gumbel_softmax"]
    );
    let linear = stdout_json(&gradlab(
        &[&args[..], &["--objective", "linear", "--backend", "cpu"]].concat(),
    ));
    assert_eq!(
        linear["grad"]["straight_through"],
        linear["grad"]["gumbel_softmax"]
    );
    // The exact gradient p ⊙ (w − Σ p w), computed here from the printed probs.
    let p: Vec<f64> = cpu["probs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let w = [1.0, 2.0, 3.0, 4.0];
    let mean: f64 = p.iter().zip(&w).map(|(p, w)| p * w).sum();
    for j in 0..4 {
        let exact = cpu["grad"]["exact"][j].as_f64().unwrap();
        assert!((exact - p[j] * (w[j] - mean)).abs() < 1e-12);
    }
}

#[test]
fn rng_prints_the_documented_object() {
    let v = stdout_json(&gradlab(&[
        "rng",
        "--seed",
        "5",
        "--count",
        "10",
        "--stream=2",
    ]));
    for k in ["u32", "uniform", "normal", "gumbel"] {
        assert_eq!(v[k].as_array().expect(k).len(), 10, "{k}");
    }
    // The first word equals the kernel's, computed here independently of the CLI path.
    let first = gradlab::kernels::rng::philox4x32_10([0, 0, 0, 0], [5, 2])[0];
    assert_eq!(v["u32"][0], serde_json::json!(first));
}

#[test]
fn both_backends_print_the_same_numbers() {
    let args = ["rng", "--seed", "99", "--count", "2000", "--stream", "4"];
    let cpu = gradlab(&[&args[..], &["--backend", "cpu"]].concat());
    let gpu = gradlab(&[&args[..], &["--backend", "gpu"]].concat());
    assert_eq!(stdout_json(&cpu), stdout_json(&gpu));
}

#[test]
fn bad_input_exits_2_with_a_named_one_line_error() {
    for (args, needle) in [
        (vec!["rng", "--count", "0"], "--count"),
        (vec!["rng", "--count", "NaN"], "--count"),
        (vec!["rng", "--count", "inf"], "--count"),
        (vec!["rng", "--count", "2.5"], "--count"),
        (vec!["rng", "--count", "99999999999999999999"], "--count"),
        (vec!["rng", "--seed", "-1"], "--seed"),
        (vec!["rng", "--seed"], "--seed"),
        (vec!["rng", "--seed", "1", "--seed", "2"], "--seed"),
        (vec!["rng", "--tau", "1"], "--tau"),
        (vec!["rng", "stray"], "stray"),
        (vec!["rng", "--backend", "tpu"], "--backend"),
        (vec!["nope"], "nope"),
        (
            vec!["diffusion", "--sampler", "euler-maruyama"],
            "--sampler",
        ),
        (vec!["bench", "nope"], "nope"),
        (vec!["bench", "rng", "--count", "-3"], "--count"),
        (vec!["bench", "mlp-forward", "--hidden", "0"], "--hidden"),
        (vec!["train-mlp", "--dataset", "mnist"], "--dataset"),
        (
            vec!["gumbel", "--logits", "1,2,3", "--weights", "1,2"],
            "--weights",
        ),
        (vec!["gumbel", "--logits", "1"], "--logits"),
        (vec!["gumbel", "--tau", "0"], "--tau"),
        (vec!["gumbel", "--logits", "1,NaN"], "--logits"),
        (vec!["gumbel", "--objective", "cubic"], "--objective"),
        // RLOO needs two samples per batch, and two batches.
        (vec!["gumbel", "--batch", "1"], "--batch"),
        (
            vec!["gumbel", "--samples", "10", "--batch", "8"],
            "--samples",
        ),
        (vec!["bench", "gumbel", "--k", "17"], "--k"),
        (vec!["train-mlp", "--hidden", "8,8,8,8,8"], "--hidden"),
        (vec!["train-mlp", "--lr", "inf"], "--lr"),
        (vec!["train-mlp", "--out"], "--out"),
        (
            vec![
                "train-mlp",
                "--out",
                "/nonexistent-dir/m.bin",
                "--steps",
                "1",
            ],
            "--out",
        ),
        (vec![], "no command"),
    ] {
        assert_usage_error(&args, needle);
    }
}

#[test]
fn gpu_unavailable_exits_3() {
    let out = Command::new(env!("CARGO_BIN_EXE_gradlab"))
        .args(["rng", "--backend", "gpu"])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .output()
        .expect("gradlab runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("GPU requested but unavailable"), "{err}");
}

#[test]
fn help_lists_every_flag() {
    let out = gradlab(&["rng", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for flag in ["--seed", "--stream", "--count", "--backend"] {
        assert!(text.contains(flag), "{flag} in {text}");
    }
}

#[test]
fn bench_prints_the_bench_json() {
    for backend in ["cpu", "gpu"] {
        for args in [
            vec!["bench", "rng", "--count", "512"],
            vec!["bench", "gumbel", "--samples", "512", "--k", "16"],
            vec![
                "bench",
                "mlp-forward",
                "--batch",
                "512",
                "--hidden",
                "16,16",
            ],
            vec![
                "bench",
                "mlp-train-step",
                "--batch",
                "512",
                "--hidden",
                "16",
            ],
        ] {
            let v = stdout_json(&gradlab(&[&args[..], &["--backend", backend]].concat()));
            assert_eq!(v["kernel"], args[1]);
            assert_eq!(v["backend"], backend);
            assert_eq!(v["size"], 512);
            assert!(v["items_per_s"].as_f64().expect("number") > 0.0);
            assert!(v["ms_per_iter"].as_f64().expect("number") > 0.0);
        }
    }
}

#[test]
fn train_mlp_prints_the_curve_and_writes_a_loadable_model() {
    let path = std::env::temp_dir().join(format!("gradlab-cli-{}.bin", std::process::id()));
    let path_str = path.to_str().expect("utf-8 temp path");
    let args = [
        "train-mlp",
        "--dataset",
        "blobs3",
        "--hidden",
        "16",
        "--steps",
        "50",
        "--every",
        "25",
        "--train",
        "96",
        "--test",
        "96",
    ];
    let cpu = stdout_json(&gradlab(&[&args[..], &["--out", path_str]].concat()));
    let steps: Vec<u64> = cpu["loss_curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [0, 25, 50]);
    assert_eq!(cpu["spec"]["hidden"], serde_json::json!([16]));
    for k in ["train_accuracy", "test_accuracy"] {
        let a = cpu[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&a), "{k} {a}");
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let (spec, params) = gradlab::kernels::model_file::decode(&bytes).unwrap();
    assert_eq!(spec.hidden, [16]);
    assert_eq!(params.len() as u64, cpu["param_count"].as_u64().unwrap());
    // Same seed on the GPU: the same initial loss (same data and weights).
    let gpu = stdout_json(&gradlab(&[&args[..], &["--backend", "gpu"]].concat()));
    let l0 = |v: &serde_json::Value| v["loss_curve"][0]["loss"].as_f64().unwrap();
    assert!((l0(&cpu) - l0(&gpu)).abs() < 1e-5 * l0(&cpu));
}

/// `gradlab loss`: hand values. logits (1.5, −0.3, 2), target 2, ε = 0.1:
/// q = (1/30, 1/30, 14/15), loss = lse − Σ q_k z_k, grad = softmax − q;
/// computed here in f64 from the definition, so 1e-9 is rounding only
/// (the CLI stores ε as f32: 0.1 ± 1.5e-9, which moves the loss by < 1e-8;
/// hence 1e-7 for the smoothed case).
#[test]
fn loss_prints_the_loss_and_its_gradient() {
    let z = [1.5f64, -0.3, 2.0];
    let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
    let q = [1.0 / 30.0, 1.0 / 30.0, 14.0 / 15.0];
    let want: f64 = lse - z.iter().zip(q).map(|(z, q)| z * q).sum::<f64>();
    let v = stdout_json(&gradlab(&[
        "loss",
        "--logits",
        "1.5,-0.3,2.0",
        "--target",
        "2",
        "--smoothing",
        "0.1",
    ]));
    assert!((v["loss"].as_f64().unwrap() - want).abs() < 1e-7, "{v}");
    let g = v["grad"].as_array().expect("a flat list for one example");
    assert_eq!(g.len(), 3);
    for i in 0..3 {
        let p = (z[i] - lse).exp();
        assert!((g[i].as_f64().unwrap() - (p - q[i])).abs() < 1e-7, "{v}");
    }
    // A batch: the mean loss, and per example the gradient of the mean
    // (half the per-example gradient for two examples). With ε = 0 and α = 0
    // the second example (0, 1, 0) with target 0 has loss lse − 0.
    let v = stdout_json(&gradlab(&[
        "loss",
        "--logits",
        "1,2,3;0,1,0",
        "--target",
        "2;0",
    ]));
    let lse1 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
    let lse2 = (2.0 + 1f64.exp()).ln();
    let want = ((lse1 - 3.0) + lse2) / 2.0;
    assert!((v["loss"].as_f64().unwrap() - want).abs() < 1e-9, "{v}");
    let g = v["grad"].as_array().expect("list of lists");
    assert_eq!(g.len(), 2);
    let g2: Vec<f64> = g[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let p0 = 1.0 / (2.0 + 1f64.exp());
    assert!((g2[0] - (p0 - 1.0) / 2.0).abs() < 1e-9, "{v}");
    // MaxSup adds α(onehot(argmax) − 1/K) to the gradient: argmax of (1, 2, 3) is 2.
    let m = stdout_json(&gradlab(&[
        "loss", "--logits", "1,2,3", "--target", "0", "--maxsup", "0.3",
    ]));
    let h = stdout_json(&gradlab(&["loss", "--logits", "1,2,3", "--target", "0"]));
    let d = |i: usize| m["grad"][i].as_f64().unwrap() - h["grad"][i].as_f64().unwrap();
    assert!((d(0) + 0.1).abs() < 1e-7 && (d(1) + 0.1).abs() < 1e-7 && (d(2) - 0.2).abs() < 1e-7);
    assert!((m["loss"].as_f64().unwrap() - h["loss"].as_f64().unwrap() - 0.3).abs() < 1e-7);
}

#[test]
fn loss_rejects_bad_input_with_exit_2() {
    let many = vec!["0"; 65].join(",");
    for (args, needle) in [
        (vec!["loss", "--logits", "1,2", "--target", "2"], "--target"),
        (
            vec!["loss", "--logits", "1,2", "--target", "-1"],
            "--target",
        ),
        (
            vec!["loss", "--logits", "1,NaN", "--target", "0"],
            "--logits",
        ),
        (vec!["loss", "--logits", "", "--target", "0"], "--logits"),
        (vec!["loss", "--logits", "1", "--target", "0"], "--logits"),
        (
            vec!["loss", "--logits", "1,2;1,2,3", "--target", "0;0"],
            "--logits",
        ),
        (
            vec!["loss", "--logits", "1,2;3,4", "--target", "0"],
            "--target",
        ),
        (
            vec!["loss", "--logits", "1,2;", "--target", "0;0"],
            "--logits",
        ),
        (
            vec![
                "loss",
                "--logits",
                "1,2",
                "--target",
                "0",
                "--smoothing",
                "1.5",
            ],
            "--smoothing",
        ),
        (
            vec![
                "loss",
                "--logits",
                "1,2",
                "--target",
                "0",
                "--smoothing",
                "-0.1",
            ],
            "--smoothing",
        ),
        (
            vec![
                "loss", "--logits", "1,2", "--target", "0", "--maxsup", "inf",
            ],
            "--maxsup",
        ),
        (vec!["loss", "--logits", &many, "--target", "0"], "--logits"),
        (vec!["loss", "--target", "0"], "--logits"),
        (vec!["loss", "--logits", "1,2"], "--target"),
        (
            vec!["loss", "--logits", "1,2", "--target", "0", "--bogus", "1"],
            "--bogus",
        ),
        (
            vec![
                "loss", "--logits", "1,2", "--logits", "1,2", "--target", "0",
            ],
            "--logits",
        ),
    ] {
        let out = gradlab(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// `gradlab label-smoothing` runs although its widget is still Coming, and
/// prints one object per model with the documented keys.
#[test]
fn label_smoothing_prints_the_models() {
    for backend in ["cpu", "gpu"] {
        let v = stdout_json(&gradlab(&[
            "label-smoothing",
            "--dataset",
            "spirals3",
            "--smoothing",
            "0.1",
            "--steps",
            "50",
            "--hidden",
            "16,16",
            "--seed",
            "0",
            "--backend",
            backend,
        ]));
        assert_eq!(v["backend"], backend);
        let models = v["models"].as_array().expect("models");
        let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["hard", "smoothed", "maxsup"]);
        for m in models {
            for key in ["test_acc", "nll", "ece", "aurc", "aurc_lognorm"] {
                let x = m[key].as_f64().unwrap_or_else(|| panic!("{key} in {m}"));
                assert!(x.is_finite() && x >= 0.0, "{key} in {m}");
            }
        }
    }
    let v = stdout_json(&gradlab(&[
        "label-smoothing",
        "--maxsup",
        "0",
        "--steps",
        "5",
    ]));
    assert_eq!(v["models"].as_array().unwrap().len(), 2);
    for (args, needle) in [
        (vec!["label-smoothing", "--smoothing", "0.6"], "--smoothing"),
        (vec!["label-smoothing", "--noise", "0.7"], "--noise"),
        (vec!["label-smoothing", "--bogus", "1"], "bogus"),
        (vec!["label-smoothing", "--dataset", "mnist"], "--dataset"),
    ] {
        let out = gradlab(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let help = gradlab(&["label-smoothing", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--tsla"));
}

/// `schedule --kind cosine` against the closed form in f64 (the same formula,
/// evaluated independently: 1e-12 relative), ᾱ = cumprod(1 − β).
#[test]
fn schedule_prints_the_closed_form() {
    let v = stdout_json(&gradlab(&[
        "schedule", "--kind", "cosine", "--steps", "1000",
    ]));
    let betas = v["betas"].as_array().expect("betas");
    let abar = v["alphas_cumprod"].as_array().expect("alphas_cumprod");
    assert_eq!(betas.len(), 1000);
    assert_eq!(abar.len(), 1000);
    let f = |t: f64| {
        ((t / 1000.0 + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
            .cos()
            .powi(2)
    };
    let mut acc = 1.0;
    for i in 0..1000 {
        let want = (1.0 - f(i as f64 + 1.0) / f(i as f64)).min(0.999);
        acc *= 1.0 - want;
        let (b, a) = (betas[i].as_f64().unwrap(), abar[i].as_f64().unwrap());
        assert!((b - want).abs() <= 1e-12 * want, "β_{i}: {b} vs {want}");
        assert!((a - acc).abs() <= 1e-12 * acc, "ᾱ_{i}: {a} vs {acc}");
    }
    assert_eq!(betas[999].as_f64(), Some(0.999));
}

/// `gradlab score` on two components at one point (checked by hand below).
const SCORE: &[&str] = &[
    "score",
    "--gmm-means",
    "0,0;1,1",
    "--gmm-std",
    "0.1",
    "--sigma",
    "0.5",
    "--at",
    "0.2,0.1",
];

/// `score` against the closed form: for the mixture Σ w_k N(μ_k, s²I) convolved
/// with N(0, σ²I), ∇log p(x) = Σ_k r_k (μ_k − x)/(s² + σ²), r_k ∝ N(x; μ_k, (s²+σ²)I),
/// in f64. The CLI computes in f32 (Tweedie, a·D − x with D ~ 1): 1e-5 relative.
#[test]
fn score_prints_the_mixture_score() {
    let v = stdout_json(&gradlab(SCORE));
    let c = 0.1f64 * 0.1 + 0.5 * 0.5;
    let x = [0.2f64, 0.1];
    let means = [[0.0f64, 0.0], [1.0, 1.0]];
    let logits: Vec<f64> = means
        .iter()
        .map(|m| -((x[0] - m[0]).powi(2) + (x[1] - m[1]).powi(2)) / (2.0 * c))
        .collect();
    let z: f64 = logits.iter().map(|l| l.exp()).sum();
    let mut want = [0.0f64; 2];
    for (m, l) in means.iter().zip(&logits) {
        let r = l.exp() / z;
        want[0] += r * (m[0] - x[0]) / c;
        want[1] += r * (m[1] - x[1]) / c;
    }
    let got = &v["score"][0];
    for k in 0..2 {
        let g = got[k].as_f64().unwrap();
        assert!(
            (g - want[k]).abs() <= 1e-5 * want[k].abs().max(1.0),
            "{v} vs {want:?}"
        );
    }
    assert_eq!(v["score"].as_array().unwrap().len(), 1);
}

#[test]
fn diffusion_prints_samples_and_metrics() {
    let v = stdout_json(&gradlab(&[
        "diffusion",
        "--dataset",
        "gmm8",
        "--score",
        "exact-gmm",
        "--sampler",
        "ddim",
        "--schedule",
        "cosine",
        "--steps",
        "20",
        "--n",
        "200",
        "--seed",
        "0",
        "--backend",
        "cpu",
    ]));
    let samples = v["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 200);
    for p in samples {
        let p = p.as_array().expect("a point");
        assert_eq!(p.len(), 2);
        assert!(
            p.iter().all(|c| c.as_f64().is_some_and(|c| c.abs() < 3.0)),
            "{p:?}"
        );
    }
    let swd = v["metrics"]["swd"].as_f64().expect("metrics.swd");
    assert!(swd > 0.0 && swd < 0.2, "{swd}");
    let mem = v["metrics"]["memorized"]
        .as_f64()
        .expect("metrics.memorized");
    assert!((0.0..=1.0).contains(&mem));
    assert!(v["metrics"]["memorized_fresh"].as_f64().is_some());
    for key in ["memorized_ratio", "memorized_ratio_fresh"] {
        let f = v["metrics"][key]
            .as_f64()
            .unwrap_or_else(|| panic!("metrics.{key}"));
        assert!((0.0..=1.0).contains(&f), "{key} = {f}");
    }
    assert_eq!(v["nfe"], 20);
    assert_eq!(v["backend"], "cpu");
}

#[test]
fn diffusion_bad_input_exits_2_naming_the_flag() {
    let score = |extra: &[&'static str]| {
        let mut a = SCORE.to_vec();
        a.extend_from_slice(extra);
        a
    };
    let mut bad_at = score(&[]);
    bad_at[8] = "1";
    for (args, needle) in [
        (vec!["diffusion", "--nope", "1"], "--nope"),
        (vec!["diffusion", "--steps", "0"], "--steps"),
        (vec!["diffusion", "--steps", "abc"], "--steps"),
        (vec!["diffusion", "--apg-beta", "2"], "--apg-beta"),
        (vec!["diffusion", "--apg-eta", "-0.1"], "--apg-eta"),
        (vec!["diffusion", "--apg-r", "nan"], "--apg-r"),
        (
            vec![
                "diffusion",
                "--score",
                "exact-gmm",
                "--dataset",
                "swissroll",
            ],
            "--score",
        ),
        (
            vec!["diffusion", "--dataset", "drawn", "--score", "empirical"],
            "--dataset",
        ),
        // The default score (exact-gmm) cannot take drawn points either: the
        // message names --score and says "drawn".
        (vec!["diffusion", "--dataset", "drawn"], "drawn"),
        (bad_at, "--at"),
        (score(&["--gmm-weights", "1,2,3"]), "--gmm-weights"),
        (vec!["schedule"], "--kind"),
        (
            vec!["schedule", "--kind", "cosine", "--bogus", "1"],
            "--bogus",
        ),
        (vec!["bench", "diffusion-step", "--n", "0"], "--n"),
    ] {
        assert_usage_error(&args, needle);
    }
}

#[test]
fn bench_diffusion_step_prints_the_bench_json() {
    let v = stdout_json(&gradlab(&[
        "bench",
        "diffusion-step",
        "--n",
        "1000",
        "--score",
        "exact-gmm",
        "--backend",
        "cpu",
    ]));
    let keys: Vec<&String> = v.as_object().expect("an object").keys().collect();
    let mut keys: Vec<&str> = keys.into_iter().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["backend", "items_per_s", "kernel", "ms_per_iter", "size"]
    );
    assert_eq!(v["kernel"], "diffusion-step");
    assert_eq!(v["backend"], "cpu");
    assert_eq!(v["size"], 1000);
    assert!(v["items_per_s"].as_f64().expect("number") > 0.0);
    assert!(v["ms_per_iter"].as_f64().expect("number") > 0.0);
}

#[test]
fn bench_robust_names_the_estimator() {
    let v = stdout_json(&gradlab(&[
        "bench",
        "robust",
        "--method",
        "geomedian",
        "--runs",
        "2",
        "--steps",
        "5",
        "--batch",
        "4",
    ]));
    assert_eq!(v["kernel"], "geomedian");
    assert_eq!(v["backend"], "cpu");
    assert_eq!(v["size"], 2 * 5 * 4);
    assert!(v["ms_per_iter"].as_f64().unwrap() > 0.0);
    assert_usage_error(&["bench", "robust", "--method", "trimmed-mean"], "--method");
}

/// `gradlab robust` in d = 3 on both backends: the mean of (1,2,3), (3,4,5),
/// (5,0,−2) is (3, 2, 2) exactly (sums of small integers, one exact division
/// by 3 each, as f32); the coordinate median is (3, 2, 3); clip-norm of
/// (1e20, 0, 0) at c = 1 is (1, 0, 0) (1e-6: f32 rounding of the factor). And
/// the CPU and GPU answers are equal (NaN-seeing: a non-number is a failure).
#[test]
fn robust_takes_any_dimension_on_both_backends() {
    for backend in ["cpu", "gpu"] {
        for (method, grads, want) in [
            ("mean", "1,2,3;3,4,5;5,0,-2", vec![3.0, 2.0, 2.0]),
            ("median", "1,2,3;3,4,5;5,0,-2", vec![3.0, 2.0, 3.0]),
            ("clip-norm", "1e20,0,0", vec![1.0, 0.0, 0.0]),
            ("geomedian", "0,0;0,0;1e20,0", vec![0.0, 0.0]),
            ("mean", "7;-1", vec![3.0]),
        ] {
            let v = stdout_json(&gradlab(&[
                "robust",
                "--method",
                method,
                "--grads",
                grads,
                "--backend",
                backend,
            ]));
            let got: Vec<f64> = v["estimate"]
                .as_array()
                .expect("an array")
                .iter()
                .map(|x| x.as_f64().unwrap_or(f64::NAN))
                .collect();
            assert_eq!(got.len(), want.len(), "{backend} {method}: {v}");
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{backend} {method} {grads}: {v}"
                );
            }
        }
    }
}

/// `--grads-file`: rows on lines (or `;`), the same answer as `--grads`.
#[test]
fn robust_reads_rows_from_a_file() {
    let path = std::env::temp_dir().join(format!("gradlab-grads-{}.txt", std::process::id()));
    std::fs::write(&path, "1,2,3\n3,4,5\n5,0,-2\n").unwrap();
    let v = stdout_json(&gradlab(&[
        "robust",
        "--method",
        "mean",
        "--grads-file",
        path.to_str().unwrap(),
    ]));
    assert_eq!(v["estimate"], serde_json::json!([3.0, 2.0, 2.0]));
    assert_usage_error(
        &[
            "robust",
            "--grads-file",
            path.to_str().unwrap(),
            "--grads",
            "1",
        ],
        "not both",
    );
    std::fs::remove_file(&path).ok();
    assert_usage_error(
        &["robust", "--grads-file", "/nonexistent/gradlab-grads"],
        "--grads-file",
    );
}

/// Bad sample gradients: exit 2 and a message naming --grads and the problem.
#[test]
fn robust_rejects_bad_rows() {
    let many_rows = vec!["1"; 4097].join(";");
    let wide_row = vec!["1"; 4097].join(",");
    let widest_ok = vec!["1"; 4096].join(",");
    let most_rows_ok = vec!["2"; 4096].join(";");
    for (grads, needle) in [
        ("1,2;3", "row 1"),
        ("1,2,3;4,5", "equal length"),
        ("", "row 0 is empty"),
        ("1,2;;3,4", "row 1 is empty"),
        ("1,nan", "not a finite number"),
        ("1,inf", "not a finite number"),
        ("1,-inf", "not a finite number"),
        ("1,x", "not a number"),
        ("1e31,0", "beyond"),
        (many_rows.as_str(), "more than 4096 rows"),
        (wide_row.as_str(), "more than 4096 components"),
    ] {
        let out = gradlab(&["robust", "--grads", grads]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {err}",
            &grads[..grads.len().min(20)]
        );
        assert!(err.contains("--grads"), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(out.stdout.is_empty());
    }
    // The limits themselves are accepted.
    let v = stdout_json(&gradlab(&[
        "robust", "--method", "median", "--grads", &widest_ok,
    ]));
    assert_eq!(v["estimate"].as_array().unwrap().len(), 4096);
    let v = stdout_json(&gradlab(&[
        "robust",
        "--method",
        "median",
        "--grads",
        &most_rows_ok,
    ]));
    assert_eq!(v["estimate"], serde_json::json!([2.0]));
}
