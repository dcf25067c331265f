//! `/datasets/{id}`: a dataset's title, description, methodology, dimensions and measures,
//! a preview with filters (a GET form: works without JavaScript), its files with sizes and
//! SHA-256, and ready-to-copy lines for the API, the Rust client and DuckDB.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use pilotage_core::dataset::{DimensionType, Text};
use pilotage_core::territory::Referential;

use super::components::{cell, number, period_label, table, text_table};
use super::cube;
use super::layout::page;
use super::{PageError, answer, base_url, current};
use crate::server::AppState;
use crate::server::releases::{Dataset, Release};

/// Rows shown by the preview.
pub const PREVIEW_ROWS: usize = 50;

/// GET `/datasets/{id}`.
pub async fn handler(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let release = match current(&state) {
        Ok(r) => r,
        Err(e) => return e.respond(),
    };
    let id = path.into_inner();
    let base = base_url(&req, &state);
    let pairs = match web::Query::<Vec<(String, String)>>::from_query(req.query_string()) {
        Ok(q) => q.into_inner(),
        Err(_) => {
            return PageError::bad_request("Les filtres de l'adresse n'ont pas pu être lus.")
                .respond();
        }
    };
    answer(&req, &state, release.version(), || {
        render(&release, &id, &pairs, &base)
    })
}

/// A code of dimension `dim` in words for the preview.
fn member_label(ds: &Dataset, dim: &str, code: &str) -> String {
    let Some(d) = ds.definition.dimension(dim) else {
        return code.to_owned();
    };
    match d.kind {
        DimensionType::Period => period_label(code),
        DimensionType::Territory => {
            let r = Referential::try_official().ok();
            if code == "FR" {
                "France".into()
            } else if let Some(c) = code.strip_prefix("REG-") {
                r.and_then(|r| r.region(c))
                    .map_or(code.to_owned(), |x| x.name.clone())
            } else if let Some(c) = code.strip_prefix("DEP-") {
                r.and_then(|r| r.departement(c))
                    .map_or(code.to_owned(), |x| format!("{} ({c})", x.name))
            } else {
                code.to_owned()
            }
        }
        DimensionType::Categorical => {
            if d.total.as_deref() == Some(code) {
                return "Total".into();
            }
            d.levels
                .iter()
                .flat_map(|l| l.members.iter())
                .find(|m| m.code == code)
                .map_or(code.to_owned(), |m| m.label.clone())
        }
    }
}

fn methodology_item(title: &str, text: Option<&Text>) -> Markup {
    html! {
        @if let Some(t) = text {
            dt { strong { (title) } }
            dd.fr-mb-2w { (t.fr) }
        }
    }
}

fn render(
    release: &Release,
    id: &str,
    pairs: &[(String, String)],
    base: &str,
) -> Result<Markup, PageError> {
    let Some(ds) = release.datasets.get(id) else {
        let known: Vec<&str> = release.datasets.keys().map(String::as_str).collect();
        return Err(PageError::not_found(format!(
            "La publication en cours ne contient pas de jeu de données « {} ». Jeux publiés: {}.",
            id.chars().take(40).collect::<String>(),
            known.join(", ")
        )));
    };
    let def = &ds.definition;
    let filters = preview_filters(ds, pairs)?;
    let version = release.version();
    let main = html! {
        (summary(ds, version))
        (definitions(ds))
        (preview(ds, id, &filters))
        (downloads(release, id))
        (usage(id, version, &filters, base))
    };
    Ok(page(&def.title.fr, &[(def.title.fr.as_str(), None)], main))
}

/// The preview's filters from the query: one code per dimension; an empty value means every
/// member. An unknown dimension or code, or a dimension filtered twice, is a 400 page.
fn preview_filters(
    ds: &Dataset,
    pairs: &[(String, String)],
) -> Result<Vec<(String, String)>, PageError> {
    let def = &ds.definition;
    let mut filters: Vec<(String, String)> = Vec::new();
    for (name, value) in pairs {
        if value.is_empty() {
            continue;
        }
        let Some(dim) = def.dimension(name) else {
            return Err(PageError::bad_request(format!(
                "« {} » n'est pas une dimension de ce jeu de données.",
                name.chars().take(40).collect::<String>()
            )));
        };
        let known = ds
            .code_column(&dim.id)
            .is_some_and(|c| c.key(value).is_some());
        if !known {
            return Err(PageError::bad_request(format!(
                "La valeur « {} » n'existe pas pour la dimension {}.",
                value.chars().take(40).collect::<String>(),
                dim.label.fr
            )));
        }
        if filters.iter().any(|(n, _)| n == name) {
            return Err(PageError::bad_request(format!(
                "La dimension {} est filtrée deux fois.",
                dim.label.fr
            )));
        }
        filters.push((name.clone(), value.clone()));
    }
    Ok(filters)
}

/// Title, description, identity, years, licence and size of the dataset.
fn summary(ds: &Dataset, version: &str) -> Markup {
    let def = &ds.definition;
    html! {
        h1 { (def.title.fr) }
        p.fr-text--lead { (def.description.fr) }
        ul {
            li { "Identifiant: " code { (def.id) } ", définition version " (def.version) }
            li { "Années: " (def.first_year) "–" (def.last_year) ", mise à jour " (def.frequency.fr.to_lowercase()) }
            li { "Licence: " (def.license) }
            li { (number(ds.rows() as f64, 0)) " lignes dans la publication " code { (version) } }
        }
    }
}

/// Methodology, dimensions and measures of the dataset.
fn definitions(ds: &Dataset) -> Markup {
    let def = &ds.definition;
    html! {
        h2.fr-mt-4w { "Méthodologie" }
        dl {
            (methodology_item("Ce qui est compté", Some(&def.methodology.counted)))
            (methodology_item("Période", Some(&def.methodology.period)))
            (methodology_item("Filtres", Some(&def.methodology.filters)))
            (methodology_item("Âge", def.methodology.age.as_ref()))
            (methodology_item("Arrondis", Some(&def.methodology.rounding)))
            (methodology_item("Limites", def.methodology.limits.as_ref()))
        }
        p { "Une valeur « secret » est couverte par le secret statistique: elle n'est pas nulle, elle n'est pas publiée. Un tiret signale une valeur sans objet ou non calculable." }
        h2.fr-mt-4w { "Dimensions" }
        (text_table("Dimensions", &["Dimension".into(), "Colonne".into(), "Description".into(), "Niveaux".into()],
            &def.dimensions.iter().map(|d| vec![
                html! { (d.label.fr) },
                html! { code { (d.id) } },
                html! { (d.description.fr) },
                html! { (match d.kind {
                    DimensionType::Territory => "France, région, département".to_owned(),
                    DimensionType::Period => "année, trimestre, mois".to_owned(),
                    DimensionType::Categorical => d.levels.iter().map(|l| format!("{} ({})", l.label.fr, l.members.len())).collect::<Vec<_>>().join(", "),
                }) },
            ]).collect::<Vec<_>>()))
        h2.fr-mt-4w { "Mesures" }
        (text_table("Mesures", &["Mesure".into(), "Colonne".into(), "Unité".into(), "Définition".into()],
            &def.measures.iter().map(|m| vec![
                html! { (m.label.fr) },
                html! { code { (m.id) } },
                html! { (m.unit) },
                html! { (m.definition.fr) },
            ]).collect::<Vec<_>>()))
    }
}

/// The preview: the filter form, the count of matching rows and the first
/// [`PREVIEW_ROWS`] of them.
fn preview(ds: &Dataset, id: &str, filters: &[(String, String)]) -> Markup {
    let def = &ds.definition;
    let conditions: Vec<(&str, &str)> = filters
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let rows = cube::rows_where(ds, &conditions);
    let shown = &rows[..rows.len().min(PREVIEW_ROWS)];
    let mut headers: Vec<String> = def.dimensions.iter().map(|d| d.label.fr.clone()).collect();
    headers.extend(
        def.measures
            .iter()
            .map(|m| format!("{} ({})", m.label.fr, m.unit)),
    );
    let table_rows: Vec<Vec<Markup>> = shown
        .iter()
        .map(|&row| {
            let mut cells: Vec<Markup> = def
                .dimensions
                .iter()
                .map(|d| {
                    let c = cube::code(ds, &d.id, row);
                    html! { (member_label(ds, &d.id, c)) }
                })
                .collect();
            cells.extend(
                def.measures
                    .iter()
                    .map(|m| cell(cube::cell(ds, &m.id, row), m.decimals.unwrap_or(0))),
            );
            cells
        })
        .collect();
    html! {
        h2.fr-mt-4w id="apercu" { "Aperçu" }
        form.pl-filters method="get" action=(format!("/datasets/{id}#apercu")) {
            @for d in &def.dimensions {
                @let selected = filters.iter().find(|(n, _)| *n == d.id).map(|(_, v)| v.as_str()).unwrap_or("");
                div.fr-select-group {
                    label.fr-label for={"filtre-" (d.id)} { (d.label.fr) }
                    select.fr-select id={"filtre-" (d.id)} name=(d.id) {
                        option value="" selected[selected.is_empty()] { "Toutes les valeurs" }
                        @if let Some(col) = ds.code_column(&d.id) {
                            @for c in &col.codes {
                                option value=(c) selected[selected == c] { (member_label(ds, &d.id, c)) " (" (c) ")" }
                            }
                        }
                    }
                }
            }
            div { button.fr-btn type="submit" { "Filtrer" } }
        }
        p.fr-mt-2w id="apercu-compte" {
            (number(rows.len() as f64, 0)) " lignes correspondent"
            @if rows.len() > PREVIEW_ROWS { "; les " (PREVIEW_ROWS) " premières sont affichées" } "."
        }
        (table(&format!("Aperçu de {}", def.title.fr), &headers, &table_rows))
    }
}

/// The release's files of the dataset, with sizes (in Ko) and SHA-256.
fn downloads(release: &Release, id: &str) -> Markup {
    let version = release.version();
    let files: Vec<_> = release
        .meta
        .manifest
        .files
        .iter()
        .filter(|f| f.name.starts_with(&format!("{id}.")))
        .collect();
    html! {
        h2.fr-mt-4w { "Téléchargements" }
        (text_table("Fichiers de la publication", &["Fichier".into(), "Taille".into(), "SHA-256".into()],
            &files.iter().map(|f| vec![
                html! { a.fr-link href=(format!("/v1/releases/{version}/files/{}", f.name)) download { (f.name) } },
                html! { (number(f.bytes as f64 / 1024.0, 1)) " Ko" },
                html! { code.fr-text--xs { (f.sha256) } },
            ]).collect::<Vec<_>>()))
    }
}

/// Ready-to-copy lines reading the previewed rows: the API, the Rust client, DuckDB.
fn usage(id: &str, version: &str, filters: &[(String, String)], base: &str) -> Markup {
    let query: String = filters.iter().map(|(n, v)| format!("&{n}={v}")).collect();
    let api_call = format!("curl '{base}/v1/datasets/{id}/data?format=csv{query}'");
    let client_filters: String = filters
        .iter()
        .map(|(n, v)| format!(".filter(\"{n}\", [\"{v}\"])"))
        .collect();
    let client = format!(
        "let client = pilotage_client::Client::new(\"{base}\")?;\nlet page = client.data(\"{id}\"){client_filters}.release(\"{version}\").limit(1000).page().await?;"
    );
    let duckdb = format!(
        "SELECT * FROM read_parquet('{base}/v1/releases/{version}/files/{id}.parquet') LIMIT 10;"
    );
    html! {
        h2.fr-mt-4w { "Utiliser ces données" }
        h3.fr-h6 { "Appel de l'API" }
        pre.pl-code { code { (api_call) } }
        h3.fr-h6 { "Client Rust (pilotage-client)" }
        pre.pl-code { code { (client) } }
        h3.fr-h6 { "DuckDB, lecture du fichier Parquet par HTTP" }
        pre.pl-code { code { (duckdb) } }
        p { a.fr-link href=(format!("/v1/datasets/{id}")) { "Description complète (JSON)" } " · " a.fr-link href=(format!("/v1/datasets/{id}/schema")) { "Table Schema" } }
    }
}
