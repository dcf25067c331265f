//! The methodology page of a dataset (`docs/methodology/<id>.md`), generated from its definition.

use std::fmt::Write;

use super::model::{Definition, DimensionType, PERIOD_LEVELS, TERRITORY_LEVELS};
use super::size::declared_size;
use super::validate::level_names;
use crate::territory::Referential;

/// Renders the methodology page of a dataset as Markdown, in French with English alongside.
///
/// The page is generated, never edited: `docs/methodology/<id>.md` is checked against this
/// output by a test (`PILOTAGE_BLESS=1 cargo test -p pilotage-core --test dataset` rewrites it).
pub fn render_methodology(def: &Definition) -> String {
    let mut s = String::new();
    // Writing into a String cannot fail.
    let _ = write_page(&mut s, def);
    s
}

fn write_page(s: &mut String, def: &Definition) -> std::fmt::Result {
    let m = &def.methodology;
    writeln!(s, "# {} — {}", def.title.fr, def.title.en)?;
    writeln!(s)?;
    writeln!(
        s,
        "<!-- Generated from pilotage-core/data/datasets/{}.toml by pilotage_core::dataset::render_methodology: do not edit. -->",
        def.id
    )?;
    writeln!(s)?;
    writeln!(s, "| | |")?;
    writeln!(s, "|---|---|")?;
    writeln!(s, "| Identifiant / id | `{}` |", def.id)?;
    writeln!(s, "| Version | {} |", def.version)?;
    writeln!(s, "| Licence | {} |", def.license)?;
    writeln!(
        s,
        "| Fréquence / frequency | {} / {} |",
        def.frequency.fr, def.frequency.en
    )?;
    writeln!(
        s,
        "| Couverture / coverage | {}–{} |",
        def.first_year, def.last_year
    )?;
    writeln!(s)?;
    writeln!(s, "{}", def.description.fr)?;
    writeln!(s)?;
    writeln!(s, "*{}*", def.description.en)?;
    writeln!(s)?;
    writeln!(s, "## Méthodologie — methodology")?;
    writeln!(s)?;
    for (title, text) in [
        ("Ce qui est compté — what is counted", &m.counted),
        ("Période — period", &m.period),
        ("Filtres — filters", &m.filters),
        ("Arrondis — rounding", &m.rounding),
    ] {
        writeln!(s, "### {title}")?;
        writeln!(s)?;
        writeln!(s, "{}", text.fr)?;
        writeln!(s)?;
        writeln!(s, "*{}*", text.en)?;
        writeln!(s)?;
    }
    if !m.excluded_creation_paths.is_empty() {
        let paths: Vec<String> = m
            .excluded_creation_paths
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        writeln!(
            s,
            "Parcours de création exclus — excluded creation paths: {}.",
            paths.join(", ")
        )?;
        writeln!(s)?;
    }
    if let Some(age) = &m.age {
        writeln!(s, "### Âge — age")?;
        writeln!(s)?;
        writeln!(s, "{}", age.fr)?;
        writeln!(s)?;
        writeln!(s, "*{}*", age.en)?;
        writeln!(s)?;
    }
    if let Some(limits) = &m.limits {
        writeln!(s, "### Limites — limits")?;
        writeln!(s)?;
        writeln!(s, "{}", limits.fr)?;
        writeln!(s)?;
        writeln!(s, "*{}*", limits.en)?;
        writeln!(s)?;
    }

    writeln!(s, "## Dimensions")?;
    writeln!(s)?;
    for d in &def.dimensions {
        writeln!(s, "### `{}` — {} / {}", d.id, d.label.fr, d.label.en)?;
        writeln!(s)?;
        writeln!(s, "{}", d.description.fr)?;
        writeln!(s)?;
        writeln!(s, "*{}*", d.description.en)?;
        writeln!(s)?;
        writeln!(s, "Niveaux / levels: {}.", level_names(d).join(" → "))?;
        writeln!(s)?;
        match d.kind {
            DimensionType::Territory => {
                writeln!(
                    s,
                    "Codes: `FR` (France entière, total), `REG-<code région>`, `DEP-<code département>` \
                     (codes officiels géographiques de l'INSEE); colonne de niveau `{}_niveau`: {}.",
                    d.id,
                    TERRITORY_LEVELS.join(", ")
                )?;
            }
            DimensionType::Period => {
                writeln!(
                    s,
                    "Codes: `2024` (année), `2024-T1` (trimestre), `2024-01` (mois); pas de total; \
                     colonne de niveau `{}_niveau`: {}.",
                    d.id,
                    PERIOD_LEVELS.join(", ")
                )?;
            }
            DimensionType::Categorical => {
                writeln!(s, "| niveau | code | libellé | parent |")?;
                writeln!(s, "|---|---|---|---|")?;
                writeln!(s, "| total | `_T` | Total | |")?;
                for level in &d.levels {
                    for member in &level.members {
                        writeln!(
                            s,
                            "| {} | `{}` | {} | {} |",
                            level.id,
                            member.code,
                            member.label,
                            member
                                .parent
                                .as_deref()
                                .map_or(String::new(), |p| format!("`{p}`"))
                        )?;
                    }
                }
            }
        }
        writeln!(s)?;
        if d.is_sensitive() {
            writeln!(
                s,
                "Attribut sensible: une ventilation dont le total compte de 1 à 10 personnes est \
                 entièrement secrète, zéros compris, et chaque ventilation est publiée complète \
                 (une ligne par modalité, zéros compris). *Sensitive attribute: a breakdown whose \
                 total counts 1 to 10 persons is secret entirely, zeros included, and every \
                 breakdown is published complete (one row per member, zeros included).*"
            )?;
            writeln!(s)?;
        }
        if !d.national_only.is_empty() {
            let codes: Vec<String> = d.national_only.iter().map(|c| format!("`{c}`")).collect();
            writeln!(
                s,
                "Publiés au niveau national seulement — national level only: {}.",
                codes.join(", ")
            )?;
            writeln!(s)?;
        }
    }

    writeln!(s, "## Mesures — measures")?;
    writeln!(s)?;
    writeln!(
        s,
        "| mesure | nature | unité | règle temporelle | arrondi | dimensions |"
    )?;
    writeln!(s, "|---|---|---|---|---|---|")?;
    for me in &def.measures {
        let time = match (me.time, me.of.as_slice()) {
            (Some(t), _) => t.code().to_owned(),
            (None, [a, b]) => format!("`{a}` / `{b}`"),
            _ => String::new(),
        };
        let decimals = me
            .decimals
            .map_or("exact".to_owned(), |d| format!("{d} décimale(s)"));
        let dims = me
            .dimensions
            .as_ref()
            .map_or("toutes / all".to_owned(), |d| d.join(", "));
        writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            me.id,
            me.kind.code(),
            me.unit,
            time,
            decimals,
            dims
        )?;
    }
    writeln!(s)?;
    for me in &def.measures {
        writeln!(s, "- **`{}`** — {} / {}.", me.id, me.label.fr, me.label.en)?;
        writeln!(s, "  {}", me.definition.fr)?;
        writeln!(s, "  *{}*", me.definition.en)?;
    }
    writeln!(s)?;

    writeln!(s, "## Relations entre mesures — relations between measures")?;
    writeln!(s)?;
    if def.relations.is_empty() {
        writeln!(
            s,
            "Aucune relation entre les mesures d'une ligne n'est vraie par construction. *No \
             relation between the measures of a row holds by construction.*"
        )?;
    } else {
        writeln!(
            s,
            "Vraies sur chaque ligne par construction du calcul (valeurs exactes, avant arrondi); \
             le contrôle du secret statistique en tient compte. *True on every row by \
             construction of the computation (exact values, before rounding); disclosure \
             control takes them into account.*"
        )?;
        writeln!(s)?;
        for rel in &def.relations {
            let text = rel.labelled(def);
            writeln!(s, "- `{}` — {}. *{}.*", rel.describe(), text.fr, text.en)?;
        }
    }
    writeln!(s)?;

    writeln!(s, "## Croisements publiés — published crossings")?;
    writeln!(s)?;
    writeln!(
        s,
        "Chaque croisement publie toutes les combinaisons de niveaux égaux ou supérieurs à ceux indiqués; \
         les dimensions non citées sont à leur total. *Each crossing publishes every combination of levels \
         at or above those given; dimensions not named are at their total.*"
    )?;
    writeln!(s)?;
    for (i, c) in def.crossings.iter().enumerate() {
        let parts: Vec<String> = def
            .dimensions
            .iter()
            .filter_map(|d| c.get(&d.id).map(|l| format!("{} ≤ {l}", d.id)))
            .collect();
        writeln!(s, "{}. {}", i + 1, parts.join(" × "))?;
    }
    writeln!(s)?;

    let official = Referential::official();
    let (regions, departements) = (official.regions().len(), official.departements().len());
    let size = declared_size(def, regions as u64, departements as u64);
    writeln!(s, "## Taille — size")?;
    writeln!(s)?;
    writeln!(
        s,
        "Au plus {} lignes ({} projections, sur {regions} régions et {departements} départements) × {} \
         mesure(s) = {} valeurs publiées; une ligne qu'aucune unité n'atteint est absente. *At most {} \
         rows ({} projections, over {regions} régions and {departements} départements) × {} measure(s) = \
         {} published values; a row no unit reaches is absent.*",
        group(size.rows),
        size.projections,
        size.measures,
        group(size.values()),
        group(size.rows),
        size.projections,
        size.measures,
        group(size.values()),
    )?;
    Ok(())
}

/// Digits grouped by three with a space (`1 234 567`), as French typography writes them.
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}
