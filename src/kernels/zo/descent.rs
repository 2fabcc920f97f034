//! Gradient descent with each estimator: the CPU twin of the `zo_descent`
//! kernel (one GPU thread per run). Run r draws its directions from stream
//! `DESCENT_STREAM + r`; step t's direction k is direction `t·B + k` of that
//! stream, B = max(batch, big batch), so every estimator of one config sees
//! the same directions at the same step (common random numbers).

use super::{
    DESCENT_STREAM, Directions, Estimator, Objective, Radii, coefficient, direction, value,
};
use crate::kernels::rng::RngKey;

/// One descent configuration (every run shares it; runs differ by their stream).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Descent {
    pub obj: Objective,
    pub est: Estimator,
    pub d: u32,
    pub radii: Radii,
    pub lr: f32,
    pub steps: u32,
    pub batch: u32,
    /// GFM⁺: the batch of the refresh every `epoch` steps.
    pub big_batch: u32,
    /// GFM⁺: steps between refreshes (m).
    pub epoch: u32,
    pub seed: u32,
}

impl Descent {
    /// Directions drawn per step: B = max(batch, big batch) for GFM⁺, else the batch.
    pub fn stride(&self) -> u32 {
        if self.est == Estimator::SphereVr {
            self.batch.max(self.big_batch)
        } else {
            self.batch
        }
    }

    /// The directions of run r.
    pub fn dirs(&self, run: u32) -> Directions {
        Directions {
            key: RngKey::new(self.seed, DESCENT_STREAM.wrapping_add(run)),
            d: self.d,
        }
    }

    /// Function evaluations (forward passes) per step, averaged over an
    /// epoch for GFM⁺ (2·big batch at a refresh, 2·2·batch at the two
    /// iterates of a recursive step; Chen, Xu & Luo 2023, Alg. 2).
    pub fn evals_per_step(&self) -> f64 {
        let per = f64::from(self.est.evals_per_direction());
        if self.est == Estimator::SphereVr {
            let m = f64::from(self.epoch);
            (per * f64::from(self.big_batch) + (m - 1.0) * 2.0 * per * f64::from(self.batch)) / m
        } else {
            per * f64::from(self.batch)
        }
    }
}

/// Σ_k c_k u_kj / count over directions `first..first + count` at `x`, into `out`.
fn batch_estimate(
    p: &Descent,
    x: &[f32],
    dirs: Directions,
    first: u32,
    count: u32,
    out: &mut [f32],
) {
    let coefs: Vec<f32> = (0..count)
        .map(|k| coefficient(p.obj, p.est, x, p.radii, dirs, first + k))
        .collect();
    let inv = 1.0 / count as f32;
    for (j, o) in out.iter_mut().enumerate() {
        let mut s = 0.0f32;
        for (k, c) in coefs.iter().enumerate() {
            s += c * direction(p.obj, p.est, x, p.radii, dirs, first + k as u32, j);
        }
        *o = s * inv;
    }
}

/// GFM⁺'s recursive step v ← v + (1/b) Σ_k [g(x; w_k) − g(x_prev; w_k)], the
/// same w_k at both iterates (Chen, Xu & Luo 2023, Alg. 2).
fn recursive_update(
    p: &Descent,
    x: &[f32],
    prev: &[f32],
    dirs: Directions,
    first: u32,
    v: &mut [f32],
) {
    let dc: Vec<f32> = (0..p.batch)
        .map(|k| {
            coefficient(p.obj, p.est, x, p.radii, dirs, first + k)
                - coefficient(p.obj, p.est, prev, p.radii, dirs, first + k)
        })
        .collect();
    let inv = 1.0 / p.batch as f32;
    for (j, vj) in v.iter_mut().enumerate() {
        let mut s = 0.0f32;
        for (k, c) in dc.iter().enumerate() {
            s += c * direction(p.obj, p.est, x, p.radii, dirs, first + k as u32, j);
        }
        *vj += s * inv;
    }
}

/// Run r from the objective's start: `observe(t, x_t)` at t = 0..=steps; the losses f(x_t).
pub fn run(p: &Descent, r: u32, mut observe: impl FnMut(u32, &[f32])) -> Vec<f32> {
    let dirs = p.dirs(r);
    let mut x = p.obj.start(p.d as usize);
    let mut g = vec![0.0f32; x.len()];
    let mut prev = x.clone();
    let mut losses = Vec::with_capacity(p.steps as usize + 1);
    losses.push(value(p.obj, &x));
    observe(0, &x);
    let stride = p.stride();
    for t in 0..p.steps {
        let first = t * stride;
        if p.est != Estimator::SphereVr {
            batch_estimate(p, &x, dirs, first, p.batch, &mut g);
        } else if t % p.epoch == 0 {
            batch_estimate(p, &x, dirs, first, p.big_batch, &mut g);
        } else {
            recursive_update(p, &x, &prev, dirs, first, &mut g);
        }
        prev.copy_from_slice(&x);
        for (xj, gj) in x.iter_mut().zip(&g) {
            *xj -= p.lr * gj;
        }
        losses.push(value(p.obj, &x));
        observe(t + 1, &x);
    }
    losses
}

/// Runs `0..runs`, their losses run after run (CPU twin of `zo_descent`).
pub fn losses(p: &Descent, runs: u32) -> Vec<f32> {
    (0..runs).flat_map(|r| run(p, r, |_, _| {})).collect()
}
