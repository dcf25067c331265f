//! Data queries: filters, measures, sort, keyset pagination, and the four encodings.
//!
//! A query is parsed against one dataset into a [`Query`] (every mistake is a 400 problem
//! naming the parameter and listing what is valid), then [`select`] finds the rows through the
//! code indexes, and the encoders write them as JSON, NDJSON, CSV or Parquet. Answers above
//! [`STREAM_ROWS`] rows are streamed in chunks, encoded as the client reads them.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Schema};
use bytes::Bytes;
use pilotage_core::release::{LEVEL_SUFFIX, STATUS_SUFFIX};
use sha2::{Digest, Sha256};

use super::problem::{MAX_QUOTED, Problem, prefix, quote};
use super::releases::Dataset;

/// Answers with more rows than this are streamed (and not cached).
pub const STREAM_ROWS: usize = 20_000;
/// Rows encoded per streamed chunk.
const CHUNK_ROWS: usize = 4_096;

/// Most rows a page holds (`limit=`): row ids are 32-bit, so no dataset holds more.
pub const MAX_LIMIT: u64 = u32::MAX as u64;

/// The syntax of `sort=` as the OpenAPI document gives it: column names separated by commas,
/// each optionally prefixed with `-` (descending) or `+`, spaces allowed around a key. Which
/// names are columns depends on the dataset, so a key matching it may still be refused (400).
pub const SORT_PATTERN: &str = "^ *[-+]?[A-Za-z0-9_]+ *(, *[-+]?[A-Za-z0-9_]+ *)*$";

/// Query parameters with a fixed meaning; any other parameter filters a code column.
pub const RESERVED: [&str; 6] = ["format", "measures", "sort", "limit", "cursor", "release"];

/// An answer encoding: the type the client shares, from `pilotage-wire`.
pub use pilotage_wire::Format;

/// Chooses the encoding: `format=` first, then `Accept` (with q-values), JSON by default.
/// A format nobody serves is a 406 naming what is available.
pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<Format, Problem> {
    let not_acceptable = |detail: String, param: &str| {
        Problem::new(StatusCode::NOT_ACCEPTABLE, "not-acceptable", "Format not available", detail)
            .param(param)
            .hint("formats: json (application/json), csv (text/csv), ndjson (application/x-ndjson), parquet (application/vnd.apache.parquet)")
    };
    if let Some(name) = format {
        return Format::from_name(&name.to_ascii_lowercase()).ok_or_else(|| {
            not_acceptable(format!("no format is named {}", quote(name)), "format")
        });
    }
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Format::Json);
    };
    let mut best: Option<(f32, usize, Format)> = None;
    for (order, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q <= 0.0 {
            continue;
        }
        let format = match media.as_str() {
            "application/json" | "application/*" | "*/*" | "application/problem+json" => {
                Some(Format::Json)
            }
            "text/csv" | "text/*" => Some(Format::Csv),
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
                Some(Format::Ndjson)
            }
            "application/vnd.apache.parquet" | "application/x-parquet" => Some(Format::Parquet),
            _ => None,
        };
        if let Some(f) = format {
            // Higher q wins; on a tie the first listed.
            if best.is_none_or(|(bq, _, _)| q > bq) {
                best = Some((q, order, f));
            }
        }
    }
    best.map(|(_, _, f)| f)
        .ok_or_else(|| not_acceptable(format!("no format matches Accept: {accept}"), "Accept"))
}

/// One sort key: a column, ascending or descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// Column name.
    pub column: String,
    /// True for `-column`.
    pub descending: bool,
}

/// A parsed, validated data query on one dataset.
#[derive(Debug, Clone)]
pub struct Query {
    /// Filters: code column name → keys accepted, sorted (BTreeMap: deterministic order).
    pub filters: BTreeMap<String, Vec<u32>>,
    /// Measures chosen, in definition order.
    pub measures: Vec<String>,
    /// Sort keys, in priority order (empty: release order).
    pub sort: Vec<SortKey>,
    /// Page size (none: every row).
    pub limit: Option<usize>,
    /// Row id after which the page starts (from the cursor).
    pub after: Option<u32>,
    /// Normalized form of filters, measures and sort: binds a cursor and keys the cache.
    pub normalized: String,
}

/// Parses the query pairs (all but the reserved ones are filters) against `dataset`.
/// `cursor` is decoded by the caller with [`decode_cursor`].
pub fn parse_query(
    dataset: &Dataset,
    pairs: &[(String, String)],
) -> Result<(Query, Option<String>), Problem> {
    let def = &dataset.definition;
    let mut seen = std::collections::BTreeSet::new();
    let mut filters: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut measures: Option<Vec<String>> = None;
    let mut sort = Vec::new();
    let mut limit = None;
    let mut cursor = None;
    for (name, value) in pairs {
        if !seen.insert(name.as_str()) {
            return Err(repeated_parameter(name));
        }
        match name.as_str() {
            "format" | "release" => {}
            "measures" => measures = Some(parse_measures(dataset, value)?),
            "sort" => sort = parse_sort(dataset, value)?,
            "limit" => limit = Some(parse_limit(value)?),
            "cursor" => cursor = Some(value.clone()),
            column => {
                let keys = parse_filter(dataset, column, value)?;
                filters.insert(column.to_owned(), keys);
            }
        }
    }
    let measures = measures.unwrap_or_else(|| def.measures.iter().map(|m| m.id.clone()).collect());
    let normalized = normalize(dataset, &filters, &sort);
    let query = Query {
        filters,
        measures,
        sort,
        limit,
        after: None,
        normalized,
    };
    Ok((query, cursor))
}

/// The 400 problem of a parameter given twice, with a hint on how to give it once.
fn repeated_parameter(name: &str) -> Problem {
    let problem = Problem::bad_parameter(
        name,
        format!("`{}` is given more than once", prefix(name, MAX_QUOTED)),
    );
    match name {
        "limit" | "cursor" | "format" | "release" => problem.hint(format!("give `{name}` once")),
        "measures" | "sort" => problem.hint(format!(
            "give one `{name}` with a comma-separated list, e.g. {}",
            if name == "sort" {
                "sort=-recues,territoire"
            } else {
                "measures=recues,acceptees"
            }
        )),
        _ => problem
            .hint("give a comma-separated list in one parameter, e.g. territoire=REG-84,REG-11"),
    }
}

/// `measures=`: the measures named, in definition order, without duplicates.
fn parse_measures(dataset: &Dataset, value: &str) -> Result<Vec<String>, Problem> {
    let def = &dataset.definition;
    let mut chosen = Vec::new();
    for m in split_list(value) {
        if def.measure(m).is_none() {
            return Err(Problem::bad_parameter(
                "measures",
                format!("the dataset has no measure {}", quote(m)),
            )
            .hint_values("measures", def.measures.iter().map(|m| m.id.as_str())));
        }
        chosen.push(m.to_owned());
    }
    if chosen.is_empty() {
        return Err(Problem::bad_parameter("measures", "the list is empty")
            .hint_values("measures", def.measures.iter().map(|m| m.id.as_str())));
    }
    // Definition order, no duplicates.
    Ok(def
        .measures
        .iter()
        .filter(|m| chosen.contains(&m.id))
        .map(|m| m.id.clone())
        .collect())
}

/// `sort=`: the sort keys, in priority order, each naming a column of the dataset.
fn parse_sort(dataset: &Dataset, value: &str) -> Result<Vec<SortKey>, Problem> {
    let mut sort = Vec::new();
    // The syntax the OpenAPI document gives (SORT_PATTERN): keys separated by
    // commas, none empty; spaces around a key (`+` in a query) are allowed.
    for item in value.split(',').map(|k| k.trim_matches(' ')) {
        if item.is_empty() {
            return Err(Problem::bad_parameter(
                "sort",
                "a sort key is empty (the list is empty or has a stray comma)",
            )
            .hint("give column names separated by commas, e.g. sort=-recues,territoire; leave `sort` out for release order"));
        }
        let (descending, column) = match item.strip_prefix('-') {
            Some(c) => (true, c),
            None => (false, item.strip_prefix('+').unwrap_or(item)),
        };
        if dataset.table.schema().index_of(column).is_err() {
            return Err(Problem::bad_parameter(
                "sort",
                format!("the dataset has no column {}", quote(column)),
            )
            .hint_values(
                "columns (prefix with - to sort descending)",
                dataset
                    .table
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>(),
            ));
        }
        sort.push(SortKey {
            column: column.to_owned(),
            descending,
        });
    }
    Ok(sort)
}

/// `limit=`: a page size from 1 to [`MAX_LIMIT`] rows.
fn parse_limit(value: &str) -> Result<usize, Problem> {
    let text = value.trim();
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let n = text.parse::<u64>().ok().filter(|n| *n > 0);
    match n {
        Some(n) if n <= MAX_LIMIT => Ok(n as usize),
        None if !digits || text.bytes().all(|b| b == b'0') => Err(Problem::bad_parameter(
            "limit",
            format!("{} is not a positive integer", quote(value)),
        )
        .hint("give a number of rows ≥ 1, e.g. limit=100; leave it out for every row")),
        _ => Err(Problem::bad_parameter(
            "limit",
            format!(
                "{} is more than the most rows a page holds, {MAX_LIMIT}",
                quote(value)
            ),
        )
        .hint(format!(
            "give a number of rows from 1 to {MAX_LIMIT}; leave it out for every row"
        ))),
    }
}

/// A filter on the code column `column`: the keys of the codes listed, sorted, without
/// duplicates. An unknown column is a 400 listing the parameters the dataset takes.
fn parse_filter(dataset: &Dataset, column: &str, value: &str) -> Result<Vec<u32>, Problem> {
    let Some(col) = dataset.code_column(column) else {
        let mut valid: Vec<&str> = dataset
            .code_columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        valid.extend(RESERVED);
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "unknown-dimension",
            "Unknown dimension",
            format!(
                "the dataset {:?} has no dimension {}",
                dataset.definition.id,
                quote(column)
            ),
        )
        .param(column)
        .hint_values("parameters", valid));
    };
    let mut keys = Vec::new();
    for code in split_list(value) {
        keys.push(resolve_code(col, code, column)?);
    }
    if keys.is_empty() {
        return Err(Problem::bad_parameter(column, "the list of codes is empty")
            .hint_values("codes", col.codes.iter().map(String::as_str)));
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

/// The normalized form of filters and sort (`col=code,code&…&sort=-a,b`): binds a cursor and
/// keys the cache.
fn normalize(dataset: &Dataset, filters: &BTreeMap<String, Vec<u32>>, sort: &[SortKey]) -> String {
    let mut normalized = String::new();
    for (name, keys) in filters {
        let col = dataset.code_column(name).map(|c| &c.codes);
        let codes: Vec<&str> = keys
            .iter()
            .filter_map(|k| col.and_then(|c| c.get(*k as usize)).map(String::as_str))
            .collect();
        normalized.push_str(&format!("{name}={}&", codes.join(",")));
    }
    let sort_text: Vec<String> = sort
        .iter()
        .map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.column))
        .collect();
    normalized.push_str(&format!("sort={}", sort_text.join(",")));
    normalized
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The key of `code` in `col`: the exact code, or a bare code naming exactly one member
/// (`84` for `REG-84`, `01` for `DEP-01`).
fn resolve_code(
    col: &super::releases::CodeColumn,
    code: &str,
    param: &str,
) -> Result<u32, Problem> {
    if let Some(k) = col.key(code) {
        return Ok(k);
    }
    let suffix = format!("-{code}");
    let matches: Vec<usize> = col
        .codes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.ends_with(&suffix))
        .map(|(i, _)| i)
        .collect();
    if matches.len() == 1 {
        return Ok(matches[0] as u32);
    }
    let detail = if matches.is_empty() {
        format!(
            "{}: no row has the code {}",
            prefix(param, MAX_QUOTED),
            quote(code)
        )
    } else {
        let names: Vec<&str> = matches.iter().map(|i| col.codes[*i].as_str()).collect();
        format!(
            "{}: the code {} is ambiguous ({})",
            prefix(param, MAX_QUOTED),
            quote(code),
            names.join(", ")
        )
    };
    Err(Problem::new(
        StatusCode::BAD_REQUEST,
        "unknown-code",
        "Unknown code",
        detail,
    )
    .param(param)
    .hint_values("codes", col.codes.iter().map(String::as_str)))
}

/// Hash of text, 16 hex digits: ETags and cursor bindings.
pub fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// What a cursor is bound to: the release, the dataset, and the normalized filters, measures
/// and sort, and the row it resumes after. Its check is a hash of all of them, so a cursor
/// used on another dataset, query or release, or with another row, is refused.
fn cursor_check(release: &str, dataset: &str, normalized: &str, last_row: u32) -> String {
    short_hash(&[
        "cursor",
        release,
        dataset,
        normalized,
        &last_row.to_string(),
    ])
}

/// Encodes a cursor: release, last row id, and the check binding them to the dataset and the
/// query (`cursor_check`).
pub fn encode_cursor(release: &str, dataset: &str, last_row: u32, normalized: &str) -> String {
    hex::encode(format!(
        "2:{release}:{last_row}:{}",
        cursor_check(release, dataset, normalized, last_row)
    ))
}

/// Decodes a cursor into (release, last row id), checking it was made for this dataset and
/// query, with this row, by this API.
pub fn decode_cursor(
    cursor: &str,
    dataset: &str,
    normalized: &str,
) -> Result<(String, u32), Problem> {
    let bad = |why: &str| {
        Problem::new(StatusCode::BAD_REQUEST, "bad-cursor", "Invalid cursor", why.to_owned())
            .param("cursor")
            .hint("use the cursor of the Link rel=\"next\" header with the same dataset, filters and sort")
    };
    let foreign = || bad("the cursor is not one this API made");
    if cursor.len() > 1024 {
        return Err(foreign());
    }
    let bytes = hex::decode(cursor).map_err(|_| foreign())?;
    let text = String::from_utf8(bytes).map_err(|_| foreign())?;
    let parts: Vec<&str> = text.split(':').collect();
    let [version, release, row, check] = parts.as_slice() else {
        return Err(foreign());
    };
    if *version != "2" {
        return Err(foreign());
    }
    let row: u32 = row.parse().map_err(|_| foreign())?;
    if *check != cursor_check(release, dataset, normalized, row) {
        return Err(bad(
            "the cursor belongs to another dataset or query (filters, sort), or was altered",
        ));
    }
    Ok(((*release).to_owned(), row))
}

/// The rows a query selects, in answer order, and whether a page follows.
#[derive(Debug)]
pub struct Selection {
    /// Row ids of this page.
    pub rows: Vec<u32>,
    /// Last row id of this page when another page follows.
    pub next_after: Option<u32>,
}

/// Finds the rows of `query`: smallest posting list first, then the other filters by key,
/// then the sort, then the page after the cursor.
pub fn select(dataset: &Dataset, query: &Query) -> Result<Selection, Problem> {
    let n = dataset.rows();
    let mut rows: Vec<u32> = if query.filters.is_empty() {
        (0..n as u32).collect()
    } else {
        let mut cols: Vec<(&super::releases::CodeColumn, &Vec<u32>)> = query
            .filters
            .iter()
            .filter_map(|(name, keys)| dataset.code_column(name).map(|c| (c, keys)))
            .collect();
        cols.sort_by_key(|(c, keys)| {
            keys.iter()
                .map(|k| c.postings[*k as usize].len())
                .sum::<usize>()
        });
        let (first, first_keys) = cols[0];
        let mut rows: Vec<u32> = first_keys
            .iter()
            .flat_map(|k| first.postings[*k as usize].iter().copied())
            .collect();
        if first_keys.len() > 1 {
            rows.sort_unstable();
        }
        for (col, keys) in &cols[1..] {
            let mut accept = vec![false; col.codes.len()];
            for k in keys.iter() {
                accept[*k as usize] = true;
            }
            rows.retain(|r| accept[col.keys[*r as usize] as usize]);
        }
        rows
    };
    if !query.sort.is_empty() {
        sort_rows(dataset, &query.sort, &mut rows)?;
    }
    let position = |after: u32| {
        if query.sort.is_empty() {
            rows.binary_search(&after).ok()
        } else {
            rows.iter().position(|r| *r == after)
        }
    };
    let start = match query.after {
        None => 0,
        Some(after) => match position(after) {
            Some(p) => p + 1,
            None => {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "bad-cursor",
                    "Invalid cursor",
                    "the cursor names a row this query does not select",
                )
                .param("cursor")
                .hint("use the cursor of the Link rel=\"next\" header of the previous page"));
            }
        },
    };
    let end = match query.limit {
        Some(l) => start.saturating_add(l).min(rows.len()),
        None => rows.len(),
    };
    let next_after = if end < rows.len() && end > start {
        Some(rows[end - 1])
    } else {
        None
    };
    rows.truncate(end);
    rows.drain(..start.min(rows.len()));
    Ok(Selection { rows, next_after })
}

fn sort_rows(dataset: &Dataset, keys: &[SortKey], rows: &mut [u32]) -> Result<(), Problem> {
    enum Col<'a> {
        Keys(&'a [u32]),
        Num(Vec<Option<f64>>),
        Text(&'a arrow_array::StringArray),
    }
    let schema = dataset.table.schema();
    let mut cols = Vec::new();
    for k in keys {
        let col = if let Some(c) = dataset.code_column(&k.column) {
            Col::Keys(&c.keys)
        } else {
            let idx = schema.index_of(&k.column).map_err(|_| {
                Problem::bad_parameter("sort", format!("no column {}", quote(&k.column)))
            })?;
            let array = dataset.table.column(idx);
            match array.data_type() {
                DataType::Int64 => {
                    let a = array.as_primitive::<Int64Type>();
                    Col::Num(
                        (0..a.len())
                            .map(|i| a.is_valid(i).then(|| a.value(i) as f64))
                            .collect(),
                    )
                }
                DataType::UInt64 => {
                    let a = array.as_primitive::<UInt64Type>();
                    Col::Num(
                        (0..a.len())
                            .map(|i| a.is_valid(i).then(|| a.value(i) as f64))
                            .collect(),
                    )
                }
                DataType::Float64 => {
                    let a = array.as_primitive::<Float64Type>();
                    Col::Num(
                        (0..a.len())
                            .map(|i| a.is_valid(i).then(|| a.value(i)))
                            .collect(),
                    )
                }
                _ => Col::Text(array.as_string::<i32>()),
            }
        };
        cols.push((col, k.descending));
    }
    rows.sort_by(|a, b| {
        let (a, b) = (*a as usize, *b as usize);
        for (col, desc) in &cols {
            let ord = match col {
                Col::Keys(k) => k[a].cmp(&k[b]),
                // Nulls last whatever the direction.
                Col::Num(v) => match (v[a], v[b]) {
                    (Some(x), Some(y)) => {
                        let o = x.total_cmp(&y);
                        if *desc { o.reverse() } else { o }
                    }
                    (None, Some(_)) => return std::cmp::Ordering::Greater,
                    (Some(_), None) => return std::cmp::Ordering::Less,
                    (None, None) => std::cmp::Ordering::Equal,
                },
                Col::Text(s) => s
                    .is_null(a)
                    .cmp(&s.is_null(b))
                    .then_with(|| s.value(a).cmp(s.value(b))),
            };
            let ord = if matches!(col, Col::Num(_)) || !*desc {
                ord
            } else {
                ord.reverse()
            };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.cmp(&b)
    });
    Ok(())
}

/// The columns an answer holds: every dimension and level, then each chosen measure and its
/// status.
pub fn output_columns(dataset: &Dataset, measures: &[String]) -> Vec<usize> {
    let schema = dataset.table.schema();
    let mut out = Vec::new();
    for d in &dataset.definition.dimensions {
        for name in [d.id.clone(), format!("{}{LEVEL_SUFFIX}", d.id)] {
            if let Ok(i) = schema.index_of(&name) {
                out.push(i);
            }
        }
    }
    for m in measures {
        for name in [m.clone(), format!("{m}{STATUS_SUFFIX}")] {
            if let Ok(i) = schema.index_of(&name) {
                out.push(i);
            }
        }
    }
    out
}

/// Writes rows in one of the text encodings; holds what every chunk needs.
#[derive(Debug, Clone)]
pub struct TextEncoder {
    dataset: Arc<Dataset>,
    columns: Vec<usize>,
    /// Column names as JSON strings with their colon (`"territoire":`).
    json_keys: Vec<String>,
    format: Format,
}

impl TextEncoder {
    /// An encoder of `columns` of `dataset` in `format` (not Parquet).
    pub fn new(dataset: Arc<Dataset>, columns: Vec<usize>, format: Format) -> Self {
        let schema = dataset.table.schema();
        let json_keys = columns
            .iter()
            .map(|i| {
                let name = schema.field(*i).name();
                format!("{}:", serde_json::Value::String(name.clone()))
            })
            .collect();
        TextEncoder {
            dataset,
            columns,
            json_keys,
            format,
        }
    }

    /// What comes before the rows: the CSV header, or the JSON document's opening.
    pub fn head(&self, release: &str, next: Option<&str>) -> Vec<u8> {
        let mut out = Vec::new();
        match self.format {
            Format::Csv => {
                let schema = self.dataset.table.schema();
                let names: Vec<String> = self
                    .columns
                    .iter()
                    .map(|i| csv_field(schema.field(*i).name()))
                    .collect();
                out.extend_from_slice(names.join(",").as_bytes());
                out.push(b'\n');
            }
            Format::Json => {
                let head = serde_json::json!({
                    "dataset": self.dataset.id(),
                    "release": release,
                    "next": next,
                });
                let text = head.to_string();
                out.extend_from_slice(&text.as_bytes()[..text.len() - 1]);
                out.extend_from_slice(b",\"rows\":[");
            }
            Format::Ndjson | Format::Parquet => {}
        }
        out
    }

    /// What comes after the rows.
    pub fn tail(&self) -> &'static [u8] {
        match self.format {
            Format::Json => b"]}",
            _ => b"",
        }
    }

    /// Appends rows to `out`; `first` tells whether the first of them opens the JSON list.
    pub fn rows(&self, rows: &[u32], first: bool, out: &mut Vec<u8>) {
        let table = &self.dataset.table;
        let arrays: Vec<&ArrayRef> = self.columns.iter().map(|i| table.column(*i)).collect();
        // Decimals as Arrow displays them (`151203.0`), as the release CSV writes them.
        let options = arrow_cast::display::FormatOptions::default();
        let formatters: Vec<Option<arrow_cast::display::ArrayFormatter<'_>>> = arrays
            .iter()
            .map(|a| {
                (a.data_type() == &DataType::Float64)
                    .then(|| {
                        arrow_cast::display::ArrayFormatter::try_new(a.as_ref(), &options).ok()
                    })
                    .flatten()
            })
            .collect();
        for (n, row) in rows.iter().enumerate() {
            let r = *row as usize;
            match self.format {
                Format::Csv => {
                    for (j, a) in arrays.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        write_value(a, formatters[j].as_ref(), r, out, false);
                    }
                    out.push(b'\n');
                }
                Format::Json | Format::Ndjson => {
                    if self.format == Format::Json && (n > 0 || !first) {
                        out.push(b',');
                    }
                    out.push(b'{');
                    for (j, a) in arrays.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(self.json_keys[j].as_bytes());
                        write_value(a, formatters[j].as_ref(), r, out, true);
                    }
                    out.push(b'}');
                    if self.format == Format::Ndjson {
                        out.push(b'\n');
                    }
                }
                Format::Parquet => {}
            }
        }
    }

    /// The whole answer in memory.
    pub fn encode_all(&self, rows: &[u32], release: &str, next: Option<&str>) -> Bytes {
        let mut out = self.head(release, next);
        self.rows(rows, true, &mut out);
        out.extend_from_slice(self.tail());
        Bytes::from(out)
    }

    /// The answer as a stream of chunks, each encoded when the client is ready for it.
    pub fn stream(
        self,
        rows: Arc<Vec<u32>>,
        release: &str,
        next: Option<&str>,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + 'static {
        let head = Bytes::from(self.head(release, next));
        let tail = Bytes::from_static(self.tail());
        let chunks = rows.len().div_ceil(CHUNK_ROWS);
        let body = futures_util::stream::iter(0..chunks).map(move |c| {
            let start = c * CHUNK_ROWS;
            let end = (start + CHUNK_ROWS).min(rows.len());
            let mut out = Vec::with_capacity((end - start) * 128);
            self.rows(&rows[start..end], c == 0, &mut out);
            Ok(Bytes::from(out))
        });
        use futures_util::StreamExt;
        futures_util::stream::once(std::future::ready(Ok(head)))
            .chain(body)
            .chain(futures_util::stream::once(std::future::ready(Ok(tail))))
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Writes one value: JSON (`null`, number, string) or CSV (empty, number, quoted if needed).
fn write_value(
    array: &ArrayRef,
    formatter: Option<&arrow_cast::display::ArrayFormatter<'_>>,
    row: usize,
    out: &mut Vec<u8>,
    json: bool,
) {
    use std::io::Write;
    if array.is_null(row) {
        if json {
            out.extend_from_slice(b"null");
        }
        return;
    }
    match array.data_type() {
        DataType::Int64 => {
            let _ = write!(out, "{}", array.as_primitive::<Int64Type>().value(row));
        }
        DataType::UInt64 => {
            let _ = write!(out, "{}", array.as_primitive::<UInt64Type>().value(row));
        }
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(row);
            if !v.is_finite() {
                if json {
                    out.extend_from_slice(b"null");
                }
            } else if let Some(f) = formatter {
                let _ = write!(out, "{}", f.value(row));
            } else {
                let _ = write!(out, "{v}");
            }
        }
        _ => {
            let s = array.as_string::<i32>().value(row);
            if json {
                let plain = s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
                if plain {
                    out.push(b'"');
                    out.extend_from_slice(s.as_bytes());
                    out.push(b'"');
                } else {
                    let _ = serde_json::to_writer(&mut *out, s);
                }
            } else {
                out.extend_from_slice(csv_field(s).as_bytes());
            }
        }
    }
}

/// The chosen rows and columns as one Parquet file (zstd-compressed), its floating-point
/// columns in the type-defined order like the release files. Each column keeps its field from
/// the release's Parquet file (name, type, nullability, metadata), and the schema its metadata.
pub fn encode_parquet(dataset: &Dataset, columns: &[usize], rows: &[u32]) -> Result<Bytes, String> {
    let indices = UInt32Array::from(rows.to_vec());
    let schema = dataset.table.schema();
    let fields: Vec<_> = columns.iter().map(|i| schema.field(*i).clone()).collect();
    let arrays = columns
        .iter()
        .map(|i| arrow_select::take::take(dataset.table.column(*i), &indices, None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    let batch = RecordBatch::try_new(Arc::new(schema), arrays).map_err(|e| e.to_string())?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
        .map_err(|e| e.to_string())?;
    writer.write(&batch).map_err(|e| e.to_string())?;
    writer.close().map_err(|e| e.to_string())?;
    // The same footer as the release files: readable by parquet-rs 55 and older (roapi).
    pilotage_core::release::files::portable_column_orders(&mut out).map_err(|e| e.to_string())?;
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_format_then_accept_q() {
        assert_eq!(
            negotiate(Some("csv"), Some("application/json")).ok(),
            Some(Format::Csv)
        );
        assert_eq!(negotiate(None, None).ok(), Some(Format::Json));
        assert_eq!(
            negotiate(None, Some("text/csv;q=0.5, application/x-ndjson")).ok(),
            Some(Format::Ndjson)
        );
        assert_eq!(negotiate(None, Some("*/*")).ok(), Some(Format::Json));
        let p = negotiate(None, Some("image/png")).err().map(|p| p.status);
        assert_eq!(p, Some(406));
        let p = negotiate(Some("xml"), None).err().map(|p| p.0.parameter);
        assert_eq!(p, Some(Some("format".to_owned())));
    }

    #[test]
    fn cursor_round_trips_and_is_bound_to_its_query() {
        let c = encode_cursor(
            "2025-12-31-abc",
            "candidatures",
            41,
            "territoire=REG-84&sort=",
        );
        assert!(decode_cursor(&c, "prescriptions", "territoire=REG-84&sort=").is_err());
        assert_eq!(
            decode_cursor(&c, "candidatures", "territoire=REG-84&sort=").ok(),
            Some(("2025-12-31-abc".to_owned(), 41))
        );
        assert!(decode_cursor(&c, "candidatures", "sort=").is_err());
        assert!(decode_cursor("zz", "candidatures", "sort=").is_err());
    }

    #[test]
    fn parquet_answers_declare_no_total_order_and_read_back_equal() {
        use arrow_array::{Float64Array, Int64Array, StringArray};
        use arrow_schema::Field;
        use parquet::basic::{ColumnOrder, SortOrder};

        let datasets =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pilotage-core/data/datasets");
        let definition = pilotage_core::dataset::load_dir(&datasets)
            .expect("definitions")
            .into_iter()
            .find(|d| d.id == "candidatures")
            .expect("candidatures");
        let schema = Schema::new(vec![
            Field::new("territoire", DataType::Utf8, false),
            Field::new("recues", DataType::Int64, true),
            Field::new("taux_acceptation", DataType::Float64, true),
        ]);
        let table = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec!["FR", "REG-84", "DEP-75"])),
                Arc::new(Int64Array::from(vec![Some(12), None, Some(3)])),
                Arc::new(Float64Array::from(vec![Some(13.5), None, Some(0.0)])),
            ],
        )
        .expect("table");
        let dataset = Dataset {
            definition,
            table,
            code_columns: Vec::new(),
            schema_json: Bytes::new(),
        };
        let bytes = encode_parquet(&dataset, &[0, 2], &[2, 0]).expect("parquet");
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .expect("reader");
        assert_eq!(
            builder.metadata().file_metadata().column_orders(),
            Some(&vec![
                ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED),
                ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::SIGNED),
            ])
        );
        let batch = builder
            .build()
            .expect("batches")
            .next()
            .expect("one batch")
            .expect("batch");
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "DEP-75");
        assert_eq!(batch.column(1).as_primitive::<Float64Type>().value(0), 0.0);
        assert_eq!(batch.column(1).as_primitive::<Float64Type>().value(1), 13.5);
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("REG-84"), "REG-84");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
