//! Criterion bench of the CPU twin of the counter-based generator.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gradlab::kernels::rng::{self, RngKey};
use std::hint::black_box;

fn bench_rng(c: &mut Criterion) {
    let mut group = c.benchmark_group("rng_cpu");
    for count in [1u32 << 12, 1 << 16] {
        group.throughput(Throughput::Elements(u64::from(count)));
        group.bench_function(format!("draw_{count}"), |b| {
            b.iter(|| rng::draw(RngKey::new(1, 0), 0, black_box(count)))
        });
        group.bench_function(format!("u32_{count}"), |b| {
            let key = RngKey::new(1, 0);
            b.iter(|| (0..black_box(count)).fold(0u32, |acc, i| acc ^ key.u32_at(i)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_rng);
criterion_main!(benches);
