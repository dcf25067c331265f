//! Release file downloads: `ETag`, `Last-Modified`, `Content-Length`, single and multiple
//! byte ranges (RFC 9110 §14), so that DuckDB, polars or pyarrow read remote Parquet by ranges.

use std::io::SeekFrom;
use std::path::Path;
use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::problem::Problem;

/// Release files up to this size are kept in memory once read: under a versioned folder they
/// never change, so a download is a copy of shared bytes, with no file system call.
pub const MAX_CACHED_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Bytes of release files kept in memory at most.
pub const FILE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Release files held in memory, bounded in bytes, keyed by path and entity tag.
#[derive(Clone)]
pub struct FileCache {
    inner: moka::sync::Cache<String, Bytes>,
}

impl std::fmt::Debug for FileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCache")
            .field("bytes", &self.inner.weighted_size())
            .finish()
    }
}

impl FileCache {
    /// A cache of at most `bytes` bytes.
    pub fn new(bytes: u64) -> FileCache {
        FileCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &String, v: &Bytes| {
                    u32::try_from(k.len() + v.len() + 64).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The bytes of `spec`'s file: from memory, else read on the blocking pool and kept when
    /// small enough; `None` for a file too large to keep (stream it from disk).
    async fn get(&self, spec: &FileSpec<'_>) -> std::io::Result<Option<Bytes>> {
        let key = format!("{}\n{}", spec.path.display(), spec.etag);
        if let Some(b) = self.inner.get(&key) {
            return Ok(Some(b));
        }
        let path = spec.path.to_owned();
        let read = actix_web::web::block(move || -> std::io::Result<Option<Bytes>> {
            if std::fs::metadata(&path)?.len() > MAX_CACHED_FILE_BYTES {
                return Ok(None);
            }
            std::fs::read(&path).map(|b| Some(Bytes::from(b)))
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
        if let Some(b) = &read {
            self.inner.insert(key, b.clone());
        }
        Ok(read)
    }
}

/// Most ranges served in one multipart answer; more is refused as 416.
const MAX_RANGES: usize = 32;
/// Bytes read per chunk of a streamed file.
const READ_CHUNK: usize = 256 * 1024;

/// `Cache-Control` of files under a versioned URL: they never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of `current` aliases: revalidate with the ETag.
pub const REVALIDATE: &str = "public, no-cache";

/// A file to serve, with what its headers need.
#[derive(Debug, Clone)]
pub struct FileSpec<'a> {
    /// Path on disk.
    pub path: &'a Path,
    /// Media type.
    pub media_type: &'a str,
    /// Strong entity tag, quoted.
    pub etag: String,
    /// Modification time.
    pub modified: SystemTime,
    /// `Cache-Control` value.
    pub cache_control: &'static str,
}

/// True when `If-None-Match` lists `etag` (or `*`, or the tag of another content coding of
/// the same answer).
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    super::encoding::none_match(headers, etag)
}

/// A `304 Not Modified` carrying the validator.
pub fn not_modified(etag: &str, cache_control: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::CACHE_CONTROL, cache_control.to_owned()))
        .finish()
}

/// A `304 Not Modified` of an answer that varies with `vary`, carrying the validator of the
/// coding the client would receive.
pub fn not_modified_varying(etag: &str, cache_control: &str, vary: &'static str) -> HttpResponse {
    let mut res = not_modified(etag, cache_control);
    res.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static(vary));
    res
}

/// A parsed `Range` header: ranges as inclusive (first, last) byte positions.
#[derive(Debug, PartialEq, Eq)]
pub enum Ranges {
    /// No usable `Range` header (absent, other unit, or malformed: ignored as RFC 9110 says).
    Full,
    /// Satisfiable ranges, in the order asked.
    Parts(Vec<(u64, u64)>),
    /// No range overlaps the file (or too many ranges).
    Unsatisfiable,
}

/// Parses `Range: bytes=…` against a file of `len` bytes.
pub fn parse_ranges(value: Option<&str>, len: u64) -> Ranges {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ranges::Full;
    };
    let mut parts = Vec::new();
    let mut count = 0;
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        count += 1;
        let Some((a, b)) = item.split_once('-') else {
            return Ranges::Full;
        };
        let (a, b) = (a.trim(), b.trim());
        let range = if a.is_empty() {
            let Ok(n) = b.parse::<u64>() else {
                return Ranges::Full;
            };
            if n == 0 || len == 0 {
                None
            } else {
                Some((len.saturating_sub(n), len - 1))
            }
        } else {
            let Ok(first) = a.parse::<u64>() else {
                return Ranges::Full;
            };
            let last = if b.is_empty() {
                u64::MAX
            } else {
                match b.parse::<u64>() {
                    Ok(l) if l >= first => l,
                    _ => return Ranges::Full,
                }
            };
            (first < len).then(|| (first, last.min(len - 1)))
        };
        if let Some(r) = range {
            parts.push(r);
        }
    }
    if count == 0 {
        return Ranges::Full;
    }
    if parts.is_empty() || count > MAX_RANGES {
        return Ranges::Unsatisfiable;
    }
    Ranges::Parts(parts)
}

/// Serves a file: 304 on a matching `If-None-Match`, 206 for ranges (multipart for several),
/// 416 for ranges outside it, else 200 streamed from disk.
pub async fn serve_file(req: &HttpRequest, spec: FileSpec<'_>) -> Result<HttpResponse, Problem> {
    let not_found = |e: std::io::Error| {
        tracing::error!(path = %spec.path.display(), error = %e, "release file unreadable");
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-file",
            "Unknown file",
            "the file cannot be read",
        )
    };
    if none_match(req.headers(), &spec.etag) {
        return Ok(not_modified(&spec.etag, spec.cache_control));
    }
    let cache = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .map(|s| s.files.clone());
    let memory = match &cache {
        Some(c) => c.get(&spec).await.map_err(not_found)?,
        None => None,
    };
    let mut file = match &memory {
        Some(_) => None,
        None => Some(tokio::fs::File::open(spec.path).await.map_err(not_found)?),
    };
    let len = match (&memory, &mut file) {
        (Some(b), _) => b.len() as u64,
        (None, Some(f)) => f.metadata().await.map_err(not_found)?.len(),
        (None, None) => 0,
    };
    let range_header = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    // If-Range: serve ranges only if the validator still matches.
    let if_range_ok = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == spec.etag);
    let ranges = if if_range_ok {
        parse_ranges(range_header, len)
    } else {
        Ranges::Full
    };
    let mut builder = HttpResponse::Ok();
    builder
        .insert_header((header::ETAG, spec.etag.clone()))
        .insert_header((
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(spec.modified),
        ))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, spec.cache_control))
        // The bytes as stored: compressing would break lengths and ranges.
        .insert_header((header::CONTENT_ENCODING, "identity"));
    match ranges {
        Ranges::Full => {
            builder.insert_header((header::CONTENT_TYPE, spec.media_type.to_owned()));
            let Some(file) = file else {
                return Ok(builder.body(memory.unwrap_or_default()));
            };
            builder.no_chunking(len);
            let stream = futures_util::stream::unfold((file, len), |(mut file, left)| async move {
                if left == 0 {
                    return None;
                }
                let want = (left as usize).min(READ_CHUNK);
                let mut buf = vec![0u8; want];
                match file.read_exact(&mut buf).await {
                    Ok(_) => Some((
                        Ok::<_, std::io::Error>(Bytes::from(buf)),
                        (file, left - want as u64),
                    )),
                    Err(e) => Some((Err(e), (file, 0))),
                }
            });
            Ok(builder.streaming(stream))
        }
        Ranges::Unsatisfiable => {
            let mut res = Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad-range",
                "Range not satisfiable",
                format!("no range of {range_header:?} lies within the file's {len} bytes"),
            )
            .param("Range")
            .hint(format!(
                "byte positions run from 0 to {}",
                len.saturating_sub(1)
            ))
            .to_response();
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{len}"))
                    .unwrap_or(header::HeaderValue::from_static("bytes */0")),
            );
            res.headers_mut().insert(
                header::ACCEPT_RANGES,
                header::HeaderValue::from_static("bytes"),
            );
            Ok(res)
        }
        Ranges::Parts(parts) => {
            builder.status(StatusCode::PARTIAL_CONTENT);
            if let [(first, last)] = parts.as_slice() {
                let body = read_part(&memory, &mut file, *first, *last)
                    .await
                    .map_err(not_found)?;
                builder
                    .insert_header((header::CONTENT_TYPE, spec.media_type.to_owned()))
                    .insert_header((header::CONTENT_RANGE, format!("bytes {first}-{last}/{len}")));
                return Ok(builder.body(body));
            }
            let boundary = format!("pilotage-{}", spec.etag.trim_matches('"'));
            let mut body = Vec::new();
            for (first, last) in parts {
                let part = read_part(&memory, &mut file, first, last)
                    .await
                    .map_err(not_found)?;
                body.extend_from_slice(
                    format!(
                        "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Range: bytes {first}-{last}/{len}\r\n\r\n",
                        spec.media_type
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(&part);
            }
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            builder.insert_header((
                header::CONTENT_TYPE,
                format!("multipart/byteranges; boundary={boundary}"),
            ));
            Ok(builder.body(body))
        }
    }
}

/// Bytes `first..=last` of the file: a slice of its bytes in memory, else read from disk.
async fn read_part(
    memory: &Option<Bytes>,
    file: &mut Option<tokio::fs::File>,
    first: u64,
    last: u64,
) -> std::io::Result<Bytes> {
    if let Some(b) = memory {
        return Ok(b.slice(first as usize..=last as usize));
    }
    let Some(file) = file else {
        return Ok(Bytes::new());
    };
    file.seek(SeekFrom::Start(first)).await?;
    let mut buf = vec![0u8; (last - first + 1) as usize];
    file.read_exact(&mut buf).await?;
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(parse_ranges(None, 100), Ranges::Full);
        assert_eq!(
            parse_ranges(Some("bytes=0-9"), 100),
            Ranges::Parts(vec![(0, 9)])
        );
        assert_eq!(
            parse_ranges(Some("bytes=90-"), 100),
            Ranges::Parts(vec![(90, 99)])
        );
        assert_eq!(
            parse_ranges(Some("bytes=-10"), 100),
            Ranges::Parts(vec![(90, 99)])
        );
        assert_eq!(
            parse_ranges(Some("bytes=-500"), 100),
            Ranges::Parts(vec![(0, 99)])
        );
        assert_eq!(
            parse_ranges(Some("bytes=95-200"), 100),
            Ranges::Parts(vec![(95, 99)])
        );
        assert_eq!(
            parse_ranges(Some("bytes=0-1, 5-6"), 100),
            Ranges::Parts(vec![(0, 1), (5, 6)])
        );
        assert_eq!(parse_ranges(Some("bytes=100-"), 100), Ranges::Unsatisfiable);
        assert_eq!(parse_ranges(Some("bytes=5-2"), 100), Ranges::Full);
        assert_eq!(parse_ranges(Some("items=0-1"), 100), Ranges::Full);
        assert_eq!(parse_ranges(Some("bytes=x-1"), 100), Ranges::Full);
    }
}
