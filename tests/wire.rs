//! The compute worker's wire format (`experiments::wire`): `f32` arrays cross
//! as little-endian bytes. Exact: a round trip must give back every bit,
//! NaN included (a diverged run has to look diverged on the page).

use gradlab::experiments::wire::{self, Bytes, Points};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Sample {
    #[serde(with = "wire::f32s")]
    values: Vec<f32>,
    #[serde(with = "wire::pairs")]
    curve: Vec<(f32, f32)>,
    #[serde(with = "wire::points")]
    cloud: Vec<[f32; 2]>,
    points: Points,
    file: Bytes,
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn f32_arrays_round_trip_bit_for_bit() {
    let odd = [
        0.1,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::MIN_POSITIVE,
        1e-45,
        -3.4e38,
    ];
    let s = Sample {
        values: odd.to_vec(),
        curve: vec![(0.25, f32::NAN), (1.0, -0.0)],
        cloud: vec![[f32::NEG_INFINITY, 2.0], [3.0, 4.5]],
        points: Points(vec![[f32::NAN, 7.0]]),
        file: Bytes(vec![0, 255, 7]),
    };
    // JSON has no bytes type: it carries them as a sequence, which must work too.
    let back: Sample = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(bits(&back.values), bits(&s.values));
    let flat = |c: &[(f32, f32)]| bits(&c.iter().flat_map(|&(a, b)| [a, b]).collect::<Vec<_>>());
    assert_eq!(flat(&back.curve), flat(&s.curve));
    assert_eq!(
        bits(back.cloud.as_flattened()),
        bits(s.cloud.as_flattened())
    );
    assert_eq!(
        bits(back.points.0.as_flattened()),
        bits(s.points.0.as_flattened())
    );
    assert_eq!(back.file, s.file);
}

#[test]
fn a_truncated_array_is_refused_not_misread() {
    // Five bytes are not a whole number of f32s; three f32s are not whole points.
    let five = r#"{"values":[0,0,128,63,1],"curve":[],"cloud":[],"points":[],"file":[]}"#;
    assert!(serde_json::from_str::<Sample>(five).is_err());
    let three = r#"{"values":[],"curve":[],"cloud":[],"points":[0,0,128,63,0,0,128,63,0,0,128,63],"file":[]}"#;
    assert!(serde_json::from_str::<Sample>(three).is_err());
}
