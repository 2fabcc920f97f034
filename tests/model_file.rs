//! The model file format: exact round trips, and rejection (never a panic)
//! of truncated, corrupted and arbitrary input.

use gradlab::kernels::mlp::{Activation, MlpSpec};
use gradlab::kernels::model_file::{ModelFileError, decode, encode};
use proptest::prelude::*;

fn small_spec() -> MlpSpec {
    MlpSpec {
        input: 2,
        hidden: vec![3],
        output: 2,
        activation: Activation::Tanh,
        time_features: 0,
        class_inputs: 0,
    }
}

/// Distinct, exactly representable parameters, including -0.0 and a subnormal.
fn params_for(spec: &MlpSpec) -> Vec<f32> {
    let mut p: Vec<f32> = (0..spec.param_count())
        .map(|i| (i as f32 - 7.0) * 0.125)
        .collect();
    if p.len() > 2 {
        p[0] = -0.0;
        p[1] = f32::from_bits(1);
    }
    p
}

/// Rewrites the trailing CRC so that a deliberately edited file passes it.
fn fix_crc(bytes: &mut [u8]) {
    let n = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
}

fn set_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn round_trip_is_exact() {
    let specs = [
        small_spec(),
        MlpSpec {
            input: 2,
            hidden: vec![64, 64],
            output: 3,
            activation: Activation::Relu,
            time_features: 0,
            class_inputs: 0,
        },
        MlpSpec {
            input: 2,
            hidden: vec![],
            output: 2,
            activation: Activation::Silu,
            time_features: 16,
            class_inputs: 4,
        },
        MlpSpec {
            input: 16,
            hidden: vec![256, 1, 7, 256],
            output: 64,
            activation: Activation::Tanh,
            time_features: 64,
            class_inputs: 64,
        },
    ];
    for spec in specs {
        let params = params_for(&spec);
        let bytes = encode(&spec, &params);
        assert_eq!(
            bytes.len(),
            40 + 4 * spec.hidden.len() + 4 + 4 * params.len() + 4
        );
        assert_eq!(&bytes[..8], b"GRADLAB\0");
        let (spec2, params2) = decode(&bytes).unwrap();
        assert_eq!(spec2, spec);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&params2), bits(&params), "bit-exact parameters");
        assert_eq!(encode(&spec2, &params2), bytes, "re-encoding is identical");
    }
}

#[test]
fn header_layout_is_as_documented() {
    let spec = small_spec();
    let bytes = encode(&spec, &params_for(&spec));
    let u = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(
        [u(8), u(12), u(16), u(20), u(24), u(28), u(32), u(36), u(40)],
        [1, 1, 2, 2, 2, 0, 0, 1, 3]
    );
    assert_eq!(u(44) as usize, spec.param_count());
    let n = bytes.len() - 4;
    assert_eq!(u(n), crc32fast::hash(&bytes[..n]));
}

#[test]
#[should_panic(expected = "parameters given")]
fn encode_panics_on_wrong_param_count() {
    encode(&small_spec(), &[0.0; 3]);
}

#[test]
fn every_truncation_is_an_error() {
    let spec = MlpSpec {
        hidden: vec![4, 3],
        ..small_spec()
    };
    let bytes = encode(&spec, &params_for(&spec));
    for len in 0..bytes.len() {
        let err = decode(&bytes[..len]).unwrap_err();
        if len >= 8 {
            assert!(
                matches!(err, ModelFileError::TooShort { got, .. } if got == len),
                "length {len}: {err:?}"
            );
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(decode(&longer), Err(ModelFileError::TrailingBytes(1)));
}

#[test]
fn every_single_byte_flip_is_an_error() {
    let spec = small_spec();
    let bytes = encode(&spec, &params_for(&spec));
    for at in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[at] ^= mask;
            assert!(
                decode(&bad).is_err(),
                "byte {at} ^ {mask:#04x} was accepted"
            );
        }
    }
}

#[test]
fn wrong_magic_version_and_kind_are_named() {
    let spec = small_spec();
    let good = encode(&spec, &params_for(&spec));

    let mut bad = good.clone();
    bad[0] = b'X';
    fix_crc(&mut bad);
    assert_eq!(decode(&bad), Err(ModelFileError::BadMagic));
    assert_eq!(decode(b"PNG"), Err(ModelFileError::BadMagic));

    let mut bad = good.clone();
    set_u32(&mut bad, 8, 2);
    fix_crc(&mut bad);
    assert_eq!(decode(&bad), Err(ModelFileError::UnsupportedVersion(2)));

    let mut bad = good.clone();
    set_u32(&mut bad, 12, 7);
    fix_crc(&mut bad);
    assert_eq!(decode(&bad), Err(ModelFileError::UnsupportedKind(7)));
}

#[test]
fn bad_specs_counts_checksums_and_values_are_named() {
    let spec = small_spec();
    let good = encode(&spec, &params_for(&spec));

    // Activation code out of range.
    let mut bad = good.clone();
    set_u32(&mut bad, 24, 3);
    fix_crc(&mut bad);
    assert!(matches!(decode(&bad), Err(ModelFileError::BadSpec(_))));

    // Too many hidden layers: rejected before reading (or allocating) them.
    let mut bad = good.clone();
    set_u32(&mut bad, 36, u32::MAX);
    assert!(matches!(decode(&bad), Err(ModelFileError::BadSpec(_))));

    // A hidden width above the limit.
    let mut bad = good.clone();
    set_u32(&mut bad, 40, 100_000);
    fix_crc(&mut bad);
    assert!(matches!(decode(&bad), Err(ModelFileError::BadSpec(_))));

    // A parameter count that disagrees with the spec.
    let mut bad = good.clone();
    set_u32(&mut bad, 44, u32::MAX);
    assert_eq!(
        decode(&bad),
        Err(ModelFileError::ParamCountMismatch {
            header: u32::MAX as usize,
            spec: spec.param_count()
        })
    );

    // A corrupted parameter is caught by the checksum.
    let mut bad = good.clone();
    bad[48] ^= 1;
    assert!(matches!(decode(&bad), Err(ModelFileError::Checksum { .. })));

    // A NaN with a valid checksum is still rejected, with its index.
    let mut bad = good.clone();
    bad[48 + 4 * 5..48 + 4 * 6].copy_from_slice(&f32::NAN.to_le_bytes());
    fix_crc(&mut bad);
    assert_eq!(decode(&bad), Err(ModelFileError::NonFinite(5)));
    let mut bad = good.clone();
    bad[48..52].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes());
    fix_crc(&mut bad);
    assert_eq!(decode(&bad), Err(ModelFileError::NonFinite(0)));
}

#[test]
fn messages_are_readable() {
    let e = ModelFileError::TooShort {
        needed: 1234,
        got: 100,
    };
    assert_eq!(
        e.to_string(),
        "model file is truncated: needed 1234 bytes, got 100"
    );
    let e: Box<dyn std::error::Error> = Box::new(ModelFileError::Checksum {
        stored: 1,
        computed: 0xdead_beef,
    });
    assert!(e.to_string().contains("0xdeadbeef"));
}

fn arb_spec() -> impl Strategy<Value = MlpSpec> {
    (
        1usize..4,
        prop::collection::vec(1usize..6, 0..3),
        1usize..4,
        0usize..3,
        0usize..3,
        0usize..3,
    )
        .prop_map(|(input, hidden, output, act, tf, ci)| MlpSpec {
            input,
            hidden,
            output,
            activation: [Activation::Relu, Activation::Silu, Activation::Tanh][act],
            time_features: 2 * tf,
            class_inputs: ci,
        })
}

fn arb_file() -> impl Strategy<Value = (MlpSpec, Vec<f32>)> {
    arb_spec().prop_flat_map(|spec| {
        let n = spec.param_count();
        (Just(spec), prop::collection::vec(-1e6f32..1e6, n..=n))
    })
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    Xor(usize, u8),
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
    /// Overwrite a header word with an arbitrary value.
    Word(usize, u32),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(i, b)| Mutation::Xor(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        (0usize..12, any::<u32>()).prop_map(|(w, v)| Mutation::Word(8 + 4 * w, v)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    match *m {
        Mutation::Xor(i, b) if n > 0 => bytes[i % n] ^= b,
        Mutation::Set(i, b) if n > 0 => bytes[i % n] = b,
        Mutation::Truncate(i) => bytes.truncate(i % (n + 1)),
        Mutation::Insert(i, b) => bytes.insert(i % (n + 1), b),
        Mutation::Remove(i) if n > 0 => {
            bytes.remove(i % n);
        }
        Mutation::Word(at, v) if at + 4 <= n => {
            bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Arbitrary bytes never panic, and are (overwhelmingly) rejected.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok((spec, params)) = decode(&bytes) {
            // Anything accepted is canonical.
            prop_assert_eq!(encode(&spec, &params), bytes);
        }
    }

    /// Arbitrary bytes behind a valid magic and version reach the deeper checks; still no panic.
    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = b"GRADLAB\0\x01\0\0\0\x01\0\0\0".to_vec();
        bytes.extend_from_slice(&body);
        if let Ok((spec, params)) = decode(&bytes) {
            prop_assert_eq!(encode(&spec, &params), bytes);
        }
    }

    /// Valid files round-trip; mutated ones never panic, and anything still
    /// accepted is exactly what re-encoding its contents gives.
    #[test]
    fn mutated_files_never_panic(
        (spec, params) in arb_file(),
        mutations in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let good = encode(&spec, &params);
        let decoded = decode(&good);
        prop_assert_eq!(decoded, Ok((spec, params)));
        let mut bytes = good.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        match decode(&bytes) {
            Ok((spec2, params2)) => prop_assert_eq!(encode(&spec2, &params2), bytes),
            Err(e) => prop_assert!(bytes != good, "valid file rejected: {}", e),
        }
    }
}
