use gradlab::kernels::gumbel::{GUMBEL_STREAM, Problem, estimates, moment_sums};
use gradlab::kernels::rng::RngKey;

#[test]
fn explore() {
    let key = RngKey::new(7, GUMBEL_STREAM);
    let n = 1_000_000u32;
    let logits = [0.5, 1.0, -1.0, 2.0];
    for w in [
        [1.0, -2.0, 3.0, 0.5],
        [10.0, 11.0, 12.0, 13.0],
        [0.0, 1.0, 0.0, -1.0],
    ] {
        for tau in [1.0, 0.5, 0.3, 0.2, 0.1, 0.03] {
            let t = std::time::Instant::now();
            let p = Problem::new(&logits, &w, tau);
            let s = moment_sums(&p, key, 0, n);
            let e = estimates(&logits, &w, &s, n as u64);
            let sup = e
                .soft_mean
                .iter()
                .zip(&e.probs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let cv = e
                .soft_mean
                .iter()
                .zip(&e.hard_freq)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let gs = &e.grad.gumbel_softmax;
            let se = (gs.total_var() / n as f64).sqrt();
            println!(
                "w={w:?} tau={tau} sup={sup:.3e} cv={cv:.3e} gsbias={:.4e} se={se:.3e} tv={:.4} rf tv={:.4} rfb tv={:.4} t={:?}",
                gs.bias(&e.grad.exact),
                gs.total_var(),
                e.grad.reinforce.total_var(),
                e.grad.reinforce_baseline.total_var(),
                t.elapsed()
            );
        }
    }
}
