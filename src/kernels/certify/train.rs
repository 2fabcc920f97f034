//! The MLP base classifier, trained with Gaussian noise augmentation at the
//! smoothing σ, as randomized smoothing requires of its base classifier
//! (Cohen, Rosenfeld & Kolter, ICML 2019, §4: "we train with Gaussian data augmentation").

use super::base::{BaseClassifier, MLP_HIDDEN};
use super::smooth::{AUGMENT_STREAM, Noise};
use crate::kernels::datasets::Dataset;
use crate::kernels::mlp::{self, Activation, AdamConfig, AdamState, Loss, MlpSpec, Targets};
use crate::kernels::rng::RngKey;

/// The MLP base classifier's shape for `classes` classes.
pub fn mlp_spec(classes: usize) -> MlpSpec {
    MlpSpec::for_2d_points(&MLP_HIDDEN, classes, Activation::Relu)
}

/// Full-batch Adam on `train` for `steps` steps; each step perturbs every
/// point with fresh noise (stream [`AUGMENT_STREAM`], words 2(s·N + j), 2(s·N + j) + 1).
pub fn train_mlp(train: &Dataset, noise: Noise, steps: u32, seed: u32) -> BaseClassifier {
    let spec = mlp_spec(train.classes);
    let mut params = mlp::init_params(&spec, seed);
    let mut adam = AdamState::new(params.len());
    let cfg = AdamConfig {
        lr: 1e-2,
        ..AdamConfig::default()
    };
    let key = RngKey::new(seed, AUGMENT_STREAM);
    let n = train.len() as u32;
    let loss = Loss::CrossEntropy {
        smoothing: 0.0,
        maxsup: 0.0,
    };
    for s in 0..steps {
        let mut x = Vec::with_capacity(train.x.len());
        for j in 0..n {
            let i = s.wrapping_mul(n).wrapping_add(j);
            let z = [key.normal_at(2 * i), key.normal_at(2 * i + 1)];
            x.extend(noise.perturb(train.point(j as usize), z));
        }
        let features = mlp::featurize(&spec, &x, None, None);
        let fwd = mlp::forward(&spec, &params, features);
        let (_, d_out) = mlp::loss_and_grad(loss, fwd.output(), Targets::Labels(&train.y));
        let grads = mlp::backward(&spec, &params, &fwd, d_out);
        mlp::adam_step(&cfg, &mut adam, &mut params, &grads);
    }
    BaseClassifier::Mlp { spec, params }
}
