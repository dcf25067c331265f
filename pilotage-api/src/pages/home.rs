//! `/`: what pilotage publishes, the current release, its datasets one line each, and the
//! territory search.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use pilotage_core::territory::Referential;

use super::answer_current;
use super::components::number;
use super::layout::{page, search_box};
use crate::server::AppState;
use crate::server::releases::Release;

/// GET `/`.
pub async fn handler(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    answer_current(&req, &state, |release| Ok(render(release)))
}

/// The first sentence of a text (up to the first period followed by a space).
pub fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

fn render(release: &Release) -> Markup {
    let m = &release.meta.manifest;
    let secret_share = if m.audit.values > 0 {
        m.audit.secret as f64 * 100.0 / m.audit.values as f64
    } else {
        0.0
    };
    let referential = Referential::try_official().ok();
    let regions: Vec<(String, String)> = referential
        .map(|r| {
            r.regions()
                .iter()
                .filter(|g| !g.is_collectivity())
                .map(|g| (format!("REG-{}", g.code), g.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let main = html! {
        h1 { "Les chiffres de l'insertion par l'activité économique" }
        p.fr-text--lead {
            "pilotage publie en données ouvertes des indicateurs anonymisés sur l'insertion par l'activité économique (IAE): "
            "candidatures, embauches, PASS IAE, ETP conventionnés et réalisés, sorties, offre d'insertion, "
            "par territoire (France, région, département), par période et par type de structure."
        }
        p {
            "Aucun chiffre ne permet d'identifier une personne ni de connaître les chiffres confidentiels d'une structure: "
            "les petites valeurs et celles qui permettraient de les recalculer sont remplacées par « secret »."
        }
        (search_box(""))
        h2.fr-mt-6w { "Publication en cours" }
        ul {
            li { "Version: " code { (m.version) } }
            li { "Date: " (m.created) }
            li {
                "Contrôle du secret statistique: "
                @if m.audit.passed { strong { "vérifié" } " (" (number(m.audit.checked as f64, 0)) " valeurs confidentielles contrôlées par un vérificateur indépendant)" }
                @else { strong { "non vérifié" } }
            }
            li { (m.datasets.len()) " jeux de données, " (number(m.audit.values as f64, 0)) " valeurs dont " (number(m.audit.secret as f64, 0)) " secrètes (" (number(secret_share, 1)) " %)" }
        }
        p { a.fr-link href=(format!("/v1/releases/{}", m.version)) { "Manifeste de la publication (JSON)" } }
        h2.fr-mt-6w { "Jeux de données" }
        ul.pl-datasets {
            @for ds in release.datasets.values() {
                @let def = &ds.definition;
                li {
                    a.fr-link href=(format!("/datasets/{}", def.id)) { strong { (def.title.fr) } }
                    " — " (first_sentence(&def.description.fr)) " "
                    span.fr-text--sm { "(" (number(ds.rows() as f64, 0)) " lignes, " (def.first_year) "–" (def.last_year) ")" }
                }
            }
        }
        h2.fr-mt-6w { "Tableaux de bord par territoire" }
        p { a.fr-link href="/territoires/FR" { "France entière" } }
        ul.pl-links {
            @for (code, name) in &regions {
                li { a.fr-link href=(format!("/territoires/{code}")) { (name) } }
            }
        }
    };
    page("Accueil", &[], main)
}
