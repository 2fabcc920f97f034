//! Backpropagation against central finite differences of an f64 forward pass.

use gradlab::kernels::mlp::{
    Activation, Loss, MlpSpec, Targets, backward, featurize, forward, init_params, loss_and_grad,
};
use gradlab::kernels::rng::RngKey;

fn spec(activation: Activation, output: usize, hidden: &[usize]) -> MlpSpec {
    MlpSpec {
        input: 2,
        hidden: hidden.to_vec(),
        output,
        activation,
        time_features: 4,
        class_inputs: 3,
    }
}

fn loss_f64(
    spec: &MlpSpec,
    params: &[f64],
    x: &[f64],
    t: &[f64],
    c: &[u32],
    loss: Loss,
    targets: Targets<'_>,
) -> f64 {
    let f = featurize(spec, x, Some(t), Some(c));
    let fwd = forward(spec, params, f);
    loss_and_grad(loss, fwd.output(), targets).0
}

/// Every parameter's gradient within 1e-3 relative of the central difference
/// (step 1e-6 in f64: truncation error ~1e-12, rounding ~1e-10), with a floor
/// of 1e-4 · max|g| for components that are nearly zero. Checked for the f64
/// and the f32 backward pass (f32 adds ~1e-6 relative rounding), for a
/// regular shape and one with a width-1 layer (whose products ndarray may
/// leave in column-major order).
#[test]
fn backprop_matches_finite_differences() {
    let key = RngKey::new(3, 99);
    let batch = 7;
    let x: Vec<f64> = (0..batch * 2)
        .map(|i| f64::from(key.normal_at(i as u32)))
        .collect();
    let t: Vec<f64> = (0..batch)
        .map(|i| f64::from(key.uniform_at(100 + i as u32)))
        .collect();
    let c: Vec<u32> = (0..batch as u32).map(|i| i % 3).collect();
    let labels: Vec<u32> = (0..batch as u32).map(|i| (i * 2 + 1) % 3).collect();
    let values: Vec<f32> = (0..batch * 2)
        .map(|i| key.normal_at(200 + i as u32))
        .collect();
    for (activation, hidden) in [Activation::Relu, Activation::Silu, Activation::Tanh]
        .into_iter()
        .flat_map(|a| [(a, vec![6usize, 5]), (a, vec![1, 4])])
    {
        for (loss, targets, out) in [
            (
                Loss::CrossEntropy {
                    smoothing: 0.0,
                    maxsup: 0.0,
                },
                Targets::Labels(&labels),
                3,
            ),
            (
                Loss::CrossEntropy {
                    smoothing: 0.2,
                    maxsup: 0.0,
                },
                Targets::Labels(&labels),
                3,
            ),
            (
                Loss::CrossEntropy {
                    smoothing: 0.1,
                    maxsup: 0.3,
                },
                Targets::Labels(&labels),
                3,
            ),
            (Loss::MeanSquaredError, Targets::Values(&values), 2),
        ] {
            let spec = spec(activation, out, &hidden);
            // Random weights and biases, so no bias sits at a ReLU kink.
            let p32: Vec<f32> = init_params(&spec, 5)
                .iter()
                .enumerate()
                .map(|(i, w)| w + 0.1 * key.normal_at(1000 + i as u32))
                .collect();
            let p64: Vec<f64> = p32.iter().map(|&v| f64::from(v)).collect();

            let f = featurize(&spec, &x, Some(&t), Some(&c));
            let fwd = forward(&spec, &p64, f);
            let (_, d_out) = loss_and_grad(loss, fwd.output(), targets);
            let g64 = backward(&spec, &p64, &fwd, d_out);

            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let t32: Vec<f32> = t.iter().map(|&v| v as f32).collect();
            let f32s = featurize(&spec, &x32, Some(&t32), Some(&c));
            let fwd32 = forward(&spec, &p32, f32s);
            let (_, d32) = loss_and_grad(loss, fwd32.output(), targets);
            let g32 = backward(&spec, &p32, &fwd32, d32);

            let h = 1e-6;
            let fd: Vec<f64> = (0..p64.len())
                .map(|i| {
                    let mut plus = p64.clone();
                    let mut minus = p64.clone();
                    plus[i] += h;
                    minus[i] -= h;
                    (loss_f64(&spec, &plus, &x, &t, &c, loss, targets)
                        - loss_f64(&spec, &minus, &x, &t, &c, loss, targets))
                        / (2.0 * h)
                })
                .collect();
            let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(scale > 0.0);
            for i in 0..fd.len() {
                let tol = 1e-3 * fd[i].abs().max(1e-4 * scale);
                assert!(
                    (g64[i] - fd[i]).abs() <= tol,
                    "{activation:?} {loss:?} f64 param {i}: {} vs fd {}",
                    g64[i],
                    fd[i]
                );
                assert!(
                    (f64::from(g32[i]) - fd[i]).abs() <= tol,
                    "{activation:?} {loss:?} f32 param {i}: {} vs fd {}",
                    g32[i],
                    fd[i]
                );
            }
        }
    }
}

/// Label smoothing's target and MaxSup's gradient in closed form on one row.
#[test]
fn loss_gradients_have_their_closed_forms() {
    let z = ndarray::arr2(&[[2.0f64, 0.0, -1.0]]);
    let lse = (2.0f64.exp() + 1.0 + (-1.0f64).exp()).ln();
    let p: Vec<f64> = [2.0, 0.0, -1.0]
        .iter()
        .map(|v: &f64| (v - lse).exp())
        .collect();
    // ε = 0.25 (exact in f32), K = 3, label 1: q = (1/12, 3/4 + 1/12, 1/12); gradient p − q.
    let (l, g) = loss_and_grad(
        Loss::CrossEntropy {
            smoothing: 0.25,
            maxsup: 0.0,
        },
        &z,
        Targets::Labels(&[1]),
    );
    let q = [1.0 / 12.0, 0.75 + 1.0 / 12.0, 1.0 / 12.0];
    let exact_loss: f64 = -(0..3)
        .map(|k| q[k] * ([2.0, 0.0, -1.0][k] - lse))
        .sum::<f64>();
    assert!((l - exact_loss).abs() < 1e-12);
    for k in 0..3 {
        assert!((g[[0, k]] - (p[k] - q[k])).abs() < 1e-12);
    }
    // MaxSup α = 0.5: adds α(z_max − mean z) = 0.5·(2 − 1/3) and α(e_argmax − 1/K) to the gradient.
    let (l2, g2) = loss_and_grad(
        Loss::CrossEntropy {
            smoothing: 0.0,
            maxsup: 0.5,
        },
        &z,
        Targets::Labels(&[1]),
    );
    let ce = -(0.0 - lse);
    assert!((l2 - (ce + 0.5 * (2.0 - 1.0 / 3.0))).abs() < 1e-12);
    let onehot = [0.0, 1.0, 0.0];
    for k in 0..3 {
        let maxsup = 0.5 * (if k == 0 { 1.0 } else { 0.0 } - 1.0 / 3.0);
        assert!((g2[[0, k]] - (p[k] - onehot[k] + maxsup)).abs() < 1e-12);
    }
}
