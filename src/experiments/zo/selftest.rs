//! The zo kernels on a device against their CPU twins (`gradlab selftest`, `/selftest`).

use super::estimate_agreement;
use crate::experiments::selftest::Check;
use crate::gpu::zo::ZoDescent;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::agree;
use crate::kernels::zo::descent::{Descent, losses};
use crate::kernels::zo::{Estimator, Objective, Radii};

/// The worst scaled difference (floor 1e-3) between CPU and GPU losses of
/// 4 runs × 30 steps of `est` on `obj` (d = 5, or 2 for relu; batch 2;
/// GFM⁺ refreshing with 3 directions every 4 steps).
pub async fn descent_agreement(gpu: &Gpu, obj: Objective, est: Estimator) -> Result<f64, GpuError> {
    let lr = match obj {
        Objective::Rosenbrock => 2e-5,
        Objective::L1 => 0.05,
        _ => 0.1,
    };
    let p = Descent {
        obj,
        est,
        d: if obj == Objective::Relu { 2 } else { 5 },
        radii: Radii {
            mu: 0.05,
            delta: 0.08,
            guess_noise: 0.7,
        },
        lr,
        steps: 30,
        batch: 2,
        big_batch: 3,
        epoch: 4,
        seed: 11,
    };
    let cpu = losses(&p, 4);
    let gpu_losses = gpu.kernel::<ZoDescent>().await?.losses(gpu, &p, 4).await?;
    Ok(agree::worst_scaled(&cpu, &gpu_losses, 1e-3))
}

fn check(kernel: &'static str, metric: &'static str, value: f64, bound: f64) -> Check {
    let value = if value.is_nan() { f64::INFINITY } else { value };
    Check {
        kernel,
        metric,
        value,
        bound,
        pass: value <= bound,
    }
}

/// Representative agreements (the full grid is `tests/gpu_zo.rs`).
pub async fn checks(gpu: &Gpu) -> Result<Vec<Check>, GpuError> {
    let mut single = Vec::new();
    for (obj, est, d) in [
        (Objective::Quadratic, Estimator::Fwd, 16),
        (Objective::L1, Estimator::Sphere, 7),
        (Objective::Rosenbrock, Estimator::Spsa, 7),
        (Objective::Relu, Estimator::Guess, 2),
        (Objective::L1, Estimator::Gauss, 7),
    ] {
        single.push(estimate_agreement(gpu, obj, est, d, 2, 200).await?);
    }
    let mut runs = Vec::new();
    for (obj, est) in [
        (Objective::Quadratic, Estimator::SphereVr),
        (Objective::L1, Estimator::Fwd),
    ] {
        runs.push(descent_agreement(gpu, obj, est).await?);
    }
    Ok(vec![
        check(
            "zo_draws, zo_mean",
            "largest scaled single-estimate difference",
            agree::worst(single),
            2e-4,
        ),
        check(
            "zo_descent",
            "largest scaled loss difference",
            agree::worst(runs),
            1e-5,
        ),
    ])
}
