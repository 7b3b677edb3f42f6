//! Files encrypted with `openssl enc`, the way gauth did it: `Salted__`, an 8-byte salt, then AES-CBC with
//! PKCS#7 padding. gauth used `-aes-128-cbc -md sha256` (key and IV from EVP_BytesToKey with one SHA-256);
//! OpenSSL 3 users add `-pbkdf2` (PBKDF2-HMAC-SHA256, 10,000 iterations) or `-aes-256-cbc`, and old
//! OpenSSL defaulted to MD5. Every variant is tried; the padding check and a UTF-8 check reject a wrong
//! password, so garbage rows are never produced.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::Md5;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const MAGIC: &[u8] = b"Salted__";
/// `openssl enc -a` output: base64 of `Salted__`.
const MAGIC_BASE64: &[u8] = b"U2FsdGVkX1";
const PBKDF2_ROUNDS: u32 = 10_000;

/// True for `openssl enc` output, binary or base64.
pub fn is_openssl(bytes: &[u8]) -> bool {
    let start = bytes.trim_ascii_start();
    start.starts_with(MAGIC) || start.starts_with(MAGIC_BASE64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    Aes128,
    Aes256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kdf {
    Sha256,
    Pbkdf2,
    Md5,
}

/// The variants tried, gauth's own first.
const VARIANTS: [(Cipher, Kdf); 6] = [
    (Cipher::Aes128, Kdf::Sha256),
    (Cipher::Aes128, Kdf::Pbkdf2),
    (Cipher::Aes256, Kdf::Sha256),
    (Cipher::Aes256, Kdf::Pbkdf2),
    (Cipher::Aes128, Kdf::Md5),
    (Cipher::Aes256, Kdf::Md5),
];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "the file is too short or not a whole number of AES blocks: it is damaged or not from 'openssl enc'"
    )]
    Damaged,
    #[error("the password is wrong (or the file was not made by 'openssl enc' with AES-CBC)")]
    WrongPassword,
}

/// Decrypts `openssl enc` output with `password`, trying every variant gauth users have.
pub fn decrypt(bytes: &[u8], password: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let binary;
    let bytes = if bytes.trim_ascii_start().starts_with(MAGIC_BASE64) {
        let text: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        binary = data_encoding::BASE64
            .decode(&text)
            .map_err(|_| Error::Damaged)?;
        &binary[..]
    } else {
        bytes.trim_ascii_start()
    };
    if bytes.len() < 32 || !bytes.starts_with(MAGIC) || (bytes.len() - 16) % 16 != 0 {
        return Err(Error::Damaged);
    }
    let salt = &bytes[8..16];
    let ciphertext = &bytes[16..];
    for (cipher, kdf) in VARIANTS {
        let key_len = match cipher {
            Cipher::Aes128 => 16,
            Cipher::Aes256 => 32,
        };
        let material = derive(kdf, password, salt, key_len + 16);
        let (key, iv) = material.split_at(key_len);
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain = match cipher {
            Cipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .ok()
                .and_then(|d| {
                    d.decrypt_padded_mut::<Pkcs7>(&mut buffer)
                        .ok()
                        .map(|p| p.len())
                }),
            Cipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .ok()
                .and_then(|d| {
                    d.decrypt_padded_mut::<Pkcs7>(&mut buffer)
                        .ok()
                        .map(|p| p.len())
                }),
        };
        if let Some(len) = plain {
            buffer.truncate(len);
            if std::str::from_utf8(&buffer).is_ok() {
                return Ok(buffer);
            }
        }
    }
    Err(Error::WrongPassword)
}

/// Key and IV material: EVP_BytesToKey with one round of the digest, or PBKDF2-HMAC-SHA256.
fn derive(kdf: Kdf, password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 32));
    match kdf {
        Kdf::Pbkdf2 => {
            out.resize(len, 0);
            pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, PBKDF2_ROUNDS, &mut out);
        }
        Kdf::Sha256 => evp_bytes_to_key::<Sha256>(password, salt, len, &mut out),
        Kdf::Md5 => evp_bytes_to_key::<Md5>(password, salt, len, &mut out),
    }
    out
}

fn evp_bytes_to_key<D: Digest>(password: &[u8], salt: &[u8], len: usize, out: &mut Vec<u8>) {
    let mut previous: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut digest = D::new();
        digest.update(&previous);
        digest.update(password);
        digest.update(salt);
        previous = digest.finalize().to_vec();
        out.extend_from_slice(&previous);
    }
    out.truncate(len);
    zeroize::Zeroize::zeroize(&mut previous);
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockEncryptMut;

    fn encrypt(plain: &[u8], password: &[u8], cipher: Cipher, kdf: Kdf) -> Vec<u8> {
        let salt = *b"12345678";
        let key_len = if cipher == Cipher::Aes128 { 16 } else { 32 };
        let material = derive(kdf, password, &salt, key_len + 16);
        let (key, iv) = material.split_at(key_len);
        let body = match cipher {
            Cipher::Aes128 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .unwrap()
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
            Cipher::Aes256 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .unwrap()
                .encrypt_padded_vec_mut::<Pkcs7>(plain),
        };
        [MAGIC, &salt, &body].concat()
    }

    #[test]
    fn every_variant_round_trips() {
        for (cipher, kdf) in VARIANTS {
            let file = encrypt(b"AWS:JBSWY3DPEHPK3PXP\n", b"pw", cipher, kdf);
            assert!(is_openssl(&file));
            assert_eq!(
                &decrypt(&file, b"pw").unwrap()[..],
                b"AWS:JBSWY3DPEHPK3PXP\n",
                "{cipher:?} {kdf:?}"
            );
        }
    }

    #[test]
    fn wrong_password_and_damage_are_errors() {
        let file = encrypt(
            b"AWS:JBSWY3DPEHPK3PXP\n",
            b"pw",
            Cipher::Aes128,
            Kdf::Sha256,
        );
        assert_eq!(decrypt(&file, b"nope"), Err(Error::WrongPassword));
        assert_eq!(decrypt(&file[..file.len() - 3], b"pw"), Err(Error::Damaged));
        assert_eq!(decrypt(b"Salted__", b"pw"), Err(Error::Damaged));
    }

    #[test]
    fn base64_output_of_openssl_enc_a() {
        let file = encrypt(b"x:JBSWY3DPEHPK3PXP\n", b"pw", Cipher::Aes256, Kdf::Pbkdf2);
        let text = data_encoding::BASE64.encode(&file);
        let wrapped: String = text
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(
            &decrypt(wrapped.as_bytes(), b"pw").unwrap()[..],
            b"x:JBSWY3DPEHPK3PXP\n"
        );
    }
}
