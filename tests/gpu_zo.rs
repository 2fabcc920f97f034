//! The WGSL estimators of gradients without backpropagation (lavapipe in CI)
//! against their CPU twins: the same Philox directions, the same f32
//! arithmetic in the same order, so each single estimate agrees draw by draw.

mod common;

use gradlab::experiments::zo::{descent_agreement, estimate_agreement};
use gradlab::kernels::zo::{Estimator, Objective};

/// Every estimator on every objective, batch 3, d = 7 (2 for relu): the
/// coefficients, ‖ĝ_i‖², ĝ_i·∇f and the mean agree to 2e-4 scaled (floor 1e-2
/// of the values' scale): WGSL's sqrt and the driver's fused multiply-adds may
/// round differently from Rust by an ulp, and a two-point difference divides
/// by 2μ, which multiplies a one-ulp change of a Rosenbrock term (~10²) by
/// about 10²/μ·6e-8 ≈ 1e-4 relative to the coefficient (lavapipe: ≤ 3e-5 on
/// Rosenbrock, bit-identical elsewhere).
/// Any non-finite value fails (`kernels::agree`).
#[test]
fn gpu_single_estimates_equal_cpu_estimates() {
    let gpu = common::gpu();
    for obj in Objective::ALL {
        let d = if *obj == Objective::Relu { 2 } else { 7 };
        for est in Estimator::ALL {
            if *est == Estimator::SphereVr {
                continue;
            }
            let worst = pollster::block_on(estimate_agreement(&gpu, *obj, *est, d, 3, 300))
                .expect("gpu run");
            assert!(
                worst <= 2e-4,
                "{obj} {est} d={d}: worst scaled difference {worst}"
            );
        }
    }
}

/// Descent runs: the losses of every step agree to 1e-5 scaled (floor 1e-3;
/// lavapipe: bit-identical on the quadratic and l1, ≤ 7e-7 on Rosenbrock and
/// the ReLU surface): the per-step ulp differences above compound over 30 steps.
#[test]
fn gpu_descent_equals_cpu_descent() {
    let gpu = common::gpu();
    for obj in [
        Objective::Quadratic,
        Objective::L1,
        Objective::Rosenbrock,
        Objective::Relu,
    ] {
        for est in Estimator::ALL {
            let worst = pollster::block_on(descent_agreement(&gpu, obj, *est)).expect("gpu run");
            assert!(
                worst <= 1e-5,
                "{obj} {est}: worst scaled loss difference {worst}"
            );
        }
    }
}
