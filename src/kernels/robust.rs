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

fn norm(v: [f32; 2], n: Norm) -> f32 {
    match n {
        Norm::L2 => (v[0] * v[0] + v[1] * v[1]).sqrt(),
        Norm::Inf => v[0].abs().max(v[1].abs()),
    }
}

/// v · min(1, c / (‖v‖ + 1e-6)), as frameworks' global-norm clipping computes it.
pub fn clip_norm(v: [f32; 2], c: f32, n: Norm) -> [f32; 2] {
    let s = (c / (norm(v, n) + 1e-6)).min(1.0);
    [v[0] * s, v[1] * s]
}

/// Median of a few values (insertion sort; the mean of the middle two for an even count).
pub fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    for i in 1..values.len() {
        let mut j = i;
        while j > 0 && values[j - 1] > values[j] {
            values.swap(j - 1, j);
            j -= 1;
        }
    }
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

fn coordinate_median(points: &[[f32; 2]]) -> [f32; 2] {
    let mut buf = [0.0f32; MAX_BATCH];
    let n = points.len().min(MAX_BATCH);
    let mut out = [0.0; 2];
    for (d, o) in out.iter_mut().enumerate() {
        for (b, p) in buf.iter_mut().zip(points) {
            *b = p[d];
        }
        *o = median(&mut buf[..n]);
    }
    out
}

fn mean(points: &[[f32; 2]]) -> [f32; 2] {
    let mut s = [0.0f32; 2];
    for p in points {
        s[0] += p[0];
        s[1] += p[1];
    }
    let n = points.len().max(1) as f32;
    [s[0] / n, s[1] / n]
}

/// The geometric median argmin_y Σ‖p_i − y‖₂ by Weiszfeld's algorithm
/// (Weiszfeld 1937), started at the coordinate-wise median. Stopping rule:
/// a step shorter than [`WEISZFELD_TOL`]·(1 + ‖y‖), or [`WEISZFELD_MAX_ITER`]
/// steps. If y lands on sample points (η copies within 1e-12·(1 + ‖y‖)), y is
/// optimal iff ‖Σ_{p_i ≠ y} (p_i − y)/‖p_i − y‖‖ ≤ η and is returned;
/// otherwise the step is taken over the other points (Vardi & Zhang, PNAS 2000).
pub fn geometric_median(points: &[[f32; 2]]) -> [f32; 2] {
    let mut y = coordinate_median(points);
    for _ in 0..WEISZFELD_MAX_ITER {
        let scale = 1.0 + (y[0] * y[0] + y[1] * y[1]).sqrt();
        let (mut num, mut den) = ([0.0f32; 2], 0.0f32);
        let mut unit_sum = [0.0f32; 2];
        let mut on_point = 0.0f32;
        for p in points {
            let d = [p[0] - y[0], p[1] - y[1]];
            let r = (d[0] * d[0] + d[1] * d[1]).sqrt();
            if r < 1e-12 * scale {
                on_point += 1.0;
                continue;
            }
            num[0] += p[0] / r;
            num[1] += p[1] / r;
            den += 1.0 / r;
            unit_sum[0] += d[0] / r;
            unit_sum[1] += d[1] / r;
        }
        if den == 0.0 {
            return y;
        }
        if on_point > 0.0
            && (unit_sum[0] * unit_sum[0] + unit_sum[1] * unit_sum[1]).sqrt() <= on_point
        {
            return y;
        }
        let next = [num[0] / den, num[1] / den];
        let step = ((next[0] - y[0]).powi(2) + (next[1] - y[1]).powi(2)).sqrt();
        y = next;
        if step <= WEISZFELD_TOL * scale {
            break;
        }
    }
    y
}

/// A stateless estimate from B sample gradients (every method but `median-iter`,
/// which needs its running state: see [`median_iter_update`]).
pub fn estimate(method: Method, g: &[[f32; 2]], c: f32, groups: usize, n: Norm) -> [f32; 2] {
    match method {
        Method::Mean | Method::MedianIter => mean(g),
        Method::ClipNorm => clip_norm(mean(g), c, n),
        Method::ClipCoord => {
            let m = mean(g);
            [m[0].clamp(-c, c), m[1].clamp(-c, c)]
        }
        Method::ClipSample => {
            let mut s = [0.0f32; 2];
            for v in g {
                let v = clip_norm(*v, c, n);
                s[0] += v[0];
                s[1] += v[1];
            }
            let k = g.len().max(1) as f32;
            [s[0] / k, s[1] / k]
        }
        Method::Median => coordinate_median(g),
        Method::GeoMedian => geometric_median(g),
        Method::Mom => {
            let k = groups.clamp(1, g.len().clamp(1, MAX_BATCH));
            let mut means = [[0.0f32; 2]; MAX_BATCH];
            for (j, m) in means.iter_mut().enumerate().take(k) {
                // Group j holds samples [j·B/k, (j+1)·B/k).
                let (a, b) = (j * g.len() / k, (j + 1) * g.len() / k);
                *m = mean(&g[a..b]);
            }
            coordinate_median(&means[..k])
        }
    }
}

/// One update of the running median estimate: m ← m + clip_norm(g − m, c)
/// (Schaipp et al., "SGD with Clipping is Secretly Estimating the Median Gradient", 2024).
pub fn median_iter_update(m: [f32; 2], g: [f32; 2], c: f32) -> [f32; 2] {
    let d = clip_norm([g[0] - m[0], g[1] - m[1]], c, Norm::L2);
    [m[0] + d[0], m[1] + d[1]]
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
    let mut g = [[0.0f32; 2]; MAX_BATCH];
    for t in 0..spec.steps {
        let true_g = gradient(spec.objective, x);
        let factor = if spec.noise.state_dependent {
            1.0 + dist(x)
        } else {
            1.0
        };
        for (i, gi) in g.iter_mut().enumerate().take(b) {
            let base = (t * b as u32 + i as u32).wrapping_mul(WORDS_PER_NOISE);
            let xi = noise(&spec.noise, key, base);
            *gi = [true_g[0] + factor * xi[0], true_g[1] + factor * xi[1]];
        }
        let step = if spec.method == Method::MedianIter {
            for gi in &g[..b] {
                m = median_iter_update(m, *gi, spec.threshold);
            }
            m
        } else {
            estimate(
                spec.method,
                &g[..b],
                spec.threshold,
                spec.groups as usize,
                spec.norm,
            )
        };
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
