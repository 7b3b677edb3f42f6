//! X-Wing (draft-connolly-cfrg-xwing-kem, the MLKEM768-X25519 KEM of draft-ietf-hpke-pq), composed over
//! `ml-kem`, `x25519-dalek` and `sha3`.

use super::*;

type DecapsulationKey = <MlKem768 as KemCore>::DecapsulationKey;
type EncapsulationKey = <MlKem768 as KemCore>::EncapsulationKey;

/// The combiner's label, the six bytes `\.//^\`.
const LABEL: &[u8] = br"\.//^\";

pub(super) struct Expanded {
    pub dk_m: DecapsulationKey,
    pub ek_m: EncapsulationKey,
    pub sk_x: StaticSecret,
    pub pk_x: PublicKey,
}

/// The seed expanded with SHAKE256 into ML-KEM-768's (d, z) and the X25519 secret key.
pub(super) fn expand(seed: &[u8; SEED_LEN]) -> Expanded {
    let mut xof = Shake256::default();
    xof.update(seed);
    let mut reader = xof.finalize_xof();
    let mut expanded = Zeroizing::new([0u8; 96]);
    reader.read(&mut expanded[..]);
    let mut d = Zeroizing::new([0u8; 32]);
    let mut z = Zeroizing::new([0u8; 32]);
    let mut x = Zeroizing::new([0u8; 32]);
    d.copy_from_slice(&expanded[..32]);
    z.copy_from_slice(&expanded[32..64]);
    x.copy_from_slice(&expanded[64..]);
    let (dk_m, ek_m) = MlKem768::generate_deterministic(&(*d).into(), &(*z).into());
    let sk_x = StaticSecret::from(*x);
    let pk_x = PublicKey::from(&sk_x);
    Expanded {
        dk_m,
        ek_m,
        sk_x,
        pk_x,
    }
}

/// The public key bytes: ML-KEM-768's encapsulation key, then X25519's.
pub(super) fn public(expanded: &Expanded) -> [u8; PUBLIC_LEN] {
    let mut out = [0u8; PUBLIC_LEN];
    out[..MLKEM_PUBLIC_LEN].copy_from_slice(&expanded.ek_m.as_bytes());
    out[MLKEM_PUBLIC_LEN..].copy_from_slice(expanded.pk_x.as_bytes());
    out
}

/// Splits and checks public key bytes: the ML-KEM part must pass FIPS 203's modulus check (it
/// re-encodes to the same bytes).
pub(super) fn parse_public(bytes: &[u8]) -> Option<(EncapsulationKey, PublicKey)> {
    if bytes.len() != PUBLIC_LEN {
        return None;
    }
    let encoded = ml_kem::Encoded::<EncapsulationKey>::try_from(&bytes[..MLKEM_PUBLIC_LEN]).ok()?;
    let ek_m = EncapsulationKey::from_bytes(&encoded);
    if ek_m.as_bytes() != encoded {
        return None;
    }
    let x: [u8; 32] = bytes[MLKEM_PUBLIC_LEN..].try_into().ok()?;
    Some((ek_m, PublicKey::from(x)))
}

fn combine(ss_m: &[u8], ss_x: &[u8], ct_x: &[u8], pk_x: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut hash = Sha3_256::new();
    Digest::update(&mut hash, ss_m);
    Digest::update(&mut hash, ss_x);
    Digest::update(&mut hash, ct_x);
    Digest::update(&mut hash, pk_x);
    Digest::update(&mut hash, LABEL);
    Zeroizing::new(hash.finalize().into())
}

/// Encapsulation with the given 64 bytes of randomness (ML-KEM's message, then the ephemeral X25519
/// secret key): the encapsulated key and the shared secret. None when the recipient's X25519 key
/// gives an all-zero shared secret (a low-order point).
pub(super) fn encapsulate_with(
    ek_m: &EncapsulationKey,
    pk_x: &PublicKey,
    randomness: &[u8; 64],
) -> Option<([u8; ENC_LEN], Zeroizing<[u8; 32]>)> {
    let m: [u8; 32] = randomness[..32].try_into().ok()?;
    let (ct_m, ss_m) = ek_m.encapsulate_deterministic(&m.into()).ok()?;
    let e: [u8; 32] = randomness[32..].try_into().ok()?;
    let ek_x = StaticSecret::from(e);
    let ct_x = PublicKey::from(&ek_x);
    let ss_x = ek_x.diffie_hellman(pk_x);
    if !ss_x.was_contributory() {
        return None;
    }
    let mut enc = [0u8; ENC_LEN];
    enc[..MLKEM_CIPHERTEXT_LEN].copy_from_slice(&ct_m);
    enc[MLKEM_CIPHERTEXT_LEN..].copy_from_slice(ct_x.as_bytes());
    let ss = combine(&ss_m, ss_x.as_bytes(), ct_x.as_bytes(), pk_x.as_bytes());
    Some((enc, ss))
}

/// Decapsulation; None when the X25519 share is low order (the all-zero shared secret, refused).
pub(super) fn decapsulate(expanded: &Expanded, enc: &[u8; ENC_LEN]) -> Option<Zeroizing<[u8; 32]>> {
    let ct_m = ml_kem::Ciphertext::<MlKem768>::try_from(&enc[..MLKEM_CIPHERTEXT_LEN]).ok()?;
    let ct_x: [u8; 32] = enc[MLKEM_CIPHERTEXT_LEN..].try_into().ok()?;
    let ss_x = expanded.sk_x.diffie_hellman(&PublicKey::from(ct_x));
    if !ss_x.was_contributory() {
        return None;
    }
    let ss_m = expanded.dk_m.decapsulate(&ct_m).ok()?;
    Some(combine(
        &ss_m,
        ss_x.as_bytes(),
        &ct_x,
        expanded.pk_x.as_bytes(),
    ))
}
