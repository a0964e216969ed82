//! W3C Bitstring Status List v1.0: one bit per credential, index 0 the most significant bit of
//! the first byte; `encodedList` is GZIP, then multibase base64url without padding (`u…`).

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::{Compression, read::GzDecoder, write::GzEncoder};

use crate::Error;

/// The spec's minimum list length (16 KiB of bits), which hides any one holder among many.
pub const MIN_STATUS_LIST_BITS: usize = 131_072;
/// Refuse to inflate more than this (1 Gibit): a small GZIP can expand without bound.
const MAX_STATUS_LIST_BYTES: usize = 128 * 1024 * 1024;

/// A status list of `len_bits()` entries, all `false` (not revoked / not suspended) at first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `bits` entries; at least [`MIN_STATUS_LIST_BITS`], and a multiple of 8 so the
    /// encoded list has exactly that many.
    pub fn new(bits: usize) -> Result<Self, Error> {
        check_len(bits)?;
        Ok(Self {
            bytes: vec![0; bits / 8],
        })
    }

    pub fn len_bits(&self) -> usize {
        self.bytes.len() * 8
    }

    pub fn get(&self, index: usize) -> Result<bool, Error> {
        let (byte, mask) = self.position(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    pub fn set(&mut self, index: usize, value: bool) -> Result<(), Error> {
        let (byte, mask) = self.position(index)?;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(())
    }

    /// The `encodedList` value: `u` + base64url-no-pad(GZIP(bits)).
    pub fn encode(&self) -> String {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
        gzip.write_all(&self.bytes)
            .expect("writing to a Vec cannot fail");
        let compressed = gzip.finish().expect("writing to a Vec cannot fail");
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Reads an `encodedList`.
    pub fn decode(encoded: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidStatusList(why.to_owned());
        let base64 = encoded
            .strip_prefix('u')
            .ok_or_else(|| invalid("encodedList must start with `u` (multibase base64url)"))?;
        let compressed = URL_SAFE_NO_PAD
            .decode(base64)
            .map_err(|_| invalid("encodedList is not base64url without padding"))?;
        let mut bytes = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_STATUS_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| invalid("encodedList is not GZIP-compressed"))?;
        if bytes.len() > MAX_STATUS_LIST_BYTES {
            return Err(invalid("the list is larger than Accredit accepts"));
        }
        check_len(bytes.len() * 8)?;
        Ok(Self { bytes })
    }

    fn position(&self, index: usize) -> Result<(usize, u8), Error> {
        if index >= self.len_bits() {
            return Err(Error::StatusIndexOutOfRange {
                index,
                len: self.len_bits(),
            });
        }
        Ok((index / 8, 0x80 >> (index % 8)))
    }
}

fn check_len(bits: usize) -> Result<(), Error> {
    if bits < MIN_STATUS_LIST_BITS {
        return Err(Error::InvalidStatusList(format!(
            "{bits} entries is fewer than the minimum of {MIN_STATUS_LIST_BITS}, which keeps holders from being singled out"
        )));
    }
    if !bits.is_multiple_of(8) {
        return Err(Error::InvalidStatusList(format!(
            "{bits} entries is not a multiple of 8"
        )));
    }
    Ok(())
}
