//! One handle per resource of the API: datasets, data queries, releases, territories.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use pilotage_wire::{
    DataPage, DatasetDetail, DatasetList, Health, Manifest, ReleaseList, Territory,
};

use crate::client::Client;
use crate::error::Result;

/// One row of a data answer: column name to value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// The dataset catalogue.
    pub fn datasets(&self) -> Datasets {
        Datasets {
            client: self.clone(),
            release: None,
        }
    }

    /// A data query on dataset `id` (`GET /v1/datasets/{id}/data`).
    pub fn data(&self, id: &str) -> DataQuery {
        DataQuery {
            client: self.clone(),
            dataset: id.to_owned(),
            filters: Vec::new(),
            measures: Vec::new(),
            sort: Vec::new(),
            limit: None,
            release: None,
        }
    }

    /// The releases and their files.
    pub fn releases(&self) -> Releases {
        Releases {
            client: self.clone(),
        }
    }

    /// Territories of the official referential at `level` (`region`, `departement`,
    /// `commune`, `epci`).
    pub async fn territories(&self, level: &str) -> Result<Vec<Territory>> {
        self.get_json(&format!("/v1/territories?level={}", encode(level)))
            .await
    }

    /// `GET /readyz`: the process and its current release.
    pub async fn health(&self) -> Result<Health> {
        self.get_json("/healthz").await
    }
}

/// The dataset catalogue of a release (`current` unless pinned).
#[derive(Debug, Clone)]
pub struct Datasets {
    client: Client,
    release: Option<String>,
}

impl Datasets {
    /// Pins a release version (or `current`).
    pub fn release(mut self, version: impl Into<String>) -> Self {
        self.release = Some(version.into());
        self
    }

    fn suffix(&self) -> String {
        self.release
            .as_deref()
            .map(|r| format!("?release={}", encode(r)))
            .unwrap_or_default()
    }

    /// Every dataset of the release, by id.
    pub async fn list(&self) -> Result<DatasetList> {
        self.client
            .get_json(&format!("/v1/datasets{}", self.suffix()))
            .await
    }

    /// One dataset: dimensions with their members, measures with units, files.
    pub async fn get(&self, id: &str) -> Result<DatasetDetail> {
        self.client
            .get_json(&format!("/v1/datasets/{}{}", encode(id), self.suffix()))
            .await
    }

    /// The dataset's Table Schema (frictionless), as JSON.
    pub async fn schema(&self, id: &str) -> Result<serde_json::Value> {
        self.client
            .get_json(&format!(
                "/v1/datasets/{}/schema{}",
                encode(id),
                self.suffix()
            ))
            .await
    }
}

/// An answer encoding of the data route: the type the server shares, from `pilotage-wire`.
pub use pilotage_wire::Format;

/// A data query: filters, measures, sort, page size, release; run as one page, a stream of
/// rows to the end, encoded bytes, or Arrow batches.
#[derive(Debug, Clone)]
pub struct DataQuery {
    client: Client,
    dataset: String,
    filters: Vec<(String, Vec<String>)>,
    measures: Vec<String>,
    sort: Vec<String>,
    limit: Option<u64>,
    release: Option<String>,
}

impl DataQuery {
    /// Keeps rows whose `dimension` has one of `codes` (`territoire=REG-84,REG-11`).
    ///
    /// Calling it again for the same dimension adds to its codes (each code once, in the
    /// order given): the API takes one comma-separated list per dimension and refuses a
    /// parameter given twice.
    pub fn filter<I, S>(mut self, dimension: &str, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let at = match self.filters.iter().position(|(d, _)| d == dimension) {
            Some(at) => at,
            None => {
                self.filters.push((dimension.to_owned(), Vec::new()));
                self.filters.len() - 1
            }
        };
        let list = &mut self.filters[at].1;
        for code in codes {
            let code = code.into();
            if !list.contains(&code) {
                list.push(code);
            }
        }
        self
    }

    /// Measures to return (default: every measure).
    pub fn measures<I, S>(mut self, measures: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.measures = measures.into_iter().map(Into::into).collect();
        self
    }

    /// Sort keys, `-column` for descending.
    pub fn sort<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.sort = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Rows per page (default: every row in one streamed answer).
    pub fn limit(mut self, rows: u64) -> Self {
        self.limit = Some(rows);
        self
    }

    /// Pins a release version (or `current`).
    pub fn release(mut self, version: impl Into<String>) -> Self {
        self.release = Some(version.into());
        self
    }

    /// Path and query of the first page in `format`.
    pub fn path(&self, format: Format) -> String {
        let mut q = vec![format!("format={}", format.name())];
        for (dim, codes) in &self.filters {
            let codes: Vec<String> = codes.iter().map(|c| encode(c)).collect();
            q.push(format!("{}={}", encode(dim), codes.join(",")));
        }
        if !self.measures.is_empty() {
            let m: Vec<String> = self.measures.iter().map(|c| encode(c)).collect();
            q.push(format!("measures={}", m.join(",")));
        }
        if !self.sort.is_empty() {
            let s: Vec<String> = self.sort.iter().map(|c| encode(c)).collect();
            q.push(format!("sort={}", s.join(",")));
        }
        if let Some(l) = self.limit {
            q.push(format!("limit={l}"));
        }
        if let Some(r) = &self.release {
            q.push(format!("release={}", encode(r)));
        }
        format!(
            "/v1/datasets/{}/data?{}",
            encode(&self.dataset),
            q.join("&")
        )
    }

    /// The first page as JSON.
    pub async fn page(&self) -> Result<DataPage> {
        self.client.get_json(&self.path(Format::Json)).await
    }

    /// Every page, following `Link: rel="next"` to the end.
    pub fn pages(&self) -> Pin<Box<dyn Stream<Item = Result<DataPage>> + Send>> {
        let client = self.client.clone();
        let first = Some(self.path(Format::Json));
        Box::pin(futures_util::stream::unfold(
            (client, first),
            |(client, next)| async move {
                let path = next?;
                match client.get(&path).await {
                    Ok(answer) => {
                        let follow = answer.next_link();
                        match answer.json::<DataPage>() {
                            Ok(page) => Some((Ok(page), (client, follow))),
                            Err(e) => Some((Err(e), (client, None))),
                        }
                    }
                    Err(e) => Some((Err(e), (client, None))),
                }
            },
        ))
    }

    /// Every row of every page, in answer order.
    pub fn rows(&self) -> Pin<Box<dyn Stream<Item = Result<Row>> + Send>> {
        use futures_util::StreamExt;
        Box::pin(self.pages().flat_map(|page| {
            let items: Vec<Result<Row>> = match page {
                Ok(p) => p.rows.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures_util::stream::iter(items)
        }))
    }

    /// The first page's bytes in `format` (every row when no limit is set).
    pub async fn bytes(&self, format: Format) -> Result<Bytes> {
        Ok(self.client.get(&self.path(format)).await?.body)
    }

    /// Every row as Arrow record batches, through `format=parquet`, following pages.
    #[cfg(feature = "arrow")]
    pub async fn record_batches(&self) -> Result<Vec<arrow_array::RecordBatch>> {
        let mut batches = Vec::new();
        let mut next = Some(self.path(Format::Parquet));
        while let Some(path) = next {
            let answer = self.client.get(&path).await?;
            next = answer.next_link();
            batches.extend(crate::arrow::read_parquet(&answer.url, answer.body)?);
        }
        Ok(batches)
    }
}

/// The releases of the server and their files.
#[derive(Debug, Clone)]
pub struct Releases {
    client: Client,
}

impl Releases {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Every release, oldest first, and which one is current.
    pub async fn list(&self) -> Result<ReleaseList> {
        self.client.get_json("/v1/releases").await
    }

    /// The manifest of `version` (or `current`).
    pub async fn manifest(&self, version: &str) -> Result<Manifest> {
        self.client
            .get_json(&format!("/v1/releases/{}", encode(version)))
            .await
    }

    /// A release file in memory (small files: the manifest, schemas, CSV of a small dataset).
    pub async fn file(&self, version: &str, name: &str) -> Result<Bytes> {
        Ok(self
            .client
            .get(&format!(
                "/v1/releases/{}/files/{}",
                encode(version),
                encode(name)
            ))
            .await?
            .body)
    }
}
