//! What crosses the agent's socket: pure encoding and parsing, no I/O.
//!
//! A frame is a 4-byte big-endian length and a body of at most [`MAX_FRAME`] bytes. A body starts with
//! the protocol [`VERSION`] and an operation byte; fields are length-prefixed (`u32` big-endian). The
//! parser never trusts a length: every read is bounded by what is left of the body, and anything left
//! over is an error.

use age_core::format::Stanza;
use zeroize::Zeroizing;

/// The protocol version: a client and an agent of different versions refuse each other's frames.
pub const VERSION: u8 = 1;
/// The largest frame either side accepts (a header of a big team is a few kilobytes).
pub const MAX_FRAME: usize = 1 << 20;
/// The most stanzas a header may have in a request.
pub const MAX_STANZAS: usize = 4096;
/// Bytes of an age file key.
pub const FILE_KEY: usize = 16;

/// A secret the agent can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `AGE-SECRET-KEY-1...` text.
    X25519 = 1,
    /// An OpenSSH ssh-ed25519 private key (PEM text), with its passphrase when it is encrypted.
    SshEd25519 = 2,
    /// A passphrase vault's passphrase.
    VaultPassphrase = 3,
}

/// A header's hash and its file key.
pub type Primed = ([u8; 32], Zeroizing<[u8; FILE_KEY]>);

/// One secret handed over by `teamotp unlock`.
pub struct Item {
    pub kind: Kind,
    /// Where it came from (a file path), shown by `agent status`.
    pub source: String,
    pub secret: Zeroizing<Vec<u8>>,
    /// The SSH key's passphrase (empty when the key is not encrypted).
    pub passphrase: Zeroizing<Vec<u8>>,
    /// A header this secret opened, and its file key, so the agent answers it without running scrypt.
    pub primed: Option<Primed>,
}

/// A client's request.
pub enum Request {
    /// Return the file key of a header (all its stanzas), or "no match".
    Unwrap(Vec<Stanza>),
    /// Wrap a new file key with the passphrase that opened the header hashing to `opened`.
    Wrap {
        opened: [u8; 32],
        file_key: Zeroizing<[u8; FILE_KEY]>,
    },
    /// Hold these secrets, and lock `timeout_secs` from now.
    Add {
        timeout_secs: u64,
        items: Vec<Item>,
    },
    Status,
    /// Forget everything and exit.
    Lock,
}

/// The agent's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Response {
    Ok,
    FileKey(Zeroizing<[u8; FILE_KEY]>),
    NoMatch,
    Stanzas(Vec<Stanza>),
    Status(Status),
    Error(String),
}

/// What `teamotp agent status` shows.
#[derive(Debug, PartialEq, Eq)]
pub struct Status {
    pub pid: u32,
    /// Seconds until it locks (None: no timeout set).
    pub locks_in: Option<u64>,
    /// One line per secret: its source and public key, never the secret.
    pub holds: Vec<String>,
}

/// Why a frame was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("the frame is larger than {MAX_FRAME} bytes")]
    TooLarge,
    #[error("protocol version {0}, this teamotp speaks {VERSION}")]
    Version(u8),
    #[error("unknown operation {0}")]
    Operation(u8),
    #[error("the frame ends early")]
    Truncated,
    #[error("the frame has bytes left over")]
    Trailing,
    #[error("a field is invalid")]
    Invalid,
}

/// A SHA-256 of a header's stanzas (tags, arguments and bodies, each length-prefixed): the key of the
/// agent's file-key cache.
pub fn stanzas_hash(stanzas: &[Stanza]) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for stanza in stanzas {
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        field(stanza.tag.as_bytes());
        field(&(stanza.args.len() as u64).to_be_bytes());
        for arg in &stanza.args {
            field(arg.as_bytes());
        }
        field(&stanza.body);
    }
    hasher.finalize().into()
}

/// Puts a body in a frame.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The length announced by a frame's first 4 bytes, refused when over [`MAX_FRAME`].
pub fn frame_len(prefix: [u8; 4]) -> Result<usize, Malformed> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(Malformed::TooLarge);
    }
    Ok(len)
}

struct Writer(Zeroizing<Vec<u8>>);

impl Writer {
    fn new(op: u8) -> Self {
        Writer::with_capacity(op, 256)
    }
    /// Sized once: a buffer that grew would leave unwiped copies of what it held.
    fn with_capacity(op: u8, capacity: usize) -> Self {
        let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
        buf.push(VERSION);
        buf.push(op);
        Writer(buf)
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(&(v.len() as u32).to_be_bytes());
        self.0.extend_from_slice(v);
    }
    fn stanzas(&mut self, stanzas: &[Stanza]) {
        self.0
            .extend_from_slice(&(stanzas.len() as u32).to_be_bytes());
        for stanza in stanzas {
            self.bytes(stanza.tag.as_bytes());
            self.0
                .extend_from_slice(&(stanza.args.len() as u32).to_be_bytes());
            for arg in &stanza.args {
                self.bytes(arg.as_bytes());
            }
            self.bytes(&stanza.body);
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if n > self.0.len() {
            return Err(Malformed::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<usize, Malformed> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn u64(&mut self) -> Result<u64, Malformed> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let n = self.u32()?;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, Malformed> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| Malformed::Invalid)
    }
    fn array<const N: usize>(&mut self) -> Result<Zeroizing<[u8; N]>, Malformed> {
        let mut out = Zeroizing::new([0u8; N]);
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    /// A count of items that each take at least `min` bytes: a count the rest cannot hold is refused
    /// before anything is allocated.
    fn count(&mut self, min: usize, max: usize) -> Result<usize, Malformed> {
        let n = self.u32()?;
        if n > max || n.saturating_mul(min) > self.0.len() {
            return Err(Malformed::Invalid);
        }
        Ok(n)
    }
    fn stanzas(&mut self) -> Result<Vec<Stanza>, Malformed> {
        let n = self.count(12, MAX_STANZAS)?;
        let mut stanzas = Vec::with_capacity(n);
        for _ in 0..n {
            let tag = self.string()?;
            let args_len = self.count(4, 64)?;
            let mut args = Vec::with_capacity(args_len);
            for _ in 0..args_len {
                args.push(self.string()?);
            }
            let body = self.bytes()?.to_vec();
            if tag.is_empty() {
                return Err(Malformed::Invalid);
            }
            stanzas.push(Stanza { tag, args, body });
        }
        Ok(stanzas)
    }
    fn end(&self) -> Result<(), Malformed> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Malformed::Trailing)
        }
    }
}

fn header(body: &[u8]) -> Result<(u8, Reader<'_>), Malformed> {
    if body.len() > MAX_FRAME {
        return Err(Malformed::TooLarge);
    }
    let mut r = Reader(body);
    let version = r.u8()?;
    if version != VERSION {
        return Err(Malformed::Version(version));
    }
    Ok((r.u8()?, r))
}

impl Request {
    /// The request's body (to be framed).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let w = match self {
            Request::Unwrap(stanzas) => {
                let mut w = Writer::new(1);
                w.stanzas(stanzas);
                w
            }
            Request::Wrap { opened, file_key } => {
                let mut w = Writer::new(2);
                w.0.extend_from_slice(opened);
                w.0.extend_from_slice(&file_key[..]);
                w
            }
            Request::Add {
                timeout_secs,
                items,
            } => {
                let size: usize = items
                    .iter()
                    .map(|i| 64 + i.source.len() + i.secret.len() + i.passphrase.len())
                    .sum();
                let mut w = Writer::with_capacity(3, 16 + size);
                w.u64(*timeout_secs);
                w.0.extend_from_slice(&(items.len() as u32).to_be_bytes());
                for item in items {
                    w.u8(item.kind as u8);
                    w.bytes(item.source.as_bytes());
                    w.bytes(&item.secret);
                    w.bytes(&item.passphrase);
                    match &item.primed {
                        Some((hash, key)) => {
                            w.u8(1);
                            w.0.extend_from_slice(hash);
                            w.0.extend_from_slice(&key[..]);
                        }
                        None => w.u8(0),
                    }
                }
                w
            }
            Request::Status => Writer::new(4),
            Request::Lock => Writer::new(5),
        };
        w.0
    }

    /// Parses a request body. Never panics; allocations are bounded by the body's size.
    pub fn decode(body: &[u8]) -> Result<Request, Malformed> {
        let (op, mut r) = header(body)?;
        let request = match op {
            1 => Request::Unwrap(r.stanzas()?),
            2 => {
                let opened = *r.array::<32>()?;
                let file_key = r.array::<FILE_KEY>()?;
                Request::Wrap { opened, file_key }
            }
            3 => {
                let timeout_secs = r.u64()?;
                let n = r.count(14, 256)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let kind = match r.u8()? {
                        1 => Kind::X25519,
                        2 => Kind::SshEd25519,
                        3 => Kind::VaultPassphrase,
                        _ => return Err(Malformed::Invalid),
                    };
                    let source = r.string()?;
                    let secret = Zeroizing::new(r.bytes()?.to_vec());
                    let passphrase = Zeroizing::new(r.bytes()?.to_vec());
                    let primed = match r.u8()? {
                        0 => None,
                        1 => Some((*r.array::<32>()?, r.array::<FILE_KEY>()?)),
                        _ => return Err(Malformed::Invalid),
                    };
                    items.push(Item {
                        kind,
                        source,
                        secret,
                        passphrase,
                        primed,
                    });
                }
                Request::Add {
                    timeout_secs,
                    items,
                }
            }
            4 => Request::Status,
            5 => Request::Lock,
            other => return Err(Malformed::Operation(other)),
        };
        r.end()?;
        Ok(request)
    }
}

impl Response {
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let w = match self {
            Response::Ok => Writer::new(0),
            Response::FileKey(key) => {
                let mut w = Writer::new(1);
                w.0.extend_from_slice(&key[..]);
                w
            }
            Response::NoMatch => Writer::new(2),
            Response::Stanzas(stanzas) => {
                let mut w = Writer::new(3);
                w.stanzas(stanzas);
                w
            }
            Response::Status(status) => {
                let mut w = Writer::new(4);
                w.0.extend_from_slice(&status.pid.to_be_bytes());
                w.u64(status.locks_in.map_or(u64::MAX, |s| s.min(u64::MAX - 1)));
                w.0.extend_from_slice(&(status.holds.len() as u32).to_be_bytes());
                for line in &status.holds {
                    w.bytes(line.as_bytes());
                }
                w
            }
            Response::Error(message) => {
                let mut w = Writer::new(5);
                w.bytes(message.as_bytes());
                w
            }
        };
        w.0
    }

    pub fn decode(body: &[u8]) -> Result<Response, Malformed> {
        let (op, mut r) = header(body)?;
        let response = match op {
            0 => Response::Ok,
            1 => Response::FileKey(r.array::<FILE_KEY>()?),
            2 => Response::NoMatch,
            3 => Response::Stanzas(r.stanzas()?),
            4 => {
                let pid = r.u32()? as u32;
                let locks_in = Some(r.u64()?).filter(|s| *s != u64::MAX);
                let n = r.count(4, 4096)?;
                let mut holds = Vec::with_capacity(n);
                for _ in 0..n {
                    holds.push(r.string()?);
                }
                Response::Status(Status {
                    pid,
                    locks_in,
                    holds,
                })
            }
            5 => Response::Error(r.string()?),
            other => return Err(Malformed::Operation(other)),
        };
        r.end()?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(tag: &str) -> Stanza {
        Stanza {
            tag: tag.to_owned(),
            args: vec!["a".to_owned(), "b".to_owned()],
            body: vec![1, 2, 3],
        }
    }

    #[test]
    fn requests_round_trip() {
        let body = Request::Unwrap(vec![stanza("X25519"), stanza("scrypt")]).encode();
        match Request::decode(&body).unwrap() {
            Request::Unwrap(s) => assert_eq!(s, vec![stanza("X25519"), stanza("scrypt")]),
            _ => panic!("wrong request"),
        }
        let add = Request::Add {
            timeout_secs: 900,
            items: vec![Item {
                kind: Kind::VaultPassphrase,
                source: "/v.age".into(),
                secret: Zeroizing::new(b"pw".to_vec()),
                passphrase: Zeroizing::new(Vec::new()),
                primed: Some(([7; 32], Zeroizing::new([9; 16]))),
            }],
        };
        match Request::decode(&add.encode()).unwrap() {
            Request::Add {
                timeout_secs,
                items,
            } => {
                assert_eq!(timeout_secs, 900);
                assert_eq!(items[0].kind, Kind::VaultPassphrase);
                assert_eq!(items[0].secret.as_slice(), b"pw");
                assert_eq!(items[0].primed.as_ref().unwrap().0, [7; 32]);
            }
            _ => panic!("wrong request"),
        }
        let status = Response::Status(Status {
            pid: 42,
            locks_in: Some(60),
            holds: vec!["x".into()],
        });
        assert_eq!(Response::decode(&status.encode()).unwrap(), status);
    }

    #[test]
    fn refuses_wrong_version_unknown_operation_and_trailing_bytes() {
        assert_eq!(Request::decode(&[2, 4]).err(), Some(Malformed::Version(2)));
        assert_eq!(
            Request::decode(&[VERSION, 99]).err(),
            Some(Malformed::Operation(99))
        );
        assert_eq!(
            Request::decode(&[VERSION, 4, 0]).err(),
            Some(Malformed::Trailing)
        );
        assert_eq!(Request::decode(&[]).err(), Some(Malformed::Truncated));
        assert_eq!(frame_len([0xff; 4]), Err(Malformed::TooLarge));
        assert_eq!(frame_len([0, 0x10, 0, 0]), Ok(MAX_FRAME));
        assert_eq!(frame_len([0, 0x10, 0, 1]), Err(Malformed::TooLarge));
        let oversized = vec![VERSION; MAX_FRAME + 1];
        assert_eq!(Request::decode(&oversized).err(), Some(Malformed::TooLarge));
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        // 4 billion stanzas announced in a 6-byte body.
        assert!(Request::decode(&[VERSION, 1, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(
            Request::decode(&[VERSION, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]).is_err()
        );
    }

    #[test]
    fn random_and_mutated_requests_never_panic() {
        // A small xorshift: deterministic, no extra dependency.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = Request::Unwrap((0..3).map(|_| stanza("X25519")).collect()).encode();
        for round in 0..20_000 {
            let len = (next() % 300) as usize;
            let mut body: Vec<u8> = if round % 2 == 0 {
                (0..len).map(|_| next() as u8).collect()
            } else {
                let mut b = valid.to_vec();
                for _ in 0..(next() % 4 + 1) {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
                b.truncate((next() as usize) % (b.len() + 1));
                b
            };
            if round % 3 == 0 && !body.is_empty() {
                body[0] = VERSION;
            }
            let _ = Request::decode(&body);
            let _ = Response::decode(&body);
        }
    }
}
