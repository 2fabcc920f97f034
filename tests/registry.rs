//! The registry, table-driven: every experiment it lists has a working
//! `--help`, runs its default config on the CPU and on the GPU (lavapipe in
//! CI; there with at most 50 steps and 64 runs), sends its report through the worker's wire format unchanged, has
//! self-test checks that pass and benchmark workloads that run; and
//! `static/experiments.json` (what embed.js and the e2e specs read) is the
//! registry's own text.

mod common;

use std::process::Command;

use gradlab::experiments::config::Config;
use gradlab::experiments::registry::{self, Compute, REGISTRY};

fn gradlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gradlab"))
        .args(args)
        .output()
        .expect("gradlab runs")
}

#[test]
fn every_experiment_has_help_naming_each_flag() {
    assert!(REGISTRY.len() >= 5, "the lab's experiments are registered");
    for e in REGISTRY {
        let id = e.info().id;
        let out = gradlab(&[id, "--help"]);
        assert!(out.status.success(), "gradlab {id} --help failed");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains(e.info().title),
            "{id}: --help names the experiment"
        );
        for f in e.fields() {
            assert!(
                help.contains(&format!("--{}", f.name)),
                "{id}: --help lists --{}",
                f.name
            );
        }
    }
}

/// The GPU pass's sizes: the defaults but at most 50 steps and 64 runs.
/// lavapipe is a software GPU: label smoothing's 2,000 default steps took
/// 194 s there and clipping's 1,024 runs 64 s, more than every other test
/// together, for the same kernels and the same report shape.
fn fewer_steps(e: &dyn registry::Registered) -> Vec<(&'static str, &'static str)> {
    e.fields()
        .iter()
        .filter_map(|f| match f.name {
            "steps" => Some(("steps", "50")),
            "runs" => Some(("runs", "64")),
            _ => None,
        })
        .filter(|&(k, v)| {
            e.fields().iter().any(|f| {
                f.name == k
                    && f.default
                        .parse::<u64>()
                        .is_ok_and(|d| d > v.parse().unwrap_or(0))
            })
        })
        .collect()
}

#[test]
fn every_default_config_runs_on_the_cpu_and_the_gpu_and_its_report_crosses_the_wire() {
    let gpu = common::gpu();
    for e in REGISTRY {
        let id = e.info().id;
        let smaller = fewer_steps(*e);
        for (on, pairs) in [
            (Compute::Cpu, Vec::new()),
            (Compute::Gpu(gpu.clone()), smaller.clone()),
        ] {
            let backend = on.backend();
            let json = pollster::block_on(e.run_json(&pairs, &on))
                .unwrap_or_else(|err| panic!("{id} on {backend}: {err}"));
            let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            assert!(
                value.is_object(),
                "{id} on {backend}: the report is an object"
            );
            // The worker sends reports as this JSON and the page reads them back.
            let again = e
                .reencode(&json)
                .unwrap_or_else(|err| panic!("{id} on {backend}: report unreadable: {err}"));
            assert_eq!(
                again, json,
                "{id} on {backend}: the report changed on the wire"
            );
        }
    }
}

#[test]
fn every_experiment_has_self_test_checks_that_pass() {
    let gpu = common::gpu();
    for e in REGISTRY {
        let id = e.info().id;
        let checks = pollster::block_on(e.selftest(&gpu)).expect("no GPU fault");
        assert!(!checks.is_empty(), "{id}: no self-test checks");
        for c in &checks {
            assert!(
                c.pass,
                "{id}: {} {} = {} > {}",
                c.kernel, c.metric, c.value, c.bound
            );
        }
    }
}

#[test]
fn every_experiment_has_a_bench_workload_that_runs() {
    let mut names = Vec::new();
    for e in REGISTRY {
        let id = e.info().id;
        assert!(!e.workloads().is_empty(), "{id}: no bench workload");
        for w in e.workloads() {
            names.push(w.name);
            assert!(!(w.fields)().is_empty(), "{}: no size flags", w.name);
            // One iteration at a small size, through the same code as `gradlab bench`.
            let small: Vec<(&str, &str)> = (w.fields)()
                .iter()
                .filter_map(|f| match f.name {
                    "count" | "samples" | "batch" | "n" => Some((f.name, "64")),
                    "runs" | "steps" => Some((f.name, "2")),
                    _ => None,
                })
                .collect();
            let mut bench = pollster::block_on((w.prepare)(&small, Compute::Cpu).expect("sizes"))
                .expect("prepares");
            pollster::block_on(bench.iter()).expect("runs");
            assert!(bench.items() > 0, "{}: counts its items", w.name);
        }
    }
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "workload names are unique: {names:?}"
    );
}

#[test]
fn ids_are_unique_and_papers_are_cited() {
    let ids = registry::ids();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "ids are unique: {ids:?}");
    for e in REGISTRY {
        let i = e.info();
        assert!(
            i.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}: ids are kebab-case (they are routes and CLI commands)",
            i.id
        );
        assert!(!i.papers.is_empty(), "{}: cites its papers", i.id);
        assert!(!i.claim.is_empty() && !i.title.is_empty());
    }
}

#[test]
fn every_experiment_lists_its_figures_with_unique_kebab_ids() {
    for e in REGISTRY {
        let i = e.info();
        assert!(
            !i.panels.is_empty(),
            "{}: lists its panels (figure embeds)",
            i.id
        );
        let mut ids: Vec<_> = i.panels.iter().map(|p| p.id).collect();
        for p in i.panels {
            assert!(
                !p.id.is_empty()
                    && p.id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}/{}: panel ids are kebab-case (they go in `panels=`)",
                i.id,
                p.id
            );
            assert!(!p.title.is_empty(), "{}/{}: has a title", i.id, p.id);
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), i.panels.len(), "{}: panel ids are unique", i.id);
    }
}

#[test]
fn every_field_names_a_control_that_can_set_its_default() {
    use gradlab::experiments::config::FieldInput;
    for e in REGISTRY {
        for f in e.fields() {
            match &f.input {
                FieldInput::Range { min, max, integer } => {
                    let d: f64 = f
                        .default
                        .parse()
                        .expect("a range field's default is a number");
                    assert!(
                        min <= max && (*min..=*max).contains(&d),
                        "{}: default in range",
                        f.name
                    );
                    assert!(!integer || d.fract() == 0.0, "{}: integer default", f.name);
                }
                FieldInput::Choice { options } => {
                    assert!(
                        options.contains(&f.default.as_str()),
                        "{}: default is an option",
                        f.name
                    );
                }
                FieldInput::Switch => assert!(["true", "false"].contains(&f.default.as_str())),
                FieldInput::Text => {}
            }
        }
    }
}

/// The static first paint (injected into index.html by scripts/first-paint.mjs)
/// is the registry's: a new or renamed experiment shows before the wasm loads.
#[test]
fn static_first_paint_is_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/first-paint.html");
    let shipped = std::fs::read_to_string(path).expect("static/first-paint.html");
    assert!(
        shipped == gradlab::site::first_paint_html(),
        "static/first-paint.html is stale: run `cargo run -- first-paint > static/first-paint.html`"
    );
}

#[test]
fn static_experiments_json_is_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/experiments.json");
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == registry::experiments_json(),
        "static/experiments.json is stale: run `cargo run -- experiments > static/experiments.json`"
    );
    let out = gradlab(&["experiments"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        shipped,
        "the CLI prints it"
    );
    let list: serde_json::Value = serde_json::from_str(&shipped).expect("JSON");
    let ids: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(ids, registry::ids());
}

#[test]
fn every_default_config_round_trips_through_its_query() {
    for e in REGISTRY {
        let fields = e.fields();
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|f| (f.name, f.default.as_str()))
            .collect();
        let json = pollster::block_on(e.run_json(&pairs, &Compute::Cpu));
        assert!(
            json.is_ok(),
            "{}: the defaults, spelled out, parse",
            e.info().id
        );
    }
    // A typed check of one config, through the same trait.
    let cfg = gradlab::experiments::rng::RngConfig::default();
    assert_eq!(
        gradlab::experiments::rng::RngConfig::from_pairs_strict(
            cfg.to_pairs().iter().map(|(k, v)| (*k, v.as_str()))
        ),
        Ok(cfg)
    );
}
