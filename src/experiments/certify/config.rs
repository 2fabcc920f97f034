//! The certify experiment's config: the CLI keys, one field each.

use crate::experiments::config::{ConfigError, ListBound, Param, Range, Violation, echo};
pub use crate::kernels::certify::base::{Model, Smoothing};
pub use crate::kernels::certify::smooth::Transform;
pub use crate::kernels::datasets::DatasetId;

/// Points to certify, `x,y;x,y;…` (semicolons between points).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Points(pub Vec<[f64; 2]>);

/// Bounds of [`Points`]: how many, and the box every coordinate lies in.
#[derive(Debug, Clone, Copy)]
pub struct PointsBound {
    pub max_len: usize,
    pub each: Range<f64>,
}

impl Param for Points {
    type Bound = PointsBound;
    fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Points(Vec::new()));
        }
        // Bounded before parsing, so a 10 kB value costs nothing.
        text.split(';')
            .take(64)
            .map(|p| {
                let xy: Vec<f64> = Vec::<f64>::parse(p)?;
                match xy[..] {
                    [x, y] => Ok([x, y]),
                    _ => Err(format!("{} is not a point x,y", echo(p.trim()))),
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Points)
    }
    fn render(&self) -> String {
        self.0
            .iter()
            .map(|[x, y]| format!("{},{}", x.render(), y.render()))
            .collect::<Vec<_>>()
            .join(";")
    }
    fn check(self, b: &PointsBound) -> Result<Self, Violation<Self>> {
        let mut message = None;
        let mut fixed = self.0.clone();
        if fixed.len() > b.max_len {
            message = Some(format!(
                "has {} points; takes at most {}",
                fixed.len(),
                b.max_len
            ));
            fixed.truncate(b.max_len);
        }
        for v in fixed.iter_mut().flatten() {
            if *v < b.each.min || *v > b.each.max {
                message.get_or_insert(format!("has {v}, outside [{}, {}]", b.each.min, b.each.max));
                *v = v.clamp(b.each.min, b.each.max);
            }
        }
        match message {
            None => Ok(self),
            Some(message) => Err(Violation {
                fixed: Some(Points(fixed)),
                message,
            }),
        }
    }
    fn describe(b: &PointsBound) -> String {
        format!(
            "0 to {} points x,y separated by ';', coordinates in [{}, {}]",
            b.max_len, b.each.min, b.each.max
        )
    }
}

/// Half the side of the square the widget draws (and points may lie in).
pub const VIEW: f64 = 3.0;

crate::define_config! {
    /// Randomized smoothing: a base classifier, its noise, CERTIFY's samples and level.
    pub struct CertifyConfig {
        /// Base classifier f: a half-plane (`w`, `b`), a disk (`radius`) or an MLP trained on `dataset`.
        model: Model = Model::Linear, ();
        /// Normal w of the half-plane w·x + b > 0 (class 1).
        w: Vec<f64> = vec![3.0, 4.0], ListBound { min_len: 2, max_len: 2, each: Range::new(-100.0, 100.0) };
        /// Offset b of the half-plane.
        b: f64 = -1.0, Range::new(-100.0, 100.0);
        /// Radius r of the disk (class 0 inside).
        radius: f64 = 1.0, Range::new(0.05, 5.0);
        /// Data set: the MLP's training data, and the test points of the certified accuracy (labelled by f itself for the half-plane and disk).
        dataset: DatasetId = DatasetId::Gauss8, ();
        /// Noise level σ of the shift smoothing (the MLP is trained with noise at this σ).
        sigma: f64 = 0.5, Range::new(0.05, 4.0);
        /// Selection samples n₀ (pick the class).
        n0: u32 = 100, Range::new(1, 100_000);
        /// Estimation samples n (bound p_A).
        n: u32 = 100_000, Range::new(2, 1 << 24);
        /// Level α: each certificate fails with probability at most α.
        alpha: f64 = 0.001, Range::new(1e-9, 0.5);
        /// Aggregation: hard votes, or the mean of softmax/sparsemax of the noisy logits at `temp`.
        smoothing: Smoothing = Smoothing::Hard, ();
        /// Temperature T of the simplex map.
        temp: f64 = 1.0, Range::new(0.01, 100.0);
        /// What the noise does: shift the input, or rotate it about the origin.
        transform: Transform = Transform::Shift, ();
        /// Noise level σ_θ of the rotation angle, in radians.
        sigma_angle: f64 = 0.5, Range::new(0.01, 1.0);
        /// Points to certify, x,y;x,y (the widget's clicked point).
        points: Points = Points(vec![[1.0, 1.0], [0.0, 0.0]]), PointsBound { max_len: 16, each: Range::new(-VIEW, VIEW) };
        /// Seed of every noise stream, the data and the MLP's initial weights.
        seed: u32 = 0, Range::new(0, u32::MAX);
        /// Test points of the certified-accuracy curves.
        test_points: u32 = 100, Range::new(0, 2000);
        /// Monte Carlo samples per pixel of the p_A heat map.
        map_n: u32 = 1000, Range::new(10, 1 << 20);
        /// Pixels per side of the heat map.
        grid: u32 = 40, Range::new(8, 128);
        /// Adam steps of the MLP's training (full batch, fresh noise each step).
        train_steps: u32 = 300, Range::new(0, 5000);
        /// Monte Carlo samples of g where the true radius has no closed form (the MLP, rotation of an MLP).
        true_n: u32 = 1024, Range::new(64, 1 << 16);
    }
    reconcile = CertifyConfig::reconcile_fields;
}

impl CertifyConfig {
    fn reconcile_fields(&mut self) -> Vec<ConfigError> {
        if self.w.iter().any(|&v| v != 0.0) {
            return Vec::new();
        }
        self.w = vec![3.0, 4.0];
        vec![ConfigError {
            field: "w".into(),
            message: "is the zero vector, which defines no half-plane; using 3,4".into(),
        }]
    }
}
