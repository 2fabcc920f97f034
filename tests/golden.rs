//! Behaviour is unchanged by refactoring: the CLI's JSON for a fixed config
//! of every experiment (backend `cpu`) is byte-identical to what it printed
//! before the registry landed (recorded in `tests/golden/*.json`).
//!
//! The args keep the old underscore spellings where a key has one
//! (`tau_min`, `langevin_steps`, `gmm_std`), so this also checks that links
//! shared before keys became kebab-case still parse to the same run.
//!
//! To re-record after an intended change of numbers:
//! `GRADLAB_BLESS=1 cargo test --test golden` (and say why in the commit).

use std::process::Command;

/// (file name, CLI args): small, fixed configs, a few seconds in all.
const CASES: &[(&str, &[&str])] = &[
    (
        "rng",
        &["rng", "--seed", "7", "--stream", "3", "--count", "64"],
    ),
    (
        "gumbel",
        &[
            "gumbel",
            "--logits",
            "0.5,1,-1,2",
            "--weights",
            "1,2,3,4",
            "--tau",
            "0.5",
            "--samples",
            "4096",
            "--seed",
            "3",
            "--tau_min",
            "0.2",
            "--steps",
            "20",
            "--batch",
            "8",
        ],
    ),
    // The same run under the linear objective: every estimator but RLOO (new)
    // is byte-identical to the numbers recorded before the objective existed,
    // straight-through equal to Gumbel-Softmax.
    (
        "gumbel-linear",
        &[
            "gumbel",
            "--logits",
            "0.5,1,-1,2",
            "--weights",
            "1,2,3,4",
            "--tau",
            "0.5",
            "--samples",
            "4096",
            "--seed",
            "3",
            "--tau_min",
            "0.2",
            "--steps",
            "20",
            "--batch",
            "8",
            "--objective",
            "linear",
        ],
    ),
    (
        "clipping",
        &[
            "clipping", "--runs", "8", "--steps", "60", "--batch", "8", "--seed", "5",
        ],
    ),
    (
        "label-smoothing",
        &[
            "label-smoothing",
            "--steps",
            "40",
            "--hidden",
            "16",
            "--train",
            "256",
            "--test",
            "256",
            "--seed",
            "2",
        ],
    ),
    (
        "diffusion",
        &[
            "diffusion",
            "--dataset",
            "gmm8",
            "--score",
            "exact-gmm",
            "--sampler",
            "ddim",
            "--steps",
            "12",
            "--n",
            "256",
            "--seed",
            "4",
            "--langevin_steps",
            "1",
            "--gmm_std",
            "0.1",
        ],
    ),
    (
        "robust",
        &[
            "robust",
            "--method",
            "clip-norm",
            "--grads",
            "1,2;3,4;100,-50",
            "--threshold",
            "2",
        ],
    ),
    (
        "loss",
        &[
            "loss",
            "--logits",
            "1.5,-0.3,2.0",
            "--target",
            "2",
            "--smoothing",
            "0.1",
        ],
    ),
    (
        "schedule",
        &["schedule", "--kind", "cosine", "--steps", "20"],
    ),
    (
        "score",
        &[
            "score",
            "--gmm-means",
            "0,0;1,1",
            "--gmm-std",
            "0.2",
            "--sigma",
            "0.5",
            "--at",
            "0.3,0.1;-1,2",
        ],
    ),
    (
        "train-mlp",
        &[
            "train-mlp",
            "--steps",
            "30",
            "--hidden",
            "8",
            "--train",
            "128",
            "--test",
            "128",
            "--every",
            "10",
        ],
    ),
];

fn golden_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"))
}

#[test]
fn cli_json_is_byte_identical_to_the_recorded_golden() {
    let bless = std::env::var_os("GRADLAB_BLESS").is_some();
    let mut changed = Vec::new();
    for (name, args) in CASES {
        let out = Command::new(env!("CARGO_BIN_EXE_gradlab"))
            .args(*args)
            .env("WGPU_BACKEND", "vulkan")
            .output()
            .expect("gradlab runs");
        assert!(
            out.status.success(),
            "{name}: gradlab {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = golden_path(name);
        if bless {
            std::fs::write(&path, &out.stdout).expect("golden written");
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        if out.stdout != want {
            changed.push(format!(
                "{name}: gradlab {}\n  now:    {}\n  golden: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
                    .chars()
                    .take(300)
                    .collect::<String>(),
                String::from_utf8_lossy(&want)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ));
        }
    }
    assert!(
        changed.is_empty(),
        "CLI output changed:\n{}",
        changed.join("\n")
    );
}
