//! Release file downloads: `ETag`, `Last-Modified`, `Content-Length`, single and multiple
//! byte ranges (RFC 9110 §14), so that DuckDB, polars or pyarrow read remote Parquet by ranges.

use std::io::SeekFrom;
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::byte_cache::ByteCache;
use super::problem::Problem;
use super::releases::{ReleaseError, ReleaseMeta};

/// Release files up to this size are kept in memory once read: under a versioned folder they
/// never change, so a download is a copy of shared bytes, with no file system call.
pub const MAX_CACHED_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Bytes of release files kept in memory at most.
pub const FILE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Bytes counted for each cached file beside its key and bytes: bookkeeping.
const FILE_ENTRY_BYTES: usize = 64;

/// Release files held in memory, bounded in bytes, keyed by path and entity tag.
#[derive(Clone, Debug)]
pub struct FileCache {
    inner: ByteCache<Bytes>,
}

impl FileCache {
    /// A cache of at most `bytes` bytes.
    pub fn new(bytes: u64) -> FileCache {
        FileCache {
            inner: ByteCache::new(bytes, FILE_ENTRY_BYTES),
        }
    }

    /// Release file `name` of `meta`, checked against the manifest
    /// ([`ReleaseMeta::open_verified`]): from memory, else opened and checked on the blocking
    /// pool, its bytes kept when small enough. Only checked bytes ever enter the cache, so what
    /// it serves is always the manifest's content.
    pub async fn open(
        &self,
        meta: &Arc<ReleaseMeta>,
        name: &str,
        etag: &str,
    ) -> Result<Source, ReleaseError> {
        let key = format!("{}\n{name}\n{etag}", meta.dir.display());
        if let Some(b) = self.inner.get(&key) {
            return Ok(Source::Memory(b));
        }
        let (m, n) = (meta.clone(), name.to_owned());
        let verified =
            actix_web::web::block(move || m.open_verified(&n, true, MAX_CACHED_FILE_BYTES))
                .await
                .map_err(|e| ReleaseError::Invalid {
                    path: meta.dir.join(name),
                    reason: format!("the reader thread failed: {e}"),
                })??;
        Ok(match verified.bytes {
            Some(b) => {
                self.inner.insert(key, b.clone());
                Source::Memory(b)
            }
            None => Source::Disk {
                file: tokio::fs::File::from_std(verified.file),
                len: verified.len,
            },
        })
    }
}

/// Where the bytes of a file to serve come from.
#[derive(Debug)]
pub enum Source {
    /// Shared bytes in memory (a slice of them is served without copying).
    Memory(Bytes),
    /// An open file and its length in bytes, read as the answer is sent.
    Disk {
        /// The open file, at its start.
        file: tokio::fs::File,
        /// Its length in bytes.
        len: u64,
    },
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

/// True when `If-Modified-Since` dates at or after `modified` (compared to the second, the
/// precision of HTTP dates), so that a client holding the answer of `Last-Modified` gets 304.
/// Ignored when `If-None-Match` is present (RFC 9110 §13.1.3) or the date cannot be read.
pub fn not_modified_since(headers: &HeaderMap, modified: SystemTime) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    let Some(since) = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
    else {
        return false;
    };
    let secs = |t: SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    secs(modified) <= secs(since)
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
    Ranges::Parts(coalesce(parts))
}

/// Ranges sorted, overlapping and adjacent ones merged (RFC 9110 §14.2 lets a server do so):
/// the parts are disjoint, so an answer never sends more bytes of the file than it has.
fn coalesce(mut parts: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    parts.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(parts.len());
    for (first, last) in parts {
        match merged.last_mut() {
            Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    merged
}

/// Serves a file: 304 on a matching `If-None-Match`, 206 for ranges (multipart for several),
/// 416 for ranges outside it, else 200. `open` gives its bytes; it is awaited only when the
/// answer needs them (not for a 304).
pub async fn serve_file(
    req: &HttpRequest,
    spec: FileSpec<'_>,
    open: impl std::future::Future<Output = Result<Source, Problem>>,
) -> Result<HttpResponse, Problem> {
    if none_match(req.headers(), &spec.etag) || not_modified_since(req.headers(), spec.modified) {
        return Ok(not_modified(&spec.etag, spec.cache_control));
    }
    let content = Content::from(open.await?);
    let range_header = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let ranges = requested_ranges(req.headers(), range_header, &spec.etag, content.len);
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
    Ok(match ranges {
        Ranges::Full => serve_full(&mut builder, &spec, content),
        Ranges::Unsatisfiable => range_not_satisfiable(range_header, content.len),
        Ranges::Parts(parts) => {
            builder.status(StatusCode::PARTIAL_CONTENT);
            if let [(first, last)] = parts.as_slice() {
                serve_range(&mut builder, &spec, content, *first, *last)
            } else {
                serve_multipart(&mut builder, &spec, content, parts)
            }
        }
    })
}

/// The bytes of a file being served, from memory or from disk.
struct Content {
    /// The bytes, when in memory.
    memory: Option<Bytes>,
    /// The open file, at its start, when on disk.
    file: Option<tokio::fs::File>,
    /// Length in bytes.
    len: u64,
}

impl From<Source> for Content {
    fn from(source: Source) -> Self {
        match source {
            Source::Memory(b) => {
                let len = b.len() as u64;
                Content {
                    memory: Some(b),
                    file: None,
                    len,
                }
            }
            Source::Disk { file, len } => Content {
                memory: None,
                file: Some(file),
                len,
            },
        }
    }
}

/// The ranges to serve of a file of `len` bytes: those of the `Range` header, unless an
/// `If-Range` validator no longer matches `etag` (then the whole file).
fn requested_ranges(
    headers: &HeaderMap,
    range_header: Option<&str>,
    etag: &str,
    len: u64,
) -> Ranges {
    // If-Range: serve ranges only if the validator still matches.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    if if_range_ok {
        parse_ranges(range_header, len)
    } else {
        Ranges::Full
    }
}

/// The whole file (200): the bytes in memory as they are, or the file streamed by chunks of
/// [`READ_CHUNK`] bytes.
fn serve_full(
    builder: &mut HttpResponseBuilder,
    spec: &FileSpec<'_>,
    content: Content,
) -> HttpResponse {
    builder.insert_header((header::CONTENT_TYPE, spec.media_type.to_owned()));
    let Content { memory, file, len } = content;
    let Some(file) = file else {
        return builder.body(memory.unwrap_or_default());
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
    builder.streaming(stream)
}

/// The 416 answer when no range of `range_header` lies within the file's `len` bytes.
fn range_not_satisfiable(range_header: Option<&str>, len: u64) -> HttpResponse {
    let mut res = Problem::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "bad-range",
        "Range not satisfiable",
        format!(
            "no range of {} lies within the file's {len} bytes",
            super::problem::quote(range_header.unwrap_or(""))
        ),
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
    res
}

/// One range, bytes `first..=last` of the file (206), with its `Content-Range`.
fn serve_range(
    builder: &mut HttpResponseBuilder,
    spec: &FileSpec<'_>,
    content: Content,
    first: u64,
    last: u64,
) -> HttpResponse {
    let Content { memory, file, len } = content;
    builder
        .insert_header((header::CONTENT_TYPE, spec.media_type.to_owned()))
        .insert_header((header::CONTENT_RANGE, format!("bytes {first}-{last}/{len}")));
    if let Some(b) = &memory {
        return builder.body(b.slice(first as usize..=last as usize));
    }
    builder.no_chunking(last - first + 1);
    let pieces = vec![Piece::File(first, last)];
    builder.streaming(multipart_stream(memory, file, pieces))
}

/// Several ranges (206) as `multipart/byteranges`, each part with its type and
/// `Content-Range`, the boundary made from the entity tag; the length (bytes) is known
/// beforehand.
fn serve_multipart(
    builder: &mut HttpResponseBuilder,
    spec: &FileSpec<'_>,
    content: Content,
    parts: Vec<(u64, u64)>,
) -> HttpResponse {
    let Content { memory, file, len } = content;
    let boundary = format!("pilotage-{}", spec.etag.trim_matches('"'));
    let mut pieces = Vec::with_capacity(parts.len() * 2 + 1);
    let mut total = 0u64;
    for (first, last) in parts {
        let head = Bytes::from(format!(
            "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Range: bytes {first}-{last}/{len}\r\n\r\n",
            spec.media_type
        ));
        total += head.len() as u64 + (last - first + 1);
        pieces.push(Piece::Text(head));
        pieces.push(Piece::File(first, last));
    }
    let tail = Bytes::from(format!("\r\n--{boundary}--\r\n"));
    total += tail.len() as u64;
    pieces.push(Piece::Text(tail));
    builder.insert_header((
        header::CONTENT_TYPE,
        format!("multipart/byteranges; boundary={boundary}"),
    ));
    builder.no_chunking(total);
    builder.streaming(multipart_stream(memory, file, pieces))
}

/// A piece of a multipart answer: text of the format, or bytes `first..=last` of the file.
enum Piece {
    Text(Bytes),
    File(u64, u64),
}

/// The multipart answer made of `pieces`, produced as it is sent: text pieces as they are,
/// file pieces as slices of the bytes in memory (no copy) or read from disk by chunks of
/// [`READ_CHUNK`] bytes, so that memory use does not grow with the answer.
fn multipart_stream(
    memory: Option<Bytes>,
    file: Option<tokio::fs::File>,
    pieces: Vec<Piece>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    struct State {
        memory: Option<Bytes>,
        file: Option<tokio::fs::File>,
        pieces: std::vec::IntoIter<Piece>,
        /// The file piece being sent: next position and last position.
        current: Option<(u64, u64)>,
        failed: bool,
    }
    let state = State {
        memory,
        file,
        pieces: pieces.into_iter(),
        current: None,
        failed: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.failed {
            return None;
        }
        loop {
            if let Some((next, last)) = st.current {
                if next > last {
                    st.current = None;
                    continue;
                }
                let end = last.min(next + READ_CHUNK as u64 - 1);
                st.current = Some((end + 1, last));
                let chunk = read_part(&st.memory, &mut st.file, next, end).await;
                if chunk.is_err() {
                    st.failed = true;
                }
                return Some((chunk, st));
            }
            match st.pieces.next()? {
                Piece::Text(b) => return Some((Ok(b), st)),
                Piece::File(first, last) => st.current = Some((first, last)),
            }
        }
    })
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

    #[test]
    fn ranges_are_merged_sorted_and_bounded() {
        let spec = format!("bytes={}", vec!["0-1019044"; 32].join(","));
        assert_eq!(
            parse_ranges(Some(&spec), 1_019_045),
            Ranges::Parts(vec![(0, 1_019_044)])
        );
        assert_eq!(
            parse_ranges(Some("bytes=50-59, 0-9, 10-19, 5-6, -5"), 100),
            Ranges::Parts(vec![(0, 19), (50, 59), (95, 99)])
        );
        let many = format!("bytes={}", vec!["0-0"; MAX_RANGES + 1].join(","));
        assert_eq!(parse_ranges(Some(&many), 100), Ranges::Unsatisfiable);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 512,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Whatever the header, the parts are sorted, disjoint, not adjacent, inside the file,
        /// and together no longer than it.
        #[test]
        fn any_range_header_gives_bounded_parts(value in "\\PC{0,80}", len in 0u64..10_000) {
            for v in [value.clone(), format!("bytes={value}")] {
                if let Ranges::Parts(parts) = parse_ranges(Some(&v), len) {
                    proptest::prop_assert!(!parts.is_empty() && parts.len() <= MAX_RANGES);
                    let mut total = 0u64;
                    for (i, (first, last)) in parts.iter().enumerate() {
                        proptest::prop_assert!(first <= last && *last < len);
                        if i > 0 {
                            proptest::prop_assert!(*first > parts[i - 1].1 + 1);
                        }
                        total += last - first + 1;
                    }
                    proptest::prop_assert!(total <= len);
                }
            }
        }
    }
}
