//! Release files to disk: resumed by `Range`, verified against the manifest's SHA-256, written
//! under a temporary name and renamed only once verified.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use reqwest::header::{self, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::resources::{Releases, encode};

/// Progress of a download, given to the progress hook after each chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes on disk so far (resumed bytes included).
    pub done: u64,
    /// Size of the file in bytes, from the manifest.
    pub total: u64,
    /// Bytes that were already on disk when this download started (resumed from).
    pub resumed_from: u64,
}

/// Name of the partial file of `name` while it downloads.
pub fn partial_name(name: &str) -> String {
    format!(".{name}.part")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

impl Releases {
    /// Downloads file `name` of release `version` (or `current`) into `dir` and returns its
    /// path. A partial file left by an interrupted download (`.<name>.part`) is resumed with a
    /// `Range` request; the whole file is checked against the manifest's SHA-256 before it is
    /// renamed to `name`, and removed if it does not match. `progress` is called after each
    /// chunk.
    pub async fn download(
        &self,
        version: &str,
        name: &str,
        dir: &Path,
        mut progress: impl FnMut(Progress),
    ) -> Result<PathBuf> {
        let manifest = self.manifest(version).await?;
        let entry = manifest
            .files
            .iter()
            .find(|f| f.name == name && !name.contains(['/', '\\']) && name != "..")
            .ok_or_else(|| Error::NotInManifest {
                release: manifest.version.clone(),
                name: name.to_owned(),
            })?;
        fs::create_dir_all(dir).map_err(io(dir))?;
        let final_path = dir.join(name);
        let part = dir.join(partial_name(name));
        let mut have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have > entry.bytes {
            fs::remove_file(&part).map_err(io(&part))?;
            have = 0;
        }
        let resumed_from = have;
        if have < entry.bytes {
            let client = self.client();
            let url = client.url(&format!(
                "/v1/releases/{}/files/{}",
                encode(&manifest.version),
                encode(name)
            ))?;
            let mut headers = HeaderMap::new();
            if have > 0 {
                let range = HeaderValue::from_str(&format!("bytes={have}-"))
                    .map_err(|e| Error::Build(e.to_string()))?;
                headers.insert(header::RANGE, range);
            }
            let mut res = client.send(&url, headers).await?;
            let mut file = if res.status().as_u16() == 206 {
                OpenOptions::new()
                    .append(true)
                    .open(&part)
                    .map_err(io(&part))?
            } else {
                have = 0;
                File::create(&part).map_err(io(&part))?
            };
            progress(Progress {
                done: have,
                total: entry.bytes,
                resumed_from: have,
            });
            while let Some(chunk) = res.chunk().await.map_err(|e| Error::Connect {
                url: url.to_string(),
                source: e,
            })? {
                file.write_all(&chunk).map_err(io(&part))?;
                have += chunk.len() as u64;
                progress(Progress {
                    done: have,
                    total: entry.bytes,
                    resumed_from,
                });
            }
            file.flush().map_err(io(&part))?;
            file.sync_all().map_err(io(&part))?;
        }
        let actual = sha256_file(&part)?;
        if actual != entry.sha256 {
            fs::remove_file(&part).map_err(io(&part))?;
            return Err(Error::ChecksumMismatch {
                name: name.to_owned(),
                expected: entry.sha256.clone(),
                actual,
            });
        }
        fs::rename(&part, &final_path).map_err(io(&final_path))?;
        Ok(final_path)
    }
}
