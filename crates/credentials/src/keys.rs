//! Ed25519 keys in the Multikey encoding (multibase base58btc with a multicodec prefix).

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::Error;

/// Multicodec `ed25519-pub` (0xed) as an unsigned varint.
const PUBLIC_PREFIX: [u8; 2] = [0xed, 0x01];
/// Multicodec `ed25519-priv` (0x1300) as an unsigned varint.
const PRIVATE_PREFIX: [u8; 2] = [0x80, 0x26];

/// An Ed25519 signing key. `Debug` shows only the public key.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl Keypair {
    /// The key whose 32-byte secret seed is `seed` (RFC 8032).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// Reads a `privateKeyMultibase`: `z` + base58btc(0x80 0x26 ‖ seed).
    pub fn from_private_key_multibase(s: &str) -> Result<Self, Error> {
        decode(s, PRIVATE_PREFIX).map(Self::from_seed)
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// `z` + base58btc(0xed 0x01 ‖ public key), as in a Multikey verification method.
    pub fn public_key_multibase(&self) -> String {
        encode(PUBLIC_PREFIX, self.verifying_key().as_bytes())
    }

    /// `z` + base58btc(0x80 0x26 ‖ seed). This is the secret: store it like a password.
    pub fn private_key_multibase(&self) -> String {
        encode(PRIVATE_PREFIX, self.signing.as_bytes())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypair")
            .field("public_key_multibase", &self.public_key_multibase())
            .finish_non_exhaustive()
    }
}

/// Reads a `publicKeyMultibase`: `z` + base58btc(0xed 0x01 ‖ 32-byte key).
pub fn public_key_from_multibase(s: &str) -> Result<VerifyingKey, Error> {
    let bytes = decode(s, PUBLIC_PREFIX)?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::InvalidKey(s.to_owned(), "not a point on the curve".into()))
}

fn encode(prefix: [u8; 2], key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&prefix);
    bytes.extend_from_slice(key);
    format!("z{}", bs58::encode(bytes).into_string())
}

fn decode(s: &str, prefix: [u8; 2]) -> Result<[u8; 32], Error> {
    let invalid = |why: &str| Error::InvalidKey(s.to_owned(), why.to_owned());
    let base58 = s
        .strip_prefix('z')
        .ok_or_else(|| invalid("it must start with `z` (multibase base58btc)"))?;
    let bytes = bs58::decode(base58)
        .into_vec()
        .map_err(|_| invalid("it is not base58btc"))?;
    let key = bytes
        .strip_prefix(&prefix)
        .ok_or_else(|| invalid("it has the wrong multicodec prefix for this kind of key"))?;
    key.try_into()
        .map_err(|_| invalid("the key is not 32 bytes long"))
}
