//! RFC 9180's key schedule for base mode, over HKDF-SHA256: the AEAD key and base nonce.

use super::*;
use hkdf::Hkdf;
use sha2::Sha256;

const KDF_HKDF_SHA256: u16 = 0x0001;
const AEAD_CHACHA20POLY1305: u16 = 0x0003;

fn suite_id(kem_id: u16) -> [u8; 10] {
    let mut id = *b"HPKE\0\0\0\0\0\0";
    id[4..6].copy_from_slice(&kem_id.to_be_bytes());
    id[6..8].copy_from_slice(&KDF_HKDF_SHA256.to_be_bytes());
    id[8..10].copy_from_slice(&AEAD_CHACHA20POLY1305.to_be_bytes());
    id
}

/// LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm).
fn labeled_extract(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> Hkdf<Sha256> {
    let mut labeled = Zeroizing::new(Vec::with_capacity(
        7 + suite.len() + label.len() + ikm.len(),
    ));
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(suite);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(ikm);
    Hkdf::<Sha256>::new(Some(salt), &labeled)
}

/// The PRK of LabeledExtract, as bytes (for the key schedule context).
fn labeled_extract_bytes(suite: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> [u8; 32] {
    let mut labeled = Vec::with_capacity(7 + suite.len() + label.len() + ikm.len());
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(suite);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(ikm);
    Hkdf::<Sha256>::extract(Some(salt), &labeled).0.into()
}

/// LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id ||
/// label || info, L).
fn labeled_expand<const L: usize>(
    prk: &Hkdf<Sha256>,
    suite: &[u8],
    label: &[u8],
    info: &[u8],
) -> [u8; L] {
    let length = u16::try_from(L).expect("HPKE output lengths fit in two bytes");
    let mut labeled = Vec::with_capacity(2 + 7 + suite.len() + label.len() + info.len());
    labeled.extend_from_slice(&length.to_be_bytes());
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(suite);
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(info);
    let mut out = [0u8; L];
    prk.expand(&labeled, &mut out)
        .expect("32 and 12 bytes are within HKDF-SHA256's limit");
    out
}

/// KeySchedule(mode_base, shared_secret, info, "", ""): (key, base_nonce).
pub(super) fn key_schedule(
    kem_id: u16,
    shared_secret: &[u8],
    info: &[u8],
) -> (Zeroizing<[u8; 32]>, [u8; 12]) {
    let suite = suite_id(kem_id);
    let psk_id_hash = labeled_extract_bytes(&suite, b"", b"psk_id_hash", b"");
    let info_hash = labeled_extract_bytes(&suite, b"", b"info_hash", info);
    let mut context = Vec::with_capacity(1 + 32 + 32);
    context.push(0x00); // mode_base
    context.extend_from_slice(&psk_id_hash);
    context.extend_from_slice(&info_hash);
    // secret = LabeledExtract(shared_secret, "secret", psk): the shared secret is the salt.
    let secret = labeled_extract(&suite, shared_secret, b"secret", b"");
    let key = Zeroizing::new(labeled_expand::<32>(&secret, &suite, b"key", &context));
    let nonce = labeled_expand::<12>(&secret, &suite, b"base_nonce", &context);
    (key, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap()
    }

    /// RFC 9180, appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode.
    #[test]
    fn key_schedule_matches_rfc_9180_a_2_1() {
        let shared = hex("0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7");
        let info = hex("4f6465206f6e2061204772656369616e2055726e");
        let (key, nonce) = key_schedule(0x0020, &shared, &info);
        assert_eq!(
            key.to_vec(),
            hex("ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91")
        );
        assert_eq!(nonce.to_vec(), hex("5c4d98150661b848853b547f"));
        // The first encryption of the same vector (sequence number 0: the base nonce itself).
        let cipher = ChaCha20Poly1305::new((&*key).into());
        let ct = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: &hex("4265617574792069732074727574682c20747275746820626561757479"),
                    aad: &hex("436f756e742d30"),
                },
            )
            .unwrap();
        assert_eq!(
            ct,
            hex(
                "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28"
            )
        );
    }
}
