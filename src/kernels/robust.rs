//! Robust gradient estimators under heavy-tailed noise, and the SGD runs
//! that use them: the CPU twin of `gpu/shaders/robust.wgsl`.
//!
//! Every run minimises a 2D objective with x ← x − lr·ĝ, where ĝ combines B
//! sample gradients g_i = ∇f(x) + ξ_i. Sample i of step t of run r draws its
//! noise from words [`WORDS_PER_NOISE`]·(t·B + i) .. of
//! `RngKey(seed, RUN_STREAM_TAG | r)`, so every estimator sees the same
//! noise, and the CPU and the GPU draw the same variates.

use super::rng::{RngKey, ln_f32, normal_icdf, uniform_from_u32};

/// Most sample gradients per step.
pub const MAX_BATCH: usize = 64;
/// RNG words reserved for one noise vector.
pub const WORDS_PER_NOISE: u32 = 40;
/// High bit of the stream id of run r (`RUN_STREAM_TAG | r`).
pub const RUN_STREAM_TAG: u32 = 0x8000_0000;
/// Iterates are kept in the box |x_k| ≤ BOX, so a diverging run stays finite.
pub const BOX: f32 = 1e3;
/// Weiszfeld stops when a step moves less than this, relative to 1 + ‖y‖, ...
pub const WEISZFELD_TOL: f32 = 1e-6;
/// ... or after this many iterations.
pub const WEISZFELD_MAX_ITER: u32 = 200;

crate::param_enum! {
    /// How B sample gradients become one step direction.
    pub enum Method {
        /// Minibatch mean (plain SGD).
        Mean = "mean",
        /// Global-norm clipping of the mean: ḡ · min(1, c / (‖ḡ‖ + 1e-6)) (Pascanu et al. 2013).
        ClipNorm = "clip-norm",
        /// Coordinate-wise clipping of the mean to [−c, c].
        ClipCoord = "clip-coord",
        /// Each sample clipped to norm c, then averaged.
        ClipSample = "clip-sample",
        /// Coordinate-wise median.
        Median = "median",
        /// Geometric median (Weiszfeld's algorithm).
        GeoMedian = "geomedian",
        /// Median of group means (coordinate-wise median of `groups` contiguous group means).
        Mom = "mom",
        /// Running median estimate m ← m + clip(g − m, c) over the stream of samples (Schaipp et al. 2024).
        MedianIter = "median-iter",
    }
}

crate::param_enum! {
    /// The norm of global-norm and per-sample clipping.
    pub enum Norm {
        L2 = "2",
        Inf = "inf",
    }
}

crate::param_enum! {
    /// The law of the gradient noise.
    pub enum Noise {
        Gaussian = "gaussian",
        StudentT = "student-t",
        Stable = "stable",
        Corrupted = "corrupted",
        /// Centred exponential, ξ = E − 1: mean 0, median ln 2 − 1 (asymmetric).
        Skewed = "skewed",
    }
}

crate::param_enum! {
    /// The 2D objective.
    pub enum Objective {
        /// ½(x₁² + 20 x₂²): condition number 20.
        Quadratic = "quadratic",
        /// (1 − x₁)² + 10 (x₂ − x₁²)²: a gentler Rosenbrock (Rosenbrock 1960).
        Rosenbrock = "rosenbrock",
        /// Logistic regression on 16 fixed points with L2 penalty 0.05.
        Logistic = "logistic",
    }
}

/// Largest number of components of one sample gradient (`gradlab robust`).
pub const MAX_DIM: usize = 4096;
/// Largest number of sample gradients `gradlab robust` combines.
pub const MAX_ROWS: usize = 4096;

/// `n` sample gradients of `d` components each, row-major.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    data: &'a [f32],
    d: usize,
}

impl<'a> Rows<'a> {
    /// Panics unless `d ≥ 1` and `data` holds whole rows.
    pub fn new(data: &'a [f32], d: usize) -> Self {
        assert!(
            d >= 1 && data.len().is_multiple_of(d),
            "rows of {d} components"
        );
        Self { data, d }
    }
    pub fn n(&self) -> usize {
        self.data.len() / self.d
    }
    pub fn d(&self) -> usize {
        self.d
    }
    /// Every component, row after row.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.d..(i + 1) * self.d]
    }
    fn at(&self, i: usize, k: usize) -> f32 {
        self.data[i * self.d + k]
    }
}

/// Buffers the estimators reuse between calls (so an SGD run allocates once).
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    col: Vec<f32>,
    dist: Vec<f32>,
    unit: Vec<f32>,
    mean: Vec<f32>,
}

/// ‖v‖ of the vector with components v(0), …, v(d − 1). L2: √Σv_k² where
/// that sum is finite and ≥ 1e-30 (no overflow, no underflow), otherwise
/// m·√Σ(v_k/m)² with m = max_k |v_k| (the scaling of `hypot`): the plain sum
/// overflows f32 once ‖v‖ > 1.8e19 (v_k² > 3.4e38) and would turn a finite
/// norm into ∞, and underflows to 0 for ‖v‖ < 1e-19. A NaN component gives
/// NaN. The one norm of the estimators; its WGSL twin is `norm_of` in
/// `robust.wgsl`.
pub fn norm_with(d: usize, v: impl Fn(usize) -> f32, n: Norm) -> f32 {
    if n == Norm::L2 {
        let mut s = 0.0f32;
        for k in 0..d {
            let x = v(k);
            s += x * x;
        }
        if s.is_finite() && s >= 1e-30 {
            return s.sqrt();
        }
    }
    let mut m = 0.0f32;
    for k in 0..d {
        let a = v(k).abs();
        if a.is_nan() {
            return a;
        }
        if a > m {
            m = a;
        }
    }
    if n == Norm::Inf || m == 0.0 || m == f32::INFINITY {
        return m;
    }
    let mut s = 0.0f32;
    for k in 0..d {
        let q = v(k) / m;
        s += q * q;
    }
    m * s.sqrt()
}

/// ‖v‖ of a stored vector (see [`norm_with`]).
pub fn norm(v: &[f32], n: Norm) -> f32 {
    norm_with(v.len(), |k| v[k], n)
}

/// The factor min(1, c / (‖v‖ + 1e-6)) of global-norm clipping, as
/// frameworks compute it (Pascanu et al. 2013, [`crate::experiments::papers::PASCANU_2013`]).
pub fn clip_factor(norm: f32, c: f32) -> f32 {
    (c / (norm + 1e-6)).min(1.0)
}

/// v · min(1, c / (‖v‖ + 1e-6)), as frameworks' global-norm clipping computes it.
pub fn clip_norm(v: [f32; 2], c: f32, n: Norm) -> [f32; 2] {
    let s = clip_factor(norm(&v, n), c);
    [v[0] * s, v[1] * s]
}

/// Median of a few values (the mean of the middle two for an even count).
/// The order statistic does not depend on the sort: the WGSL twin heap-sorts.
pub fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable_by(f32::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// Mean of component k over rows a..b.
fn col_mean(g: Rows, k: usize, a: usize, b: usize) -> f32 {
    let mut s = 0.0f32;
    for i in a..b {
        s += g.at(i, k);
    }
    s / (b - a).max(1) as f32
}

/// Coordinate-wise median of the rows, into `out`.
fn coordinate_median(g: Rows, out: &mut [f32], s: &mut Scratch) {
    for (k, o) in out.iter_mut().enumerate() {
        s.col.clear();
        s.col.extend((0..g.n()).map(|i| g.at(i, k)));
        *o = median(&mut s.col);
    }
}

/// The outcome of one [`weiszfeld_step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weiszfeld {
    /// y is a geometric median (Vardi–Zhang's test at a data point), or every
    /// point sits at y: y is unchanged.
    Optimal,
    /// y moved by this distance.
    Moved(f32),
}

/// One step of Weiszfeld's algorithm (Weiszfeld 1937) as modified by Vardi &
/// Zhang ([`crate::experiments::papers::VARDI_ZHANG_2000`], PNAS 97(4), eqs. for
/// R̃, r, T̃ and the update), which descends even when y sits on data points.
/// With unit weights: η = the number of points within 1e-12·`scale` of y
/// (`scale` = 1 + ‖y‖; those count as "at y"), and over the others
/// R̃ = Σ (x_i − y)/‖x_i − y‖, r = ‖R̃‖, T̃ = Σ x_i/‖x_i − y‖ / Σ 1/‖x_i − y‖.
/// If η > 0 and r ≤ η, y is optimal. Otherwise
/// y ← (1 − η/r)⁺·T̃ + min(1, η/r)·y (η = 0 off the data: plain Weiszfeld).
/// T̃ is evaluated as y + R̃/Σ 1/‖x_i − y‖ (the same number, without the
/// cancellation of Σ x_i/‖·‖ when ‖y‖ is large), so the update is
/// y ← y + (1 − γ)/Σ(1/‖x_i − y‖) · R̃ with γ = min(1, η/r), and the step
/// length is (1 − γ)·r/Σ(1/‖x_i − y‖). Distances use [`norm_with`].
pub fn weiszfeld_step(g: Rows, y: &mut [f32], scale: f32, s: &mut Scratch) -> Weiszfeld {
    let d = g.d();
    s.unit.clear();
    s.unit.resize(d, 0.0);
    // One pass over the rows; per component the sums run in row order, as in
    // the WGSL passes (GM_DIST, GM_SUM, GM_FINISH).
    let (mut den, mut eta) = (0.0f32, 0.0f32);
    for i in 0..g.n() {
        let x = g.row(i);
        let r = norm_with(d, |k| x[k] - y[k], Norm::L2);
        if r < 1e-12 * scale {
            eta += 1.0;
            continue;
        }
        den += 1.0 / r;
        for (k, u) in s.unit.iter_mut().enumerate() {
            *u += (x[k] - y[k]) / r;
        }
    }
    if den == 0.0 {
        return Weiszfeld::Optimal;
    }
    let r = norm(&s.unit, Norm::L2);
    if eta > 0.0 && r <= eta {
        return Weiszfeld::Optimal;
    }
    let gamma = if eta > 0.0 { (eta / r).min(1.0) } else { 0.0 };
    let f = (1.0 - gamma) / den;
    for (yk, u) in y.iter_mut().zip(&s.unit) {
        *yk += f * u;
    }
    Weiszfeld::Moved(f * r)
}

/// The geometric median argmin_y Σ‖x_i − y‖₂ into `y`: [`weiszfeld_step`]s
/// from the coordinate-wise median until y is optimal, a step is shorter than
/// [`WEISZFELD_TOL`]·(1 + ‖y‖), or after [`WEISZFELD_MAX_ITER`] steps.
pub fn geometric_median_rows(g: Rows, y: &mut [f32], s: &mut Scratch) {
    coordinate_median(g, y, s);
    for _ in 0..WEISZFELD_MAX_ITER {
        let scale = 1.0 + norm(y, Norm::L2);
        match weiszfeld_step(g, y, scale, s) {
            Weiszfeld::Optimal => break,
            Weiszfeld::Moved(step) if step <= WEISZFELD_TOL * scale => break,
            Weiszfeld::Moved(_) => {}
        }
    }
}

/// The geometric median of 2-D points (see [`geometric_median_rows`]).
pub fn geometric_median(points: &[[f32; 2]]) -> [f32; 2] {
    let flat: Vec<f32> = points.iter().flatten().copied().collect();
    let mut y = [0.0f32; 2];
    geometric_median_rows(Rows::new(&flat, 2), &mut y, &mut Scratch::default());
    y
}

/// The running median m ← m + clip_norm(g_i − m, c) (L2) over the rows in
/// order, from the m given (Schaipp et al. 2024, [`crate::experiments::papers::SCHAIPP_2024`]).
pub fn median_iter_rows(g: Rows, c: f32, m: &mut [f32]) {
    for i in 0..g.n() {
        let x = g.row(i);
        let s = clip_factor(norm_with(g.d(), |k| x[k] - m[k], Norm::L2), c);
        for (mk, xk) in m.iter_mut().zip(x) {
            *mk += (xk - *mk) * s;
        }
    }
}

/// An estimate from the rows into `out` (d components). `median-iter` is the
/// running median after feeding the rows in order, from 0 (see [`median_iter_rows`]).
pub fn estimate_rows(
    method: Method,
    g: Rows,
    c: f32,
    groups: usize,
    n: Norm,
    out: &mut [f32],
    s: &mut Scratch,
) {
    let (rows, d) = (g.n(), g.d());
    match method {
        Method::Mean => {
            for (k, o) in out.iter_mut().enumerate() {
                *o = col_mean(g, k, 0, rows);
            }
        }
        Method::ClipCoord => {
            for (k, o) in out.iter_mut().enumerate() {
                *o = col_mean(g, k, 0, rows).clamp(-c, c);
            }
        }
        Method::ClipNorm => {
            s.mean.clear();
            s.mean.extend((0..d).map(|k| col_mean(g, k, 0, rows)));
            let f = clip_factor(norm(&s.mean, n), c);
            for (o, m) in out.iter_mut().zip(&s.mean) {
                *o = m * f;
            }
        }
        Method::ClipSample => {
            s.dist.clear();
            s.dist
                .extend((0..rows).map(|i| clip_factor(norm(g.row(i), n), c)));
            for (k, o) in out.iter_mut().enumerate() {
                let mut sum = 0.0f32;
                for (i, f) in s.dist.iter().enumerate() {
                    sum += g.at(i, k) * f;
                }
                *o = sum / rows.max(1) as f32;
            }
        }
        Method::Median => coordinate_median(g, out, s),
        Method::GeoMedian => geometric_median_rows(g, out, s),
        Method::Mom => {
            // Group j holds rows [j·n/k, (j+1)·n/k); the median of the group means, per coordinate.
            let k = groups.clamp(1, rows.max(1));
            for (kk, o) in out.iter_mut().enumerate() {
                s.col.clear();
                s.col
                    .extend((0..k).map(|j| col_mean(g, kk, j * rows / k, (j + 1) * rows / k)));
                *o = median(&mut s.col);
            }
        }
        Method::MedianIter => {
            out.fill(0.0);
            median_iter_rows(g, c, out);
        }
    }
}

/// A 2-D estimate (see [`estimate_rows`]).
pub fn estimate(method: Method, g: &[[f32; 2]], c: f32, groups: usize, n: Norm) -> [f32; 2] {
    let flat: Vec<f32> = g.iter().flatten().copied().collect();
    let mut out = [0.0f32; 2];
    estimate_rows(
        method,
        Rows::new(&flat, 2),
        c,
        groups,
        n,
        &mut out,
        &mut Scratch::default(),
    );
    out
}

/// One update of the running median estimate: m ← m + clip_norm(g − m, c)
/// (Schaipp et al., "SGD with Clipping is Secretly Estimating the Median Gradient", 2024).
pub fn median_iter_update(m: [f32; 2], g: [f32; 2], c: f32) -> [f32; 2] {
    let mut m = m;
    median_iter_rows(Rows::new(&g, 2), c, &mut m);
    m
}
/// The law of the noise and its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseSpec {
    pub kind: Noise,
    /// Student-t degrees of freedom ν.
    pub df: f32,
    /// Stability index α ∈ (0, 2] of the symmetric α-stable law.
    pub alpha: f32,
    /// Fraction of corrupted samples.
    pub fraction: f32,
    /// Scale s of the noise.
    pub scale: f32,
    /// Scale grows with the distance to the optimum: s·(1 + ‖x − x*‖).
    pub state_dependent: bool,
}

const PI: f32 = std::f32::consts::PI;

// The noise uses `f32::sin`/`cos`/`powf` here and the WGSL builtins in the
// twin; they agree to a few ulps, so runs agree to float tolerance, not bits.

fn student_t(key: RngKey, base: u32, nu: f32) -> f32 {
    // Bailey's polar method (Math. Comp. 1994): (U, V) uniform in the unit
    // disc, T = U·sqrt(ν(W^(−2/ν) − 1)/W), W = U² + V². Up to 8 tries; if all
    // miss the disc (probability (1 − π/4)^8 ≈ 4.6e-6) the last pair is scaled
    // onto the circle of radius 0.999.
    let (mut u, mut w) = (0.0f32, 1.0f32);
    for t in 0..8 {
        u = 2.0 * uniform_from_u32(key.u32_at(base + 2 * t)) - 1.0;
        let v = 2.0 * uniform_from_u32(key.u32_at(base + 2 * t + 1)) - 1.0;
        w = u * u + v * v;
        if w < 1.0 {
            break;
        }
        if t == 7 {
            let s = 0.999 / w.sqrt();
            u *= s;
            w = 0.998_001;
        }
    }
    // W^(−2/ν) ≥ 1 in exact arithmetic; a GPU `pow` a few ulps low must not make it negative.
    u * (nu * (w.powf(-2.0 / nu) - 1.0).max(0.0) / w).sqrt()
}

/// Symmetric α-stable by Chambers, Mallows & Stuck (JASA 1976):
/// X = sin(αV)/cos(V)^(1/α) · (cos((1 − α)V)/W)^((1 − α)/α),
/// V ~ U(−π/2, π/2), W ~ Exp(1).
fn stable(key: RngKey, base: u32, alpha: f32) -> f32 {
    let v = PI * (uniform_from_u32(key.u32_at(base)) - 0.5);
    let w = -ln_f32(uniform_from_u32(key.u32_at(base + 1)));
    // Both cosines are ≥ 0 exactly; the floor keeps approximate GPU cosines out of pow's NaN domain.
    (alpha * v).sin() / v.cos().max(1e-30).powf(1.0 / alpha)
        * (((1.0 - alpha) * v).cos().max(1e-30) / w).powf((1.0 - alpha) / alpha)
}

/// Noise coordinates are kept within ±NOISE_GUARD, so every value stays finite
/// and no estimator meets inf − inf. Within the experiment's ranges (ν ≥ 1,
/// α ≥ 0.5) the truncated tail mass is below 1e-8; for smaller ν or α the
/// kernels still work but the guard visibly truncates the law.
pub const NOISE_GUARD: f32 = 1e18;

/// The noise vector at word `base` (uses words base .. base + WORDS_PER_NOISE),
/// before the state-dependent factor.
pub fn noise(spec: &NoiseSpec, key: RngKey, base: u32) -> [f32; 2] {
    let s = spec.scale;
    let coord = |c: u32| -> f32 {
        let b = base + 16 * c;
        let v = match spec.kind {
            Noise::Gaussian => normal_icdf(uniform_from_u32(key.u32_at(b))),
            Noise::StudentT => student_t(key, b, spec.df),
            Noise::Stable => stable(key, b, spec.alpha),
            Noise::Corrupted => {
                let z = normal_icdf(uniform_from_u32(key.u32_at(b)));
                // One Bernoulli per sample (word 32): the whole vector is corrupted.
                if uniform_from_u32(key.u32_at(base + 32)) < spec.fraction {
                    1000.0 * z
                } else {
                    z
                }
            }
            Noise::Skewed => -ln_f32(uniform_from_u32(key.u32_at(b))) - 1.0,
        };
        v.clamp(-NOISE_GUARD, NOISE_GUARD)
    };
    [s * coord(0), s * coord(1)]
}

/// An objective's fixed data: the 16 logistic-regression points and labels.
pub fn logistic_data() -> [([f32; 2], f32); 16] {
    let mut d = [([0.0f32; 2], 0.0f32); 16];
    for (i, item) in d.iter_mut().enumerate() {
        let t = i as f32;
        let x = [
            (2.4 * t).cos() * (1.0 + 0.1 * t),
            (2.4 * t).sin() * (1.0 + 0.1 * t),
        ];
        let margin = x[0] + 0.5 * x[1] + 0.3 * (7.0 * t).sin();
        *item = (x, if margin >= 0.0 { 1.0 } else { -1.0 });
    }
    d
}

/// L2 penalty of the logistic objective.
pub const LOGISTIC_L2: f32 = 0.05;

/// ∇f(x).
pub fn gradient(obj: Objective, x: [f32; 2]) -> [f32; 2] {
    match obj {
        Objective::Quadratic => [x[0], 20.0 * x[1]],
        Objective::Rosenbrock => {
            let r = x[1] - x[0] * x[0];
            [-2.0 * (1.0 - x[0]) - 40.0 * x[0] * r, 20.0 * r]
        }
        Objective::Logistic => {
            let mut g = [LOGISTIC_L2 * x[0], LOGISTIC_L2 * x[1]];
            for (p, y) in logistic_data() {
                // σ(−m), with m kept where exp is finite.
                let m = (y * (x[0] * p[0] + x[1] * p[1])).clamp(-80.0, 80.0);
                let s = 1.0 / (1.0 + m.exp());
                g[0] -= y * p[0] * s / 16.0;
                g[1] -= y * p[1] * s / 16.0;
            }
            g
        }
    }
}

/// f(x), in f64 for drawing contours.
pub fn value(obj: Objective, x: [f64; 2]) -> f64 {
    match obj {
        Objective::Quadratic => 0.5 * (x[0] * x[0] + 20.0 * x[1] * x[1]),
        Objective::Rosenbrock => (1.0 - x[0]).powi(2) + 10.0 * (x[1] - x[0] * x[0]).powi(2),
        Objective::Logistic => {
            let l2 = f64::from(LOGISTIC_L2);
            let mut v = 0.5 * l2 * (x[0] * x[0] + x[1] * x[1]);
            for (p, y) in logistic_data() {
                let m = f64::from(y) * (x[0] * f64::from(p[0]) + x[1] * f64::from(p[1]));
                v += (1.0 + (-m).exp()).ln() / 16.0;
            }
            v
        }
    }
}

/// The minimiser x*: exact for the first two, by Newton's method in f64 for the logistic loss.
pub fn optimum(obj: Objective) -> [f64; 2] {
    match obj {
        Objective::Quadratic => [0.0, 0.0],
        Objective::Rosenbrock => [1.0, 1.0],
        Objective::Logistic => {
            let l2 = f64::from(LOGISTIC_L2);
            let mut w = [0.0f64; 2];
            for _ in 0..50 {
                let (mut g, mut h) = ([l2 * w[0], l2 * w[1]], [[l2, 0.0], [0.0, l2]]);
                for (p, y) in logistic_data() {
                    let (p, y) = ([f64::from(p[0]), f64::from(p[1])], f64::from(y));
                    let m = y * (w[0] * p[0] + w[1] * p[1]);
                    let s = 1.0 / (1.0 + m.exp());
                    for a in 0..2 {
                        g[a] -= y * p[a] * s / 16.0;
                        for b in 0..2 {
                            h[a][b] += p[a] * p[b] * s * (1.0 - s) / 16.0;
                        }
                    }
                }
                let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
                w[0] -= (h[1][1] * g[0] - h[0][1] * g[1]) / det;
                w[1] -= (h[0][0] * g[1] - h[1][0] * g[0]) / det;
            }
            w
        }
    }
}

/// Where every run starts.
pub fn start(obj: Objective) -> [f32; 2] {
    match obj {
        Objective::Quadratic => [-2.0, 1.5],
        Objective::Rosenbrock => [-1.2, 1.8],
        Objective::Logistic => [3.0, -3.0],
    }
}

/// Everything one SGD run needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSpec {
    pub objective: Objective,
    pub noise: NoiseSpec,
    pub method: Method,
    pub steps: u32,
    pub batch: u32,
    pub lr: f32,
    pub threshold: f32,
    pub groups: u32,
    pub norm: Norm,
    pub seed: u32,
    /// Distances are recorded at steps 0, every, 2·every, …
    pub every: u32,
}

impl RunSpec {
    /// Points recorded per run.
    pub fn points(&self) -> u32 {
        self.steps / self.every.max(1) + 1
    }
}

/// One run: the iterate after every step (including the start), and the
/// distance ‖x − x*‖ at the recorded steps.
pub fn run(spec: &RunSpec, r: u32, keep_path: bool) -> (Vec<[f32; 2]>, Vec<f32>) {
    let key = RngKey::new(spec.seed, RUN_STREAM_TAG | r);
    let opt = optimum(spec.objective);
    let opt = [opt[0] as f32, opt[1] as f32];
    let dist = |x: [f32; 2]| ((x[0] - opt[0]).powi(2) + (x[1] - opt[1]).powi(2)).sqrt();
    let b = (spec.batch as usize).clamp(1, MAX_BATCH);
    let mut x = start(spec.objective);
    let mut m = [0.0f32; 2];
    let mut path = if keep_path { vec![x] } else { Vec::new() };
    let mut curve = vec![dist(x)];
    let mut g = [0.0f32; 2 * MAX_BATCH];
    let mut scratch = Scratch::default();
    for t in 0..spec.steps {
        let true_g = gradient(spec.objective, x);
        let factor = if spec.noise.state_dependent {
            1.0 + dist(x)
        } else {
            1.0
        };
        for (i, gi) in g.chunks_exact_mut(2).enumerate().take(b) {
            let base = (t * b as u32 + i as u32).wrapping_mul(WORDS_PER_NOISE);
            let xi = noise(&spec.noise, key, base);
            gi[0] = true_g[0] + factor * xi[0];
            gi[1] = true_g[1] + factor * xi[1];
        }
        let rows = Rows::new(&g[..2 * b], 2);
        let mut step = [0.0f32; 2];
        if spec.method == Method::MedianIter {
            median_iter_rows(rows, spec.threshold, &mut m);
            step = m;
        } else {
            estimate_rows(
                spec.method,
                rows,
                spec.threshold,
                spec.groups as usize,
                spec.norm,
                &mut step,
                &mut scratch,
            );
        }
        for k in 0..2 {
            x[k] = (x[k] - spec.lr * step[k]).clamp(-BOX, BOX);
        }
        if keep_path {
            path.push(x);
        }
        if (t + 1) % spec.every.max(1) == 0 {
            curve.push(dist(x));
        }
    }
    (path, curve)
}
