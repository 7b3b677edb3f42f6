//! Zip exports (Proton Pass), read with bounds: the number of entries, each entry's size and the total
//! are capped whatever the archive's own directory claims, so a zip bomb stops at the cap.

use std::io::{Cursor, Read};

use zeroize::Zeroizing;

/// The most entries an export archive may list.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// The most bytes one entry may decompress to, and all entries read together.
pub const MAX_ZIP_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// An opened archive, its entry count checked.
pub struct Archive<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> Archive<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Self, String> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| format!("the zip archive cannot be read ({e}; is it cut off?)"))?;
        if zip.len() > MAX_ZIP_ENTRIES {
            return Err(format!(
                "the zip archive lists {} entries, more than the {MAX_ZIP_ENTRIES} teamotp reads",
                zip.len()
            ));
        }
        Ok(Archive { zip })
    }

    /// The entries' names.
    pub fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .filter_map(|name| name.ok().map(|n| n.into_owned()))
            .collect()
    }

    /// One entry's bytes, at most [`MAX_ZIP_ENTRY_BYTES`] of them.
    pub fn read(&mut self, name: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let file = self
            .zip
            .by_name(name)
            .map_err(|e| format!("'{name}' cannot be read from the zip archive ({e})"))?;
        let mut out = Zeroizing::new(Vec::new());
        let declared = file.size().min(MAX_ZIP_ENTRY_BYTES);
        out.reserve_exact(usize::try_from(declared).unwrap_or(0));
        let mut limited = file.take(MAX_ZIP_ENTRY_BYTES + 1);
        // A buffer that grows would leave copies behind: read in chunks into a pre-sized buffer and
        // start again, bigger, only when the declared size was a lie (then the old one is wiped).
        let mut chunk = Zeroizing::new([0u8; 16384]);
        loop {
            let n = limited
                .read(&mut chunk[..])
                .map_err(|e| format!("'{name}' in the zip archive is damaged ({e})"))?;
            if n == 0 {
                break;
            }
            if out.len() + n > out.capacity() {
                let mut bigger = Zeroizing::new(Vec::with_capacity((out.len() + n) * 2));
                bigger.extend_from_slice(&out);
                out = bigger;
            }
            out.extend_from_slice(&chunk[..n]);
            if out.len() as u64 > MAX_ZIP_ENTRY_BYTES {
                return Err(format!(
                    "'{name}' in the zip archive decompresses to more than {} MiB; no export is \
                     that large",
                    MAX_ZIP_ENTRY_BYTES / 1024 / 1024
                ));
            }
        }
        Ok(out)
    }
}
