//! The bytes of each release file: CSV, Parquet, Table Schema, definition, DCAT catalog.
//!
//! Every function here is pure: the same inputs give the same bytes (no clock, no host name, no
//! map iteration order), which is what makes releases reproducible.

use arrow_array::RecordBatch;
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
pub fn parquet_bytes(
    batch: &RecordBatch,
    release: &str,
    definition: &Definition,
) -> Result<Vec<u8>, ReleaseError> {
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
    Ok(out)
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
