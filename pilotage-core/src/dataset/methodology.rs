//! The methodology page of a dataset (`docs/methodology/<id>.md`), generated from its definition.

use std::fmt::Write;

use super::model::{Definition, Dimension, DimensionType, PERIOD_LEVELS, TERRITORY_LEVELS};
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

/// Writes the page section by section: header, methodology, dimensions, measures, relations,
/// crossings and size.
fn write_page(s: &mut String, def: &Definition) -> std::fmt::Result {
    write_header(s, def)?;
    write_methodology(s, def)?;
    write_dimensions(s, def)?;
    write_measures(s, def)?;
    write_relations(s, def)?;
    write_crossings(s, def)?;
    write_size(s, def)
}

/// Writes the title, the identity table (id, version, licence, frequency, coverage) and the
/// description.
fn write_header(s: &mut String, def: &Definition) -> std::fmt::Result {
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
    Ok(())
}

/// Writes the methodology section: what is counted, period, filters, rounding, excluded
/// creation paths, and age and limits where stated.
fn write_methodology(s: &mut String, def: &Definition) -> std::fmt::Result {
    let m = &def.methodology;
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
    Ok(())
}

/// Writes the dimensions section, one subsection per dimension.
fn write_dimensions(s: &mut String, def: &Definition) -> std::fmt::Result {
    writeln!(s, "## Dimensions")?;
    writeln!(s)?;
    for d in &def.dimensions {
        write_dimension(s, d)?;
    }
    Ok(())
}

/// Writes the subsection of one dimension: labels, description, levels, codes, and the notes
/// on sensitivity and national-only members where they apply.
fn write_dimension(s: &mut String, d: &Dimension) -> std::fmt::Result {
    writeln!(s, "### `{}` — {} / {}", d.id, d.label.fr, d.label.en)?;
    writeln!(s)?;
    writeln!(s, "{}", d.description.fr)?;
    writeln!(s)?;
    writeln!(s, "*{}*", d.description.en)?;
    writeln!(s)?;
    writeln!(s, "Niveaux / levels: {}.", level_names(d).join(" → "))?;
    writeln!(s)?;
    write_codes(s, d)?;
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
    Ok(())
}

/// Writes how a dimension's codes read: the fixed territory or period codes, or the table of
/// a categorical dimension's members level by level.
fn write_codes(s: &mut String, d: &Dimension) -> std::fmt::Result {
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
    Ok(())
}

/// Writes the measures section: a table of kinds, units, time rules, rounding and
/// dimensions, then each measure's definition.
fn write_measures(s: &mut String, def: &Definition) -> std::fmt::Result {
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
    Ok(())
}

/// Writes the relations that hold between the measures of every row, if any.
fn write_relations(s: &mut String, def: &Definition) -> std::fmt::Result {
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
    Ok(())
}

/// Writes the published crossings, one numbered line each.
fn write_crossings(s: &mut String, def: &Definition) -> std::fmt::Result {
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
    Ok(())
}

/// Writes the declared size: at most how many rows and values are published, over the
/// official régions and départements.
fn write_size(s: &mut String, def: &Definition) -> std::fmt::Result {
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
