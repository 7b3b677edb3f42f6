//! The post-quantum hybrid age recipient type (C2SP age specification, "The MLKEM768-X25519 hybrid
//! post-quantum recipient type"): identities `AGE-SECRET-KEY-PQ-1...` (a 32-byte seed), recipients
//! `age1pq1...` (1216 bytes), and the `mlkem768x25519` stanza.
//!
//! The stanza is HPKE base mode (RFC 9180) with the KEM MLKEM768-X25519 of draft-ietf-hpke-pq (X-Wing),
//! KDF HKDF-SHA256, AEAD ChaCha20Poly1305, info `age-encryption.org/mlkem768x25519` and an empty aad.
//!
//! Why it is composed here rather than taken from `x-wing` or `hpke` 0.15: both need the `kem` 0.3.0
//! release, while the age crate 0.12 pins `ml-kem` 0.2 to `kem` =0.3.0-pre.0, and Cargo cannot hold two
//! versions of `kem` 0.3 in one build. So X-Wing is put together from the very crates age itself uses
//! (`ml-kem` 0.2 for ML-KEM-768, `x25519-dalek` 2 for X25519, `sha3` 0.10 for SHAKE256 and SHA3-256), as
//! the X-Wing draft defines it, and rejects an all-zero X25519 shared secret (a low-order share), which
//! age requires. The HPKE key schedule is the RFC's LabeledExtract/LabeledExpand over `hkdf`, and the
//! AEAD is `chacha20poly1305`. The unit tests check the key schedule against RFC 9180's own vector and
//! the whole stanza against the CCTV age vectors.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use age::secrecy::SecretString;
use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use data_encoding::BASE64_NOPAD;
use ml_kem::kem::Decapsulate;
use ml_kem::{EncapsulateDeterministic, EncodedSizeUser, KemCore, MlKem768};
use rand_core::{OsRng, RngCore};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest, Sha3_256, Shake256};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

/// The stanza's first argument.
pub const STANZA_TAG: &str = "mlkem768x25519";
/// The label age sets on a post-quantum recipient, so that a file never mixes it with classic ones.
pub const LABEL: &str = "postquantum";
const INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
const IDENTITY_HRP: &str = "age-secret-key-pq-";
const IDENTITY_PREFIX: &str = "AGE-SECRET-KEY-PQ-1";
const RECIPIENT_HRP: &str = "age1pq";
const RECIPIENT_PREFIX: &str = "age1pq1";

/// Sizes fixed by the specification.
pub const SEED_LEN: usize = 32;
pub const PUBLIC_LEN: usize = 1216;
pub const ENC_LEN: usize = 1120;
pub const BODY_LEN: usize = 32;
const MLKEM_PUBLIC_LEN: usize = 1184;
const MLKEM_CIPHERTEXT_LEN: usize = 1088;
const FILE_KEY_LEN: usize = 16;

/// MLKEM768-X25519's HPKE KEM identifier (draft-ietf-hpke-pq).
const KEM_ID: u16 = 0x647a;

mod xwing;

mod hpke;

/// A post-quantum hybrid identity: the 32-byte seed (wiped on drop).
#[derive(Clone)]
pub struct Identity {
    seed: Zeroizing<[u8; SEED_LEN]>,
}

/// A post-quantum hybrid recipient: ML-KEM-768's encapsulation key and an X25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient {
    bytes: Box<[u8; PUBLIC_LEN]>,
}

/// Why a key string was refused. Never holds the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("it does not start with '{0}'")]
    Prefix(&'static str),
    #[error("it is not valid Bech32 (a character is mistyped or missing)")]
    Bech32,
    #[error("it holds {got} bytes, not {want}")]
    Length { got: usize, want: usize },
    #[error("its ML-KEM-768 public key is not canonical")]
    Key,
}

fn decode_bech32(s: &str, hrp: &str) -> Result<Zeroizing<Vec<u8>>, ParseError> {
    age_core::primitives::bech32_decode(
        s,
        |_| ParseError::Bech32,
        |parsed| {
            (parsed.to_lowercase() == hrp)
                .then_some(())
                .ok_or(ParseError::Bech32)
        },
        |_, bytes| Ok(Zeroizing::new(bytes.collect::<Vec<u8>>())),
    )
}

impl Identity {
    /// A new identity from the operating system's random number generator.
    pub fn generate() -> Identity {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        OsRng.fill_bytes(&mut seed[..]);
        Identity { seed }
    }

    /// The identity from its seed.
    pub fn from_seed(seed: [u8; SEED_LEN]) -> Identity {
        Identity {
            seed: Zeroizing::new(seed),
        }
    }

    /// The recipient (public key) that encrypts to this identity.
    pub fn to_public(&self) -> Recipient {
        let expanded = xwing::expand(&self.seed);
        Recipient {
            bytes: Box::new(xwing::public(&expanded)),
        }
    }

    /// The identity as written in an identity file: `AGE-SECRET-KEY-PQ-1...` (upper case).
    pub fn to_secret_string(&self) -> SecretString {
        let hrp = bech32::Hrp::parse_unchecked(IDENTITY_HRP);
        let lower = Zeroizing::new(age_core::primitives::bech32_encode(hrp, &self.seed[..]));
        SecretString::from(lower.to_uppercase())
    }

    /// The file key from one `mlkem768x25519` stanza, with the seed already expanded. None when the
    /// stanza is for another recipient type or another key; an error when it is malformed.
    fn unwrap_with(
        expanded: &xwing::Expanded,
        stanza: &Stanza,
    ) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let enc = match parse_stanza(stanza) {
            Ok(enc) => enc,
            Err(()) => return Some(Err(age::DecryptError::InvalidHeader)),
        };
        let Some(shared) = xwing::decapsulate(expanded, &enc) else {
            // A low-order X25519 share: the all-zero shared secret is refused, as the spec requires.
            return Some(Err(age::DecryptError::InvalidHeader));
        };
        let (key, nonce) = hpke::key_schedule(KEM_ID, &shared[..], INFO);
        let cipher = ChaCha20Poly1305::new((&*key).into());
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    (&nonce).into(),
                    Payload {
                        msg: &stanza.body,
                        aad: b"",
                    },
                )
                .ok()?,
        );
        let file_key: [u8; FILE_KEY_LEN] = plaintext[..].try_into().ok()?;
        Some(Ok(FileKey::new(Box::new(file_key))))
    }
}

/// Checks a `mlkem768x25519` stanza's shape: exactly one argument after the tag, the canonical base64
/// of 1120 bytes, and a 32-byte body (checked before any decryption, against partitioning oracles).
fn parse_stanza(stanza: &Stanza) -> Result<[u8; ENC_LEN], ()> {
    let [arg] = stanza.args.as_slice() else {
        return Err(());
    };
    if stanza.body.len() != BODY_LEN {
        return Err(());
    }
    // BASE64_NOPAD refuses padding and non-zero trailing bits (non-canonical encodings).
    let decoded = BASE64_NOPAD.decode(arg.as_bytes()).map_err(|_| ())?;
    decoded.try_into().map_err(|_| ())
}

impl FromStr for Identity {
    type Err = ParseError;

    /// Parses `AGE-SECRET-KEY-PQ-1...` (upper case, as age writes it).
    fn from_str(s: &str) -> Result<Identity, ParseError> {
        if !s.starts_with(IDENTITY_PREFIX) {
            return Err(ParseError::Prefix(IDENTITY_PREFIX));
        }
        let bytes = decode_bech32(s, IDENTITY_HRP)?;
        let seed: [u8; SEED_LEN] = bytes[..].try_into().map_err(|_| ParseError::Length {
            got: bytes.len(),
            want: SEED_LEN,
        })?;
        Ok(Identity::from_seed(seed))
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identity(..)")
    }
}

impl age::Identity for Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        Identity::unwrap_with(&xwing::expand(&self.seed), stanza)
    }

    /// Expands the seed once for the whole header.
    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        if !stanzas.iter().any(|s| s.tag == STANZA_TAG) {
            return None;
        }
        let expanded = xwing::expand(&self.seed);
        stanzas
            .iter()
            .find_map(|stanza| Identity::unwrap_with(&expanded, stanza))
    }
}

impl Recipient {
    /// The 1216 public key bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_LEN] {
        &self.bytes
    }

    /// The recipient from its 1216 bytes, checked (ML-KEM-768's modulus check).
    pub fn from_bytes(bytes: &[u8]) -> Result<Recipient, ParseError> {
        if bytes.len() != PUBLIC_LEN {
            return Err(ParseError::Length {
                got: bytes.len(),
                want: PUBLIC_LEN,
            });
        }
        xwing::parse_public(bytes).ok_or(ParseError::Key)?;
        let mut out = Box::new([0u8; PUBLIC_LEN]);
        out.copy_from_slice(bytes);
        Ok(Recipient { bytes: out })
    }

    /// The stanza for a file key, with the given 64 bytes of encapsulation randomness.
    fn wrap_with(&self, file_key: &FileKey, randomness: &[u8; 64]) -> Option<Stanza> {
        let (ek_m, pk_x) = xwing::parse_public(&self.bytes[..])?;
        let (enc, shared) = xwing::encapsulate_with(&ek_m, &pk_x, randomness)?;
        let (key, nonce) = hpke::key_schedule(KEM_ID, &shared[..], INFO);
        let body = ChaCha20Poly1305::new((&*key).into())
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: file_key.expose_secret(),
                    aad: b"",
                },
            )
            .ok()?;
        Some(Stanza {
            tag: STANZA_TAG.to_owned(),
            args: vec![BASE64_NOPAD.encode(&enc)],
            body,
        })
    }
}

impl FromStr for Recipient {
    type Err = ParseError;

    /// Parses `age1pq1...` (lower case, no length limit).
    fn from_str(s: &str) -> Result<Recipient, ParseError> {
        if !s.starts_with(RECIPIENT_PREFIX) {
            return Err(ParseError::Prefix(RECIPIENT_PREFIX));
        }
        let bytes = decode_bech32(s, RECIPIENT_HRP)?;
        Recipient::from_bytes(&bytes)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        age_core::primitives::bech32_encode_to_fmt(
            f,
            bech32::Hrp::parse_unchecked(RECIPIENT_HRP),
            &self.bytes[..],
        )
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.to_string();
        write!(
            f,
            "Recipient({}...{})",
            &text[..16],
            &text[text.len() - 8..]
        )
    }
}

impl age::Recipient for Recipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let mut randomness = Zeroizing::new([0u8; 64]);
        OsRng.fill_bytes(&mut randomness[..]);
        let stanza = self.wrap_with(file_key, &randomness).ok_or_else(|| {
            age::EncryptError::Io(std::io::Error::other(
                "the post-quantum recipient's X25519 key is a low-order point",
            ))
        })?;
        Ok((vec![stanza], HashSet::from([LABEL.to_owned()])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    use proptest::prelude::*;

    fn encrypt(plaintext: &[u8], recipients: &[&dyn age::Recipient]) -> Vec<u8> {
        let encryptor = age::Encryptor::with_recipients(recipients.iter().copied()).unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap();
        out
    }

    fn decrypt(file: &[u8], identity: &Identity) -> Result<Vec<u8>, age::DecryptError> {
        let decryptor = age::Decryptor::new_buffered(file)?;
        let mut reader = decryptor.decrypt(std::iter::once(identity as &dyn age::Identity))?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    fn file_key() -> FileKey {
        FileKey::new(Box::new(*b"YELLOW SUBMARINE"))
    }

    /// The identity and recipient of the C2SP age specification's own example.
    const SPEC_IDENTITY: &str =
        "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR";

    #[test]
    fn spec_example_identity_gives_its_recipient() {
        let identity: Identity = SPEC_IDENTITY.parse().unwrap();
        let recipient = identity.to_public().to_string();
        assert!(recipient.starts_with("age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxs"));
        assert!(recipient.ends_with("l53k2ykx3qheyty7saeq0d3fzv49zc0k"));
        assert_eq!(recipient.len(), 1959);
        assert_eq!(
            recipient.parse::<Recipient>().unwrap().to_string(),
            recipient
        );
        assert_eq!(identity.to_secret_string().expose_secret(), SPEC_IDENTITY);
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let identity: Identity = SPEC_IDENTITY.parse().unwrap();
        assert_eq!(format!("{identity:?}"), "Identity(..)");
    }

    #[test]
    fn refuses_malformed_keys() {
        assert_eq!(
            "AGE-SECRET-KEY-1XX76JRAL".parse::<Identity>().unwrap_err(),
            ParseError::Prefix(IDENTITY_PREFIX)
        );
        let mut typo = SPEC_IDENTITY.to_owned();
        typo.replace_range(30..31, "Q");
        assert_eq!(typo.parse::<Identity>().unwrap_err(), ParseError::Bech32);
        // Mixed case is not Bech32.
        let mixed = format!(
            "{}{}",
            &SPEC_IDENTITY[..40],
            SPEC_IDENTITY[40..].to_lowercase()
        );
        assert!(mixed.parse::<Identity>().is_err());
        // A PQ recipient of the wrong length.
        let short = age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked(RECIPIENT_HRP),
            &[0u8; 32],
        );
        assert_eq!(
            short.parse::<Recipient>().unwrap_err(),
            ParseError::Length {
                got: 32,
                want: PUBLIC_LEN
            }
        );
        // An ML-KEM key whose coefficients are not reduced modulo q.
        let mut bytes = *Identity::generate().to_public().as_bytes();
        bytes[0] = 0xff;
        bytes[1] = 0xff;
        assert_eq!(Recipient::from_bytes(&bytes).unwrap_err(), ParseError::Key);
    }

    #[test]
    fn recipient_sets_the_postquantum_label_and_age_refuses_to_mix() {
        let recipient = Identity::generate().to_public();
        let (_, labels) = age::Recipient::wrap_file_key(&recipient, &file_key()).unwrap();
        assert_eq!(labels, HashSet::from([LABEL.to_owned()]));
        let classic = age::x25519::Identity::generate().to_public();
        let mixed: Vec<&dyn age::Recipient> = vec![&recipient, &classic];
        assert!(age::Encryptor::with_recipients(mixed.into_iter()).is_err());
    }

    #[test]
    fn stanza_has_the_exact_lengths() {
        let recipient = Identity::generate().to_public();
        let (stanzas, _) = age::Recipient::wrap_file_key(&recipient, &file_key()).unwrap();
        let [stanza] = stanzas.as_slice() else {
            panic!("one stanza")
        };
        assert_eq!(stanza.tag, STANZA_TAG);
        assert_eq!(stanza.args.len(), 1);
        assert_eq!(stanza.args[0].len(), 1494);
        assert_eq!(stanza.body.len(), BODY_LEN);
    }

    #[test]
    fn low_order_recipient_key_is_refused_when_encrypting() {
        let mut bytes = *Identity::generate().to_public().as_bytes();
        bytes[MLKEM_PUBLIC_LEN..].fill(0);
        let recipient = Recipient::from_bytes(&bytes).unwrap();
        assert!(age::Recipient::wrap_file_key(&recipient, &file_key()).is_err());
    }

    /// A CCTV vector: its expectation, identities and age file (all hybrid vectors are binary or armored).
    struct Vector {
        expect: String,
        payload: Option<String>,
        identities: Vec<String>,
        armored: bool,
        file: Vec<u8>,
    }

    fn vector(name: &str) -> Vector {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/testkit/vectors")
            .join(name);
        let bytes = std::fs::read(path).unwrap();
        let split = bytes.windows(2).position(|w| w == b"\n\n").unwrap();
        let mut v = Vector {
            expect: String::new(),
            payload: None,
            identities: Vec::new(),
            armored: false,
            file: bytes[split + 2..].to_vec(),
        };
        for line in std::str::from_utf8(&bytes[..split]).unwrap().lines() {
            let (key, value) = line.split_once(": ").unwrap();
            match key {
                "expect" => v.expect = value.to_owned(),
                "payload" => v.payload = Some(value.to_owned()),
                "identity" => v.identities.push(value.to_owned()),
                "armored" => v.armored = value == "yes",
                "compressed" => {
                    let mut body = Vec::new();
                    flate2::read::ZlibDecoder::new(&v.file[..])
                        .read_to_end(&mut body)
                        .unwrap();
                    v.file = body;
                }
                _ => {}
            }
        }
        v
    }

    const HYBRID_VECTORS: [&str; 19] = [
        "armor_hybrid",
        "hybrid",
        "hybrid_and_x25519",
        "hybrid_bad_tag",
        "hybrid_currupted_enc_mlkem",
        "hybrid_currupted_enc_x25519",
        "hybrid_extra_argument",
        "hybrid_grease",
        "hybrid_identity",
        "hybrid_long_file_key",
        "hybrid_long_share",
        "hybrid_low_order",
        "hybrid_multiple_recipients",
        "hybrid_no_match",
        "hybrid_not_canonical_body",
        "hybrid_not_canonical_enc",
        "hybrid_short_share",
        "hybrid_uppercase",
        "hybrid_x25519_arg",
    ];

    /// Every CCTV vector with a post-quantum identity, through this module's Identity alone (with the
    /// age crate's parser and STREAM): successes release exactly the payload, failures release nothing
    /// and fail as the vector says (no match vs a refused header).
    #[test]
    fn cctv_hybrid_vectors() {
        let mut checked = 0;
        for name in HYBRID_VECTORS {
            let v = vector(name);
            let identities: Vec<Box<dyn age::Identity>> = v
                .identities
                .iter()
                .map(|line| -> Box<dyn age::Identity> {
                    if line.starts_with(IDENTITY_PREFIX) {
                        Box::new(line.parse::<Identity>().unwrap())
                    } else {
                        Box::new(line.parse::<age::x25519::Identity>().unwrap())
                    }
                })
                .collect();
            let result = (|| -> Result<Vec<u8>, age::DecryptError> {
                let reader = age::armor::ArmoredReader::new(&v.file[..]);
                let decryptor = age::Decryptor::new_buffered(reader)?;
                let mut reader = decryptor.decrypt(identities.iter().map(|i| i.as_ref()))?;
                let mut out = Vec::new();
                reader.read_to_end(&mut out)?;
                Ok(out)
            })();
            match (v.expect.as_str(), result) {
                ("success", Ok(plain)) => {
                    let hash = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&plain));
                    assert_eq!(Some(hash), v.payload, "{name}: payload");
                }
                ("no match", Err(age::DecryptError::NoMatchingKeys)) => {}
                ("header failure", Err(e)) => assert!(
                    !matches!(e, age::DecryptError::NoMatchingKeys),
                    "{name}: a header failure reported as no match"
                ),
                (expect, outcome) => {
                    panic!(
                        "{name}: expected {expect}, got {:?}",
                        outcome.map(|p| p.len())
                    )
                }
            }
            assert!(v.armored == name.starts_with("armor_"), "{name}: armored");
            checked += 1;
        }
        assert_eq!(checked, 19);
    }

    #[test]
    fn round_trip_and_several_recipients() {
        let ids: Vec<Identity> = (0..3).map(|_| Identity::generate()).collect();
        let recipients: Vec<Recipient> = ids.iter().map(Identity::to_public).collect();
        let refs: Vec<&dyn age::Recipient> = recipients.iter().map(|r| r as _).collect();
        let file = encrypt(b"name,secret\n", &refs);
        for id in &ids {
            assert_eq!(decrypt(&file, id).unwrap(), b"name,secret\n");
        }
        assert!(matches!(
            decrypt(&file, &Identity::generate()),
            Err(age::DecryptError::NoMatchingKeys)
        ));
    }

    fn copy(s: &Stanza) -> Stanza {
        Stanza {
            tag: s.tag.clone(),
            args: s.args.clone(),
            body: s.body.clone(),
        }
    }

    fn stanza_for(identity: &Identity) -> Stanza {
        let (mut stanzas, _) =
            age::Recipient::wrap_file_key(&identity.to_public(), &file_key()).unwrap();
        stanzas.remove(0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn round_trip_with_random_keys(seed in any::<[u8; 32]>(), randomness in prop::collection::vec(any::<u8>(), 64)) {
            let identity = Identity::from_seed(seed);
            let randomness: [u8; 64] = randomness.try_into().unwrap();
            let stanza = identity.to_public().wrap_with(&file_key(), &randomness).unwrap();
            let unwrapped = age::Identity::unwrap_stanza(&identity, &stanza).unwrap().unwrap();
            let expected = file_key();
            prop_assert_eq!(unwrapped.expose_secret(), expected.expose_secret());
        }

        #[test]
        fn wrong_key_is_no_match(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
            prop_assume!(a != b);
            let stanza = stanza_for(&Identity::from_seed(a));
            prop_assert!(age::Identity::unwrap_stanza(&Identity::from_seed(b), &stanza).is_none());
        }

        #[test]
        fn truncated_or_lengthened_stanzas_are_refused(cut in 1usize..1494, extra in 1usize..8, body_cut in 0usize..32) {
            let identity = Identity::generate();
            let stanza = stanza_for(&identity);
            let refused = |s: &Stanza| matches!(
                age::Identity::unwrap_stanza(&identity, s),
                Some(Err(age::DecryptError::InvalidHeader))
            );
            let mut short = copy(&stanza);
            let keep = short.args[0].len() - cut;
            short.args[0].truncate(keep);
            prop_assert!(refused(&short));
            let mut long = copy(&stanza);
            long.args[0].push_str(&"A".repeat(extra));
            prop_assert!(refused(&long));
            let mut body = copy(&stanza);
            body.body.truncate(body_cut);
            prop_assert!(refused(&body));
            let mut body = copy(&stanza);
            body.body.extend(std::iter::repeat_n(0, extra));
            prop_assert!(refused(&body));
            let mut args = copy(&stanza);
            args.args.push("x".to_owned());
            prop_assert!(refused(&args));
            let mut args = stanza;
            args.args.clear();
            prop_assert!(refused(&args));
        }
    }
}
