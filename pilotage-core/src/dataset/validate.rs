//! The rules a definition must follow, checked at load time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::DefinitionError;
use super::computation::{self, Axis, AxisKind, ComputationSpec};
use super::model::{
    Definition, Dimension, DimensionType, Level, Measure, MeasureKind, PERIOD_LEVELS,
    TERRITORY_LEVELS, TERRITORY_TOTAL, TOTAL, TOTAL_LEVEL,
};
use crate::domain::CreationPath;

/// The licence every published dataset carries.
pub const LICENSE: &str = "Licence Ouverte 2.0";

/// What is wrong with a definition: the path of the field at fault and the reason.
type Fault = (String, String);

/// The fault at `field`, for `reason`.
fn err(field: String, reason: String) -> Fault {
    (field, reason)
}

/// Checks a definition against the computation it names, stage by stage (header, computation,
/// dimensions, measures, relations, crossings, methodology), stopping at the first fault; the
/// levels of categorical dimensions are put in order on the way.
pub(super) fn validate(def: &mut Definition, file: &Path) -> Result<(), DefinitionError> {
    let invalid = |(field, reason): Fault| DefinitionError::Invalid {
        file: file.to_owned(),
        field,
        reason,
    };
    check_header(def).map_err(invalid)?;
    let spec = computation(def).map_err(invalid)?;
    check_dimensions(def, spec).map_err(invalid)?;
    check_measures(def, spec).map_err(invalid)?;
    check_relations(def).map_err(invalid)?;
    check_crossings(def).map_err(invalid)?;
    check_methodology(def, spec).map_err(invalid)
}

/// Checks the identity of a definition: its id, version, licence and span of years.
fn check_header(def: &Definition) -> Result<(), Fault> {
    if def.id.is_empty()
        || !def
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(err(
            "id".into(),
            format!("{:?} is not a snake_case identifier", def.id),
        ));
    }
    if def.version.split('.').count() != 3
        || def.version.split('.').any(|p| p.parse::<u32>().is_err())
    {
        return Err(err(
            "version".into(),
            format!(
                "{:?} is not a semantic version MAJOR.MINOR.PATCH",
                def.version
            ),
        ));
    }
    if def.license != LICENSE {
        return Err(err(
            "license".into(),
            format!(
                "{:?}: published datasets are under {LICENSE:?}",
                def.license
            ),
        ));
    }
    if !(2000..=2100).contains(&def.first_year) || def.last_year < def.first_year {
        return Err(err(
            "last_year".into(),
            format!(
                "years {}–{} are not a range within 2000–2100",
                def.first_year, def.last_year
            ),
        ));
    }
    Ok(())
}

/// The computation the definition names, which must be a known one.
fn computation(def: &Definition) -> Result<&'static ComputationSpec, Fault> {
    computation::spec(def.computation_id()).ok_or_else(|| {
        err(
            "computation".into(),
            format!(
                "unknown computation {:?} (known: {})",
                def.computation_id(),
                computation::SPECS
                    .iter()
                    .map(|s| s.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// Checks each dimension against the axis the computation produces for it (ordering the levels
/// of categorical ones), then that every axis is declared, with exactly one period dimension and
/// at most one territory dimension.
fn check_dimensions(def: &mut Definition, spec: &ComputationSpec) -> Result<(), Fault> {
    let mut seen = BTreeSet::new();
    let (mut periods, mut territories) = (0, 0);
    for dim in &mut def.dimensions {
        let field = format!("dimensions[{}]", dim.id);
        if !seen.insert(dim.id.clone()) {
            return Err(err(field, "declared twice".into()));
        }
        let axis = dimension_axis(dim, spec, &field)?;
        match dim.kind {
            DimensionType::Period => {
                periods += 1;
                check_period_dimension(dim, &field)?;
            }
            DimensionType::Territory => {
                territories += 1;
                check_territory_dimension(dim, &field)?;
            }
            DimensionType::Categorical => check_categorical_dimension(dim, axis, &field)?,
        }
        check_national_only(dim, &field)?;
    }
    if let Some(axis) = spec.axes.iter().find(|a| !seen.contains(a.id)) {
        return Err(err(
            "dimensions".into(),
            format!(
                "missing dimension {:?}, which the computation produces",
                axis.id
            ),
        ));
    }
    if periods != 1 || territories > 1 {
        return Err(err(
            "dimensions".into(),
            "a dataset has exactly one period dimension and at most one territory dimension".into(),
        ));
    }
    if territories == 0 && def.dimensions.iter().any(|d| !d.national_only.is_empty()) {
        return Err(err(
            "dimensions".into(),
            "national_only needs a territory dimension".into(),
        ));
    }
    Ok(())
}

/// The axis of the computation a dimension stands for, whose kind must match the dimension's
/// type.
fn dimension_axis<'s>(
    dim: &Dimension,
    spec: &'s ComputationSpec,
    field: &str,
) -> Result<&'s Axis, Fault> {
    let axis = spec.axes.iter().find(|a| a.id == dim.id).ok_or_else(|| {
        err(
            field.to_owned(),
            format!(
                "unknown dimension: computation {:?} produces {}",
                spec.id,
                spec.axes
                    .iter()
                    .map(|a| a.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let expected = match axis.kind {
        AxisKind::Territory => DimensionType::Territory,
        AxisKind::Period => DimensionType::Period,
        AxisKind::Codes(_) => DimensionType::Categorical,
    };
    if dim.kind != expected {
        return Err(err(
            format!("{field}.type"),
            format!(
                "{:?} but the computation produces a {expected:?} axis",
                dim.kind
            ),
        ));
    }
    Ok(axis)
}

/// Checks that a period dimension declares neither a total nor levels (both are fixed).
fn check_period_dimension(dim: &Dimension, field: &str) -> Result<(), Fault> {
    if dim.total.is_some() {
        return Err(err(
            format!("{field}.total"),
            "a period dimension has no total (its top level is the year)".into(),
        ));
    }
    if !dim.levels.is_empty() {
        return Err(err(
            format!("{field}.levels"),
            "period levels are fixed (annee, trimestre, mois)".into(),
        ));
    }
    Ok(())
}

/// Checks that a territory dimension has the territory total and declares no levels (they are
/// fixed).
fn check_territory_dimension(dim: &Dimension, field: &str) -> Result<(), Fault> {
    if dim.total.as_deref() != Some(TERRITORY_TOTAL) {
        return Err(err(
            format!("{field}.total"),
            format!("missing total: a territory dimension's total is {TERRITORY_TOTAL:?}"),
        ));
    }
    if !dim.levels.is_empty() {
        return Err(err(
            format!("{field}.levels"),
            "territory levels are fixed (france, region, departement)".into(),
        ));
    }
    Ok(())
}

/// Checks a categorical dimension: its total, its levels (put in order, coarsest first, and
/// checked to nest), and that its finest level holds exactly the codes the computation produces.
fn check_categorical_dimension(dim: &mut Dimension, axis: &Axis, field: &str) -> Result<(), Fault> {
    if dim.total.as_deref() != Some(TOTAL) {
        return Err(err(
            format!("{field}.total"),
            format!("missing total: a categorical dimension's total is {TOTAL:?}"),
        ));
    }
    dim.levels = order_levels(std::mem::take(&mut dim.levels))
        .map_err(|(f, r)| err(format!("{field}.{f}"), r))?;
    check_nesting(&dim.levels).map_err(|(f, r)| err(format!("{field}.{f}"), r))?;
    let AxisKind::Codes(codes) = axis.kind else {
        unreachable!("checked above")
    };
    let produced: BTreeSet<&str> = codes().into_iter().collect();
    let finest = dim
        .levels
        .last()
        .map(|l| l.members.as_slice())
        .unwrap_or(&[]);
    let declared: BTreeSet<&str> = finest.iter().map(|m| m.code.as_str()).collect();
    if let Some(missing) = produced.difference(&declared).next() {
        return Err(err(
            format!("{field}.levels"),
            format!("the finest level lacks member {missing:?}, which the computation produces"),
        ));
    }
    if let Some(extra) = declared.difference(&produced).next() {
        return Err(err(
            format!("{field}.levels"),
            format!("unknown member {extra:?}: the computation never produces it"),
        ));
    }
    Ok(())
}

/// Checks that the codes a dimension publishes nationally only are members of its finest level.
fn check_national_only(dim: &Dimension, field: &str) -> Result<(), Fault> {
    if !dim.national_only.is_empty() {
        let finest: BTreeSet<&str> = dim
            .levels
            .last()
            .map(|l| l.members.iter().map(|m| m.code.as_str()).collect())
            .unwrap_or_default();
        if let Some(bad) = dim
            .national_only
            .iter()
            .find(|c| !finest.contains(c.as_str()))
        {
            return Err(err(
                format!("{field}.national_only"),
                format!("{bad:?} is not a member of the finest level"),
            ));
        }
    }
    Ok(())
}

/// Checks each measure (its dimensions, rounding, and either its parts if derived or its fit
/// with the computation's measure if not), then that every measure the computation produces is
/// declared.
fn check_measures(def: &Definition, spec: &ComputationSpec) -> Result<(), Fault> {
    let mut seen = BTreeSet::new();
    for m in &def.measures {
        let field = format!("measures[{}]", m.id);
        if !seen.insert(m.id.clone()) {
            return Err(err(field, "declared twice".into()));
        }
        check_measure_dimensions(def, m, &field)?;
        check_decimals(m, &field)?;
        if m.kind.is_derived() {
            check_derived_measure(def, spec, m, &field)?;
        } else {
            check_base_measure(spec, m, &field)?;
        }
    }
    if let Some(base) = spec.measures.iter().find(|b| !seen.contains(b.id)) {
        return Err(err(
            "measures".into(),
            format!(
                "missing measure {:?}, which the computation produces",
                base.id
            ),
        ));
    }
    Ok(())
}

/// Checks the dimensions a measure names, if it names any: all known, the period among them.
fn check_measure_dimensions(def: &Definition, m: &Measure, field: &str) -> Result<(), Fault> {
    if let Some(dims) = &m.dimensions {
        if let Some(bad) = dims.iter().find(|d| def.dimension(d).is_none()) {
            return Err(err(
                format!("{field}.dimensions"),
                format!("unknown dimension {bad:?}"),
            ));
        }
        let period = def
            .dimensions
            .iter()
            .find(|d| d.kind == DimensionType::Period)
            .map(|d| d.id.as_str())
            .unwrap_or("");
        if !dims.iter().any(|d| d == period) {
            return Err(err(
                format!("{field}.dimensions"),
                format!("every measure varies along the period dimension {period:?}"),
            ));
        }
    }
    Ok(())
}

/// Checks a measure's rounding: none for counts, stated for every other kind.
fn check_decimals(m: &Measure, field: &str) -> Result<(), Fault> {
    let counts = matches!(m.kind, MeasureKind::Persons | MeasureKind::Events);
    if counts && m.decimals.is_some() {
        return Err(err(
            format!("{field}.decimals"),
            "counts are exact integers: no decimals".into(),
        ));
    }
    if !counts && m.decimals.is_none() {
        return Err(err(
            format!("{field}.decimals"),
            format!("a {} measure states its rounding", m.kind.code()),
        ));
    }
    Ok(())
}

/// Checks a derived measure: no time rule of its own, exactly two parts of fitting kinds that
/// vary along each of its dimensions, and not a measure the computation produces itself.
fn check_derived_measure(
    def: &Definition,
    spec: &ComputationSpec,
    m: &Measure,
    field: &str,
) -> Result<(), Fault> {
    if m.time.is_some() {
        return Err(err(
            format!("{field}.time"),
            "a derived measure follows the time rule of its parts".into(),
        ));
    }
    if m.of.len() != 2 {
        return Err(err(
            format!("{field}.of"),
            "a derived measure names exactly two measures".into(),
        ));
    }
    for part in &m.of {
        let Some(p) = def.measure(part) else {
            return Err(err(
                format!("{field}.of"),
                format!("unknown measure {part:?}"),
            ));
        };
        let fits = match m.kind {
            MeasureKind::Rate => matches!(
                p.kind,
                MeasureKind::Persons | MeasureKind::Events | MeasureKind::Magnitude
            ),
            _ => p.kind == MeasureKind::Magnitude,
        };
        if !fits {
            return Err(err(
                format!("{field}.of"),
                format!(
                    "a {} cannot be computed from {part:?}, a {} measure",
                    m.kind.code(),
                    p.kind.code()
                ),
            ));
        }
        for d in &def.dimensions {
            if m.varies_along(&d.id) && !p.varies_along(&d.id) {
                return Err(err(
                    format!("{field}.dimensions"),
                    format!("varies along {:?} but its part {part:?} does not", d.id),
                ));
            }
        }
    }
    if spec.measures.iter().any(|b| b.id == m.id) {
        return Err(err(
            format!("{field}.kind"),
            "the computation produces this measure itself: it is not derived".into(),
        ));
    }
    Ok(())
}

/// Checks a measure the computation produces: same kind and time rule as the computation's, and
/// no parts.
fn check_base_measure(spec: &ComputationSpec, m: &Measure, field: &str) -> Result<(), Fault> {
    let base = spec.measures.iter().find(|b| b.id == m.id).ok_or_else(|| {
        err(
            field.to_owned(),
            format!(
                "unknown measure: computation {:?} produces {}",
                spec.id,
                spec.measures
                    .iter()
                    .map(|b| b.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if base.kind != m.kind {
        return Err(err(
            format!("{field}.kind"),
            format!(
                "{} does not fit the computation, which produces a {} measure",
                m.kind.code(),
                base.kind.code()
            ),
        ));
    }
    if m.time != Some(base.time) {
        return Err(err(
            format!("{field}.time"),
            format!(
                "{} does not fit the computation, whose time rule is {}",
                m.time.map_or("missing", |t| t.code()),
                base.time.code()
            ),
        ));
    }
    if !m.of.is_empty() {
        return Err(err(
            format!("{field}.of"),
            "only derived measures (rate, difference) have parts".into(),
        ));
    }
    Ok(())
}

/// Checks each relation between measures: known, non-derived measures all counts or all
/// magnitudes, at least one on the right, none twice.
fn check_relations(def: &Definition) -> Result<(), Fault> {
    for (i, rel) in def.relations.iter().enumerate() {
        let field = format!("relations[{i}]");
        if rel.right.is_empty() {
            return Err(err(
                field,
                "a relation needs at least one measure on the right".into(),
            ));
        }
        let mut kinds = Vec::new();
        for id in std::iter::once(&rel.left).chain(&rel.right) {
            let Some(m) = def.measure(id) else {
                return Err(err(field, format!("unknown measure {id:?}")));
            };
            let counted = match m.kind {
                super::MeasureKind::Persons | super::MeasureKind::Events => true,
                super::MeasureKind::Magnitude => false,
                _ => {
                    return Err(err(
                        field,
                        format!("measure {id:?} is derived: relations tie counts or magnitudes"),
                    ));
                }
            };
            kinds.push(counted);
        }
        if kinds.iter().any(|&k| k != kinds[0]) {
            return Err(err(
                field,
                "a relation ties counts with counts or magnitudes with magnitudes".into(),
            ));
        }
        let mut names: Vec<&String> = rel.right.iter().collect();
        names.push(&rel.left);
        names.sort();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(err(field, "a measure appears twice in the relation".into()));
        }
    }
    Ok(())
}

/// Checks the crossings: at least one, each naming known levels of known dimensions and always
/// the period dimension.
fn check_crossings(def: &Definition) -> Result<(), Fault> {
    if def.crossings.is_empty() {
        return Err(err(
            "crossings".into(),
            "at least one crossing is needed".into(),
        ));
    }
    for (i, crossing) in def.crossings.iter().enumerate() {
        let field = format!("crossings[{i}]");
        for (dim_id, level) in crossing {
            let Some(dim) = def.dimension(dim_id) else {
                return Err(err(field, format!("unknown dimension {dim_id:?}")));
            };
            if !level_names(dim).contains(&level.as_str()) {
                return Err(err(
                    format!("{field}.{dim_id}"),
                    format!(
                        "unknown level {level:?} (levels: {})",
                        level_names(dim).join(", ")
                    ),
                ));
            }
        }
        for dim in &def.dimensions {
            if dim.kind == DimensionType::Period && !crossing.contains_key(&dim.id) {
                return Err(err(
                    field,
                    format!(
                        "the period dimension {:?} must be named (it has no total)",
                        dim.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Checks the methodology: computations that read candidatures exclude pe_approval imports.
fn check_methodology(def: &Definition, spec: &ComputationSpec) -> Result<(), Fault> {
    if spec.reads_applications
        && !def
            .methodology
            .excluded_creation_paths
            .contains(&CreationPath::PeApproval)
    {
        return Err(err(
            "methodology.excluded_creation_paths".into(),
            "pe_approval imports are excluded from every indicator".into(),
        ));
    }
    Ok(())
}

/// The level names of a dimension, coarsest first (for categorical ones, `total` first).
pub(crate) fn level_names(dim: &super::Dimension) -> Vec<&str> {
    match dim.kind {
        DimensionType::Territory => TERRITORY_LEVELS.to_vec(),
        DimensionType::Period => PERIOD_LEVELS.to_vec(),
        DimensionType::Categorical => std::iter::once(TOTAL_LEVEL)
            .chain(dim.levels.iter().map(|l| l.id.as_str()))
            .collect(),
    }
}

/// Orders levels as a chain from the top (no parent) down, refusing cycles, branches and
/// unknown parents.
fn order_levels(levels: Vec<Level>) -> Result<Vec<Level>, (String, String)> {
    if levels.is_empty() {
        return Err((
            "levels".into(),
            "a categorical dimension needs at least one level".into(),
        ));
    }
    let mut by_id: BTreeMap<String, Level> = BTreeMap::new();
    for level in levels {
        if level.id == TOTAL_LEVEL {
            return Err((
                format!("levels[{}]", level.id),
                "the total level is implicit".into(),
            ));
        }
        let id = level.id.clone();
        if by_id.insert(id.clone(), level).is_some() {
            return Err((format!("levels[{id}]"), "declared twice".into()));
        }
    }
    for level in by_id.values() {
        if let Some(parent) = &level.parent
            && !by_id.contains_key(parent)
        {
            return Err((
                format!("levels[{}].parent", level.id),
                format!("unknown level {parent:?}"),
            ));
        }
    }
    // Every level must be reached by walking its parents up to a root without revisiting.
    for start in by_id.keys() {
        let mut visited = BTreeSet::new();
        let mut current = start.as_str();
        while let Some(parent) = by_id[current].parent.as_deref() {
            if !visited.insert(current) || parent == start {
                return Err((
                    format!("levels[{start}].parent"),
                    format!("the parents of level {start:?} form a cycle"),
                ));
            }
            current = parent;
        }
    }
    let roots: Vec<&String> = by_id
        .values()
        .filter(|l| l.parent.is_none())
        .map(|l| &l.id)
        .collect();
    if roots.len() != 1 {
        return Err((
            "levels".into(),
            format!(
                "the hierarchy does not nest: {} levels sit right under the total ({})",
                roots.len(),
                roots
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut ordered = Vec::with_capacity(by_id.len());
    let mut parent: Option<String> = None;
    while !by_id.is_empty() {
        let children: Vec<String> = by_id
            .values()
            .filter(|l| l.parent == parent)
            .map(|l| l.id.clone())
            .collect();
        match children.as_slice() {
            [one] => {
                let level = by_id.remove(one).unwrap_or_else(|| unreachable!());
                parent = Some(level.id.clone());
                ordered.push(level);
            }
            _ => {
                return Err((
                    format!("levels[{}]", parent.as_deref().unwrap_or(TOTAL_LEVEL)),
                    format!(
                        "the hierarchy does not nest: {} levels hang under this one",
                        children.len()
                    ),
                ));
            }
        }
    }
    Ok(ordered)
}

/// Checks that every member of a level has a parent in the level above (none at the top) and
/// that codes are unique within the dimension.
fn check_nesting(levels: &[Level]) -> Result<(), (String, String)> {
    let mut codes = BTreeSet::new();
    for (i, level) in levels.iter().enumerate() {
        if level.members.is_empty() {
            return Err((format!("levels[{}].members", level.id), "no member".into()));
        }
        let above: Option<BTreeSet<&str>> = (i > 0).then(|| {
            levels[i - 1]
                .members
                .iter()
                .map(|m| m.code.as_str())
                .collect()
        });
        for m in &level.members {
            let field = format!("levels[{}].members[{}]", level.id, m.code);
            if m.code == TOTAL || m.code.is_empty() || !codes.insert(m.code.clone()) {
                return Err((
                    field,
                    "code empty, reserved or not unique in the dimension".into(),
                ));
            }
            match (&above, &m.parent) {
                (None, None) => {}
                (None, Some(p)) => {
                    return Err((
                        format!("{field}.parent"),
                        format!("{p:?}: members of the top level hang under the total"),
                    ));
                }
                (Some(_), None) => {
                    return Err((
                        format!("{field}.parent"),
                        "the hierarchy does not nest: no parent member".into(),
                    ));
                }
                (Some(above), Some(p)) => {
                    if !above.contains(p.as_str()) {
                        return Err((
                            format!("{field}.parent"),
                            format!(
                                "the hierarchy does not nest: {p:?} is not a member of level {:?}",
                                levels[i - 1].id
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}
