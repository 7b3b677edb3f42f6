//! The key derivations and ciphers of encrypted exports, all from RustCrypto crates, with the cost of
//! every key derivation checked against a cap before any work is done: a hostile file cannot make
//! teamotp allocate gigabytes or spin for hours. The products' own defaults are far below the caps.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use zeroize::Zeroizing;

/// Argon2: at most 1 GiB of memory, 16 lanes, and the work of 10 passes over 1 GiB (memory × passes;
/// products trade one for the other: Ente halves the memory and doubles the passes on small phones),
/// with no more than 64 passes whatever the memory.
pub const ARGON2_MAX_KIB: u32 = 1024 * 1024;
pub const ARGON2_MAX_WORK_KIB: u64 = 10 * 1024 * 1024;
pub const ARGON2_MAX_PASSES: u32 = 64;
pub const ARGON2_MAX_LANES: u32 = 16;
/// PBKDF2: at most 10,000,000 iterations.
pub const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;
/// scrypt: at most N = 2^20, r = 32, p = 16.
pub const SCRYPT_MAX_LOG_N: u8 = 20;
pub const SCRYPT_MAX_R: u32 = 32;
pub const SCRYPT_MAX_P: u32 = 16;

/// A key derivation a file asks for, checked with [`Kdf::check`] before [`Kdf::derive`] runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    Pbkdf2Sha1 {
        iterations: u32,
    },
    Pbkdf2Sha256 {
        iterations: u32,
    },
    /// PBKDF2-HMAC-SHA512 with a 64-byte output ([`Kdf::derive_64`]).
    Pbkdf2Sha512 {
        iterations: u32,
    },
    /// Argon2id, memory in KiB.
    Argon2id {
        kib: u32,
        passes: u32,
        lanes: u32,
    },
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
    },
}

impl Kdf {
    /// Refuses parameters above the caps (or that no implementation accepts), naming the parameter.
    pub fn check(self) -> Result<(), String> {
        let too = |what: String| Err(format!("{what}; teamotp refuses it before doing any work"));
        match self {
            Kdf::Pbkdf2Sha1 { iterations }
            | Kdf::Pbkdf2Sha256 { iterations }
            | Kdf::Pbkdf2Sha512 { iterations } => {
                if iterations == 0 {
                    return Err("the file asks for PBKDF2 with 0 iterations".into());
                }
                if iterations > PBKDF2_MAX_ITERATIONS {
                    return too(format!(
                        "the file asks for PBKDF2 with {iterations} iterations, above the cap of \
                         {PBKDF2_MAX_ITERATIONS}"
                    ));
                }
            }
            Kdf::Argon2id { kib, passes, lanes } => {
                if kib > ARGON2_MAX_KIB {
                    return too(format!(
                        "the file asks for Argon2 with {} MiB of memory, above the cap of 1024 MiB",
                        kib / 1024
                    ));
                }
                if passes > ARGON2_MAX_PASSES {
                    return too(format!(
                        "the file asks for Argon2 with {passes} passes, above the cap of \
                         {ARGON2_MAX_PASSES}"
                    ));
                }
                if u64::from(kib) * u64::from(passes) > ARGON2_MAX_WORK_KIB {
                    return too(format!(
                        "the file asks for Argon2 with {} MiB and {passes} passes, above the cap of \
                         10 passes over 1024 MiB",
                        kib / 1024
                    ));
                }
                if lanes > ARGON2_MAX_LANES {
                    return too(format!(
                        "the file asks for Argon2 with {lanes} lanes, above the cap of \
                         {ARGON2_MAX_LANES}"
                    ));
                }
                argon2::Params::new(kib, passes, lanes, Some(32))
                    .map_err(|e| format!("the file's Argon2 parameters are invalid ({e})"))?;
            }
            Kdf::Scrypt { log_n, r, p } => {
                if log_n > SCRYPT_MAX_LOG_N {
                    return too(format!(
                        "the file asks for scrypt with N = 2^{log_n}, above the cap of \
                         2^{SCRYPT_MAX_LOG_N}"
                    ));
                }
                if r > SCRYPT_MAX_R || p > SCRYPT_MAX_P {
                    return too(format!(
                        "the file asks for scrypt with r = {r}, p = {p}, above the caps of \
                         r = {SCRYPT_MAX_R}, p = {SCRYPT_MAX_P}"
                    ));
                }
                scrypt::Params::new(log_n, r, p, 32)
                    .map_err(|e| format!("the file's scrypt parameters are invalid ({e})"))?;
            }
        }
        Ok(())
    }

    /// Derives a 32-byte key, after [`Kdf::check`].
    pub fn derive(self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, String> {
        self.check()?;
        let mut key = Zeroizing::new([0u8; 32]);
        match self {
            Kdf::Pbkdf2Sha1 { iterations } => {
                pbkdf2::pbkdf2_hmac::<sha1_010::Sha1>(password, salt, iterations, &mut *key);
            }
            Kdf::Pbkdf2Sha256 { iterations } => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut *key);
            }
            Kdf::Pbkdf2Sha512 { .. } => {
                let long = self.derive_64(password, salt)?;
                key.copy_from_slice(&long[..32]);
            }
            Kdf::Argon2id { kib, passes, lanes } => {
                let params = argon2::Params::new(kib, passes, lanes, Some(32))
                    .map_err(|e| format!("the file's Argon2 parameters are invalid ({e})"))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(password, salt, &mut *key)
                    .map_err(|e| format!("Argon2 failed ({e})"))?;
            }
            Kdf::Scrypt { log_n, r, p } => {
                let params = scrypt::Params::new(log_n, r, p, 32)
                    .map_err(|e| format!("the file's scrypt parameters are invalid ({e})"))?;
                scrypt::scrypt(password, salt, &params, &mut *key)
                    .map_err(|e| format!("scrypt failed ({e})"))?;
            }
        }
        Ok(key)
    }
}

impl Kdf {
    /// Derives a 64-byte key (two 32-byte keys) with PBKDF2-HMAC-SHA512, after [`Kdf::check`].
    pub fn derive_64(self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 64]>, String> {
        self.check()?;
        let Kdf::Pbkdf2Sha512 { iterations } = self else {
            return Err("a 64-byte key is derived only with PBKDF2-HMAC-SHA512".into());
        };
        let mut key = Zeroizing::new([0u8; 64]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut *key);
        Ok(key)
    }
}

/// AES-256-GCM: `ciphertext` ends with the 16-byte tag. `None` when the tag does not verify (a wrong
/// key or a damaged file).
pub fn aes_gcm(key: &[u8; 32], nonce: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    aes_gcm_aad(key, nonce, ciphertext, b"")
}

/// [`aes_gcm`] with associated data.
pub fn aes_gcm_aad(
    key: &[u8; 32],
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if nonce.len() != 12 || ciphertext.len() < 16 {
        return None;
    }
    let cipher = aes_gcm::Aes256Gcm::new(key.into());
    cipher
        .decrypt(
            aes_gcm::Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

/// AES-256-CBC with PKCS#7 padding. `None` when the padding is wrong.
pub fn aes_cbc(key: &[u8; 32], iv: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if iv.len() != 16 || ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).ok()?;
    let len = decryptor
        .decrypt_padded_mut::<Pkcs7>(&mut buffer)
        .ok()?
        .len();
    buffer.truncate(len);
    Some(buffer)
}

/// Decodes Base64 (standard alphabet, padding optional, `\/` already unescaped by the JSON reader).
pub fn base64(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let text = text.trim();
    let encoding = if text.ends_with('=') || text.len().is_multiple_of(4) {
        &data_encoding::BASE64
    } else {
        &data_encoding::BASE64_NOPAD
    };
    encoding
        .decode(text.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| "a Base64 field of the file is malformed (is the file cut off?)".to_string())
}

/// Decodes hexadecimal (Aegis writes salts, nonces and keys that way).
pub fn hex(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.trim().as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| "a hexadecimal field of the file is malformed".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_refuse_before_any_work() {
        let argon = Kdf::Argon2id {
            kib: 2 * 1024 * 1024,
            passes: 3,
            lanes: 4,
        };
        assert!(argon.check().unwrap_err().contains("2048 MiB"));
        let passes = Kdf::Argon2id {
            kib: 65536,
            passes: 65,
            lanes: 4,
        };
        assert!(passes.check().unwrap_err().contains("65 passes"));
        let work = Kdf::Argon2id {
            kib: ARGON2_MAX_KIB,
            passes: 11,
            lanes: 4,
        };
        assert!(
            work.check()
                .unwrap_err()
                .contains("1024 MiB and 11 passes, above the cap of 10 passes over 1024 MiB")
        );
        // Ente on a small phone: 256 MiB, 16 passes (the work of 4 passes over 1 GiB).
        let traded = Kdf::Argon2id {
            kib: 256 * 1024,
            passes: 16,
            lanes: 1,
        };
        assert!(traded.check().is_ok());
        let pbkdf2 = Kdf::Pbkdf2Sha256 {
            iterations: 10_000_001,
        };
        assert!(
            pbkdf2
                .derive(b"pw", b"salt")
                .unwrap_err()
                .contains("10000001")
        );
        let scrypt = Kdf::Scrypt {
            log_n: 21,
            r: 8,
            p: 1,
        };
        assert!(scrypt.check().unwrap_err().contains("2^21"));
        assert!(
            Kdf::Argon2id {
                kib: ARGON2_MAX_KIB,
                passes: 10,
                lanes: ARGON2_MAX_LANES
            }
            .check()
            .is_ok()
        );
    }

    #[test]
    fn pbkdf2_sha256_matches_rfc_7914_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), first 32 bytes.
        let key = Kdf::Pbkdf2Sha256 { iterations: 1 }
            .derive(b"passwd", b"salt")
            .unwrap();
        assert_eq!(
            data_encoding::HEXLOWER.encode(&key[..]),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }
}
