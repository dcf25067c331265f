//! Content codings of answers (RFC 9110 §8.4): gzip and zstd, negotiated from
//! `Accept-Encoding`, each with its own strong entity tag.
//!
//! A strong ETag names one exact sequence of bytes, so the gzip and the zstd answer of a query
//! cannot share the identity answer's tag: the coding is appended inside the quotes
//! (`"3fa2c1d09b7e4a15-gzip"`). `If-None-Match` matches any coding of the same answer, since
//! a client stores the decoded content whichever coding it received. Answers encoded here say so
//! in `Content-Encoding`, which keeps the generic compression middleware off them; an identity
//! answer carries the internal marker [`IDENTITY`] until the outer middleware removes it.

use std::io::Write;

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use bytes::Bytes;

/// Bodies shorter than this are sent as they are: compressing them saves nothing.
pub const MIN_COMPRESS_BYTES: usize = 512;
/// `Content-Encoding` value marking an answer this module chose not to compress; the outer
/// middleware removes it before the answer leaves (RFC 9110 keeps `identity` out of
/// `Content-Encoding`).
pub const IDENTITY: &str = "identity";
/// zstd level: fast, and close to gzip's ratio on JSON and CSV.
const ZSTD_LEVEL: i32 = 3;

/// A content coding of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Coding {
    /// The bytes as they are.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
    /// zstd (RFC 8878).
    Zstd,
}

impl Coding {
    /// The token of `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => IDENTITY,
            Coding::Gzip => "gzip",
            Coding::Zstd => "zstd",
        }
    }

    /// The coding the client prefers among gzip and zstd (highest q, zstd on a tie, `*`
    /// counting for both), or identity when it accepts neither.
    pub fn negotiate(headers: &HeaderMap) -> Coding {
        let mut best = (0.0f32, Coding::Identity);
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(text) = value.to_str() else { continue };
            for item in text.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim();
                let mut q = 1.0f32;
                for p in parts {
                    if let Some(v) = p.trim().strip_prefix("q=") {
                        q = v.trim().parse().unwrap_or(0.0);
                    }
                }
                let candidates: &[Coding] = if name.eq_ignore_ascii_case("zstd") {
                    &[Coding::Zstd]
                } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                    &[Coding::Gzip]
                } else if name == "*" {
                    &[Coding::Zstd, Coding::Gzip]
                } else {
                    &[]
                };
                for c in candidates {
                    if q > best.0 || (q == best.0 && q > 0.0 && *c > best.1) {
                        best = (q, *c);
                    }
                }
            }
        }
        best.1
    }

    /// The entity tag of this coding of the answer whose identity tag is `etag` (quoted).
    pub fn etag(self, etag: &str) -> String {
        match self {
            Coding::Identity => etag.to_owned(),
            coded => match etag.strip_suffix('"') {
                Some(open) => format!("{open}-{}\"", coded.token()),
                None => format!("{etag}-{}", coded.token()),
            },
        }
    }

    /// `body` in this coding.
    pub fn encode(self, body: &[u8]) -> std::io::Result<Bytes> {
        match self {
            Coding::Identity => Ok(Bytes::copy_from_slice(body)),
            Coding::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4),
                    flate2::Compression::default(),
                );
                enc.write_all(body)?;
                enc.finish().map(Bytes::from)
            }
            Coding::Zstd => zstd::bulk::compress(body, ZSTD_LEVEL).map(Bytes::from),
        }
    }

    /// The `Content-Encoding` header value of an answer in this coding.
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(self.token())
    }
}

/// True when the entity tag `candidate` (from `If-None-Match`, possibly weak, possibly of
/// another coding) names the answer whose identity tag is `etag`, or is `*`.
pub fn same_entity(candidate: &str, etag: &str) -> bool {
    let candidate = candidate.trim();
    if candidate == "*" {
        return true;
    }
    let candidate = candidate.strip_prefix("W/").unwrap_or(candidate);
    if candidate == etag {
        return true;
    }
    let Some(base) = etag.strip_suffix('"') else {
        return false;
    };
    // `etag` itself may carry a coding suffix: compare identity forms.
    let base = strip_coding(base);
    let cand = candidate.strip_suffix('"').map(strip_coding);
    cand == Some(base)
}

fn strip_coding(open: &str) -> &str {
    for suffix in ["-gzip", "-zstd", "-br", "-deflate"] {
        if let Some(s) = open.strip_suffix(suffix) {
            return s;
        }
    }
    open
}

/// True when `If-None-Match` lists a coding of the answer tagged `etag`, or `*`.
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| same_entity(t, etag)))
    })
}

/// Compresses a streamed answer chunk by chunk.
pub enum StreamEncoder {
    /// gzip.
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    /// zstd.
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl std::fmt::Debug for StreamEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StreamEncoder::Gzip(_) => "StreamEncoder::Gzip",
            StreamEncoder::Zstd(_) => "StreamEncoder::Zstd",
        })
    }
}

impl StreamEncoder {
    /// An encoder for `coding`; none for identity.
    pub fn new(coding: Coding) -> std::io::Result<Option<StreamEncoder>> {
        Ok(match coding {
            Coding::Identity => None,
            Coding::Gzip => Some(StreamEncoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::default(),
            ))),
            Coding::Zstd => Some(StreamEncoder::Zstd(zstd::stream::write::Encoder::new(
                Vec::new(),
                ZSTD_LEVEL,
            )?)),
        })
    }

    /// Compresses `chunk`; returns the compressed bytes ready so far (possibly none).
    pub fn push(&mut self, chunk: &[u8]) -> std::io::Result<Bytes> {
        let out = match self {
            StreamEncoder::Gzip(e) => {
                e.write_all(chunk)?;
                e.get_mut()
            }
            StreamEncoder::Zstd(e) => {
                e.write_all(chunk)?;
                e.get_mut()
            }
        };
        Ok(Bytes::from(std::mem::take(out)))
    }

    /// Ends the stream; returns the last compressed bytes.
    pub fn finish(self) -> std::io::Result<Bytes> {
        match self {
            StreamEncoder::Gzip(e) => e.finish().map(Bytes::from),
            StreamEncoder::Zstd(e) => e.finish().map(Bytes::from),
        }
    }
}

/// `stream` compressed in `coding` (identity passes it through); empty chunks are left out,
/// since an empty chunk would end a chunked body early.
pub fn encode_stream<S>(
    coding: Coding,
    stream: S,
) -> std::io::Result<
    impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + 'static + use<S>,
>
where
    S: futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + 'static,
{
    use futures_util::StreamExt;
    let encoder = StreamEncoder::new(coding)?;
    let state = (Box::pin(stream), encoder, false);
    let out = futures_util::stream::unfold(state, |(mut inner, mut enc, done)| async move {
        if done {
            return None;
        }
        loop {
            match inner.next().await {
                Some(Ok(chunk)) => {
                    let out = match enc.as_mut() {
                        Some(e) => match e.push(&chunk) {
                            Ok(b) => b,
                            Err(err) => return Some((Err(err), (inner, None, true))),
                        },
                        None => chunk,
                    };
                    if !out.is_empty() {
                        return Some((Ok(out), (inner, enc, false)));
                    }
                }
                Some(Err(never)) => match never {},
                None => {
                    return match enc.take().map(StreamEncoder::finish) {
                        Some(Ok(last)) if !last.is_empty() => Some((Ok(last), (inner, None, true))),
                        Some(Err(err)) => Some((Err(err), (inner, None, true))),
                        _ => None,
                    };
                }
            }
        }
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(accept) {
            h.insert(header::ACCEPT_ENCODING, v);
        }
        h
    }

    #[test]
    fn negotiation_follows_q_values() {
        assert_eq!(Coding::negotiate(&HeaderMap::new()), Coding::Identity);
        assert_eq!(Coding::negotiate(&headers("gzip")), Coding::Gzip);
        assert_eq!(
            Coding::negotiate(&headers("gzip, deflate, br, zstd")),
            Coding::Zstd
        );
        assert_eq!(
            Coding::negotiate(&headers("zstd;q=0.5, gzip")),
            Coding::Gzip
        );
        assert_eq!(Coding::negotiate(&headers("*")), Coding::Zstd);
        assert_eq!(Coding::negotiate(&headers("br, deflate")), Coding::Identity);
        assert_eq!(
            Coding::negotiate(&headers("gzip;q=0, identity")),
            Coding::Identity
        );
    }

    #[test]
    fn each_coding_has_its_own_strong_tag_and_matches_the_others() {
        let tag = "\"0123abcd\"";
        assert_eq!(Coding::Identity.etag(tag), tag);
        assert_eq!(Coding::Gzip.etag(tag), "\"0123abcd-gzip\"");
        assert_eq!(Coding::Zstd.etag(tag), "\"0123abcd-zstd\"");
        assert!(same_entity("\"0123abcd-gzip\"", tag));
        assert!(same_entity("W/\"0123abcd-zstd\"", "\"0123abcd-gzip\""));
        assert!(same_entity(tag, "\"0123abcd-zstd\""));
        assert!(same_entity("*", tag));
        assert!(!same_entity("\"0123abce-gzip\"", tag));
        assert!(!same_entity("\"0123abcd-gzip2\"", tag));
    }

    #[actix_web::test]
    async fn codings_round_trip_whole_and_streamed() {
        let body: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{{\"row\":{i}}},").into_bytes())
            .collect();
        let gz = Coding::Gzip.encode(&body).unwrap_or_default();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap_or_default();
        assert_eq!(back, body);
        let zs = Coding::Zstd.encode(&body).unwrap_or_default();
        assert_eq!(zstd::decode_all(&zs[..]).unwrap_or_default(), body);
        assert!(zs.len() < body.len() / 4);

        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = body
            .chunks(7_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let stream = futures_util::stream::iter(chunks);
        let Ok(encoded) = encode_stream(Coding::Zstd, stream) else {
            panic!("encoder");
        };
        let parts: Vec<Result<Bytes, std::io::Error>> =
            futures_util::StreamExt::collect(encoded).await;
        let mut joined = Vec::new();
        for p in parts {
            let p = p.unwrap_or_default();
            assert!(!p.is_empty());
            joined.extend_from_slice(&p);
        }
        assert_eq!(zstd::decode_all(&joined[..]).unwrap_or_default(), body);
    }
}
