//! Calibration, selective classification and penultimate-layer geometry of a
//! classifier, from its logits: the measurements of the label-smoothing
//! experiment. Logits and probabilities are `n × classes` row-major slices.

use ndarray::Array2;

use super::mlp::{self, Loss, Targets};

/// Number of equal-width confidence bins of the expected calibration error
/// (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017).
pub const ECE_BINS: usize = 15;

/// Softmax of every row, computed stably as exp(z − max z) / Σ exp(z − max z).
pub fn softmax_rows(logits: &[f32], classes: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for z in logits.chunks_exact(classes) {
        let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = z.iter().map(|&v| (v - m).exp()).collect();
        let s: f32 = e.iter().sum();
        out.extend(e.iter().map(|&v| v / s));
    }
    out
}

/// The predicted class (first maximum) and its probability, per row.
pub fn argmax_rows(values: &[f32], classes: usize) -> Vec<(usize, f32)> {
    values
        .chunks_exact(classes)
        .map(|row| {
            row.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |b, (i, &v)| if v > b.1 { (i, v) } else { b },
            )
        })
        .collect()
}

/// Whether each row's argmax is its label.
pub fn correct(values: &[f32], labels: &[u32], classes: usize) -> Vec<bool> {
    argmax_rows(values, classes)
        .into_iter()
        .zip(labels)
        .map(|((k, _), &y)| k == y as usize)
        .collect()
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bin {
    /// The bin is the confidence interval (lo, hi] (the first bin also holds 0).
    pub lo: f32,
    pub hi: f32,
    /// Points whose max-softmax confidence falls in the bin.
    pub count: usize,
    /// Mean confidence of those points (0 for an empty bin).
    pub confidence: f32,
    /// Fraction of those points classified correctly (0 for an empty bin).
    pub accuracy: f32,
}

/// Reliability diagram: points binned by max-softmax confidence into `bins`
/// equal-width bins ((m−1)/M, m/M] (Guo et al., ICML 2017, §2).
pub fn reliability(probs: &[f32], labels: &[u32], classes: usize, bins: usize) -> Vec<Bin> {
    let bins = bins.max(1);
    let mut count = vec![0usize; bins];
    let mut conf = vec![0f64; bins];
    let mut hits = vec![0usize; bins];
    for ((k, p), &y) in argmax_rows(probs, classes).into_iter().zip(labels) {
        // Bin m (0-based) holds (m/M, (m+1)/M]: ceil(p·M) − 1, clamped.
        let m = ((f64::from(p) * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        count[m] += 1;
        conf[m] += f64::from(p);
        hits[m] += usize::from(k == y as usize);
    }
    (0..bins)
        .map(|m| {
            let c = count[m].max(1) as f64;
            Bin {
                lo: m as f32 / bins as f32,
                hi: (m + 1) as f32 / bins as f32,
                count: count[m],
                confidence: (conf[m] / c) as f32,
                accuracy: (hits[m] as f64 / c) as f32,
            }
        })
        .collect()
}

/// ECE = Σ_m (|B_m| / n) · |acc(B_m) − conf(B_m)| over the bins of a
/// reliability diagram (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, eq. 3).
pub fn ece_of_bins(bins: &[Bin]) -> f32 {
    let n: usize = bins.iter().map(|b| b.count).sum();
    if n == 0 {
        return 0.0;
    }
    let sum: f64 = bins
        .iter()
        .map(|b| b.count as f64 * f64::from((b.accuracy - b.confidence).abs()))
        .sum();
    (sum / n as f64) as f32
}

/// Expected calibration error with `bins` equal-width bins on max-softmax
/// confidence (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017).
pub fn ece(probs: &[f32], labels: &[u32], classes: usize, bins: usize) -> f32 {
    ece_of_bins(&reliability(probs, labels, classes, bins))
}

/// Mean negative log-likelihood −log softmax(z)_y: the hard-label
/// cross-entropy of [`mlp::loss_and_grad`] (one formula), computed in f64.
pub fn nll(logits: &[f32], labels: &[u32], classes: usize) -> f32 {
    let n = labels.len();
    if n == 0 {
        return 0.0;
    }
    let z = Array2::from_shape_fn((n, classes), |(i, k)| f64::from(logits[i * classes + k]));
    let hard = Loss::CrossEntropy {
        smoothing: 0.0,
        maxsup: 0.0,
    };
    mlp::loss_and_grad(hard, &z, Targets::Labels(labels)).0 as f32
}

/// The risk–coverage curve of selective classification: rejecting all but
/// the k most confident points, `(k/n, errors among them / k)` for k = 1..n
/// (El-Yaniv & Wiener, JMLR 2010; Geifman et al., ICLR 2019).
///
/// Points are ranked by confidence, highest first. Ties are not broken by
/// input order: within a run of equal confidences the errors are counted as
/// spread evenly, i.e. the risk at a k inside the run is its expectation over
/// a uniformly random order of the tied points. So the curve is deterministic
/// and invariant to how the input is permuted, and a constant confidence gives
/// the flat curve at the error rate. NaN confidences rank last.
pub fn risk_coverage(confidence: &[f32], correct: &[bool]) -> Vec<(f32, f32)> {
    let n = confidence.len().min(correct.len());
    let key = |i: usize| {
        let c = confidence[i];
        if c.is_nan() { f32::NEG_INFINITY } else { c }
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    let mut curve = Vec::with_capacity(n);
    let mut errors_before = 0f64;
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && key(order[end]) == key(order[start]) {
            end += 1;
        }
        let run = (end - start) as f64;
        let run_errors = order[start..end].iter().filter(|&&i| !correct[i]).count() as f64;
        for k in start + 1..=end {
            let inside = (k - start) as f64;
            let errors = errors_before + run_errors * inside / run;
            curve.push((k as f32 / n as f32, (errors / k as f64) as f32));
        }
        errors_before += run_errors;
        start = end;
    }
    curve
}

/// Area under the risk–coverage curve: the mean selective risk over the
/// coverages k/n, k = 1..n (Geifman, Uziel & El-Yaniv, "Bias-Reduced
/// Uncertainty Estimation for Deep Neural Classifiers", ICLR 2019).
pub fn aurc(confidence: &[f32], correct: &[bool]) -> f32 {
    let curve = risk_coverage(confidence, correct);
    if curve.is_empty() {
        return 0.0;
    }
    (curve.iter().map(|&(_, r)| f64::from(r)).sum::<f64>() / curve.len() as f64) as f32
}

/// Max-softmax confidence of every row (Hendrycks & Gimpel, ICLR 2017).
pub fn msp(logits: &[f32], classes: usize) -> Vec<f32> {
    argmax_rows(&softmax_rows(logits, classes), classes)
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// The p-norm used by [`lognorm_confidence`].
pub const LOGNORM_P: f32 = 2.0;

/// Logit normalisation before the max-softmax confidence: max_k softmax(z̃)_k with
/// z̃ = (z − mean z) / ‖z − mean z‖_p (Xia et al., "Towards Understanding Why Label Smoothing Degrades Selective Classification and How to Fix It", ICLR 2025, §5).
///
/// Xia et al. take this post-hoc fix from Cattelan & Silva ("How to Fix a
/// Broken Confidence Estimator", ICLR 2024, "pNorm") and tune p (and a
/// temperature) on held-out data. Here p is a parameter ([`LOGNORM_P`] = 2 in
/// the experiment) and no temperature is applied. The logits are centred
/// first, as in Cattelan & Silva: softmax ignores a common shift of the
/// logits, and centring makes the normalisation ignore it too. (We could not
/// confirm from Xia et al.'s text whether they centre; on the label-smoothing
/// widget's default setting centred and uncentred L2 both lower the smoothed
/// model's mean AURC, centred more consistently across seeds.) Dividing by
/// the norm removes the logit scale, which label smoothing shrinks most where
/// the model is most likely right (their §4), so only the logits' direction
/// ranks the points. With K = 2 every centred, normalised logit vector is
/// ±(1, −1)/‖(1, −1)‖_p, so the confidence is constant; a zero vector gives 1/K.
pub fn lognorm_confidence(logits: &[f32], classes: usize, p: f32) -> Vec<f32> {
    let normalised: Vec<f32> = logits
        .chunks_exact(classes)
        .flat_map(|z| {
            let mean = z.iter().sum::<f32>() / classes as f32;
            let c: Vec<f32> = z.iter().map(|v| v - mean).collect();
            let norm = if p.is_infinite() {
                c.iter().fold(0f32, |m, v| m.max(v.abs()))
            } else {
                c.iter().map(|v| v.abs().powf(p)).sum::<f32>().powf(1.0 / p)
            };
            let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
            c.into_iter().map(move |v| v * scale)
        })
        .collect();
    msp(&normalised, classes)
}

/// Orthonormal basis (e1, e2) and origin of the plane through three class
/// templates t0, t1, t2 (Gram–Schmidt on t1 − t0 and t2 − t0; the origin is
/// their centroid) (Müller, Kornblith & Hinton, "When Does Label Smoothing Help?", NeurIPS 2019, §2).
/// `None` when the templates are collinear (no unique plane).
pub fn template_plane(templates: [&[f32]; 3]) -> Option<[Vec<f64>; 3]> {
    let d = templates[0].len();
    let t: Vec<Vec<f64>> = templates
        .iter()
        .map(|t| t.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let origin: Vec<f64> = (0..d)
        .map(|j| (t[0][j] + t[1][j] + t[2][j]) / 3.0)
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let u: Vec<f64> = (0..d).map(|j| t[1][j] - t[0][j]).collect();
    let v: Vec<f64> = (0..d).map(|j| t[2][j] - t[0][j]).collect();
    let nu = dot(&u, &u).sqrt();
    let scale = nu.max(dot(&v, &v).sqrt());
    if nu <= 1e-12 * scale.max(f64::MIN_POSITIVE) || scale == 0.0 {
        return None;
    }
    let e1: Vec<f64> = u.iter().map(|x| x / nu).collect();
    let along = dot(&v, &e1);
    let w: Vec<f64> = (0..d).map(|j| v[j] - along * e1[j]).collect();
    let nw = dot(&w, &w).sqrt();
    if nw <= 1e-9 * scale {
        return None;
    }
    let e2: Vec<f64> = w.iter().map(|x| x / nw).collect();
    Some([origin, e1, e2])
}

/// 2D coordinates of activations (`n × d` row-major) in the plane through
/// three class templates: ⟨a − c, e1⟩, ⟨a − c, e2⟩ with c, e1, e2 from
/// [`template_plane`] (Müller, Kornblith & Hinton, "When Does Label Smoothing Help?", NeurIPS 2019, §2).
/// `None` when the templates are collinear.
pub fn project_onto_templates(
    activations: &[f32],
    templates: [&[f32]; 3],
) -> Option<Vec<[f32; 2]>> {
    let d = templates[0].len();
    if d == 0 || templates.iter().any(|t| t.len() != d) {
        return None;
    }
    let [c, e1, e2] = template_plane(templates)?;
    Some(
        activations
            .chunks_exact(d)
            .map(|a| {
                let (mut x, mut y) = (0f64, 0f64);
                for j in 0..d {
                    let r = f64::from(a[j]) - c[j];
                    x += r * e1[j];
                    y += r * e2[j];
                }
                [x as f32, y as f32]
            })
            .collect(),
    )
}
