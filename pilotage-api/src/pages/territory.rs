//! `/territoires/{code}`: the dashboard of France (`FR`), a région (`REG-84`) or a
//! département (`DEP-34`): key figures of the latest year with their change from the year
//! before, charts over months or quarters, a breakdown by structure kind, and links to the
//! parent and the sub-territories. A figure whose dataset the release lacks says so.

use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use pilotage_core::territory::Referential;

use super::components::{Line, bar_chart, cell, key_figure, line_chart, number, period_label};
use super::cube::{self, Cell};
use super::layout::{page, search_box};
use super::{PageError, answer_current};
use crate::server::AppState;
use crate::server::releases::{Dataset, Release};

/// A territory of the dashboards: its code, its name, its parent and its children.
#[derive(Debug, Clone)]
pub struct Place {
    /// Code as in the datasets (`FR`, `REG-84`, `DEP-01`).
    pub code: String,
    /// Name for people ("Ain (01)").
    pub name: String,
    /// Parent territory (code, name), none for France.
    pub parent: Option<(String, String)>,
    /// Sub-territories (code, name).
    pub children: Vec<(String, String)>,
}

/// The territory of `code`, if the referential knows it.
pub fn place(referential: &Referential, code: &str) -> Option<Place> {
    if code == "FR" {
        return Some(Place {
            code: "FR".into(),
            name: "France".into(),
            parent: None,
            children: referential
                .regions()
                .iter()
                .filter(|r| !r.is_collectivity())
                .map(|r| (format!("REG-{}", r.code), r.name.clone()))
                .collect(),
        });
    }
    if let Some(c) = code.strip_prefix("REG-") {
        let r = referential.region(c).filter(|r| !r.is_collectivity())?;
        return Some(Place {
            code: code.to_owned(),
            name: r.name.clone(),
            parent: Some(("FR".into(), "France".into())),
            children: referential
                .departements_of_region(&r.code)
                .filter(|d| !d.is_collectivity())
                .map(|d| {
                    (
                        format!("DEP-{}", d.code),
                        format!("{} ({})", d.name, d.code),
                    )
                })
                .collect(),
        });
    }
    let c = code.strip_prefix("DEP-")?;
    let d = referential
        .departement(c)
        .filter(|d| !d.is_collectivity())?;
    let region = referential.region(&d.region)?;
    Some(Place {
        code: code.to_owned(),
        name: format!("{} ({})", d.name, d.code),
        parent: Some((format!("REG-{}", region.code), region.name.clone())),
        children: Vec::new(),
    })
}

/// GET `/territoires/{code}`.
pub async fn handler(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let code = path.into_inner();
    answer_current(&req, &state, |release| render(release, &code))
}

/// A chart of the dashboard: from which dataset, which measures, at which period levels
/// (finest first).
struct ChartSpec {
    id: &'static str,
    title: &'static str,
    dataset: &'static str,
    measures: &'static [&'static str],
    levels: &'static [&'static str],
}

impl ChartSpec {
    /// A chart of `measures` of `dataset`, at one of `levels` (finest first) or by year.
    const fn new(
        id: &'static str,
        title: &'static str,
        dataset: &'static str,
        measures: &'static [&'static str],
        levels: &'static [&'static str],
    ) -> ChartSpec {
        ChartSpec {
            id,
            title,
            dataset,
            measures,
            levels,
        }
    }
}

/// Period levels of a monthly chart: months, else quarters (else years).
const MONTHLY: &[&str] = &["mois", "trimestre"];

const CHARTS: [ChartSpec; 6] = [
    ChartSpec::new(
        "candidatures",
        "Candidatures reçues et acceptées",
        "candidatures",
        &["recues", "acceptees"],
        MONTHLY,
    ),
    ChartSpec::new("embauches", "Embauches", "sorties", &["embauches"], MONTHLY),
    ChartSpec::new(
        "pass-iae",
        "PASS IAE délivrés",
        "pass_iae",
        &["delivres"],
        MONTHLY,
    ),
    ChartSpec::new(
        "beneficiaires",
        "Bénéficiaires",
        "beneficiaires",
        &["beneficiaires"],
        MONTHLY,
    ),
    ChartSpec::new(
        "etp",
        "ETP conventionnés et réalisés",
        "etp",
        &["etp_conventionnes", "etp_realises"],
        MONTHLY,
    ),
    ChartSpec::new(
        "taux-sortie",
        "Taux de sorties durables et dynamiques",
        "sorties",
        &["taux_sorties_durables", "taux_sorties_dynamiques"],
        &["trimestre", "annee"],
    ),
];

/// Key figures: dataset, measure, label.
const KEY_FIGURES: [(&str, &str, &str); 8] = [
    ("candidatures", "recues", "Candidatures reçues"),
    ("candidatures", "acceptees", "Candidatures acceptées"),
    ("sorties", "embauches", "Embauches"),
    ("pass_iae", "delivres", "PASS IAE délivrés"),
    ("beneficiaires", "beneficiaires", "Bénéficiaires"),
    ("etp", "etp_conventionnes", "ETP conventionnés"),
    ("etp", "etp_realises", "ETP réalisés"),
    (
        "sorties",
        "taux_sorties_dynamiques",
        "Taux de sorties dynamiques",
    ),
];

/// Breakdowns by structure kind for the latest year: dataset, measure, title.
const BY_KIND: [(&str, &str, &str); 2] = [
    ("sorties", "embauches", "Embauches par type de structure"),
    ("etp", "etp_realises", "ETP réalisés par type de structure"),
];

fn absent(dataset: &str) -> Markup {
    html! {
        p.pl-empty.fr-text--sm {
            "Le jeu de données « " (dataset) " » ne figure pas dans la publication en cours: "
            "cette information apparaîtra quand il sera publié."
        }
    }
}

/// The year codes with rows for `territory`, ascending.
fn years(ds: &Dataset, territory: &str) -> Vec<String> {
    let mut y: Vec<String> = cube::series(ds, territory, "annee", &[], &[])
        .into_iter()
        .map(|p| p.period)
        .collect();
    y.dedup();
    y
}

fn key_figure_of(
    release: &Release,
    territory: &str,
    dataset: &str,
    measure: &str,
    label: &str,
) -> Markup {
    let Some(ds) = release.datasets.get(dataset) else {
        return key_figure(
            label,
            html! { span.pl-missing { "—" } },
            &format!("jeu « {dataset} » non publié"),
        );
    };
    let Some(m) = ds.definition.measure(measure) else {
        return key_figure(
            label,
            html! { span.pl-missing { "—" } },
            "mesure absente de la définition",
        );
    };
    let decimals = m.decimals.unwrap_or(0);
    let points = cube::series(ds, territory, "annee", &[], &[measure]);
    let Some(last) = points.last() else {
        return key_figure(
            label,
            html! { span.pl-missing { "—" } },
            "aucune année publiée",
        );
    };
    let now = last.cells[0];
    let before = points
        .len()
        .checked_sub(2)
        .map(|i| (&points[i].period, points[i].cells[0]));
    let rate = m.unit == "%";
    let change = match (now, before) {
        (_, None) => format!("{} · pas d'année précédente publiée", last.period),
        (Cell::Value(a), Some((year, Cell::Value(b)))) => {
            if rate {
                format!(
                    "{} · {}{} points par rapport à {year}",
                    last.period,
                    if a >= b { "+" } else { "" },
                    number(a - b, 1)
                )
            } else if b > 0.0 {
                let pct = (a - b) / b * 100.0;
                format!(
                    "{} · {}{} % par rapport à {year}",
                    last.period,
                    if pct >= 0.0 { "+" } else { "" },
                    number(pct, 1)
                )
            } else {
                format!("{} · évolution non calculable ({year}: 0)", last.period)
            }
        }
        (_, Some((year, _))) => format!(
            "{} · évolution non calculable (valeur secrète ou absente en {year} ou {})",
            last.period, last.period
        ),
    };
    let unit = if rate { " %".to_owned() } else { String::new() };
    key_figure(
        label,
        html! { (cell(now, decimals)) @if now.value().is_some() { (unit) } },
        &change,
    )
}

fn chart_of(release: &Release, territory: &str, spec: &ChartSpec) -> Markup {
    let Some(ds) = release.datasets.get(spec.dataset) else {
        return html! { section.pl-chart { h3.fr-h6 { (spec.title) } (absent(spec.dataset)) } };
    };
    let def = &ds.definition;
    let lines: Vec<Line> = spec
        .measures
        .iter()
        .filter_map(|m| def.measure(m))
        .map(|m| Line {
            label: m.label.fr.clone(),
            decimals: m.decimals.unwrap_or(0),
        })
        .collect();
    let unit = spec
        .measures
        .first()
        .and_then(|m| def.measure(m))
        .map(|m| m.unit.clone())
        .unwrap_or_default();
    // The finest level whose values are mostly published; else the one with the most
    // published values (the finest on a tie).
    let mut chosen: Option<(&str, Vec<cube::Point>, usize)> = None;
    for level in spec.levels.iter().copied().chain(std::iter::once("annee")) {
        let points = cube::series(ds, territory, level, &[], spec.measures);
        if points.is_empty() {
            continue;
        }
        let total = points.iter().map(|p| p.cells.len()).sum::<usize>();
        let published = points
            .iter()
            .flat_map(|p| p.cells.iter())
            .filter(|c| c.value().is_some())
            .count();
        if published * 2 > total {
            chosen = Some((level, points, published));
            break;
        }
        if chosen.as_ref().is_none_or(|(_, _, best)| published > *best) {
            chosen = Some((level, points, published));
        }
    }
    let chosen = chosen.map(|(level, points, _)| (level, points));
    let (level, points) = chosen.unwrap_or((spec.levels[0], Vec::new()));
    let title = format!(
        "{} par {}",
        spec.title,
        if level == "mois" {
            "mois"
        } else if level == "trimestre" {
            "trimestre"
        } else {
            "année"
        }
    );
    html! {
        (line_chart(spec.id, &title, &unit, &lines, &points))
        p.fr-text--xs { "Source: jeu de données " a href=(format!("/datasets/{}", spec.dataset)) { (def.title.fr) } "." }
    }
}

fn by_kind(
    release: &Release,
    territory: &str,
    dataset: &str,
    measure: &str,
    title: &str,
    index: usize,
) -> Markup {
    let Some(ds) = release.datasets.get(dataset) else {
        return html! { section.pl-chart { h3.fr-h6 { (title) } (absent(dataset)) } };
    };
    let def = &ds.definition;
    let (Some(m), Some(dim)) = (def.measure(measure), def.dimension("type_structure")) else {
        return html! {};
    };
    let Some(year) = years(ds, territory).pop() else {
        return html! { section.pl-chart { h3.fr-h6 { (title) } p.pl-empty { "Aucune année publiée pour ce territoire." } } };
    };
    let members = dim
        .levels
        .last()
        .map(|l| l.members.clone())
        .unwrap_or_default();
    let rows: Vec<(String, Cell)> = members
        .iter()
        .map(|member| {
            let points = cube::series(
                ds,
                territory,
                "annee",
                &[("type_structure", member.code.as_str())],
                &[measure],
            );
            let c = points
                .iter()
                .find(|p| p.period == year)
                .map_or(Cell::Missing, |p| p.cells[0]);
            (format!("{} ({})", member.label, member.code), c)
        })
        .collect();
    bar_chart(
        &format!("par-type-{index}"),
        &format!("{title}, {}", period_label(&year)),
        &m.unit,
        m.decimals.unwrap_or(0),
        &rows,
    )
}

fn render(release: &Release, code: &str) -> Result<Markup, PageError> {
    let referential = Referential::try_official().map_err(|_| {
        PageError::not_found("Le référentiel des territoires n'a pas pu être chargé.")
    })?;
    let Some(place) = place(referential, code) else {
        return Err(PageError::not_found(format!(
            "Aucun territoire n'a le code « {} ». Les codes sont FR, REG- suivi du code de la région (REG-84) ou DEP- suivi du code du département (DEP-34).",
            code.chars().take(40).collect::<String>()
        )));
    };
    let missing: Vec<&str> = ["candidatures", "beneficiaires"]
        .into_iter()
        .filter(|d| !release.datasets.contains_key(*d))
        .collect();
    let mut crumbs: Vec<(String, Option<String>)> = Vec::new();
    if let Some((pc, pn)) = &place.parent {
        if pc.starts_with("REG-") {
            crumbs.push(("France".into(), Some("/territoires/FR".into())));
        }
        crumbs.push((pn.clone(), Some(format!("/territoires/{pc}"))));
    }
    crumbs.push((place.name.clone(), None));
    let crumb_refs: Vec<(&str, Option<&str>)> = crumbs
        .iter()
        .map(|(t, h)| (t.as_str(), h.as_deref()))
        .collect();
    let main = html! {
        h1 { "Tableau de bord: " (place.name) }
        p.fr-text--lead {
            "Les chiffres publiés de l'insertion par l'activité économique pour " (place.name)
            ", d'après la publication " code { (release.version()) } "."
        }
        @if !missing.is_empty() {
            div.fr-callout.fr-mb-4w {
                p.fr-callout__text {
                    "Les jeux de données " (missing.join(" et ")) " ne figurent pas dans la publication en cours: "
                    "les chiffres qui en dépendent sont signalés comme absents et apparaîtront à leur publication."
                }
            }
        }
        h2 { "Chiffres clés de la dernière année" }
        div.pl-kpis {
            @for (dataset, measure, label) in KEY_FIGURES {
                (key_figure_of(release, &place.code, dataset, measure, label))
            }
        }
        h2 { "Évolution" }
        @for spec in &CHARTS {
            (chart_of(release, &place.code, spec))
        }
        h2 { "Par type de structure" }
        @for (i, (dataset, measure, title)) in BY_KIND.iter().enumerate() {
            (by_kind(release, &place.code, dataset, measure, title, i))
        }
        h2 { "Territoires" }
        @if let Some((pc, pn)) = &place.parent {
            p { "Territoire englobant: " a.fr-link href=(format!("/territoires/{pc}")) { (pn) } }
        }
        @if !place.children.is_empty() {
            p { (if place.code == "FR" { "Régions:" } else { "Départements de la région:" }) }
            ul.pl-links {
                @for (cc, cn) in &place.children {
                    li { a.fr-link href=(format!("/territoires/{cc}")) { (cn) } }
                }
            }
        }
        (search_box(""))
    };
    Ok(page(
        &format!("Tableau de bord: {}", place.name),
        &crumb_refs,
        main,
    ))
}
