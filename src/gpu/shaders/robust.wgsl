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

fn norm_of(v: vec2<f32>, n: u32) -> f32 {
    if (n == 0u) {
        return sqrt(v.x * v.x + v.y * v.y);
    }
    return max(abs(v.x), abs(v.y));
}

fn clip_norm(v: vec2<f32>, c: f32, n: u32) -> vec2<f32> {
    let s = min(c / (norm_of(v, n) + 1e-6), 1.0);
    return vec2<f32>(v.x * s, v.y * s);
}

var<private> buf: array<f32, 64>;
var<private> g: array<vec2<f32>, 64>;
var<private> means: array<vec2<f32>, 64>;

fn median_buf(n: u32) -> f32 {
    for (var i = 1u; i < n; i = i + 1u) {
        var j = i;
        loop {
            if (j == 0u) {
                break;
            }
            if (!(buf[j - 1u] > buf[j])) {
                break;
            }
            let t = buf[j - 1u];
            buf[j - 1u] = buf[j];
            buf[j] = t;
            j = j - 1u;
        }
    }
    if (n == 0u) {
        return 0.0;
    }
    if (n % 2u == 1u) {
        return buf[n / 2u];
    }
    return 0.5 * (buf[n / 2u - 1u] + buf[n / 2u]);
}

// Coordinate-wise median of g[a..a+n] (from_means = false) or means[0..n].
fn coordinate_median(n: u32, from_means: bool) -> vec2<f32> {
    var out = vec2<f32>(0.0, 0.0);
    for (var d = 0u; d < 2u; d = d + 1u) {
        for (var i = 0u; i < n; i = i + 1u) {
            if (from_means) {
                buf[i] = means[i][d];
            } else {
                buf[i] = g[i][d];
            }
        }
        out[d] = median_buf(n);
    }
    return out;
}

fn mean_range(a: u32, b: u32) -> vec2<f32> {
    var s = vec2<f32>(0.0, 0.0);
    for (var i = a; i < b; i = i + 1u) {
        s.x = s.x + g[i].x;
        s.y = s.y + g[i].y;
    }
    let n = f32(max(b - a, 1u));
    return vec2<f32>(s.x / n, s.y / n);
}

// Weiszfeld with the Vardi–Zhang check at data points (see kernels::robust).
fn geometric_median(n: u32) -> vec2<f32> {
    var y = coordinate_median(n, false);
    var done = false;
    for (var it = 0u; it < WEISZFELD_MAX_ITER; it = it + 1u) {
        if (done) {
            break;
        }
        let scale = 1.0 + sqrt(y.x * y.x + y.y * y.y);
        var num = vec2<f32>(0.0, 0.0);
        var den = 0.0;
        var unit_sum = vec2<f32>(0.0, 0.0);
        var on_point = 0.0;
        for (var i = 0u; i < n; i = i + 1u) {
            let d = vec2<f32>(g[i].x - y.x, g[i].y - y.y);
            let r = sqrt(d.x * d.x + d.y * d.y);
            if (r < 1e-12 * scale) {
                on_point = on_point + 1.0;
            } else {
                num.x = num.x + g[i].x / r;
                num.y = num.y + g[i].y / r;
                den = den + 1.0 / r;
                unit_sum.x = unit_sum.x + d.x / r;
                unit_sum.y = unit_sum.y + d.y / r;
            }
        }
        if (den == 0.0) {
            done = true;
        } else if (on_point > 0.0 && sqrt(unit_sum.x * unit_sum.x + unit_sum.y * unit_sum.y) <= on_point) {
            done = true;
        } else {
            let next = vec2<f32>(num.x / den, num.y / den);
            let dx = next.x - y.x;
            let dy = next.y - y.y;
            let step = sqrt(dx * dx + dy * dy);
            y = next;
            if (step <= WEISZFELD_TOL * scale) {
                done = true;
            }
        }
    }
    return y;
}

// method codes: 0 mean, 1 clip-norm, 2 clip-coord, 3 clip-sample, 4 median,
// 5 geomedian, 6 mom (7, median-iter, is handled in the run loop).
fn estimate(method: u32, n: u32) -> vec2<f32> {
    let c = p.threshold;
    switch method {
        case 1u: { return clip_norm(mean_range(0u, n), c, p.norm); }
        case 2u: {
            let m = mean_range(0u, n);
            return vec2<f32>(clamp(m.x, -c, c), clamp(m.y, -c, c));
        }
        case 3u: {
            var s = vec2<f32>(0.0, 0.0);
            for (var i = 0u; i < n; i = i + 1u) {
                let v = clip_norm(g[i], c, p.norm);
                s.x = s.x + v.x;
                s.y = s.y + v.y;
            }
            let k = f32(max(n, 1u));
            return vec2<f32>(s.x / k, s.y / k);
        }
        case 4u: { return coordinate_median(n, false); }
        case 5u: { return geometric_median(n); }
        case 6u: {
            let k = clamp(p.groups, 1u, clamp(n, 1u, MAX_BATCH));
            for (var j = 0u; j < k; j = j + 1u) {
                means[j] = mean_range(j * n / k, (j + 1u) * n / k);
            }
            return coordinate_median(k, true);
        }
        default: { return mean_range(0u, n); }
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
        for (var i = 0u; i < b; i = i + 1u) {
            let base = (t * b + i) * WORDS_PER_NOISE;
            let xi = vec2<f32>(p.scale * noise_coord(p.seed, stream, base, 0u), p.scale * noise_coord(p.seed, stream, base, 1u));
            g[i] = vec2<f32>(true_g.x + factor * xi.x, true_g.y + factor * xi.y);
        }
        var step: vec2<f32>;
        if (method == 7u) {
            for (var i = 0u; i < b; i = i + 1u) {
                let d = clip_norm(vec2<f32>(g[i].x - m.x, g[i].y - m.y), p.threshold, 0u);
                m = vec2<f32>(m.x + d.x, m.y + d.y);
            }
            step = m;
        } else {
            step = estimate(method, b);
        }
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
