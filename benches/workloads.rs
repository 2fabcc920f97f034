//! Criterion benches of every registry workload on the CPU, at the sizes
//! `gradlab bench <workload>` and the `/bench` page use by default: one
//! definition of each workload serves all three (`src/experiments/bench.rs`).
//! The diffusion step also runs under each score source but the MLP (which
//! needs a shipped model file; `gradlab bench diffusion-step --score mlp`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradlab::experiments::bench::Workload;
use gradlab::experiments::diffusion::ScoreKind;
use gradlab::experiments::registry::{Compute, REGISTRY};

fn bench_workload(c: &mut Criterion, w: &Workload, pairs: &[(&str, &str)], label: &str) {
    let mut bench = pollster::block_on((w.prepare)(pairs, Compute::Cpu).expect("default sizes"))
        .expect("a CPU workload prepares");
    let mut group = c.benchmark_group(w.name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(bench.items()));
    group.bench_function(label, |b| {
        b.iter(|| pollster::block_on(bench.iter()).expect("the CPU cannot fault"))
    });
    group.finish();
}

fn bench_all(c: &mut Criterion) {
    for e in REGISTRY {
        for w in e.workloads() {
            bench_workload(c, w, &[], "cpu");
        }
    }
    let (_, step) = gradlab::experiments::registry::workload("diffusion-step").expect("registered");
    for score in ScoreKind::ALL.iter().filter(|&&s| s != ScoreKind::Mlp) {
        let pairs = [("score", score.as_str()), ("n", "4096")];
        bench_workload(c, step, &pairs, &format!("cpu_{}_4096", score.as_str()));
    }
}

criterion_group!(benches, bench_all);
criterion_main!(benches);
