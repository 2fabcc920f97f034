//! Criterion benches of the experiments' other CPU kernels, the same work as
//! `gradlab bench gumbel|robust|diffusion-step --backend cpu`: Gumbel-Softmax
//! moment sums, 32 SGD runs of each robust estimator, and one sampler step of
//! 4,096 particles under each score source but the MLP (which needs a model
//! file: see `benches/mlp.rs` for its network).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradlab::experiments::clipping::{ClippingConfig, METHODS};
use gradlab::experiments::diffusion::{DiffusionConfig, Sampling, ScoreKind, build_source};
use gradlab::experiments::gumbel::{GumbelConfig, estimate_cpu};
use gradlab::kernels::diffusion::data::PointSet;
use gradlab::kernels::robust;
use std::hint::black_box;

fn bench_gumbel(c: &mut Criterion) {
    let mut group = c.benchmark_group("gumbel_cpu");
    group.sample_size(10);
    let cfg = GumbelConfig {
        samples: 1 << 16,
        ..GumbelConfig::default()
    };
    group.throughput(Throughput::Elements(u64::from(cfg.samples)));
    group.bench_function("estimates_65536_samples", |b| {
        b.iter(|| estimate_cpu(black_box(&cfg)))
    });
    group.finish();
}

fn bench_robust(c: &mut Criterion) {
    let mut group = c.benchmark_group("robust_cpu");
    group.sample_size(10);
    let clip = ClippingConfig {
        steps: 200,
        batch: 32,
        ..ClippingConfig::default()
    };
    let runs = 32u32;
    group.throughput(Throughput::Elements(u64::from(
        runs * clip.steps * clip.batch,
    )));
    for m in METHODS {
        let spec = clip.run_spec(m);
        group.bench_function(format!("{}_32_runs", m.as_str()), |b| {
            b.iter(|| {
                for r in 0..runs {
                    black_box(robust::run(&spec, r, false));
                }
            })
        });
    }
    group.finish();
}

fn bench_diffusion(c: &mut Criterion) {
    let mut group = c.benchmark_group("diffusion_step_cpu");
    group.sample_size(10);
    for &score in ScoreKind::ALL.iter().filter(|&&s| s != ScoreKind::Mlp) {
        let cfg = DiffusionConfig {
            score,
            n: 4096,
            ..DiffusionConfig::default()
        };
        let train = cfg.training_set(&PointSet::default());
        let source = build_source(&cfg, &train, None).expect("a score source without a model");
        let fresh = || Sampling::new(cfg.clone(), source.clone(), train.class_count);
        let mut s = fresh();
        group.throughput(Throughput::Elements(u64::from(cfg.n)));
        group.bench_function(format!("{}_4096", score.as_str()), |b| {
            b.iter(|| {
                if s.finished() {
                    s = fresh();
                }
                s.advance(cfg.n as usize)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gumbel, bench_robust, bench_diffusion);
criterion_main!(benches);
