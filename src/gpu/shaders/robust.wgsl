// SGD runs with robust gradient estimators: one invocation per (estimator,
// run), one SGD step per dispatch, the iterate kept in `state` between
// dispatches (lavapipe caps loop iterations per invocation at 65,535, so a
// whole run cannot live in one invocation). Prepended with rng.wgsl.
// CPU twin: kernels::robust::run — every function below mirrors its Rust
// namesake operation for operation.

struct Params {
    objective: u32, noise: u32, steps: u32, batch: u32,
    runs: u32, every: u32, points: u32, groups: u32,
    norm: u32, seed: u32, state_dependent: u32, methods: u32,
    lr: f32, threshold: f32, scale: f32, df: f32,
    alpha: f32, fraction: f32, opt_x: f32, opt_y: f32,
    start_x: f32, start_y: f32, _p0: f32, _p1: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
// The 16 logistic points: x0, x1, label.
@group(0) @binding(1) var<storage, read> data: array<f32>;
// The methods to run (codes as in kernels::robust::Method order).
@group(0) @binding(2) var<storage, read> method_codes: array<u32>;
@group(0) @binding(3) var<storage, read_write> curves: array<f32>;

// Per (estimator, run): the iterate, the running median, the step count and
// the points recorded so far.
struct State {
    x: vec2<f32>,
    m: vec2<f32>,
    t: u32,
    recorded: u32,
    _pad: vec2<u32>,
}
@group(0) @binding(4) var<storage, read_write> state: array<State>;

const MAX_BATCH: u32 = 64u;
const WORDS_PER_NOISE: u32 = 40u;
const RUN_STREAM_TAG: u32 = 0x80000000u;
const BOX: f32 = 1e3;
const NOISE_GUARD: f32 = 1e18;
const PI: f32 = 3.14159265358979;
const WEISZFELD_TOL: f32 = 1e-6;
const WEISZFELD_MAX_ITER: u32 = 200u;

fn unif(seed: u32, stream: u32, i: u32) -> f32 {
    return uniform_from_u32(rng_u32(seed, stream, i));
}

// ---------------------------------------------------------------------------
// The estimators, over n rows of d components: the twins of
// kernels::robust::{estimate_rows, weiszfeld_step, median_iter_rows}. Each
// estimator is a sequence of passes; a pass runs once per coordinate
// ("coord"), once per row ("row") or once ("single"). `robust_step` runs the
// passes of one SGD run in one invocation (d = 2); `robust_estimate` runs
// each pass as one dispatch over all coordinates or rows (`gradlab robust`).
// The rows live in `rows`; everything else an estimator needs in `work`.
// ---------------------------------------------------------------------------

@group(0) @binding(5) var<storage, read_write> rows: array<f32>;
@group(0) @binding(7) var<storage, read_write> work: array<f32>;

// Where one problem's data lives: g (n·d, in `rows`); in `work`, from its
// base: out (d, the estimate), scal (4), mean (d), unit (d), dist (n), col
// (n·d, sort space).
struct Layout {
    g: u32, col: u32, dist: u32, mean: u32,
    unit: u32, out: u32, scal: u32, n: u32, d: u32,
}

fn layout_at(rows_base: u32, work_base: u32, n: u32, d: u32) -> Layout {
    let scal = work_base + d;
    let mean = scal + 4u;
    let unit = mean + d;
    let dist = unit + d;
    return Layout(rows_base, dist + n, dist, mean, unit, work_base, scal, n, d);
}

// Floats of `work` one problem uses (mirrored by gpu::robust::work_len).
fn work_len(n: u32, d: u32) -> u32 {
    return n * d + n + 3u * d + 4u;
}

// Scalars of a problem: scale 1 + ‖y‖, Weiszfeld done flag, clip factor.
const S_SCALE: u32 = 0u;
const S_DONE: u32 = 1u;
const S_CLIP: u32 = 2u;
const F32_MAX: f32 = 0x1.fffffep+127f; // the largest finite f32, exactly

// Component k of a vector: src 0 work[a + k]; src 1 row a of g; src 2 row a of g − out.
fn comp(l: Layout, src: u32, a: u32, k: u32) -> f32 {
    switch src {
        case 0u: { return work[a + k]; }
        case 1u: { return rows[l.g + a * l.d + k]; }
        default: { return rows[l.g + a * l.d + k] - work[l.out + k]; }
    }
}

// ‖v‖ (kind 0: L2, 1: ∞) of the vector comp(l, src, a, ·): L2 as √Σv_k² where
// that is finite and ≥ 1e-30, else m·√Σ(v_k/m)², m = max |v_k| (no overflow
// for ‖v‖ > 1.8e19, no underflow). Twin: kernels::robust::norm_with.
fn norm_of(l: Layout, src: u32, a: u32, kind: u32) -> f32 {
    if (kind == 0u) {
        var s = 0.0;
        for (var k = 0u; k < l.d; k = k + 1u) {
            let x = comp(l, src, a, k);
            s = s + x * x;
        }
        if (s <= F32_MAX && s >= 1e-30) {
            return sqrt(s);
        }
    }
    var m = 0.0;
    for (var k = 0u; k < l.d; k = k + 1u) {
        let x = abs(comp(l, src, a, k));
        if (x != x) {
            return x;
        }
        if (x > m) {
            m = x;
        }
    }
    if (kind == 1u || m == 0.0 || m > F32_MAX) {
        return m;
    }
    var s = 0.0;
    for (var k = 0u; k < l.d; k = k + 1u) {
        let q = comp(l, src, a, k) / m;
        s = s + q * q;
    }
    return m * sqrt(s);
}

// min(1, c / (‖v‖ + 1e-6)). Twin: kernels::robust::clip_factor.
fn clip_factor(nrm: f32, c: f32) -> f32 {
    return min(c / (nrm + 1e-6), 1.0);
}

// Mean of component k over rows a..b.
fn col_mean(l: Layout, k: u32, a: u32, b: u32) -> f32 {
    var s = 0.0;
    for (var i = a; i < b; i = i + 1u) {
        s = s + rows[l.g + i * l.d + k];
    }
    return s / f32(max(b - a, 1u));
}

fn swap_work(a: u32, b: u32) {
    let t = work[a];
    work[a] = work[b];
    work[b] = t;
}

fn sift_down(base: u32, start: u32, end: u32) {
    var root = start;
    loop {
        var c = 2u * root + 1u;
        if (c >= end) {
            break;
        }
        if (c + 1u < end && work[base + c] < work[base + c + 1u]) {
            c = c + 1u;
        }
        if (!(work[base + root] < work[base + c])) {
            break;
        }
        swap_work(base + root, base + c);
        root = c;
    }
}

// Median of work[base .. base + n] (heap sort: O(n log n) for n up to 4,096;
// the order statistic is the CPU's, whatever the sort).
fn median_work(base: u32, n: u32) -> f32 {
    if (n == 0u) {
        return 0.0;
    }
    for (var s = n / 2u; s > 0u; s = s - 1u) {
        sift_down(base, s - 1u, n);
    }
    for (var e = n - 1u; e > 0u; e = e - 1u) {
        swap_work(base, base + e);
        sift_down(base, 0u, e);
    }
    if (n % 2u == 1u) {
        return work[base + n / 2u];
    }
    return 0.5 * (work[base + n / 2u - 1u] + work[base + n / 2u]);
}

// Estimator parameters: threshold c, median-of-means groups, clipping norm.
struct Est {
    c: f32,
    groups: u32,
    norm: u32,
}

// Passes (codes shared with gpu::robust::Phase).
const P_MEAN: u32 = 0u;          // coord: out = mean
const P_CLIP_COORD: u32 = 1u;    // coord: out = clamp(mean, −c, c)
const P_MEAN_TO: u32 = 2u;       // coord: mean = mean of the rows
const P_CLIP_FACTOR: u32 = 3u;   // single: scal[CLIP] = clip_factor(‖mean‖)
const P_SCALE_OUT: u32 = 4u;     // coord: out = mean · scal[CLIP]
const P_SAMPLE_FACTORS: u32 = 5u; // row: dist_i = clip_factor(‖g_i‖)
const P_SAMPLE_MEAN: u32 = 6u;   // coord: out = Σ g_i·dist_i / n
const P_MEDIAN: u32 = 7u;        // coord: out = coordinate median
const P_MOM: u32 = 8u;           // coord: out = median of group means
const P_MEDIAN_ITER: u32 = 9u;   // single: out ← running median over the rows
const P_GM_BEGIN: u32 = 10u;     // single: scale = 1 + ‖y‖, not done (y = out)
const P_GM_DIST: u32 = 11u;      // row: dist_i = ‖g_i − y‖ (0 when at y)
const P_GM_SUM: u32 = 12u;       // coord: unit = R̃ = Σ (g_i − y)/dist_i
const P_GM_FINISH: u32 = 13u;    // single: Vardi–Zhang update of y

// How many times a pass runs: d (coord), n (row) or 1 (single).
fn phase_items(l: Layout, phase: u32) -> u32 {
    switch phase {
        case 3u, 9u, 10u, 13u: { return 1u; }
        case 5u, 11u: { return l.n; }
        default: { return l.d; }
    }
}

fn gm_done(l: Layout) -> bool {
    return work[l.scal + S_DONE] != 0.0;
}

// Vardi–Zhang's modified Weiszfeld step (Vardi & Zhang, PNAS 2000); the
// twin of kernels::robust::weiszfeld_step, which derives the update.
fn gm_finish(l: Layout) {
    var den = 0.0;
    var eta = 0.0;
    for (var i = 0u; i < l.n; i = i + 1u) {
        let r = work[l.dist + i];
        if (r == 0.0) {
            eta = eta + 1.0;
        } else {
            den = den + 1.0 / r;
        }
    }
    if (den == 0.0) {
        work[l.scal + S_DONE] = 1.0;
        return;
    }
    let r = norm_of(l, 0u, l.unit, 0u);
    if (eta > 0.0 && r <= eta) {
        work[l.scal + S_DONE] = 1.0;
        return;
    }
    var gamma = 0.0;
    if (eta > 0.0) {
        gamma = min(eta / r, 1.0);
    }
    let f = (1.0 - gamma) / den;
    for (var k = 0u; k < l.d; k = k + 1u) {
        work[l.out + k] = work[l.out + k] + f * work[l.unit + k];
    }
    let scale = work[l.scal + S_SCALE];
    if (f * r <= WEISZFELD_TOL * scale) {
        work[l.scal + S_DONE] = 1.0;
    } else {
        work[l.scal + S_SCALE] = 1.0 + norm_of(l, 0u, l.out, 0u);
    }
}

// Item j of pass `phase` of the problem at l.
fn run_phase(l: Layout, phase: u32, j: u32, e: Est) {
    let n = l.n;
    switch phase {
        case 0u: { work[l.out + j] = col_mean(l, j, 0u, n); }
        case 1u: { work[l.out + j] = clamp(col_mean(l, j, 0u, n), -e.c, e.c); }
        case 2u: { work[l.mean + j] = col_mean(l, j, 0u, n); }
        case 3u: { work[l.scal + S_CLIP] = clip_factor(norm_of(l, 0u, l.mean, e.norm), e.c); }
        case 4u: { work[l.out + j] = work[l.mean + j] * work[l.scal + S_CLIP]; }
        case 5u: { work[l.dist + j] = clip_factor(norm_of(l, 1u, j, e.norm), e.c); }
        case 6u: {
            var s = 0.0;
            for (var i = 0u; i < n; i = i + 1u) {
                s = s + rows[l.g + i * l.d + j] * work[l.dist + i];
            }
            work[l.out + j] = s / f32(max(n, 1u));
        }
        case 7u: {
            let base = l.col + j * n;
            for (var i = 0u; i < n; i = i + 1u) {
                work[base + i] = rows[l.g + i * l.d + j];
            }
            work[l.out + j] = median_work(base, n);
        }
        case 8u: {
            // Group q holds rows [q·n/k, (q+1)·n/k).
            let k = clamp(e.groups, 1u, max(n, 1u));
            let base = l.col + j * n;
            for (var q = 0u; q < k; q = q + 1u) {
                work[base + q] = col_mean(l, j, q * n / k, (q + 1u) * n / k);
            }
            work[l.out + j] = median_work(base, k);
        }
        case 9u: {
            for (var i = 0u; i < n; i = i + 1u) {
                let s = clip_factor(norm_of(l, 2u, i, 0u), e.c);
                for (var k = 0u; k < l.d; k = k + 1u) {
                    let m = work[l.out + k];
                    work[l.out + k] = m + (rows[l.g + i * l.d + k] - m) * s;
                }
            }
        }
        case 10u: {
            work[l.scal + S_SCALE] = 1.0 + norm_of(l, 0u, l.out, 0u);
            work[l.scal + S_DONE] = 0.0;
        }
        case 11u: {
            if (!gm_done(l)) {
                let r = norm_of(l, 2u, j, 0u);
                work[l.dist + j] = select(r, 0.0, r < 1e-12 * work[l.scal + S_SCALE]);
            }
        }
        case 12u: {
            if (!gm_done(l)) {
                var s = 0.0;
                for (var i = 0u; i < n; i = i + 1u) {
                    let r = work[l.dist + i];
                    if (r > 0.0) {
                        s = s + (rows[l.g + i * l.d + j] - work[l.out + j]) / r;
                    }
                }
                work[l.unit + j] = s;
            }
        }
        case 13u: {
            if (!gm_done(l)) {
                gm_finish(l);
            }
        }
        default: {}
    }
}

// Every item of one pass, in order (one invocation).
fn run_pass(l: Layout, phase: u32, e: Est) {
    let items = phase_items(l, phase);
    for (var j = 0u; j < items; j = j + 1u) {
        run_phase(l, phase, j, e);
    }
}

// method codes (kernels::robust::Method order): 0 mean, 1 clip-norm,
// 2 clip-coord, 3 clip-sample, 4 median, 5 geomedian, 6 mom, 7 median-iter.
// The passes of each, as gpu::robust::phases lists them for `robust_estimate`.
fn estimate(l: Layout, method: u32, e: Est) {
    switch method {
        case 1u: {
            run_pass(l, P_MEAN_TO, e);
            run_pass(l, P_CLIP_FACTOR, e);
            run_pass(l, P_SCALE_OUT, e);
        }
        case 2u: { run_pass(l, P_CLIP_COORD, e); }
        case 3u: {
            run_pass(l, P_SAMPLE_FACTORS, e);
            run_pass(l, P_SAMPLE_MEAN, e);
        }
        case 4u: { run_pass(l, P_MEDIAN, e); }
        case 5u: {
            run_pass(l, P_MEDIAN, e);
            run_pass(l, P_GM_BEGIN, e);
            for (var it = 0u; it < WEISZFELD_MAX_ITER; it = it + 1u) {
                if (gm_done(l)) {
                    break;
                }
                run_pass(l, P_GM_DIST, e);
                run_pass(l, P_GM_SUM, e);
                run_pass(l, P_GM_FINISH, e);
            }
        }
        case 6u: { run_pass(l, P_MOM, e); }
        case 7u: {
            for (var k = 0u; k < l.d; k = k + 1u) {
                work[l.out + k] = 0.0;
            }
            run_pass(l, P_MEDIAN_ITER, e);
        }
        default: { run_pass(l, P_MEAN, e); }
    }
}

// `gradlab robust`: one pass of one problem (rows at 0, work at 0), one
// invocation per item of the pass.
struct ToolParams {
    phase: u32, n: u32, d: u32, groups: u32,
    norm: u32, _p0: u32, _p1: u32, threshold: f32,
}
@group(0) @binding(6) var<uniform> tp: ToolParams;

@compute @workgroup_size(64)
fn robust_estimate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let l = layout_at(0u, 0u, tp.n, tp.d);
    if (gid.x < phase_items(l, tp.phase)) {
        run_phase(l, tp.phase, gid.x, Est(tp.threshold, tp.groups, tp.norm));
    }
}

fn student_t(seed: u32, stream: u32, base: u32, nu: f32) -> f32 {
    var u = 0.0;
    var w = 1.0;
    var found = false;
    for (var t = 0u; t < 8u; t = t + 1u) {
        if (!found) {
            u = 2.0 * unif(seed, stream, base + 2u * t) - 1.0;
            let v = 2.0 * unif(seed, stream, base + 2u * t + 1u) - 1.0;
            w = u * u + v * v;
            if (w < 1.0) {
                found = true;
            } else if (t == 7u) {
                let s = 0.999 / sqrt(w);
                u = u * s;
                w = 0.998001;
            }
        }
    }
    return u * sqrt(nu * max(pow(w, -2.0 / nu) - 1.0, 0.0) / w);
}

fn stable(seed: u32, stream: u32, base: u32, alpha: f32) -> f32 {
    let v = PI * (unif(seed, stream, base) - 0.5);
    let w = -ln_f32(unif(seed, stream, base + 1u));
    return sin(alpha * v) / pow(max(cos(v), 1e-30), 1.0 / alpha)
        * pow(max(cos((1.0 - alpha) * v), 1e-30) / w, (1.0 - alpha) / alpha);
}

fn noise_coord(seed: u32, stream: u32, base: u32, c: u32) -> f32 {
    let b = base + 16u * c;
    var v: f32;
    switch p.noise {
        case 1u: { v = student_t(seed, stream, b, p.df); }
        case 2u: { v = stable(seed, stream, b, p.alpha); }
        case 3u: {
            let z = normal_icdf(unif(seed, stream, b));
            if (unif(seed, stream, base + 32u) < p.fraction) {
                v = 1000.0 * z;
            } else {
                v = z;
            }
        }
        case 4u: { v = -ln_f32(unif(seed, stream, b)) - 1.0; }
        default: { v = normal_icdf(unif(seed, stream, b)); }
    }
    return clamp(v, -NOISE_GUARD, NOISE_GUARD);
}

fn gradient(x: vec2<f32>) -> vec2<f32> {
    switch p.objective {
        case 1u: {
            let r = x.y - x.x * x.x;
            return vec2<f32>(-2.0 * (1.0 - x.x) - 40.0 * x.x * r, 20.0 * r);
        }
        case 2u: {
            var gr = vec2<f32>(0.05 * x.x, 0.05 * x.y);
            for (var i = 0u; i < 16u; i = i + 1u) {
                let px = data[3u * i];
                let py = data[3u * i + 1u];
                let y = data[3u * i + 2u];
                let m = clamp(y * (x.x * px + x.y * py), -80.0, 80.0);
                let s = 1.0 / (1.0 + exp(m));
                gr.x = gr.x - y * px * s / 16.0;
                gr.y = gr.y - y * py * s / 16.0;
            }
            return gr;
        }
        default: { return vec2<f32>(x.x, 20.0 * x.y); }
    }
}

fn dist(x: vec2<f32>) -> f32 {
    let dx = x.x - p.opt_x;
    let dy = x.y - p.opt_y;
    return sqrt(dx * dx + dy * dy);
}

@compute @workgroup_size(64)
fn robust_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x;
    if (id >= p.runs * p.methods) {
        return;
    }
    let run = id % p.runs;
    let slot = id / p.runs;
    let method = method_codes[slot];
    let stream = RUN_STREAM_TAG | run;
    let b = clamp(p.batch, 1u, MAX_BATCH);
    var s = state[id];
    let out = (slot * p.runs + run) * p.points;
    if (s.t == 0u) {
        curves[out] = dist(s.x);
        s.recorded = 1u;
    }
    if (s.t < p.steps) {
        let t = s.t;
        var x = s.x;
        var m = s.m;
        let true_g = gradient(x);
        var factor = 1.0;
        if (p.state_dependent != 0u) {
            factor = 1.0 + dist(x);
        }
        // This run's rows and work space (d = 2, at most MAX_BATCH rows).
        let l = layout_at(id * MAX_BATCH * 2u, id * work_len(MAX_BATCH, 2u), b, 2u);
        for (var i = 0u; i < b; i = i + 1u) {
            let base = (t * b + i) * WORDS_PER_NOISE;
            let xi = vec2<f32>(p.scale * noise_coord(p.seed, stream, base, 0u), p.scale * noise_coord(p.seed, stream, base, 1u));
            rows[l.g + 2u * i] = true_g.x + factor * xi.x;
            rows[l.g + 2u * i + 1u] = true_g.y + factor * xi.y;
        }
        let e = Est(p.threshold, p.groups, p.norm);
        if (method == 7u) {
            // The running median continues from this run's state m.
            work[l.out] = m.x;
            work[l.out + 1u] = m.y;
            run_pass(l, P_MEDIAN_ITER, e);
            m = vec2<f32>(work[l.out], work[l.out + 1u]);
        } else {
            estimate(l, method, e);
        }
        let step = vec2<f32>(work[l.out], work[l.out + 1u]);
        x = vec2<f32>(clamp(x.x - p.lr * step.x, -BOX, BOX), clamp(x.y - p.lr * step.y, -BOX, BOX));
        if ((t + 1u) % max(p.every, 1u) == 0u) {
            curves[out + s.recorded] = dist(x);
            s.recorded = s.recorded + 1u;
        }
        s.x = x;
        s.m = m;
        s.t = t + 1u;
    }
    state[id] = s;
}
