//! A versioned binary file for a trained MLP: its shape and its parameters.
//!
//! Layout, every field little-endian:
//!
//! ```text
//! offset  size           field
//! 0       8 bytes        magic b"GRADLAB\0"
//! 8       u32            format version = 1
//! 12      u32            kind = 1 (MLP)
//! 16      u32            input
//! 20      u32            output
//! 24      u32            activation (0 relu, 1 silu, 2 tanh)
//! 28      u32            time_features
//! 32      u32            class_inputs
//! 36      u32            n_hidden (at most 4)
//! 40      u32 × n        hidden widths
//! ..      u32            param_count (must equal MlpSpec::param_count())
//! ..      f32 × count    parameters, in the flat layout of `kernels/mlp.rs`
//! ..      u32            CRC-32 (IEEE 802.3) of every byte before it
//! ```
//!
//! [`decode`] never panics and never allocates more than the input's own size:
//! every size read from the header is checked against the spec limits and
//! against the length of the input before anything is allocated.

use super::mlp::{Activation, MAX_HIDDEN_LAYERS, MlpSpec};
use std::fmt;

/// The first eight bytes of every model file.
pub const MAGIC: [u8; 8] = *b"GRADLAB\0";
/// The format version this module writes and reads.
pub const VERSION: u32 = 1;
/// The kind code of an MLP.
pub const KIND_MLP: u32 = 1;
/// Bytes up to and including `n_hidden`.
pub const FIXED_HEADER_LEN: usize = 40;

/// Why a byte string is not a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFileError {
    /// The input ends before a field that must be there.
    TooShort {
        needed: usize,
        got: usize,
    },
    /// The first eight bytes are not `GRADLAB\0`.
    BadMagic,
    UnsupportedVersion(u32),
    UnsupportedKind(u32),
    /// The header describes a network outside the limits of `MlpSpec::validate`.
    BadSpec(String),
    /// The stored parameter count disagrees with the one the spec implies.
    ParamCountMismatch {
        header: usize,
        spec: usize,
    },
    Checksum {
        stored: u32,
        computed: u32,
    },
    /// Bytes after the checksum.
    TrailingBytes(usize),
    /// The parameter at this index is NaN or infinite.
    NonFinite(usize),
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { needed, got } => write!(
                f,
                "model file is truncated: needed {needed} bytes, got {got}"
            ),
            Self::BadMagic => f.write_str("not a gradlab model file (bad magic bytes)"),
            Self::UnsupportedVersion(v) => write!(
                f,
                "unsupported model file version {v} (this build reads version {VERSION})"
            ),
            Self::UnsupportedKind(k) => write!(
                f,
                "unsupported model kind {k} (this build reads kind {KIND_MLP}, MLP)"
            ),
            Self::BadSpec(why) => write!(f, "model file describes an invalid network: {why}"),
            Self::ParamCountMismatch { header, spec } => write!(
                f,
                "model file stores {header} parameters but its network has {spec}"
            ),
            Self::Checksum { stored, computed } => write!(
                f,
                "model file is corrupted: checksum {stored:#010x} stored, {computed:#010x} computed"
            ),
            Self::TrailingBytes(n) => {
                write!(f, "model file has {n} unexpected bytes after its checksum")
            }
            Self::NonFinite(i) => write!(f, "model parameter {i} is not a finite number"),
        }
    }
}

impl std::error::Error for ModelFileError {}

fn activation_code(a: Activation) -> u32 {
    match a {
        Activation::Relu => 0,
        Activation::Silu => 1,
        Activation::Tanh => 2,
    }
}

fn activation_from_code(code: u32) -> Option<Activation> {
    match code {
        0 => Some(Activation::Relu),
        1 => Some(Activation::Silu),
        2 => Some(Activation::Tanh),
        _ => None,
    }
}

/// A size as a header word; sizes beyond u32 saturate (and then fail validation on decode).
fn word(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Serialises a network.
///
/// # Panics
///
/// Only if `params.len() != spec.param_count()`. A spec that fails
/// [`MlpSpec::validate`] is written as is, and [`decode`] then rejects it.
pub fn encode(spec: &MlpSpec, params: &[f32]) -> Vec<u8> {
    let count = spec.param_count();
    assert_eq!(
        params.len(),
        count,
        "model_file::encode: {} parameters given, the spec has {count}",
        params.len()
    );
    let mut out = Vec::with_capacity(FIXED_HEADER_LEN + 4 * spec.hidden.len() + 4 + 4 * count + 4);
    out.extend_from_slice(&MAGIC);
    for v in [
        VERSION,
        KIND_MLP,
        word(spec.input),
        word(spec.output),
        activation_code(spec.activation),
        word(spec.time_features),
        word(spec.class_inputs),
        word(spec.hidden.len()),
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for &w in &spec.hidden {
        out.extend_from_slice(&word(w).to_le_bytes());
    }
    out.extend_from_slice(&word(count).to_le_bytes());
    for p in params {
        out.extend_from_slice(&p.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads the little-endian u32 at `at`, or says how many bytes were needed.
fn read_u32(bytes: &[u8], at: usize) -> Result<u32, ModelFileError> {
    match bytes.get(at..at + 4) {
        Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(ModelFileError::TooShort {
            needed: at + 4,
            got: bytes.len(),
        }),
    }
}

/// Parses and checks a model file. Never panics, on any input.
///
/// Checks, in order: length of the fixed header, magic, version, kind, the
/// spec (`MlpSpec::validate`), the parameter count, the total length
/// (truncated or trailing bytes), the CRC, and finally that every parameter is finite.
pub fn decode(bytes: &[u8]) -> Result<(MlpSpec, Vec<f32>), ModelFileError> {
    let got = bytes.len();
    if got < FIXED_HEADER_LEN {
        // Report a bad magic first when the bytes we have already show it.
        let n = got.min(MAGIC.len());
        if bytes[..n] != MAGIC[..n] {
            return Err(ModelFileError::BadMagic);
        }
        return Err(ModelFileError::TooShort {
            needed: FIXED_HEADER_LEN,
            got,
        });
    }
    if bytes[..8] != MAGIC {
        return Err(ModelFileError::BadMagic);
    }
    let version = read_u32(bytes, 8)?;
    if version != VERSION {
        return Err(ModelFileError::UnsupportedVersion(version));
    }
    let kind = read_u32(bytes, 12)?;
    if kind != KIND_MLP {
        return Err(ModelFileError::UnsupportedKind(kind));
    }
    let input = read_u32(bytes, 16)?;
    let output = read_u32(bytes, 20)?;
    let activation_word = read_u32(bytes, 24)?;
    let time_features = read_u32(bytes, 28)?;
    let class_inputs = read_u32(bytes, 32)?;
    let n_hidden = read_u32(bytes, 36)? as usize;
    let activation = activation_from_code(activation_word).ok_or_else(|| {
        ModelFileError::BadSpec(format!(
            "activation code must be 0 (relu), 1 (silu) or 2 (tanh), got {activation_word}"
        ))
    })?;
    if n_hidden > MAX_HIDDEN_LAYERS {
        return Err(ModelFileError::BadSpec(format!(
            "at most {MAX_HIDDEN_LAYERS} hidden layers, got {n_hidden}"
        )));
    }
    let mut hidden = Vec::with_capacity(n_hidden);
    for l in 0..n_hidden {
        hidden.push(read_u32(bytes, FIXED_HEADER_LEN + 4 * l)? as usize);
    }
    let spec = MlpSpec {
        input: input as usize,
        hidden,
        output: output as usize,
        activation,
        time_features: time_features as usize,
        class_inputs: class_inputs as usize,
    };
    spec.validate().map_err(ModelFileError::BadSpec)?;
    // Validated dimensions are small, so this cannot overflow.
    let count = spec.param_count();
    let count_at = FIXED_HEADER_LEN + 4 * n_hidden;
    let header_count = read_u32(bytes, count_at)? as usize;
    if header_count != count {
        return Err(ModelFileError::ParamCountMismatch {
            header: header_count,
            spec: count,
        });
    }
    let params_at = count_at + 4;
    let crc_at = params_at + 4 * count;
    let total = crc_at + 4;
    if got < total {
        return Err(ModelFileError::TooShort { needed: total, got });
    }
    if got > total {
        return Err(ModelFileError::TrailingBytes(got - total));
    }
    let stored = read_u32(bytes, crc_at)?;
    let computed = crc32fast::hash(&bytes[..crc_at]);
    if stored != computed {
        return Err(ModelFileError::Checksum { stored, computed });
    }
    let mut params = Vec::with_capacity(count);
    for (i, b) in bytes[params_at..crc_at].chunks_exact(4).enumerate() {
        let p = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if !p.is_finite() {
            return Err(ModelFileError::NonFinite(i));
        }
        params.push(p);
    }
    Ok((spec, params))
}
