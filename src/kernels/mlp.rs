//! A small multilayer perceptron with hand-written backpropagation: the CPU
//! twin of `gpu/mlp.rs`.
//!
//! Parameter layout (one flat f32 buffer): for each layer l = 0..L in order,
//! its weights W_l as `out_l × in_l` row-major (`W[o * in + i]`), then its
//! bias `b_l` (`out_l` values). Layer 0's input is the feature vector
//! `[x (input), sin/cos time features (time_features), one-hot class (class_inputs)]`.

crate::param_enum! {
    /// Hidden-layer nonlinearity.
    pub enum Activation {
        Relu = "relu",
        Silu = "silu",
        Tanh = "tanh",
    }
}

/// The shape of a network.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MlpSpec {
    /// Raw input dimensions (2 for the 2D datasets).
    pub input: usize,
    /// Hidden widths, at most [`MAX_HIDDEN_LAYERS`] of at most [`MAX_WIDTH`].
    pub hidden: Vec<usize>,
    /// Output dimensions (classes for a classifier, 2 for a 2D denoiser).
    pub output: usize,
    pub activation: Activation,
    /// Number of sinusoidal features of a time input t (even; 0 = no time input).
    pub time_features: usize,
    /// Size of a one-hot class input (0 = none). A one-hot input through the
    /// first linear layer is exactly a learned class embedding.
    pub class_inputs: usize,
}

pub const MAX_HIDDEN_LAYERS: usize = 4;
pub const MAX_WIDTH: usize = 256;
pub const MAX_INPUT: usize = 16;
pub const MAX_OUTPUT: usize = 64;
pub const MAX_TIME_FEATURES: usize = 64;
pub const MAX_CLASS_INPUTS: usize = 64;

impl MlpSpec {
    /// A classifier or regressor of 2D points: no time or class inputs.
    pub fn for_2d_points(hidden: &[usize], output: usize, activation: Activation) -> Self {
        Self {
            input: 2,
            hidden: hidden.to_vec(),
            output,
            activation,
            time_features: 0,
            class_inputs: 0,
        }
    }

    /// Width of layer 0's input: raw input, time features, class one-hot.
    pub fn feature_dim(&self) -> usize {
        self.input + self.time_features + self.class_inputs
    }

    /// (in, out) of every linear layer, input to output.
    pub fn layers(&self) -> Vec<(usize, usize)> {
        let mut dims = vec![self.feature_dim()];
        dims.extend(&self.hidden);
        dims.push(self.output);
        dims.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Offsets of (weights, bias) of every layer in the flat buffer.
    pub fn offsets(&self) -> Vec<(usize, usize)> {
        let mut at = 0;
        self.layers()
            .into_iter()
            .map(|(i, o)| {
                let w = at;
                at += i * o;
                let b = at;
                at += o;
                (w, b)
            })
            .collect()
    }

    pub fn param_count(&self) -> usize {
        self.layers().iter().map(|(i, o)| i * o + o).sum()
    }

    /// Checks every dimension against the documented limits.
    pub fn validate(&self) -> Result<(), String> {
        if self.input == 0 || self.input > MAX_INPUT {
            return Err(format!("input must be 1..={MAX_INPUT}, got {}", self.input));
        }
        if self.output == 0 || self.output > MAX_OUTPUT {
            return Err(format!(
                "output must be 1..={MAX_OUTPUT}, got {}",
                self.output
            ));
        }
        if self.hidden.len() > MAX_HIDDEN_LAYERS {
            return Err(format!(
                "at most {MAX_HIDDEN_LAYERS} hidden layers, got {}",
                self.hidden.len()
            ));
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w == 0 || w > MAX_WIDTH) {
            return Err(format!("hidden widths must be 1..={MAX_WIDTH}, got {w}"));
        }
        if !self.time_features.is_multiple_of(2) || self.time_features > MAX_TIME_FEATURES {
            return Err(format!(
                "time features must be even and at most {MAX_TIME_FEATURES}, got {}",
                self.time_features
            ));
        }
        if self.class_inputs > MAX_CLASS_INPUTS {
            return Err(format!(
                "class inputs must be at most {MAX_CLASS_INPUTS}, got {}",
                self.class_inputs
            ));
        }
        Ok(())
    }
}

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, LinalgScalar, ScalarOperand};
use num_traits::Float;

use super::rng::RngKey;

/// The float types the CPU kernels run in: f32 for real work, f64 for the
/// finite-difference reference in tests.
pub trait Real:
    Float
    + LinalgScalar
    + ScalarOperand
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::fmt::Debug
    + Send
    + Sync
{
    fn of(x: f64) -> Self;
}

impl Real for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
}

impl Real for f64 {
    fn of(x: f64) -> Self {
        x
    }
}

/// RNG stream of the initial weights.
pub const INIT_STREAM: u32 = 0x0000_1417;

/// Initial parameters: weights N(0, 2/fan_in) for ReLU and SiLU (He et al.,
/// "Delving Deep into Rectifiers", ICCV 2015) and N(0, 2/(fan_in + fan_out))
/// for tanh (Glorot & Bengio, AISTATS 2010); biases 0. Weight k of the flat
/// buffer uses normal variate k of `RngKey(seed, INIT_STREAM)`.
pub fn init_params(spec: &MlpSpec, seed: u32) -> Vec<f32> {
    let key = RngKey::new(seed, INIT_STREAM);
    let mut params = vec![0.0f32; spec.param_count()];
    for ((fan_in, fan_out), (w, _)) in spec.layers().into_iter().zip(spec.offsets()) {
        let var = match spec.activation {
            Activation::Relu | Activation::Silu => 2.0 / fan_in as f64,
            Activation::Tanh => 2.0 / (fan_in + fan_out) as f64,
        };
        let std = var.sqrt() as f32;
        for (k, p) in params[w..w + fan_in * fan_out].iter_mut().enumerate() {
            *p = std * key.normal_at((w + k) as u32);
        }
    }
    params
}

/// Sinusoidal features of a time t: sin(t·ω_j) then cos(t·ω_j), ω_j = 10000^(-j/(F/2))
/// (Vaswani et al., "Attention Is All You Need", 2017; as used by Ho et al. 2020).
pub fn time_features<T: Real>(t: T, out: &mut [T]) {
    let half = out.len() / 2;
    for j in 0..half {
        let omega = T::of((-(10_000f64.ln()) * j as f64 / half as f64).exp());
        out[j] = (t * omega).sin();
        out[half + j] = (t * omega).cos();
    }
}

/// Layer 0's input for a batch: `[x, time features, one-hot class]` per row.
/// `x` is `batch × spec.input` row-major; `t` and `class` are per row.
pub fn featurize<T: Real>(
    spec: &MlpSpec,
    x: &[T],
    t: Option<&[T]>,
    class: Option<&[u32]>,
) -> Array2<T> {
    let batch = x.len() / spec.input;
    let d = spec.feature_dim();
    let mut f = Array2::<T>::zeros((batch, d));
    for (b, mut row) in f.axis_iter_mut(Axis(0)).enumerate() {
        let row = row.as_slice_mut().expect("rows are contiguous");
        row[..spec.input].copy_from_slice(&x[b * spec.input..(b + 1) * spec.input]);
        let tf = &mut row[spec.input..spec.input + spec.time_features];
        if let Some(t) = t {
            time_features(t[b], tf);
        }
        if let Some(c) = class
            && (c[b] as usize) < spec.class_inputs
        {
            row[spec.input + spec.time_features + c[b] as usize] = T::one();
        }
    }
    f
}

/// σ(z) = 1 / (1 + e^-z).
fn sigmoid<T: Real>(z: T) -> T {
    T::one() / (T::one() + (-z).exp())
}

/// The activation φ(z): ReLU (Nair & Hinton 2010), SiLU z·σ(z) (Elfwing et al. 2018), tanh.
pub fn activate<T: Real>(a: Activation, z: T) -> T {
    match a {
        Activation::Relu => z.max(T::zero()),
        Activation::Silu => z * sigmoid(z),
        Activation::Tanh => z.tanh(),
    }
}

/// φ'(z): ReLU 1[z > 0]; SiLU σ(z)(1 + z(1 − σ(z))); tanh 1 − tanh²(z).
pub fn activate_grad<T: Real>(a: Activation, z: T) -> T {
    match a {
        Activation::Relu => {
            if z > T::zero() {
                T::one()
            } else {
                T::zero()
            }
        }
        Activation::Silu => {
            let s = sigmoid(z);
            s * (T::one() + z * (T::one() - s))
        }
        Activation::Tanh => {
            let th = z.tanh();
            T::one() - th * th
        }
    }
}

fn layer_views<'a, T: Real>(
    spec: &MlpSpec,
    params: &'a [T],
) -> Vec<(ArrayView2<'a, T>, ArrayView1<'a, T>)> {
    spec.layers()
        .into_iter()
        .zip(spec.offsets())
        .map(|((i, o), (w, b))| {
            (
                ArrayView2::from_shape((o, i), &params[w..w + o * i]).expect("layout"),
                ArrayView1::from(&params[b..b + o]),
            )
        })
        .collect()
}

/// What the backward pass needs from the forward pass.
pub struct Forward<T> {
    /// Input of every layer: `inputs[0]` the features, `inputs[l] = φ(pre[l-1])`.
    pub inputs: Vec<Array2<T>>,
    /// Pre-activation of every layer; the last is the network's output.
    pub pre: Vec<Array2<T>>,
}

impl<T: Real> Forward<T> {
    pub fn output(&self) -> &Array2<T> {
        self.pre.last().expect("at least one layer")
    }
}

/// Forward pass keeping every layer's values for backpropagation.
pub fn forward<T: Real>(spec: &MlpSpec, params: &[T], features: Array2<T>) -> Forward<T> {
    let layers = layer_views(spec, params);
    let n = layers.len();
    let mut inputs = vec![features];
    let mut pre = Vec::with_capacity(n);
    for (l, (w, b)) in layers.iter().enumerate() {
        let z = inputs[l].dot(&w.t()) + b;
        if l + 1 < n {
            inputs.push(z.mapv(|v| activate(spec.activation, v)));
        }
        pre.push(z);
    }
    Forward { inputs, pre }
}

/// Forward pass for inference: the output only, intermediate values dropped.
pub fn predict<T: Real>(spec: &MlpSpec, params: &[T], features: Array2<T>) -> Array2<T> {
    let layers = layer_views(spec, params);
    let n = layers.len();
    let mut h = features;
    for (l, (w, b)) in layers.iter().enumerate() {
        let mut z = h.dot(&w.t());
        z += b;
        if l + 1 < n {
            z.mapv_inplace(|v| activate(spec.activation, v));
        }
        h = z;
    }
    h
}

/// Rows one core takes at a time in [`predict_blocks`] and [`batch_gradient`].
pub const ROW_BLOCK: usize = 64;

/// [`predict`] of `rows × feature_dim` row-major features, in blocks of
/// [`ROW_BLOCK`] rows across the cores natively: each row's output depends on
/// that row alone, and the blocks are fixed, so any thread count gives the
/// same numbers. Returns the outputs row-major.
pub fn predict_blocks(spec: &MlpSpec, params: &[f32], features: &[f32]) -> Vec<f32> {
    let d = spec.feature_dim();
    let block = ROW_BLOCK * 16;
    let rows = features.len() / d.max(1);
    let blocks = super::par::map(rows.div_ceil(block), |b| {
        let r = (b * block)..((b + 1) * block).min(rows);
        let f = ArrayView2::from_shape((r.len(), d), &features[r.start * d..r.end * d])
            .expect("feature shape");
        predict(spec, params, f.to_owned())
            .into_raw_vec_and_offset()
            .0
    });
    blocks.concat()
}

/// The mean loss over a batch and its gradient by backpropagation, summed
/// over fixed blocks of [`ROW_BLOCK`] rows in block order (the blocks run on
/// the cores natively): the same numbers for any thread count.
pub fn batch_gradient(
    spec: &MlpSpec,
    params: &[f32],
    features: &[f32],
    labels: &[u32],
    loss: Loss,
) -> (f32, Vec<f32>) {
    let d = spec.feature_dim();
    let batch = labels.len();
    let parts = super::par::map(batch.div_ceil(ROW_BLOCK), |b| {
        let r = (b * ROW_BLOCK)..((b + 1) * ROW_BLOCK).min(batch);
        let f = ArrayView2::from_shape((r.len(), d), &features[r.start * d..r.end * d])
            .expect("feature shape");
        let fwd = forward(spec, params, f.to_owned());
        let (l, mut dz) = loss_and_grad(loss, fwd.output(), Targets::Labels(&labels[r.clone()]));
        // The block's mean, as its share of the batch's mean.
        let share = r.len() as f32 / batch as f32;
        dz.mapv_inplace(|g| g * share);
        (l * share, backward(spec, params, &fwd, dz))
    });
    let mut total = 0.0;
    let mut grads = vec![0.0; params.len()];
    for (l, g) in parts {
        total += l;
        grads.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
    }
    (total, grads)
}

/// A training loss, averaged over the batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Softmax cross-entropy against labels smoothed by ε, q = (1 − ε)·onehot + ε/K
    /// (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016), plus
    /// α·(max_k z_k − mean_k z_k), the MaxSup penalty (Zhou et al., "MaxSup", 2025).
    CrossEntropy { smoothing: f32, maxsup: f32 },
    /// Mean squared error over batch and output dimensions (Ho et al. 2020, "simple" loss).
    MeanSquaredError,
}

/// Targets of a batch: class labels for cross-entropy, values (`batch × output`) for MSE.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    Labels(&'a [u32]),
    Values(&'a [f32]),
}

/// The mean loss over the batch and its gradient with respect to the outputs.
pub fn loss_and_grad<T: Real>(loss: Loss, out: &Array2<T>, targets: Targets<'_>) -> (T, Array2<T>) {
    let (batch, k) = out.dim();
    let inv_b = T::one() / T::of(batch as f64);
    let mut grad = Array2::<T>::zeros((batch, k));
    let mut total = T::zero();
    match (loss, targets) {
        (Loss::CrossEntropy { smoothing, maxsup }, Targets::Labels(labels)) => {
            let eps = T::of(f64::from(smoothing));
            let alpha = T::of(f64::from(maxsup));
            let kf = T::of(k as f64);
            for (b, z) in out.axis_iter(Axis(0)).enumerate() {
                let (arg_max, z_max) =
                    z.iter()
                        .enumerate()
                        .fold((0, T::neg_infinity()), |(ai, am), (i, &v)| {
                            if v > am { (i, v) } else { (ai, am) }
                        });
                let sum_exp = z.iter().fold(T::zero(), |s, &v| s + (v - z_max).exp());
                let lse = z_max + sum_exp.ln();
                let z_mean = z.sum() / kf;
                let y = labels[b] as usize;
                let mut row_loss = alpha * (z_max - z_mean);
                for (i, &v) in z.iter().enumerate() {
                    let q = eps / kf + if i == y { T::one() - eps } else { T::zero() };
                    let p = (v - lse).exp();
                    row_loss -= q * (v - lse);
                    let mut g = p - q - alpha / kf;
                    if i == arg_max {
                        g += alpha;
                    }
                    grad[[b, i]] = g * inv_b;
                }
                total += row_loss;
            }
        }
        (Loss::MeanSquaredError, Targets::Values(values)) => {
            let inv_n = inv_b / T::of(k as f64);
            for ((idx, &v), g) in out.indexed_iter().zip(grad.iter_mut()) {
                let d = v - T::of(f64::from(values[idx.0 * k + idx.1]));
                total += d * d;
                *g = (d + d) * inv_n;
            }
            return (total * inv_n, grad);
        }
        _ => panic!("loss and targets do not match"),
    }
    (total * inv_b, grad)
}

/// Backpropagation (Rumelhart, Hinton & Williams, Nature 1986): the gradient
/// of the loss with respect to every parameter, in the flat layout.
pub fn backward<T: Real>(
    spec: &MlpSpec,
    params: &[T],
    fwd: &Forward<T>,
    d_out: Array2<T>,
) -> Vec<T> {
    let layers = layer_views(spec, params);
    let offsets = spec.offsets();
    let mut grads = vec![T::zero(); params.len()];
    let mut dz = d_out;
    for l in (0..layers.len()).rev() {
        let (w_off, b_off) = offsets[l];
        let (w, _) = &layers[l];
        let dw = dz.t().dot(&fwd.inputs[l]);
        let db: Array1<T> = dz.sum_axis(Axis(0));
        // A width-1 layer can leave the product in column-major order.
        for (g, v) in grads[w_off..w_off + dw.len()]
            .iter_mut()
            .zip(dw.as_standard_layout().iter())
        {
            *g = *v;
        }
        for (g, v) in grads[b_off..b_off + db.len()].iter_mut().zip(db.iter()) {
            *g = *v;
        }
        if l > 0 {
            let mut dh = dz.dot(w);
            dh.zip_mut_with(&fwd.pre[l - 1], |g, &z| {
                *g = *g * activate_grad(spec.activation, z)
            });
            dz = dh;
        }
    }
    grads
}

/// Adam hyper-parameters; `weight_decay > 0` gives AdamW.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Adam's moment estimates and step count.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub t: u32,
}

impl AdamState {
    pub fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }
}

/// Bias corrections 1/(1 − β^t) for step t, in f64 then rounded, so both backends use the same values.
pub fn adam_bias_corrections(cfg: &AdamConfig, t: u32) -> (f32, f32) {
    let c1 = 1.0 / (1.0 - f64::from(cfg.beta1).powi(t as i32));
    let c2 = 1.0 / (1.0 - f64::from(cfg.beta2).powi(t as i32));
    (c1 as f32, c2 as f32)
}

/// One Adam step (Kingma & Ba, ICLR 2015) with decoupled weight decay
/// (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019).
pub fn adam_step(cfg: &AdamConfig, state: &mut AdamState, params: &mut [f32], grads: &[f32]) {
    state.t += 1;
    let (c1, c2) = adam_bias_corrections(cfg, state.t);
    for i in 0..params.len() {
        let g = grads[i];
        let m = cfg.beta1 * state.m[i] + (1.0 - cfg.beta1) * g;
        let v = cfg.beta2 * state.v[i] + (1.0 - cfg.beta2) * g * g;
        state.m[i] = m;
        state.v[i] = v;
        let update = (m * c1) / ((v * c2).sqrt() + cfg.eps) + cfg.weight_decay * params[i];
        params[i] -= cfg.lr * update;
    }
}

/// Dot product with eight partial sums, so the compiler vectorises it
/// (SIMD128 in the page) without reassociating floats behind our back.
#[inline]
fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Forward pass of one feature row into `out` (the network's outputs): the
/// same function as [`predict`] for a single row, without allocating per
/// layer beyond two scratch vectors. Samplers call it once per particle.
pub fn predict_row(spec: &MlpSpec, params: &[f32], features: &[f32], out: &mut [f32]) {
    let layers = spec.layers();
    let n = layers.len();
    let mut h = features.to_vec();
    let mut z = Vec::with_capacity(MAX_WIDTH);
    for (l, ((fan_in, fan_out), (w, b))) in layers.into_iter().zip(spec.offsets()).enumerate() {
        z.clear();
        for o in 0..fan_out {
            let row = &params[w + o * fan_in..w + (o + 1) * fan_in];
            let mut v = dot8(row, &h) + params[b + o];
            if l + 1 < n {
                v = activate(spec.activation, v);
            }
            z.push(v);
        }
        std::mem::swap(&mut h, &mut z);
    }
    out.copy_from_slice(&h[..out.len()]);
}
