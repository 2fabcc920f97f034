//! How a GPU kernel is held to its CPU twin. Any non-finite value is an
//! infinite difference, so a NaN can never pass a bound: folding with
//! `f64::max` would drop it (`0.0f64.max(NAN) == 0.0`).

/// `|a − b| / max(floor, |a|)`: relative above `floor`, absolute (scaled by
/// `floor`) below it; +∞ when either value is not finite.
pub fn scaled_diff(a: f64, b: f64, floor: f64) -> f64 {
    if !(a.is_finite() && b.is_finite()) {
        return f64::INFINITY;
    }
    (a - b).abs() / a.abs().max(floor)
}

/// `|a − b|`, or +∞ when either value is not finite.
pub fn abs_diff(a: f64, b: f64) -> f64 {
    if !(a.is_finite() && b.is_finite()) {
        return f64::INFINITY;
    }
    (a - b).abs()
}

/// The largest of `diffs` (0 when there are none); +∞ if any is NaN.
pub fn worst(diffs: impl IntoIterator<Item = f64>) -> f64 {
    diffs.into_iter().fold(
        0.0,
        |m, d| {
            if d.is_nan() { f64::INFINITY } else { m.max(d) }
        },
    )
}

/// The largest [`scaled_diff`] between `cpu` and `gpu`, element by element;
/// +∞ when their lengths differ (a short read is not agreement).
pub fn worst_scaled<T: Copy + Into<f64>>(cpu: &[T], gpu: &[T], floor: f64) -> f64 {
    worst_by(cpu, gpu, |a, b| scaled_diff(a, b, floor))
}

/// The largest [`abs_diff`] between `cpu` and `gpu`; +∞ when their lengths differ.
pub fn worst_abs<T: Copy + Into<f64>>(cpu: &[T], gpu: &[T]) -> f64 {
    worst_by(cpu, gpu, abs_diff)
}

fn worst_by<T: Copy + Into<f64>>(cpu: &[T], gpu: &[T], diff: impl Fn(f64, f64) -> f64) -> f64 {
    if cpu.len() != gpu.len() {
        return f64::INFINITY;
    }
    worst(cpu.iter().zip(gpu).map(|(&a, &b)| diff(a.into(), b.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nan_or_infinity_anywhere_is_an_infinite_difference() {
        let cpu = [1.0f32, 2.0, 3.0];
        assert_eq!(worst_scaled(&cpu, &cpu, 1.0), 0.0);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for i in 0..3 {
                let mut gpu = cpu;
                gpu[i] = bad;
                assert_eq!(worst_scaled(&cpu, &gpu, 1.0), f64::INFINITY, "{bad} at {i}");
                // …and on the CPU side too: a NaN twin proves nothing.
                assert_eq!(worst_scaled(&gpu, &cpu, 1.0), f64::INFINITY, "{bad} at {i}");
                assert_eq!(worst_abs(&cpu, &gpu), f64::INFINITY, "{bad} at {i}");
            }
        }
        // The fold this replaces: a NaN after a finite difference vanished.
        assert_eq!([0.5, f64::NAN].into_iter().fold(0.0, f64::max), 0.5);
        assert_eq!(worst([0.5, f64::NAN]), f64::INFINITY);
        assert_eq!(worst([f64::NAN, 0.5]), f64::INFINITY);
    }

    #[test]
    fn a_short_read_is_not_agreement() {
        assert_eq!(worst_scaled(&[1.0f64, 2.0], &[1.0], 1.0), f64::INFINITY);
    }

    #[test]
    fn scaled_below_the_floor_and_relative_above() {
        // |0.01 − 0.02| / max(0.1, 0.01) = 0.1; |10 − 11| / max(0.1, 10) = 0.1.
        assert!((scaled_diff(0.01, 0.02, 0.1) - 0.1).abs() < 1e-12);
        assert!((scaled_diff(10.0, 11.0, 0.1) - 0.1).abs() < 1e-12);
    }
}
