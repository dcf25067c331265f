//! `/recherche?q=`: finds régions and départements by name (accents and case ignored) or by
//! code (`34`, `DEP-34`, `REG-76`, `2A`). One match redirects (303) to its dashboard; several
//! are listed; none says so. Works without JavaScript (a plain GET form).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use pilotage_core::territory::Referential;
use serde::Deserialize;

use super::layout::{page, search_box};
use super::{MEDIA_HTML, PageError};

/// The query of the search form.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    /// What the person typed: a name or a code.
    #[serde(default)]
    q: String,
}

/// Lower case without accents, hyphens and apostrophes as spaces, spaces collapsed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars().flat_map(char::to_lowercase) {
        let c = match ch {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ÿ' => 'y',
            '-' | '\'' | '’' | '_' => ' ',
            c => c,
        };
        out.push(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A territory found: its code in the datasets (`DEP-34`) and its name for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Code as in the datasets and the dashboard address.
    pub code: String,
    /// "Hérault (34), département" style label.
    pub label: String,
    /// True when the query is the exact name or code.
    pub exact: bool,
}

/// The régions and départements matching `query`, régions first, in code order.
pub fn find(referential: &Referential, query: &str) -> Vec<Found> {
    let q = fold(query);
    let q_code = q
        .trim_start_matches("dep ")
        .trim_start_matches("reg ")
        .to_uppercase();
    let mut out = Vec::new();
    if q == "france" || q == "fr" {
        out.push(Found {
            code: "FR".into(),
            label: "France entière".into(),
            exact: true,
        });
    }
    for r in referential
        .regions()
        .iter()
        .filter(|r| !r.is_collectivity())
    {
        let name = fold(&r.name);
        let exact = name == q || q == format!("reg {}", r.code.to_lowercase());
        if exact || name.contains(&q) {
            out.push(Found {
                code: format!("REG-{}", r.code),
                label: format!("{} (région)", r.name),
                exact,
            });
        }
    }
    for d in referential
        .departements()
        .iter()
        .filter(|d| !d.is_collectivity())
    {
        let name = fold(&d.name);
        let exact = name == q || q_code == d.code;
        if exact || name.contains(&q) {
            out.push(Found {
                code: format!("DEP-{}", d.code),
                label: format!("{} ({}), département", d.name, d.code),
                exact,
            });
        }
    }
    out
}

/// GET `/recherche`.
pub async fn handler(req: HttpRequest) -> HttpResponse {
    let Ok(params) = web::Query::<SearchParams>::from_query(req.query_string()) else {
        return PageError::bad_request(
            "La recherche n'a pas pu être lue: saisissez un nom ou un code de territoire.",
        )
        .respond();
    };
    let query = params.q.trim();
    if query.is_empty() {
        return PageError::bad_request(
            "La recherche est vide: saisissez le nom ou le code d'une région ou d'un département.",
        )
        .respond();
    }
    if query.chars().count() > 100 {
        return PageError::bad_request("La recherche est trop longue (100 caractères au plus).")
            .respond();
    }
    let Ok(referential) = Referential::try_official() else {
        return PageError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: "Recherche indisponible".into(),
            message: "Le référentiel des territoires n'a pas pu être chargé.".into(),
        }
        .respond();
    };
    let found = find(referential, query);
    let exact: Vec<&Found> = found.iter().filter(|f| f.exact).collect();
    let single = if exact.len() == 1 {
        Some(exact[0])
    } else if found.len() == 1 {
        found.first()
    } else {
        None
    };
    if let Some(f) = single {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/territoires/{}", f.code)))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish();
    }
    let title = format!("Recherche « {query} »");
    let body = page(
        &title,
        &[("Recherche", None)],
        html! {
            h1 { "Recherche d'un territoire" }
            (search_box(query))
            @if found.is_empty() {
                p.fr-mt-4w { "Aucune région ni aucun département ne correspond à « " (query) " ». Essayez un nom (Hérault, Bretagne) ou un code (34, 2A)." }
            } @else {
                p.fr-mt-4w { (found.len()) " territoires correspondent à « " (query) " »:" }
                ul {
                    @for f in &found {
                        li { a.fr-link href=(format!("/territoires/{}", f.code)) { (f.label) } }
                    }
                }
            }
        },
    );
    HttpResponse::Ok()
        .content_type(MEDIA_HTML)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CSP))
        .body(body.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_find_their_territory() {
        let r = Referential::official();
        let herault = find(r, "herault");
        assert_eq!(herault.len(), 1);
        assert_eq!(herault[0].code, "DEP-34");
        assert!(find(r, "34").iter().any(|f| f.code == "DEP-34" && f.exact));
        assert!(
            find(r, "DEP-2A")
                .iter()
                .any(|f| f.code == "DEP-2A" && f.exact)
        );
        assert!(
            find(r, "Bretagne")
                .iter()
                .any(|f| f.code == "REG-53" && f.exact)
        );
        assert!(find(r, "zzzz").is_empty());
    }
}
