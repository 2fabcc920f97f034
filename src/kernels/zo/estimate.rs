//! Monte Carlo of single estimates at one point: the CPU twins of the
//! `zo_draws` and `zo_mean` kernels, and the statistics `zo-estimate` reports.

use super::{Directions, Estimator, Objective, Radii, coefficient, direction, grad};
use crate::kernels::rng::RngKey;

/// Draws per partial sum of the mean (one GPU thread's share of one component).
pub const CHUNK: u32 = 256;
/// Most directions in one estimate.
pub const MAX_BATCH: u32 = 64;

/// Single estimates of ∇f at `x`, each the mean of `batch` directions.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub obj: Objective,
    pub est: Estimator,
    pub x: Vec<f32>,
    pub radii: Radii,
    pub batch: u32,
    pub key: RngKey,
}

impl Problem {
    pub fn d(&self) -> usize {
        self.x.len()
    }
    pub fn dirs(&self) -> Directions {
        Directions {
            key: self.key,
            d: self.x.len() as u32,
        }
    }
}

/// What each draw i leaves: its `batch` coefficients c_ik (so that
/// ĝ_i = (1/b) Σ_k c_ik u_ik), ‖ĝ_i‖² and ĝ_i·∇f(x).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draws {
    pub coefs: Vec<f32>,
    pub norm_sq: Vec<f32>,
    pub dot: Vec<f32>,
}

/// Draw i: its coefficients, then one pass over the components for ‖ĝ_i‖² and ĝ_i·∇f.
pub fn draw(p: &Problem, i: u32, coefs: &mut Vec<f32>) -> (f32, f32) {
    let (x, dirs, b) = (&p.x, p.dirs(), p.batch);
    let first = i * b;
    let start = coefs.len();
    for k in 0..b {
        coefs.push(coefficient(p.obj, p.est, x, p.radii, dirs, first + k));
    }
    let inv_b = 1.0 / b as f32;
    let (mut nsq, mut dot) = (0.0f32, 0.0f32);
    for j in 0..x.len() {
        let mut s = 0.0f32;
        for k in 0..b {
            s +=
                coefs[start + k as usize] * direction(p.obj, p.est, x, p.radii, dirs, first + k, j);
        }
        let g = s * inv_b;
        nsq += g * g;
        dot += g * super::grad_component(p.obj, x, j);
    }
    (nsq, dot)
}

/// Draws `0..n` (CPU twin of `zo_draws`).
pub fn draws(p: &Problem, n: u32) -> Draws {
    let mut out = Draws {
        coefs: Vec::with_capacity((n * p.batch) as usize),
        norm_sq: Vec::with_capacity(n as usize),
        dot: Vec::with_capacity(n as usize),
    };
    for i in 0..n {
        let (nsq, dot) = draw(p, i, &mut out.coefs);
        out.norm_sq.push(nsq);
        out.dot.push(dot);
    }
    out
}

/// Partial sums of ĝ_ij over draws in chunks of [`CHUNK`]: `[j][chunk]`
/// flattened (CPU twin of `zo_mean`, one GPU thread per entry).
pub fn mean_partials(p: &Problem, coefs: &[f32], n: u32) -> Vec<f32> {
    let chunks = n.div_ceil(CHUNK);
    let (dirs, b) = (p.dirs(), p.batch);
    let inv_b = 1.0 / b as f32;
    let mut out = Vec::with_capacity(p.d() * chunks as usize);
    for j in 0..p.d() {
        for c in 0..chunks {
            let mut acc = 0.0f32;
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                let mut s = 0.0f32;
                for k in 0..b {
                    let dir = i * b + k;
                    s += coefs[dir as usize] * direction(p.obj, p.est, &p.x, p.radii, dirs, dir, j);
                }
                acc += s * inv_b;
            }
            out.push(acc);
        }
    }
    out
}

/// The statistics of n single estimates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// ∇f(x).
    pub exact: Vec<f64>,
    /// The sample mean of the estimates.
    pub mean: Vec<f64>,
    /// tr Cov(ĝ), unbiased: (Σ‖ĝ_i‖² − n‖ḡ‖²)/(n − 1).
    pub var: f64,
    /// Mean of |cos(ĝ_i, ∇f)| and its standard error.
    pub cos_mean: f64,
    pub cos_se: f64,
    /// Every |cos(ĝ_i, ∇f)| (0 where ĝ_i or ∇f is 0).
    pub abs_cos: Vec<f64>,
}

/// Reduces the kernels' outputs in f64.
pub fn summarise(p: &Problem, d: &Draws, partials: &[f32], n: u32) -> Summary {
    let exact: Vec<f64> = grad(p.obj, &p.x).into_iter().map(f64::from).collect();
    let chunks = n.div_ceil(CHUNK) as usize;
    let nf = f64::from(n);
    let mean: Vec<f64> = partials
        .chunks_exact(chunks.max(1))
        .map(|row| row.iter().map(|&v| f64::from(v)).sum::<f64>() / nf)
        .collect();
    let mean_sq: f64 = mean.iter().map(|m| m * m).sum();
    let total: f64 = d.norm_sq.iter().map(|&v| f64::from(v)).sum();
    let var = if n > 1 {
        (total - nf * mean_sq) / (nf - 1.0)
    } else {
        0.0
    };
    let gnorm = exact.iter().map(|g| g * g).sum::<f64>().sqrt();
    let abs_cos: Vec<f64> = d
        .norm_sq
        .iter()
        .zip(&d.dot)
        .map(|(&nsq, &dot)| {
            let den = f64::from(nsq).sqrt() * gnorm;
            if den > 0.0 {
                (f64::from(dot) / den).abs().min(1.0)
            } else {
                0.0
            }
        })
        .collect();
    let (cos_mean, cos_var) = crate::kernels::stats::mean_var(abs_cos.iter().copied());
    Summary {
        exact,
        mean,
        var,
        cos_mean,
        cos_se: (cos_var / nf).sqrt(),
        abs_cos,
    }
}

/// n single estimates at `p.x` on the CPU.
pub fn monte_carlo(p: &Problem, n: u32) -> Summary {
    let d = draws(p, n);
    let partials = mean_partials(p, &d.coefs, n);
    summarise(p, &d, &partials, n)
}
