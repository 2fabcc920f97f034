//! Criterion benches of the CPU MLP kernels: inference on a large batch
//! (decision regions) and one training step.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradlab::kernels::mlp::{
    Activation, AdamConfig, AdamState, Loss, MlpSpec, Targets, adam_step, backward, featurize,
    forward, init_params, loss_and_grad, predict,
};
use gradlab::kernels::rng::RngKey;
use std::hint::black_box;

fn spec(output: usize) -> MlpSpec {
    MlpSpec::for_2d_points(&[128, 128], output, Activation::Relu)
}

fn bench_mlp(c: &mut Criterion) {
    let key = RngKey::new(1, 0);
    let mut group = c.benchmark_group("mlp_cpu");
    group.sample_size(10);

    let n = 65_536u32;
    let s = spec(2);
    let params = init_params(&s, 1);
    let x: Vec<f32> = (0..2 * n).map(|i| key.normal_at(i)).collect();
    let f = featurize(&s, &x, None, None);
    group.throughput(Throughput::Elements(u64::from(n)));
    group.bench_function("forward_2-128-128-2_65536", |b| {
        b.iter(|| predict(&s, &params, black_box(f.clone())))
    });

    let batch = 256u32;
    let s = spec(3);
    let mut params = init_params(&s, 1);
    let x: Vec<f32> = (0..2 * batch).map(|i| key.normal_at(i)).collect();
    let y: Vec<u32> = (0..batch).map(|i| i % 3).collect();
    let f = featurize(&s, &x, None, None);
    let mut adam = AdamState::new(params.len());
    let loss = Loss::CrossEntropy {
        smoothing: 0.1,
        maxsup: 0.0,
    };
    group.throughput(Throughput::Elements(u64::from(batch)));
    group.bench_function("train_step_2-128-128-3_256", |b| {
        b.iter(|| {
            let fwd = forward(&s, &params, f.clone());
            let (_, d) = loss_and_grad(loss, fwd.output(), Targets::Labels(&y));
            let g = backward(&s, &params, &fwd, d);
            adam_step(&AdamConfig::default(), &mut adam, &mut params, &g);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mlp);
criterion_main!(benches);
