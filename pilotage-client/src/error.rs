//! Errors of the client: each names what was asked and carries the server's problem body.

use std::path::PathBuf;

use pilotage_wire::Problem;

/// Everything that can go wrong talking to the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL given to the builder cannot be parsed or is not `http(s)`.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The HTTP client cannot be built (TLS set-up, bad header value).
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The server could not be reached (refused, reset, timed out) after every attempt, or
    /// the connection failed while the answer was read. The message names the URL and the
    /// whole chain of causes (e.g. `tcp connect error: Connection refused (os error 111)`),
    /// which the transport error alone does not show.
    #[error("cannot reach {url}: {}", cause_chain(source))]
    Connect {
        /// URL requested.
        url: String,
        /// Transport error of the last attempt.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status and (usually) an RFC 9457 problem body.
    #[error("{url}: HTTP {status}: {}", problem.detail)]
    Api {
        /// URL requested.
        url: String,
        /// HTTP status.
        status: u16,
        /// The problem body (synthesized from the status when the body was not a problem).
        problem: Box<Problem>,
        /// Seconds the server asked to wait (`Retry-After`), if given.
        retry_after: Option<u64>,
    },
    /// The body is not what the API specifies.
    #[error("{url}: unexpected body: {reason}")]
    UnexpectedBody {
        /// URL requested.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A file of the release does not exist in its manifest.
    #[error("release {release}: no file named {name:?} in the manifest")]
    NotInManifest {
        /// Release version.
        release: String,
        /// File name asked for.
        name: String,
    },
    /// A downloaded file does not match the manifest's SHA-256 (it was removed).
    #[error(
        "{name}: SHA-256 {actual} differs from the manifest's {expected}; the download was removed"
    )]
    ChecksumMismatch {
        /// File name.
        name: String,
        /// SHA-256 of the manifest.
        expected: String,
        /// SHA-256 of the bytes received.
        actual: String,
    },
    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet answer cannot be decoded into Arrow batches.
    #[cfg(feature = "arrow")]
    #[error("{url}: cannot read the Parquet answer: {reason}")]
    Parquet {
        /// URL requested.
        url: String,
        /// Decoder message.
        reason: String,
    },
}

impl Error {
    /// The server's problem body, for an [`Error::Api`].
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The HTTP status, for an [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `error` and its sources, outermost first, joined by `: `; a cause whose text the
/// previous one already shows is left out, and the URL the transport error repeats is
/// dropped (the message names it once).
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let mut text = e.to_string();
        if let Some(re) = e.downcast_ref::<reqwest::Error>()
            && let Some(url) = re.url()
        {
            text = text.replace(&format!(" for url ({url})"), "");
        }
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Result of the client's calls.
pub type Result<T> = std::result::Result<T, Error>;
