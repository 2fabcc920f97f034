//! The training race: a small ReLU MLP classifier (the layout of
//! `kernels/mlp.rs`) trained on spirals3 by plain SGD with four gradient
//! estimators, from the same initial weights and the same minibatches.
//!
//! * `backprop`: the exact minibatch gradient (`mlp::backward`).
//! * `fwd`: the forward gradient (∇L·v)v, v ~ N(0, I) over every parameter,
//!   ∇L·v by forward mode ([`Dual`] numbers through the network).
//! * `guess`: Fournier et al.'s local-loss guess. What follows their public
//!   code (`streethagore/ForwardLocalGradient`, `trainer/estimators.py`,
//!   weight space, guess `local`): a linear head on each hidden layer trained
//!   by its own cross-entropy; the projection is per sample and per layer;
//!   the output layer gets its exact gradient (its local loss is the global
//!   one). Our choices where their code differs or we could not check the
//!   paper: a layer's weights and bias are projected together (their code
//!   projects them separately), the heads start from He-normal weights and
//!   zero bias (their init was not retrieved), and the optimiser is plain SGD
//!   (their training recipe was not retrieved).
//! * `spsa`: [L(θ + cΔ) − L(θ − cΔ)]/(2c) Δ with Rademacher Δ (Spall 1992).
//!
//! The cost of a step is counted in forward passes: the multiply–adds of the
//! step (from the layer shapes) over those of one forward pass of the
//! minibatch ([`passes_per_step`]).

use super::{Dual, Estimator};
use crate::kernels::datasets::Dataset;
use crate::kernels::mlp::{self, Activation, Loss, MlpSpec, Targets};
use crate::kernels::rng::RngKey;

/// Classes of spirals3.
pub const CLASSES: usize = 3;
/// RNG stream of run r's directions: `RACE_DIRECTION_STREAM + r`.
pub const RACE_DIRECTION_STREAM: u32 = 0x2E52_0000;
/// RNG stream of run r's minibatch indices: `RACE_BATCH_STREAM + r`.
pub const RACE_BATCH_STREAM: u32 = 0x2E53_0000;
/// RNG stream of the local heads' initial weights (`guess`).
pub const HEAD_STREAM: u32 = 0x2E54_0000;

crate::param_enum! {
    /// How the step size of each estimator follows from η.
    pub enum StepRule {
        /// η for backprop and guess (‖ĝ‖ ≤ ‖∇L‖ for a projection); η/κ for
        /// fwd and spsa, κ = 1 + (κ₁ − 1)/b with κ₁ = P + 2 (fwd) or P (spsa),
        /// their E‖ĝ‖² = κ‖∇L‖² on a quadratic (the dimension sweep's η* = 1/κ).
        Scaled = "scaled",
        /// η for every estimator.
        Shared = "shared",
    }
}

/// One race: the network and how every estimator steps.
#[derive(Debug, Clone, PartialEq)]
pub struct RaceSpec {
    pub spec: MlpSpec,
    /// Base step η.
    pub lr: f32,
    pub rule: StepRule,
    /// Minibatch size B.
    pub minibatch: u32,
    /// Directions b averaged per fwd and spsa estimate.
    pub directions: u32,
    /// SPSA's perturbation c.
    pub spsa_c: f32,
    /// Seed of the initial weights and the heads.
    pub seed: u32,
}

/// The classifier of 2-D points with ReLU hidden layers `hidden`.
pub fn classifier(hidden: &[usize]) -> MlpSpec {
    MlpSpec::for_2d_points(hidden, CLASSES, Activation::Relu)
}

/// Multiply–adds of one forward pass of one point.
pub fn forward_macs(spec: &MlpSpec) -> u64 {
    spec.layers().iter().map(|&(i, o)| (i * o) as u64).sum()
}

/// Forward passes one step of `est` costs, counted in multiply–adds over
/// those of a forward pass, P = `forward_macs`:
/// backprop: forward P, dW at every layer P, dh below the output P − in₀out₀;
/// fwd: per direction, the primal P once and the tangent's dW·h at every
/// layer and W·dh above the first (Baydin et al. 2022 count a JVP as one
/// forward pass carrying tangents);
/// spsa: two forward passes per direction;
/// guess: the primal P, each head forward and backward (3·w_k·K), per hidden
/// layer k the update's u (in_k·out_k) and the tangent through the layers
/// above it, and the output layer's dW.
pub fn passes_per_step(spec: &MlpSpec, est: Estimator, directions: u32) -> f64 {
    let layers = spec.layers();
    let p = forward_macs(spec) as f64;
    let first = (layers[0].0 * layers[0].1) as f64;
    let b = f64::from(directions);
    let macs = match est {
        Estimator::Fwd => p + b * (2.0 * p - first),
        Estimator::Spsa => 2.0 * b * p,
        Estimator::Guess => {
            let n = layers.len();
            let mut m = p;
            for k in 0..n - 1 {
                let (i, o) = layers[k];
                m += 3.0 * (o * CLASSES) as f64 + (i * o) as f64;
                m += layers[k + 1..]
                    .iter()
                    .map(|&(i, o)| (i * o) as f64)
                    .sum::<f64>();
            }
            m + (layers[n - 1].0 * layers[n - 1].1) as f64
        }
        _ => 3.0 * p - first,
    };
    macs / p
}

/// The SGD step of `est` under `race`'s rule, with P parameters.
pub fn step_size(race: &RaceSpec, est: Estimator) -> f32 {
    let p = race.spec.param_count() as f64;
    let kappa1 = match (race.rule, est) {
        (StepRule::Scaled, Estimator::Fwd) => p + 2.0,
        (StepRule::Scaled, Estimator::Spsa) => p,
        _ => 1.0,
    };
    let kappa = 1.0 + (kappa1 - 1.0) / f64::from(race.directions);
    (f64::from(race.lr) / kappa) as f32
}

/// The heads of every hidden layer k: A_k (K × width_k, row-major), then its bias c_k.
pub fn head_offsets(spec: &MlpSpec) -> Vec<(usize, usize)> {
    let mut at = 0;
    spec.hidden
        .iter()
        .map(|&w| {
            let a = at;
            at += CLASSES * w;
            let c = at;
            at += CLASSES;
            (a, c)
        })
        .collect()
}

/// The heads' initial parameters: N(0, 2/width) weights (He et al. 2015), zero bias.
pub fn init_heads(spec: &MlpSpec, seed: u32) -> Vec<f32> {
    let key = RngKey::new(seed, HEAD_STREAM);
    let offsets = head_offsets(spec);
    let n = offsets.last().map_or(0, |&(_, c)| c + CLASSES);
    let mut heads = vec![0.0f32; n];
    for (&w, &(a, _)) in spec.hidden.iter().zip(&offsets) {
        let std = (2.0 / w as f32).sqrt();
        for (k, h) in heads[a..a + CLASSES * w].iter_mut().enumerate() {
            *h = std * key.normal_at((a + k) as u32);
        }
    }
    heads
}

fn dual_exp(a: Dual) -> Dual {
    let e = a.v.exp();
    Dual::new(e, a.d * e)
}

fn dual_ln(a: Dual) -> Dual {
    Dual::new(a.v.ln(), a.d / a.v)
}

/// Cross-entropy lse(z) − z_y in dual numbers: its tangent is Σ p_i dz_i − dz_y.
fn cross_entropy(z: &[Dual], y: usize) -> Dual {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, v| m.max(v.v));
    let mut s = Dual::constant(0.0);
    for &zi in z {
        s = s.add(dual_exp(zi.sub(Dual::constant(m))));
    }
    Dual::constant(m).add(dual_ln(s)).sub(z[y])
}

/// ReLU of a dual number (Nair & Hinton 2010): derivative 1[z > 0].
fn relu(z: Dual) -> Dual {
    z.relu()
}

/// Layers `from..` of the network on one point in dual numbers: `z` is layer
/// `from − 1`'s pre-activation (or, for `from` = 0, the input itself, taken
/// as is); `w(l, k)` gives parameter k as a dual number. Returns the point's loss.
fn dual_layers(
    spec: &MlpSpec,
    from: usize,
    mut h: Vec<Dual>,
    y: usize,
    w: impl Fn(usize) -> Dual,
) -> Dual {
    let layers = spec.layers();
    let offsets = spec.offsets();
    let n = layers.len();
    for l in from..n {
        let ((fan_in, fan_out), (wo, bo)) = (layers[l], offsets[l]);
        let mut z = Vec::with_capacity(fan_out);
        for o in 0..fan_out {
            let mut acc = w(bo + o);
            for (i, &hi) in h.iter().enumerate().take(fan_in) {
                acc = acc.add(w(wo + o * fan_in + i).mul(hi));
            }
            z.push(acc);
        }
        h = if l + 1 < n {
            z.into_iter().map(relu).collect()
        } else {
            z
        };
    }
    cross_entropy(&h, y)
}

/// The minibatch loss L and ∇L·v in one forward-mode pass: every parameter
/// is the dual number θ_k + v_k ε (Baydin et al. 2022, §2), never finite differences.
pub fn jvp(spec: &MlpSpec, params: &[f32], v: &[f32], x: &[f32], y: &[u32]) -> Dual {
    let mut acc = Dual::constant(0.0);
    for (p, &label) in x.chunks_exact(2).zip(y) {
        let input = vec![Dual::constant(p[0]), Dual::constant(p[1])];
        let l = dual_layers(spec, 0, input, label as usize, |k| {
            Dual::new(params[k], v[k])
        });
        acc = acc.add(l);
    }
    acc.scale(1.0 / y.len() as f32)
}

/// The minibatch loss L (mean cross-entropy) and its exact gradient by
/// backpropagation (Rumelhart, Hinton & Williams 1986; `mlp::backward`).
pub fn backprop(spec: &MlpSpec, params: &[f32], x: &[f32], y: &[u32]) -> (f32, Vec<f32>) {
    let f = mlp::featurize(spec, x, None, None);
    let fwd = mlp::forward(spec, params, f);
    let loss = Loss::CrossEntropy {
        smoothing: 0.0,
        maxsup: 0.0,
    };
    let (l, d_out) = mlp::loss_and_grad(loss, fwd.output(), Targets::Labels(y));
    (l, mlp::backward(spec, params, &fwd, d_out))
}

/// The minibatch loss, forward only.
pub fn loss(spec: &MlpSpec, params: &[f32], x: &[f32], y: &[u32]) -> f32 {
    let mut out = vec![0.0f32; CLASSES];
    let mut total = 0.0f64;
    for (p, &label) in x.chunks_exact(2).zip(y) {
        mlp::predict_row(spec, params, p, &mut out);
        let z: Vec<Dual> = out.iter().map(|&v| Dual::constant(v)).collect();
        total += f64::from(cross_entropy(&z, label as usize).v);
    }
    (total / y.len() as f64) as f32
}

/// Raw direction `dir` of a step: component j is word `dir·P + j` of `key`'s
/// stream, N(0, 1) for fwd and ±1 (the word's top bit) for spsa.
pub fn direction(key: RngKey, est: Estimator, dir: u32, n: usize) -> Vec<f32> {
    let base = dir.wrapping_mul(n as u32);
    (0..n as u32)
        .map(|j| {
            let i = base.wrapping_add(j);
            if est == Estimator::Spsa {
                if key.u32_at(i) >> 31 == 1 { 1.0 } else { -1.0 }
            } else {
                key.normal_at(i)
            }
        })
        .collect()
}

/// Forward gradient (∇L·v)v averaged over directions `first..first + b`
/// (Baydin et al. 2022), ∇L·v by [`jvp`].
pub fn fwd_estimate(
    spec: &MlpSpec,
    params: &[f32],
    x: &[f32],
    y: &[u32],
    key: RngKey,
    first: u32,
    b: u32,
) -> Vec<f32> {
    let mut g = vec![0.0f32; params.len()];
    for k in 0..b {
        let v = direction(key, Estimator::Fwd, first + k, params.len());
        let c = jvp(spec, params, &v, x, y).d / b as f32;
        for (gj, vj) in g.iter_mut().zip(&v) {
            *gj += c * vj;
        }
    }
    g
}

/// SPSA [L(θ + cΔ) − L(θ − cΔ)]/(2c) Δ averaged over directions
/// `first..first + b` (Spall 1992).
#[allow(clippy::too_many_arguments)]
pub fn spsa_estimate(
    spec: &MlpSpec,
    params: &[f32],
    x: &[f32],
    y: &[u32],
    c: f32,
    key: RngKey,
    first: u32,
    b: u32,
) -> Vec<f32> {
    let mut g = vec![0.0f32; params.len()];
    let (mut plus, mut minus) = (params.to_vec(), params.to_vec());
    for k in 0..b {
        let d = direction(key, Estimator::Spsa, first + k, params.len());
        for j in 0..params.len() {
            plus[j] = params[j] + c * d[j];
            minus[j] = params[j] - c * d[j];
        }
        let diff = loss(spec, &plus, x, y) - loss(spec, &minus, x, y);
        let coef = diff / (2.0 * c) / b as f32;
        for (gj, dj) in g.iter_mut().zip(&d) {
            *gj += coef * dj;
        }
    }
    g
}

/// One point's values at every layer: `inputs[l]` is layer l's input, `pre[l]` its pre-activation.
struct Trace {
    inputs: Vec<Vec<f32>>,
    pre: Vec<Vec<f32>>,
}

fn trace(spec: &MlpSpec, params: &[f32], p: &[f32]) -> Trace {
    let layers = spec.layers();
    let n = layers.len();
    let mut t = Trace {
        inputs: vec![p.to_vec()],
        pre: Vec::with_capacity(n),
    };
    for (l, ((fan_in, fan_out), (wo, bo))) in layers.into_iter().zip(spec.offsets()).enumerate() {
        let h = &t.inputs[l];
        let z: Vec<f32> = (0..fan_out)
            .map(|o| {
                let row = &params[wo + o * fan_in..wo + (o + 1) * fan_in];
                params[bo + o] + row.iter().zip(h).map(|(w, v)| w * v).sum::<f32>()
            })
            .collect();
        if l + 1 < n {
            t.inputs.push(z.iter().map(|&v| v.max(0.0)).collect());
        }
        t.pre.push(z);
    }
    t
}

/// softmax(z).
fn softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<f32> = z.iter().map(|&v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|&v| v / s).collect()
}

/// softmax(z) − onehot(y): the cross-entropy's gradient in the logits.
fn softmax_minus_onehot(z: &[f32], y: usize) -> Vec<f32> {
    let mut p = softmax(z);
    p[y] -= 1.0;
    p
}

/// Hidden layer k's local head on one point: its loss, the gradient δ of the
/// local loss in layer k's pre-activation (local backprop through the head
/// and the ReLU only), and the head's own gradient (A_k then c_k).
fn local_head(
    spec: &MlpSpec,
    heads: &[f32],
    k: usize,
    t: &Trace,
    y: usize,
) -> (f32, Vec<f32>, Vec<f32>) {
    let w = spec.hidden[k];
    let (a_off, c_off) = head_offsets(spec)[k];
    let act = &t.inputs[k + 1];
    let logits: Vec<f32> = (0..CLASSES)
        .map(|c| {
            heads[c_off + c]
                + heads[a_off + c * w..a_off + (c + 1) * w]
                    .iter()
                    .zip(act)
                    .map(|(a, h)| a * h)
                    .sum::<f32>()
        })
        .collect();
    let zs: Vec<Dual> = logits.iter().map(|&v| Dual::constant(v)).collect();
    let local_loss = cross_entropy(&zs, y).v;
    let e = softmax_minus_onehot(&logits, y);
    let delta: Vec<f32> = (0..w)
        .map(|o| {
            if t.pre[k][o] > 0.0 {
                (0..CLASSES).map(|c| heads[a_off + c * w + o] * e[c]).sum()
            } else {
                0.0
            }
        })
        .collect();
    let mut head_grad = Vec::with_capacity(CLASSES * (w + 1));
    for &ec in &e {
        head_grad.extend(act.iter().map(|h| ec * h));
    }
    head_grad.extend_from_slice(&e);
    (local_loss, delta, head_grad)
}

/// The guess u for hidden layer k's parameters (W_k then b_k) on one point:
/// the gradient of its local loss, u_W = δ hᵀ, u_b = δ (Fournier et al. 2023, §4).
pub fn local_guess(
    spec: &MlpSpec,
    params: &[f32],
    heads: &[f32],
    k: usize,
    p: &[f32],
    y: u32,
) -> Vec<f32> {
    let t = trace(spec, params, p);
    let (_, delta, _) = local_head(spec, heads, k, &t, y as usize);
    let h = &t.inputs[k];
    let mut u: Vec<f32> = delta
        .iter()
        .flat_map(|&d| h.iter().map(move |&hi| d * hi))
        .collect();
    u.extend_from_slice(&delta);
    u
}

/// What a guess step computes: the estimate of ∇L, the heads' gradient, and
/// the mean local loss of each head.
#[derive(Debug, Clone, PartialEq)]
pub struct GuessStep {
    pub grad: Vec<f32>,
    pub head_grad: Vec<f32>,
    pub local_losses: Vec<f32>,
}

/// The local-loss guess estimate: per point n and hidden layer k,
/// (∇_{θ_k}ℓ_n·u/‖u‖²) u with ∇ℓ_n·u by forward mode from layer k up
/// (Fournier et al. 2023, §3–4, projection per sample as in their code);
/// the output layer's exact gradient; averaged over the minibatch.
pub fn guess_estimate(
    spec: &MlpSpec,
    params: &[f32],
    heads: &[f32],
    x: &[f32],
    y: &[u32],
) -> GuessStep {
    let layers = spec.layers();
    let offsets = spec.offsets();
    let n = layers.len();
    let inv_b = 1.0 / y.len() as f32;
    let mut out = GuessStep {
        grad: vec![0.0; params.len()],
        head_grad: vec![0.0; heads.len()],
        local_losses: vec![0.0; n - 1],
    };
    let head_offsets = head_offsets(spec);
    for (p, &label) in x.chunks_exact(2).zip(y) {
        let t = trace(spec, params, p);
        let yl = label as usize;
        for k in 0..n - 1 {
            let (local_loss, delta, head_grad) = local_head(spec, heads, k, &t, yl);
            out.local_losses[k] += local_loss * inv_b;
            let (a_off, _) = head_offsets[k];
            for (g, hg) in out.head_grad[a_off..a_off + head_grad.len()]
                .iter_mut()
                .zip(&head_grad)
            {
                *g += hg * inv_b;
            }
            let ((fan_in, fan_out), (wo, bo)) = (layers[k], offsets[k]);
            let h = &t.inputs[k];
            let h_sq: f32 = h.iter().map(|v| v * v).sum();
            let u_sq = delta.iter().map(|d| d * d).sum::<f32>() * (h_sq + 1.0);
            if u_sq <= 0.0 || !u_sq.is_finite() {
                continue;
            }
            // Layer k in dual numbers, its parameters θ_k + u ε, then the layers above.
            let z: Vec<Dual> = (0..fan_out)
                .map(|o| {
                    let mut acc = Dual::new(params[bo + o], delta[o]);
                    let row = &params[wo + o * fan_in..wo + (o + 1) * fan_in];
                    for (&w, &hi) in row.iter().zip(h) {
                        acc = acc.add(Dual::new(w, delta[o] * hi).mul(Dual::constant(hi)));
                    }
                    relu(acc)
                })
                .collect();
            let dl = dual_layers(spec, k + 1, z, yl, |j| Dual::constant(params[j])).d;
            add_outer(&mut out.grad, (wo, bo), &delta, h, dl / u_sq * inv_b);
        }
        // The output layer: its local loss is the global loss, so its gradient is exact.
        let e = softmax_minus_onehot(&t.pre[n - 1], yl);
        add_outer(&mut out.grad, offsets[n - 1], &e, &t.inputs[n - 1], inv_b);
    }
    out
}

/// A layer's gradient `grad` (weights at `wo`, bias at `bo`) += s·(a hᵀ, a).
fn add_outer(grad: &mut [f32], (wo, bo): (usize, usize), a: &[f32], h: &[f32], s: f32) {
    let fan_in = h.len();
    for (o, &ao) in a.iter().enumerate() {
        let c = s * ao;
        let row = &mut grad[wo + o * fan_in..wo + (o + 1) * fan_in];
        for (g, &hi) in row.iter_mut().zip(h) {
            *g += c * hi;
        }
        grad[bo + o] += c;
    }
}

/// Test accuracy: the fraction of `data` whose largest logit is its label.
pub fn accuracy(spec: &MlpSpec, params: &[f32], data: &Dataset) -> f32 {
    let mut out = vec![0.0f32; CLASSES];
    let mut right = 0usize;
    for i in 0..data.len() {
        mlp::predict_row(spec, params, &data.point(i), &mut out);
        let arg = (0..CLASSES).fold(0, |b, c| if out[c] > out[b] { c } else { b });
        right += usize::from(arg == data.y[i] as usize);
    }
    right as f32 / data.len().max(1) as f32
}

/// Class probabilities at `points` (pairs), `len × K` row-major.
pub fn probabilities(spec: &MlpSpec, params: &[f32], points: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; CLASSES];
    let mut probs = Vec::with_capacity(points.len() / 2 * CLASSES);
    for p in points.chunks_exact(2) {
        mlp::predict_row(spec, params, p, &mut out);
        probs.extend(softmax(&out));
    }
    probs
}

/// One estimator's training run r.
#[derive(Debug, Clone, PartialEq)]
pub struct Runner {
    pub est: Estimator,
    pub params: Vec<f32>,
    /// The local heads (guess only; empty otherwise).
    pub heads: Vec<f32>,
    pub step: u32,
    /// Forward passes spent.
    pub passes: f64,
    /// The loss of the last step's minibatch (before its step).
    pub last_loss: f32,
    lr: f32,
    per_step: f64,
    dirs: RngKey,
    batches: RngKey,
}

impl Runner {
    /// Run r of `est`: the initial weights of `race.seed` (every estimator the
    /// same), run r's minibatches (every estimator the same) and directions.
    pub fn new(race: &RaceSpec, est: Estimator, run: u32) -> Self {
        Self {
            est,
            params: mlp::init_params(&race.spec, race.seed),
            heads: if est == Estimator::Guess {
                init_heads(&race.spec, race.seed)
            } else {
                Vec::new()
            },
            step: 0,
            passes: 0.0,
            last_loss: f32::NAN,
            lr: step_size(race, est),
            per_step: passes_per_step(&race.spec, est, race.directions),
            dirs: RngKey::new(race.seed, RACE_DIRECTION_STREAM.wrapping_add(run)),
            batches: RngKey::new(race.seed, RACE_BATCH_STREAM.wrapping_add(run)),
        }
    }

    /// The step size this runner uses.
    pub fn lr(&self) -> f32 {
        self.lr
    }

    /// Forward passes per step.
    pub fn passes_per_step(&self) -> f64 {
        self.per_step
    }

    /// Step t's minibatch: indices drawn with replacement, word t·B + i of the batch stream.
    pub fn minibatch(&self, race: &RaceSpec, train: &Dataset) -> (Vec<f32>, Vec<u32>) {
        let n = train.len() as u32;
        let bsz = race.minibatch;
        let mut x = Vec::with_capacity(2 * bsz as usize);
        let mut y = Vec::with_capacity(bsz as usize);
        for i in 0..bsz {
            let j = (self
                .batches
                .u32_at(self.step.wrapping_mul(bsz).wrapping_add(i))
                % n) as usize;
            x.extend_from_slice(&train.point(j));
            y.push(train.y[j]);
        }
        (x, y)
    }

    /// One SGD step θ ← θ − η_E ĝ on the next minibatch.
    pub fn advance(&mut self, race: &RaceSpec, train: &Dataset) {
        let (x, y) = self.minibatch(race, train);
        let spec = &race.spec;
        let first = self.step.wrapping_mul(race.directions);
        let g = match self.est {
            Estimator::Fwd => {
                self.last_loss = loss(spec, &self.params, &x, &y);
                fwd_estimate(
                    spec,
                    &self.params,
                    &x,
                    &y,
                    self.dirs,
                    first,
                    race.directions,
                )
            }
            Estimator::Spsa => {
                self.last_loss = loss(spec, &self.params, &x, &y);
                let c = race.spsa_c;
                spsa_estimate(
                    spec,
                    &self.params,
                    &x,
                    &y,
                    c,
                    self.dirs,
                    first,
                    race.directions,
                )
            }
            Estimator::Guess => {
                self.last_loss = loss(spec, &self.params, &x, &y);
                let s = guess_estimate(spec, &self.params, &self.heads, &x, &y);
                for (a, g) in self.heads.iter_mut().zip(&s.head_grad) {
                    *a -= self.lr * g;
                }
                s.grad
            }
            _ => {
                let (l, g) = backprop(spec, &self.params, &x, &y);
                self.last_loss = l;
                g
            }
        };
        for (p, gj) in self.params.iter_mut().zip(&g) {
            *p -= self.lr * gj;
        }
        self.step += 1;
        self.passes += self.per_step;
    }
}
