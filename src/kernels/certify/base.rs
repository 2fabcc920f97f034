//! The base classifiers f that randomized smoothing smooths, and the simplex
//! maps of soft smoothing. Everything here runs per noisy sample, in f32, in
//! the same operation order as `gpu/shaders/certify.wgsl`.

use crate::kernels::mlp::{self, MlpSpec};

crate::param_enum! {
    /// The base classifier f.
    pub enum Model {
        /// Half-plane: class 1 where w·x + b > 0, class 0 elsewhere.
        Linear = "linear",
        /// Disk: class 0 inside radius r about the origin, class 1 outside.
        Disk = "disk",
        /// A small ReLU network trained with Gaussian noise augmentation.
        Mlp = "mlp",
    }
}

crate::param_enum! {
    /// How the smoothed classifier aggregates the noisy base predictions.
    pub enum Smoothing {
        /// Majority vote of the hard predictions (Cohen et al. 2019).
        Hard = "hard",
        /// Mean of softmax(z/T) of the noisy logits (Salman et al. 2019; Delattre et al. 2024).
        Softmax = "softmax",
        /// Mean of sparsemax(z/T) of the noisy logits (Martins & Astudillo 2016; Delattre et al. 2024).
        Sparsemax = "sparsemax",
    }
}

/// Most classes a base classifier has (gauss8).
pub const MAX_CLASSES: usize = 8;
/// Hidden widths of the MLP base classifier.
pub const MLP_HIDDEN: [usize; 2] = [32, 32];

/// A base classifier with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseClassifier {
    Linear { w: [f32; 2], b: f32 },
    Disk { r: f32 },
    Mlp { spec: MlpSpec, params: Vec<f32> },
}

impl BaseClassifier {
    /// Number of classes K.
    pub fn classes(&self) -> usize {
        match self {
            BaseClassifier::Linear { .. } | BaseClassifier::Disk { .. } => 2,
            BaseClassifier::Mlp { spec, .. } => spec.output,
        }
    }

    /// The logits z(y) (first K entries of `out`): linear [0, w·y + b],
    /// disk [r − ‖y‖, 0], MLP its outputs.
    pub fn logits(&self, y: [f32; 2], out: &mut [f32]) {
        match self {
            BaseClassifier::Linear { w, b } => {
                out[0] = 0.0;
                out[1] = (w[0] * y[0] + w[1] * y[1]) + b;
            }
            BaseClassifier::Disk { r } => {
                out[0] = r - (y[0] * y[0] + y[1] * y[1]).sqrt();
                out[1] = 0.0;
            }
            BaseClassifier::Mlp { spec, params } => {
                mlp::predict_row(spec, params, &y, &mut out[..spec.output]);
            }
        }
    }

    /// The hard prediction f(y). Linear and disk decide on w·y + b > 0 and
    /// ‖y‖² > r² (no square root, so the GPU decides identically); the MLP
    /// takes the first largest logit.
    pub fn class(&self, y: [f32; 2], scratch: &mut [f32]) -> usize {
        match self {
            BaseClassifier::Linear { w, b } => usize::from((w[0] * y[0] + w[1] * y[1]) + b > 0.0),
            BaseClassifier::Disk { r } => usize::from(y[0] * y[0] + y[1] * y[1] > r * r),
            BaseClassifier::Mlp { .. } => {
                let k = self.classes();
                self.logits(y, scratch);
                argmax(&scratch[..k])
            }
        }
    }
}

/// The first index of the largest value.
pub fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = i;
        }
    }
    best
}

/// softmax(z/T) in place (Bridle 1990), max-shifted.
pub fn softmax(z: &mut [f32], temp: f32) {
    let m = z[argmax(z)];
    let mut total = 0.0;
    for v in z.iter_mut() {
        *v = ((*v - m) / temp).exp();
        total += *v;
    }
    for v in z.iter_mut() {
        *v /= total;
    }
}

/// sparsemax(z/T) in place: the Euclidean projection onto the simplex,
/// p_i = max(0, z_i/T − τ) with τ from the sorted support (Martins &
/// Astudillo, "From Softmax to Sparsemax", ICML 2016, Alg. 1).
pub fn sparsemax(z: &mut [f32], temp: f32) {
    let k = z.len();
    let mut sorted = [0.0f32; MAX_CLASSES];
    for (s, v) in sorted.iter_mut().zip(z.iter_mut()) {
        *v /= temp;
        *s = *v;
    }
    let sorted = &mut sorted[..k];
    sorted.sort_by(|a, b| b.total_cmp(a));
    let (mut cum, mut support_sum, mut support) = (0.0f32, 0.0f32, 1usize);
    for (j, &s) in sorted.iter().enumerate() {
        cum += s;
        if 1.0 + (j + 1) as f32 * s > cum {
            support = j + 1;
            support_sum = cum;
        }
    }
    let tau = (support_sum - 1.0) / support as f32;
    for v in z.iter_mut() {
        *v = (*v - tau).max(0.0);
    }
}

/// The soft prediction of `smoothing` at temperature `temp` from logits
/// `z` (in place); `Hard` writes the one-hot vector of the first largest logit.
pub fn simplex_map(smoothing: Smoothing, z: &mut [f32], temp: f32) {
    match smoothing {
        Smoothing::Hard => {
            let c = argmax(z);
            for (i, v) in z.iter_mut().enumerate() {
                *v = if i == c { 1.0 } else { 0.0 };
            }
        }
        Smoothing::Softmax => softmax(z, temp),
        Smoothing::Sparsemax => sparsemax(z, temp),
    }
}
