//! How bulk results cross a thread boundary (the page and its compute worker):
//! `f32` arrays as little-endian bytes, which serde-wasm-bindgen passes as one
//! `Uint8Array` copy instead of a JS array of boxed numbers, and which keep
//! NaN (a diverged run must still look diverged on the other side).

use serde::de::{Error, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `f32`s as little-endian bytes.
fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<f32>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("little-endian f32 bytes")
    }

    fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Vec<f32>, E> {
        if !b.len().is_multiple_of(4) {
            return Err(E::invalid_length(b.len(), &self));
        }
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn visit_byte_buf<E: Error>(self, b: Vec<u8>) -> Result<Vec<f32>, E> {
        self.visit_bytes(&b)
    }

    // Formats without a bytes type (JSON) write them as a sequence.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<f32>, A::Error> {
        self.visit_byte_buf(byte_seq(seq)?)
    }
}

fn byte_seq<'de, A: serde::de::SeqAccess<'de>>(mut seq: A) -> Result<Vec<u8>, A::Error> {
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(b) = seq.next_element::<u8>()? {
        out.push(b);
    }
    Ok(out)
}

/// `#[serde(with = "wire::f32s")]` for a `Vec<f32>` field.
pub mod f32s {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&to_bytes(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

/// `#[serde(with = "wire::pairs")]` for a `Vec<(f32, f32)>` field (curves).
pub mod pairs {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[(f32, f32)], s: S) -> Result<S::Ok, S::Error> {
        let flat: Vec<f32> = v.iter().flat_map(|&(a, b)| [a, b]).collect();
        s.serialize_bytes(&to_bytes(&flat))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f32, f32)>, D::Error> {
        let flat = d.deserialize_byte_buf(BytesVisitor)?;
        if !flat.len().is_multiple_of(2) {
            return Err(D::Error::custom("an odd number of coordinates"));
        }
        Ok(flat.chunks_exact(2).map(|c| (c[0], c[1])).collect())
    }
}

/// `#[serde(with = "wire::points")]` for a `Vec<[f32; 2]>` field.
pub mod points {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[[f32; 2]], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&to_bytes(v.as_flattened()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f32; 2]>, D::Error> {
        Points::deserialize(d).map(|p| p.0)
    }
}

/// 2D points, `[x, y]` each, as bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points(pub Vec<[f32; 2]>);

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&to_bytes(self.0.as_flattened()))
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let flat = d.deserialize_byte_buf(BytesVisitor)?;
        if !flat.len().is_multiple_of(2) {
            return Err(D::Error::custom("an odd number of coordinates"));
        }
        Ok(Points(flat.chunks_exact(2).map(|c| [c[0], c[1]]).collect()))
    }
}

/// Raw bytes (a model file), as one `Uint8Array`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Vec<u8>, E> {
                Ok(b.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, b: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(b)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<u8>, A::Error> {
                byte_seq(seq)
            }
        }
        d.deserialize_byte_buf(V).map(Bytes)
    }
}
