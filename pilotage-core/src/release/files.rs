//! The bytes of each release file: CSV, Parquet, Table Schema, definition, DCAT catalog.
//!
//! Every function here is pure: the same inputs give the same bytes (no clock, no host name, no
//! map iteration order), which is what makes releases reproducible.

use arrow_array::{Array, Float64Array, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde_json::{Value, json};

use super::{
    LEVEL_SUFFIX, MEDIA_CSV, MEDIA_JSON, MEDIA_PARQUET, ManifestFile, ReleaseError,
    STATUS_PUBLISHED, STATUS_SECRET, STATUS_SUFFIX,
};
use crate::cube::Cube;
use crate::dataset::{Definition, DimensionType, MeasureKind};

/// Rows per Parquet row group: small enough for readers to skip most of a file when they
/// filter on a dimension, large enough to compress well.
pub const PARQUET_ROW_GROUP_ROWS: usize = 65_536;
/// Rows per Parquet data page: the granularity of the page index used by range readers.
pub const PARQUET_PAGE_ROWS: usize = 8_192;

/// The CSV file: UTF-8, comma, header, `.` decimal, empty field for a null value.
pub fn csv_bytes(batch: &RecordBatch) -> Result<Vec<u8>, ReleaseError> {
    let mut out = Vec::new();
    {
        let mut writer = arrow_csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut out);
        writer
            .write(batch)
            .map_err(|e| ReleaseError::Arrow(e.to_string()))?;
    }
    Ok(out)
}

/// The Parquet file: zstd, dictionary-encoded columns, page statistics and page index for
/// range reads, key/value metadata naming the release and the dataset's definition version.
///
/// Floating-point columns declare the type-defined column order, not IEEE 754 total order (see
/// [`portable_column_orders`]), so that readers built on parquet-rs 55 and older (DataFusion,
/// roapi) open the file; a NaN in such a column is refused, as that order cannot describe it.
pub fn parquet_bytes(
    batch: &RecordBatch,
    release: &str,
    definition: &Definition,
) -> Result<Vec<u8>, ReleaseError> {
    refuse_nan(batch, &definition.id)?;
    let zstd = ZstdLevel::try_new(3).map_err(|e| ReleaseError::Parquet(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PARQUET_PAGE_ROWS)
        .set_key_value_metadata(Some(vec![
            KeyValue::new("pilotage.release".into(), release.to_string()),
            KeyValue::new("pilotage.dataset".into(), definition.id.clone()),
            KeyValue::new(
                "pilotage.dataset_version".into(),
                definition.version.clone(),
            ),
        ]))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
        .map_err(|e| ReleaseError::Parquet(e.to_string()))?;
    writer
        .write(batch)
        .map_err(|e| ReleaseError::Parquet(e.to_string()))?;
    writer
        .close()
        .map_err(|e| ReleaseError::Parquet(e.to_string()))?;
    portable_column_orders(&mut out)?;
    Ok(out)
}

/// Refuses a NaN in a floating-point column: no published indicator is "not a number" (a rate
/// over zero is null), and the type-defined column order of [`portable_column_orders`] requires
/// statistics without NaN.
fn refuse_nan(batch: &RecordBatch, dataset: &str) -> Result<(), ReleaseError> {
    let schema = batch.schema();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if let Some(values) = column.as_any().downcast_ref::<Float64Array>()
            && let Some(row) = values.iter().position(|v| v.is_some_and(f64::is_nan))
        {
            return Err(ReleaseError::Parquet(format!(
                "dataset {dataset}, column {}, row {row}: NaN cannot be published",
                field.name()
            )));
        }
    }
    Ok(())
}

/// Thrift compact-protocol type of a struct.
const THRIFT_STRUCT: u8 = 12;
/// Thrift compact-protocol type of a list.
const THRIFT_LIST: u8 = 9;
/// Field id of `FileMetaData.column_orders` in parquet.thrift.
const COLUMN_ORDERS_FIELD: i16 = 7;
/// Field header of `ColumnOrder.TYPE_ORDER` (field 1, an empty struct) in the compact protocol.
const TYPE_ORDER_HEADER: u8 = (1 << 4) | THRIFT_STRUCT;
/// Field header of `ColumnOrder.IEEE_754_TOTAL_ORDER` (field 2, an empty struct).
const IEEE_754_TOTAL_ORDER_HEADER: u8 = (2 << 4) | THRIFT_STRUCT;

/// Rewrites, in place, the footer of a Parquet file so that every column declared with the
/// IEEE 754 total order (`ColumnOrder` branch 2, which parquet-rs 57 and later write for every
/// FLOAT and DOUBLE column) declares the type-defined order (branch 1) instead. Returns the
/// number of columns rewritten.
///
/// Why: the total order is valid Parquet (parquet-format 2.12), but readers generated from an
/// older parquet.thrift reject a `ColumnOrder` union whose only branch they do not know
/// ("Could not parse metadata: bad data" in parquet-rs 55 and older, hence DataFusion 47 and
/// roapi 0.12); pyarrow, DuckDB and polars read either. Both branches are empty structs with a
/// one-byte field header, so the footer keeps its length and every offset stays valid. The
/// statistics stay correct under the type-defined order as long as no value is NaN (parquet-rs
/// leaves NaN out of min/max, and `parquet_bytes` refuses NaN anyway).
pub fn portable_column_orders(file: &mut [u8]) -> Result<usize, ReleaseError> {
    let bad = |detail: &str| ReleaseError::Parquet(format!("footer: {detail}"));
    let len = file.len();
    if len < 12 || &file[len - 4..] != b"PAR1" {
        return Err(bad("no PAR1 magic at the end of the file"));
    }
    let mut footer_len = [0u8; 4];
    footer_len.copy_from_slice(&file[len - 8..len - 4]);
    let footer_len = u32::from_le_bytes(footer_len) as usize;
    let start = (len - 8)
        .checked_sub(footer_len)
        .filter(|s| *s >= 4)
        .ok_or_else(|| bad(&format!("length {footer_len} exceeds the file")))?;
    let footer = &mut file[start..len - 8];
    let mut c = Compact {
        bytes: footer,
        pos: 0,
    };
    let mut rewritten = 0;
    let mut last = 0i16;
    while let Some((id, ty)) = c.field_header(&mut last)? {
        if id != COLUMN_ORDERS_FIELD || ty != THRIFT_LIST {
            c.skip(ty, 0)?;
            continue;
        }
        let (count, elem) = c.list_header()?;
        if elem != THRIFT_STRUCT {
            return Err(bad("column_orders is not a list of structs"));
        }
        for _ in 0..count {
            // One ColumnOrder union: its set branch, then the stop byte.
            let at = c.pos;
            let mut union_last = 0i16;
            if let Some((_, branch_ty)) = c.field_header(&mut union_last)? {
                if c.bytes[at] == IEEE_754_TOTAL_ORDER_HEADER {
                    c.bytes[at] = TYPE_ORDER_HEADER;
                    rewritten += 1;
                }
                c.skip(branch_ty, 0)?;
                c.skip_struct_fields(union_last, 0)?;
            }
        }
    }
    Ok(rewritten)
}

/// A cursor over Thrift compact-protocol bytes (the encoding of Parquet's footer).
struct Compact<'a> {
    bytes: &'a mut [u8],
    pos: usize,
}

impl Compact<'_> {
    /// Deepest nesting accepted (Parquet footers nest a handful of levels).
    const MAX_DEPTH: usize = 64;

    fn error(&self, detail: &str) -> ReleaseError {
        ReleaseError::Parquet(format!("footer byte {}: {detail}", self.pos))
    }

    fn byte(&mut self) -> Result<u8, ReleaseError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.error("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, ReleaseError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("varint longer than 64 bits"))
    }

    fn advance(&mut self, n: u64) -> Result<(), ReleaseError> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error("length beyond the footer"))?;
        self.pos = end;
        Ok(())
    }

    /// The next field's id and type, or `None` at the struct's stop byte.
    fn field_header(&mut self, last: &mut i16) -> Result<Option<(i16, u8)>, ReleaseError> {
        let h = self.byte()?;
        if h == 0 {
            return Ok(None);
        }
        let delta = i16::from(h >> 4);
        let id = if delta == 0 {
            let z = self.varint()?;
            i16::try_from((z >> 1) as i64 ^ -((z & 1) as i64))
                .map_err(|_| self.error("field id out of range"))?
        } else {
            *last + delta
        };
        *last = id;
        Ok(Some((id, h & 0x0f)))
    }

    /// A list's (or set's) element count and element type.
    fn list_header(&mut self) -> Result<(u64, u8), ReleaseError> {
        let h = self.byte()?;
        let count = match h >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        Ok((count, h & 0x0f))
    }

    /// Skips the remaining fields of a struct, up to and including its stop byte.
    fn skip_struct_fields(&mut self, mut last: i16, depth: usize) -> Result<(), ReleaseError> {
        while let Some((_, ty)) = self.field_header(&mut last)? {
            self.skip(ty, depth + 1)?;
        }
        Ok(())
    }

    /// Skips one value of compact type `ty` (in a field: booleans carry no byte).
    fn skip(&mut self, ty: u8, depth: usize) -> Result<(), ReleaseError> {
        if depth > Self::MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        match ty {
            1 | 2 => Ok(()),
            3 => self.advance(1),
            4..=6 => self.varint().map(|_| ()),
            7 => self.advance(8),
            8 => {
                let n = self.varint()?;
                self.advance(n)
            }
            9 | 10 => {
                let (count, elem) = self.list_header()?;
                for _ in 0..count {
                    match elem {
                        // In a list, each boolean is one byte.
                        1 | 2 => self.advance(1)?,
                        _ => self.skip(elem, depth + 1)?,
                    }
                }
                Ok(())
            }
            11 => {
                let count = self.varint()?;
                if count > 0 {
                    let kinds = self.byte()?;
                    for _ in 0..count {
                        for kind in [kinds >> 4, kinds & 0x0f] {
                            match kind {
                                1 | 2 => self.advance(1)?,
                                _ => self.skip(kind, depth + 1)?,
                            }
                        }
                    }
                }
                Ok(())
            }
            THRIFT_STRUCT => self.skip_struct_fields(0, depth),
            other => Err(self.error(&format!("unknown compact type {other}"))),
        }
    }
}

/// The definition as pretty JSON (what the API's dataset page shows).
pub fn definition_bytes(definition: &Definition) -> Result<Vec<u8>, ReleaseError> {
    let mut out =
        serde_json::to_vec_pretty(definition).map_err(|e| ReleaseError::Json(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// The Frictionless Table Schema of a published table: one field per column with its type,
/// French title and description, constraints (required dimension codes from a closed list,
/// non-negative counts, the two statuses), `missingValues` = `[""]` and `primaryKey` = the
/// dimension code columns.
pub fn table_schema(definition: &Definition, cube: &Cube) -> Value {
    let mut fields = Vec::new();
    for d in &cube.dimensions {
        let def = definition.dimension(&d.id);
        let title = def
            .map(|x| x.label.fr.clone())
            .unwrap_or_else(|| d.id.clone());
        let description = def.map(|x| x.description.fr.clone()).unwrap_or_default();
        fields.push(json!({
            "name": d.id,
            "type": "string",
            "title": title,
            "description": description,
            "constraints": { "required": true, "enum": d.codes },
        }));
        let level_description = match def.map(|x| x.kind) {
            Some(DimensionType::Territory) => {
                "Niveau territorial du code (france, region, departement)."
            }
            Some(DimensionType::Period) => "Niveau de la période (annee, trimestre, mois).",
            _ => "Niveau du code dans la hiérarchie de la dimension (total pour le total).",
        };
        fields.push(json!({
            "name": format!("{}{LEVEL_SUFFIX}", d.id),
            "type": "string",
            "title": format!("{title} : niveau"),
            "description": level_description,
            "constraints": { "required": true, "enum": d.level_names },
        }));
    }
    for m in &cube.measures {
        let def = definition.measure(&m.id);
        let (title, description, unit) = def
            .map(|x| (x.label.fr.clone(), x.definition.fr.clone(), x.unit.clone()))
            .unwrap_or_else(|| (m.id.clone(), String::new(), String::new()));
        let is_count = matches!(m.kind, MeasureKind::Persons | MeasureKind::Events);
        let mut field = json!({
            "name": m.id,
            "type": if is_count { "integer" } else { "number" },
            "title": title,
            "description": format!("{description} Unité : {unit}. Vide si secret ou sans objet."),
        });
        if is_count || !matches!(m.kind, MeasureKind::Difference) {
            field["constraints"] = json!({ "minimum": 0 });
        }
        fields.push(field);
        fields.push(json!({
            "name": format!("{}{STATUS_SUFFIX}", m.id),
            "type": "string",
            "title": format!("{title} : statut"),
            "description": "publie : valeur publiée ; secret : valeur masquée par le secret statistique ; vide : sans objet pour cette ligne.",
            "constraints": { "enum": [STATUS_PUBLISHED, STATUS_SECRET] },
        }));
    }
    json!({
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "name": definition.id,
        "title": definition.title.fr,
        "description": definition.description.fr,
        "version": definition.version,
        "fields": fields,
        "missingValues": [""],
        "primaryKey": cube.dimensions.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
    })
}

/// Pretty JSON bytes with a final newline.
pub fn json_bytes(value: &Value) -> Result<Vec<u8>, ReleaseError> {
    let mut out =
        serde_json::to_vec_pretty(value).map_err(|e| ReleaseError::Json(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// What the catalog says about the publisher and where the files are served.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// Base URL under which the release's files are served, ending with `/`; relative IRIs of
    /// the catalog resolve against it (e.g. `http://127.0.0.1:8080/v1/releases/<version>/files/`).
    pub base_url: String,
    /// Publisher's name.
    pub publisher: String,
    /// Publisher's home page.
    pub publisher_url: String,
}

/// The DCAT-AP catalog of a release, as JSON-LD: the catalog, one `dcat:Dataset` per dataset
/// with its temporal and spatial coverage, licence and update frequency, and one
/// `dcat:Distribution` per file with its media type, byte size and SHA-256 checksum.
pub fn catalog(
    version: &str,
    created: &str,
    definitions: &[&Definition],
    files: &[ManifestFile],
    options: &CatalogOptions,
) -> Value {
    const LICENCE: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";
    const FRANCE: &str = "http://publications.europa.eu/resource/authority/country/FRA";
    let base = &options.base_url;
    let publisher = json!({
        "@id": options.publisher_url,
        "@type": "foaf:Agent",
        "foaf:name": options.publisher,
    });
    let datasets: Vec<Value> = definitions
        .iter()
        .map(|def| {
            let data_files = [format!("{}.csv", def.id), format!("{}.parquet", def.id)];
            let schema = format!("{base}{}.schema.json", def.id);
            let distributions: Vec<Value> = files
                .iter()
                .filter(|f| data_files.contains(&f.name))
                .map(|f| {
                    json!({
                        "@id": format!("{base}{}", f.name),
                        "@type": "dcat:Distribution",
                        "dct:title": f.name,
                        "dcat:accessURL": { "@id": format!("{base}{}", f.name) },
                        "dcat:downloadURL": { "@id": format!("{base}{}", f.name) },
                        "dcat:mediaType": { "@id": format!("https://www.iana.org/assignments/media-types/{}", f.media_type) },
                        "dcat:byteSize": { "@value": f.bytes.to_string(), "@type": "xsd:nonNegativeInteger" },
                        "dct:license": { "@id": LICENCE },
                        "dct:conformsTo": { "@id": schema },
                        "spdx:checksum": {
                            "@type": "spdx:Checksum",
                            "spdx:algorithm": { "@id": "spdx:checksumAlgorithm_sha256" },
                            "spdx:checksumValue": { "@value": f.sha256, "@type": "xsd:hexBinary" },
                        },
                    })
                })
                .collect();
            json!({
                "@id": format!("{base}#{}", def.id),
                "@type": "dcat:Dataset",
                "dct:identifier": def.id,
                "dct:title": [
                    { "@value": def.title.fr, "@language": "fr" },
                    { "@value": def.title.en, "@language": "en" },
                ],
                "dct:description": [
                    { "@value": def.description.fr, "@language": "fr" },
                    { "@value": def.description.en, "@language": "en" },
                ],
                "owl:versionInfo": def.version,
                "dct:publisher": publisher,
                "dct:license": { "@id": LICENCE },
                "dct:accrualPeriodicity": { "@id": frequency_iri(&def.frequency.en) },
                "dct:spatial": { "@id": FRANCE },
                "dct:temporal": {
                    "@type": "dct:PeriodOfTime",
                    "dcat:startDate": { "@value": format!("{}-01-01", def.first_year), "@type": "xsd:date" },
                    "dcat:endDate": { "@value": format!("{}-12-31", def.last_year), "@type": "xsd:date" },
                },
                "dct:modified": { "@value": created, "@type": "xsd:date" },
                "dcat:distribution": distributions,
            })
        })
        .collect();
    json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "owl": "http://www.w3.org/2002/07/owl#",
            "spdx": "http://spdx.org/rdf/terms#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": format!("{base}catalog.jsonld"),
        "@type": "dcat:Catalog",
        "dct:title": [
            { "@value": "pilotage : indicateurs de l'inclusion dans l'emploi", "@language": "fr" },
            { "@value": "pilotage: indicators of inclusion in employment", "@language": "en" },
        ],
        "dct:description": [
            { "@value": format!("Indicateurs anonymisés de l'insertion par l'activité économique et de l'inclusion dans l'emploi, version {version}."), "@language": "fr" },
            { "@value": format!("Anonymized indicators of France's inclusion-in-employment programmes, release {version}."), "@language": "en" },
        ],
        "dct:publisher": publisher,
        "dct:license": { "@id": LICENCE },
        "dct:modified": { "@value": created, "@type": "xsd:date" },
        "owl:versionInfo": version,
        "dcat:dataset": datasets,
    })
}

/// The EU frequency vocabulary IRI for a definition's English frequency word.
fn frequency_iri(english: &str) -> String {
    let code = match english.to_ascii_lowercase().as_str() {
        "monthly" => "MONTHLY",
        "quarterly" => "QUARTERLY",
        "yearly" | "annual" | "annually" => "ANNUAL",
        "weekly" => "WEEKLY",
        "daily" => "DAILY",
        _ => "IRREG",
    };
    format!("http://publications.europa.eu/resource/authority/frequency/{code}")
}

/// Media type of a release file, from its name.
pub fn media_type(name: &str) -> &'static str {
    if name.ends_with(".parquet") {
        MEDIA_PARQUET
    } else if name.ends_with(".csv") {
        MEDIA_CSV
    } else if name.ends_with(".jsonld") {
        super::MEDIA_JSONLD
    } else {
        MEDIA_JSON
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek as _, Write as _};
    use std::path::Path;
    use std::sync::Arc;

    use arrow_array::{StringArray, UInt64Array};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    use parquet::basic::{ColumnOrder, SortOrder};
    use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};
    use parquet::file::statistics::Statistics;

    use super::*;
    use crate::dataset::load_dir;

    fn definition() -> Definition {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/datasets");
        load_dir(&dir)
            .expect("definitions")
            .into_iter()
            .find(|d| d.id == "candidatures")
            .expect("candidatures")
    }

    /// A small published table: a code, a count, a rate (with a null and a zero) and a status.
    fn table() -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("territoire", DataType::Utf8, false),
            Field::new("recues", DataType::UInt64, true),
            Field::new("taux_acceptation", DataType::Float64, true),
            Field::new("taux_acceptation_statut", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec!["FR", "REG-84", "DEP-01", "DEP-75"])),
                Arc::new(UInt64Array::from(vec![Some(2003), None, Some(0), Some(12)])),
                Arc::new(Float64Array::from(vec![
                    Some(13.5),
                    None,
                    Some(0.0),
                    Some(100.0),
                ])),
                Arc::new(StringArray::from(vec![
                    Some(STATUS_PUBLISHED),
                    Some(STATUS_SECRET),
                    Some(STATUS_PUBLISHED),
                    Some(STATUS_PUBLISHED),
                ])),
            ],
        )
        .expect("batch")
    }

    fn read(bytes: &[u8]) -> (Arc<ParquetMetaData>, RecordBatch) {
        let mut file = tempfile::tempfile().expect("temporary file");
        file.write_all(bytes).expect("write");
        file.rewind().expect("rewind");
        let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
        let builder =
            ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).expect("parquet");
        let metadata = builder.metadata().clone();
        let batches: Vec<RecordBatch> = builder
            .build()
            .expect("reader")
            .collect::<Result<_, _>>()
            .expect("batches");
        let batch =
            arrow_select::concat::concat_batches(&batches[0].schema(), &batches).expect("concat");
        (metadata, batch)
    }

    #[test]
    fn release_parquet_declares_no_total_order_and_reads_back_equal() {
        let batch = table();
        let bytes = parquet_bytes(&batch, "2025-12-31-000000000000", &definition()).expect("bytes");
        let (metadata, back) = read(&bytes);
        assert_eq!(back, batch);

        let orders = metadata
            .file_metadata()
            .column_orders()
            .expect("column orders are written");
        assert!(
            !orders.contains(&ColumnOrder::IEEE_754_TOTAL_ORDER),
            "{orders:?}"
        );
        assert_eq!(
            orders,
            &vec![
                ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED),
                ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED),
                ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::SIGNED),
                ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED),
            ]
        );
        // The rate's statistics and page index are still there and right under that order.
        let chunk = metadata.row_group(0).column(2);
        match chunk.statistics() {
            Some(Statistics::Double(s)) => {
                assert_eq!(s.min_opt(), Some(&0.0));
                assert_eq!(s.max_opt(), Some(&100.0));
                assert_eq!(s.null_count_opt(), Some(1));
            }
            other => panic!("rate statistics: {other:?}"),
        }
        assert!(chunk.column_index_offset().is_some());
        assert!(chunk.offset_index_offset().is_some());
        let index = metadata.page_index().expect("page index");
        assert!(index.column_index(0, 2).is_some());
        assert!(index.offset_index(0, 2).is_some());
    }

    #[test]
    fn the_rewrite_changes_one_header_byte_per_float_column_only() {
        let batch = table();
        let mut plain = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut plain, batch.schema(), None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        let (metadata, _) = read(&plain);
        let orders = metadata.file_metadata().column_orders().expect("orders");
        assert_eq!(orders[2], ColumnOrder::IEEE_754_TOTAL_ORDER);

        let mut patched = plain.clone();
        assert_eq!(portable_column_orders(&mut patched).expect("rewrite"), 1);
        assert_eq!(patched.len(), plain.len());
        let changed: Vec<usize> = (0..plain.len())
            .filter(|&i| plain[i] != patched[i])
            .collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(plain[changed[0]], IEEE_754_TOTAL_ORDER_HEADER);
        assert_eq!(patched[changed[0]], TYPE_ORDER_HEADER);
        let (metadata, back) = read(&patched);
        assert_eq!(back, batch);
        assert_eq!(
            metadata.file_metadata().column_order(2),
            ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::SIGNED)
        );
        // Idempotent: nothing left to rewrite.
        assert_eq!(portable_column_orders(&mut patched).expect("again"), 0);
    }

    #[test]
    fn nan_is_refused_naming_the_column_and_row() {
        let batch = table();
        let mut columns = batch.columns().to_vec();
        columns[2] = Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(f64::NAN),
            None,
        ]));
        let batch = RecordBatch::try_new(batch.schema(), columns).expect("batch");
        let err = parquet_bytes(&batch, "v", &definition()).expect_err("NaN refused");
        let message = err.to_string();
        assert!(message.contains("taux_acceptation"), "{message}");
        assert!(message.contains("row 2"), "{message}");
    }

    #[test]
    fn a_damaged_footer_is_an_error_not_a_panic() {
        let bytes = parquet_bytes(&table(), "v", &definition()).expect("bytes");
        assert!(portable_column_orders(&mut b"PAR1".to_vec()).is_err());
        let mut no_magic = bytes.clone();
        let len = no_magic.len();
        no_magic[len - 1] = b'0';
        assert!(portable_column_orders(&mut no_magic).is_err());
        // A footer length larger than the file.
        let mut too_long = bytes.clone();
        too_long[len - 8..len - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(portable_column_orders(&mut too_long).is_err());
        // A footer cut in the middle (its declared length shortened).
        let mut cut = bytes;
        let footer = u32::from_le_bytes(cut[len - 8..len - 4].try_into().expect("4 bytes"));
        let start = len - 8 - footer as usize;
        cut.drain(start + 10..len - 8);
        let new_len = cut.len();
        cut[new_len - 8..new_len - 4].copy_from_slice(&10u32.to_le_bytes());
        assert!(portable_column_orders(&mut cut).is_err());
    }
}
