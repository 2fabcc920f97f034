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

#[test]
fn list_prints_the_runnable_experiments() {
    let v = stdout_json(&gradlab(&["list"]));
    assert_eq!(v, serde_json::json!(["rng"]));
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
        (vec!["gumbel"], "not built yet"),
        (vec!["bench", "nope"], "nope"),
        (vec!["bench", "rng", "--count", "-3"], "--count"),
        (vec![], "no command"),
    ] {
        let out = gradlab(&args);
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
        let v = stdout_json(&gradlab(&[
            "bench",
            "rng",
            "--backend",
            backend,
            "--count",
            "4096",
        ]));
        assert_eq!(v["kernel"], "rng");
        assert_eq!(v["backend"], backend);
        assert_eq!(v["size"], 4096);
        assert!(v["items_per_s"].as_f64().expect("number") > 0.0);
        assert!(v["ms_per_iter"].as_f64().expect("number") > 0.0);
    }
}
