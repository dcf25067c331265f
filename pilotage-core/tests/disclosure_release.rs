//! Disclosure control of a whole release of cubes: protection of the cubes computed from a small
//! synthetic country, then the independent audit of the published tables.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow_array::RecordBatch;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::cube::{Cube, Geography};
use pilotage_core::dataset::{Definition, load_dir};
use pilotage_core::disclosure::release::{
    PreviousRelease, ProtectOptions, ReleaseProtection, audit_release, audit_release_with,
    protect_release,
};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::release::published_batch;
use pilotage_core::synth::{GeneratorConfig, generate_batches};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The sources of a small synthetic country: scale 0.002, 2025 only.
fn sources_2025() -> Sources {
    sources_2025_at(0.002)
}

/// The sources of a synthetic country of `scale`, 2025 only.
fn sources_2025_at(scale: f64) -> Sources {
    let config = GeneratorConfig {
        scale,
        first_year: 2025,
        last_year: 2025,
        ..GeneratorConfig::default()
    };
    let mut sources = Sources::new();
    generate_batches(&config, &mut |table, batch| {
        sources.push(table, batch);
        Ok(())
    })
    .expect("generate");
    sources
}

struct Release {
    defs: Vec<Definition>,
    cubes: Vec<Cube>,
    protection: ReleaseProtection,
}

/// The cubes of a small synthetic country (scale 0.003, 2024–2025) and their protection.
fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        // Three datasets with every kind of relation: sums of events over every hierarchy,
        // stocks at period end (PASS IAE), averages over time (ETP), rates and differences.
        let mut defs = load_dir(&root().join("datasets")).expect("definitions");
        defs.retain(|d| d.id == "sorties");
        let sources = sources_2025();
        let geography =
            Geography::from_reference_dir(&root().join("datasets/reference")).expect("geography");
        let context = Context {
            geography,
            as_of: days_from_civil(2025, 12, 31),
        };
        let cubes = compute_all(&defs, &sources, &context).expect("cubes");
        let protection =
            protect_release(&cubes, &defs, &ProtectOptions::default()).expect("protection");
        Release {
            defs,
            cubes,
            protection,
        }
    })
}

fn published(r: &Release, secret: &[Vec<Vec<bool>>]) -> Vec<(Definition, RecordBatch)> {
    published_cubes(&r.defs, &r.cubes, secret)
}

/// The published tables of `cubes` under the mask `secret`, with their definitions.
fn published_cubes(
    defs: &[Definition],
    cubes: &[Cube],
    secret: &[Vec<Vec<bool>>],
) -> Vec<(Definition, RecordBatch)> {
    cubes
        .iter()
        .zip(secret)
        .map(|(cube, mask)| {
            let def = defs
                .iter()
                .find(|d| d.id == cube.dataset)
                .expect("definition")
                .clone();
            (def, published_batch(cube, mask).expect("batch").0)
        })
        .collect()
}

#[test]
fn protected_release_passes_the_audit() {
    let r = release();
    let p = &r.protection;
    assert!(
        p.unresolved.is_empty(),
        "unresolved: {:?}",
        &p.unresolved[..p.unresolved.len().min(5)]
    );
    assert!(p.overall.primary > 0, "a small country has small counts");
    assert!(p.overall.secondary > 0);
    let audit = audit_release(&published(r, &p.secret)).expect("audit");
    assert!(
        audit.passed,
        "{} failures, first: {:?}",
        audit.failures.len(),
        &audit.failures[..audit.failures.len().min(5)]
    );
    assert_eq!(audit.values, p.overall.values);
    assert_eq!(audit.secret, p.overall.primary + p.overall.secondary);
    assert!(audit.checked > 0);
    let summary = audit.summary();
    assert!(summary.passed && summary.failures == 0);
    eprintln!(
        "values {} primary {} secondary {} ratio {:.2}; audit: {} checked, {} components (largest {}), {} LPs",
        p.overall.values,
        p.overall.primary,
        p.overall.secondary,
        p.overall.secondary_per_primary(),
        audit.checked,
        audit.components,
        audit.largest_component,
        audit.lps
    );
}

/// Components cut into chunks (cells outside a chunk held at their true values, settled cells
/// kept as unknowns) give a mask that the exact audit, which solves every component whole,
/// passes: chunks can only make the protection stricter.
#[test]
fn chunked_protection_passes_the_exact_audit() {
    let r = release();
    let options = ProtectOptions {
        max_component: 60,
        ..ProtectOptions::default()
    };
    let p = protect_release(&r.cubes, &r.defs, &options).expect("chunked protection");
    let audit = audit_release(&published(r, &p.secret)).expect("audit");
    assert!(
        audit.largest_component > 60,
        "some component is cut: largest {}",
        audit.largest_component
    );
    assert_eq!(audit.chunked, 0, "the audit solves every component whole");
    assert!(
        audit.passed,
        "{} failures, first: {:?}",
        audit.failures.len(),
        &audit.failures[..audit.failures.len().min(5)]
    );
    // What a chunk cannot prove may stay unresolved once nothing is left to hide around it;
    // the exact audit still finds it protected.
    eprintln!(
        "chunks of 60: {} secondary (whole components: {}), {} unresolved, audit largest component {}",
        p.overall.secondary,
        r.protection.overall.secondary,
        p.unresolved.len(),
        audit.largest_component
    );
}

/// The audit cuts components above `max_component` into chunks, the cells outside each chunk
/// held at a feasible point it computes itself (it does not know the true values). That check
/// may fail values that pass whole, but must never pass one that fails whole: on the protected
/// mask, on a primary-only mask and on masks thinned by one secondary value, every value the
/// whole audit fails also fails in chunks.
#[test]
fn the_audit_in_chunks_is_never_looser_than_whole() {
    let r = release();
    let chunked = ProtectOptions {
        max_component: 60,
        ..ProtectOptions::default()
    };
    let key = |f: &pilotage_core::disclosure::release::CellReport| {
        (f.dataset.clone(), f.coordinates.clone(), f.measure.clone())
    };
    let mut masks = vec![("protected", r.protection.secret.clone())];
    masks.push((
        "primary only",
        r.cubes
            .iter()
            .zip(&r.protection.secret)
            .map(|(cube, secret)| {
                cube.measures
                    .iter()
                    .zip(secret)
                    .map(|(m, hidden)| {
                        (0..cube.len())
                            .map(|row| {
                                hidden[row]
                                    && cube
                                        .value(&m.id, row)
                                        .is_some_and(|v| (1.0..=10.0).contains(&v))
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect(),
    ));
    // Thinned: one hidden count of 11 or more published back, in three places.
    let mut thinned = 0;
    'cubes: for (ci, cube) in r.cubes.iter().enumerate() {
        for (mi, m) in cube.measures.iter().enumerate() {
            if !matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_)) {
                continue;
            }
            for row in (0..cube.len()).step_by(7) {
                if r.protection.secret[ci][mi][row]
                    && cube.value(&m.id, row).is_some_and(|v| v > 10.0)
                {
                    let mut mask = r.protection.secret.clone();
                    mask[ci][mi][row] = false;
                    masks.push(("thinned", mask));
                    thinned += 1;
                    if thinned == 3 {
                        break 'cubes;
                    }
                    break;
                }
            }
        }
    }
    assert_eq!(thinned, 3);
    for (name, mask) in &masks {
        let tables = published(r, mask);
        let whole = audit_release(&tables).expect("whole audit");
        let cut = audit_release_with(&tables, &chunked).expect("audit in chunks");
        assert_eq!(whole.chunked, 0);
        assert!(cut.chunked > 0, "{name}: some component is cut");
        let failing: std::collections::BTreeSet<_> = cut.failures.iter().map(key).collect();
        for f in &whole.failures {
            assert!(
                failing.contains(&key(f)),
                "{name}: fails whole, passes in chunks: {f:?}"
            );
        }
        assert!(whole.passed || !cut.passed, "{name}");
        eprintln!(
            "{name}: whole {} failures, in chunks {} ({} values checked in chunks)",
            whole.failures.len(),
            cut.failures.len(),
            cut.chunked
        );
    }
}

#[test]
#[allow(clippy::needless_range_loop)]
fn protection_is_deterministic_and_keeps_the_rules() {
    let r = release();
    let again = protect_release(&r.cubes, &r.defs, &ProtectOptions::default()).expect("again");
    assert_eq!(again.secret, r.protection.secret);
    // Primary rules on the cubes: every count from 1 to 10 is hidden, public counts never,
    // rates over hidden parts are hidden.
    for (cube, mask) in r.cubes.iter().zip(&r.protection.secret) {
        for (mi, m) in cube.measures.iter().enumerate() {
            for row in 0..cube.len() {
                let v = cube.value(&m.id, row);
                if v.is_none() {
                    assert!(!mask[mi][row], "null values are never secret");
                    continue;
                }
                let v = v.unwrap_or(0.0);
                let public = [
                    "structures",
                    "fiches_ouvertes",
                    "fiches_en_tension",
                    "organisations",
                ]
                .contains(&m.id.as_str());
                if public {
                    assert!(!mask[mi][row], "{}: {} is public", cube.dataset, m.id);
                } else if matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_))
                    && (1.0..=10.0).contains(&v)
                {
                    assert!(
                        mask[mi][row],
                        "{}: {} = {v} must be secret",
                        cube.dataset, m.id
                    );
                }
                if let Some((a, b)) = &m.parts {
                    let ia = cube.measures.iter().position(|x| &x.id == a).expect("part");
                    let ib = cube.measures.iter().position(|x| &x.id == b).expect("part");
                    if mask[ia][row] || mask[ib][row] {
                        assert!(
                            mask[mi][row],
                            "{}: {} over a secret part",
                            cube.dataset, m.id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_audit_catches_primary_only_and_thinned_patterns() {
    let r = release();
    // Primary only: counts from 1 to 10 hidden, nothing else.
    let primary_only: Vec<Vec<Vec<bool>>> = r
        .cubes
        .iter()
        .map(|cube| {
            cube.measures
                .iter()
                .map(|m| {
                    (0..cube.len())
                        .map(|row| {
                            matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_))
                                && cube
                                    .value(&m.id, row)
                                    .is_some_and(|v| (1.0..=10.0).contains(&v))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let audit = audit_release(&published(r, &primary_only)).expect("audit");
    assert!(!audit.passed);
    assert!(
        audit
            .failures
            .iter()
            .any(|f| f.reason == "interval too narrow")
    );
    // Publishing back one secret count that is not itself small: detected in most cases.
    let mut candidates = Vec::new();
    for (ci, cube) in r.cubes.iter().enumerate() {
        for (mi, m) in cube.measures.iter().enumerate() {
            if !matches!(m.values, pilotage_core::cube::MeasureValues::Counts(_)) {
                continue;
            }
            for row in 0..cube.len() {
                let v = cube.value(&m.id, row).unwrap_or(0.0);
                if r.protection.secret[ci][mi][row] && (v == 0.0 || v > 10.0) {
                    candidates.push((ci, mi, row));
                }
            }
        }
    }
    assert!(!candidates.is_empty());
    let step = (candidates.len() / 10).max(1);
    let (mut tried, mut detected) = (0, 0);
    for &(ci, mi, row) in candidates.iter().step_by(step).take(10) {
        let mut mask = r.protection.secret.clone();
        mask[ci][mi][row] = false;
        // Derived values over it stay hidden: only the additive value is published back.
        let audit = audit_release(&published(r, &mask)).expect("audit");
        tried += 1;
        if !audit.passed {
            detected += 1;
        }
    }
    eprintln!("published back one secondary count: {detected} of {tried} detected");
    assert!(tried > 0);
}

/// Public status of every value of published tables: (dataset, codes, measure) → the value,
/// or `None` when secret.
fn statuses(
    tables: &[(Definition, RecordBatch)],
) -> std::collections::HashMap<(String, Vec<String>, String), Option<f64>> {
    use arrow_array::cast::AsArray;
    let mut out = std::collections::HashMap::new();
    for (def, batch) in tables {
        let text = |name: &str| -> Vec<String> {
            let col = batch.column_by_name(name).expect("column");
            match col.data_type() {
                arrow_schema::DataType::Utf8View => col
                    .as_string_view()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_owned())
                    .collect(),
                _ => col
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_owned())
                    .collect(),
            }
        };
        let dims: Vec<Vec<String>> = def.dimensions.iter().map(|d| text(&d.id)).collect();
        for m in &def.measures {
            let status = text(&format!("{}_statut", m.id));
            let col = batch.column_by_name(&m.id).expect("measure");
            let values: Vec<f64> = match col.data_type() {
                arrow_schema::DataType::UInt64 => col
                    .as_primitive::<arrow_array::types::UInt64Type>()
                    .iter()
                    .map(|v| v.unwrap_or_default() as f64)
                    .collect(),
                arrow_schema::DataType::Int64 => col
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .iter()
                    .map(|v| v.unwrap_or_default() as f64)
                    .collect(),
                _ => col
                    .as_primitive::<arrow_array::types::Float64Type>()
                    .iter()
                    .map(|v| v.unwrap_or_default())
                    .collect(),
            };
            for r in 0..batch.num_rows() {
                let codes: Vec<String> = dims.iter().map(|d| d[r].clone()).collect();
                let shown = match status[r].as_str() {
                    "secret" => None,
                    "publie" => Some(values[r]),
                    _ => continue,
                };
                out.insert((def.id.clone(), codes, m.id.clone()), shown);
            }
        }
    }
    out
}

/// A year-end release after a release of the first three quarters protected more strictly
/// (counts below 15 secret): values the previous
/// release published unchanged are never hidden (hiding them would protect nothing), the new
/// release keeps at least as much of the previous mask as a release protected without it, the
/// share kept is reported, and the new release passes the audit.
#[test]
fn a_new_release_knows_the_previous_one_and_keeps_its_mask() {
    let mut defs = load_dir(&root().join("datasets")).expect("definitions");
    defs.retain(|d| d.id == "sorties");
    let sources = sources_2025();
    let geography =
        Geography::from_reference_dir(&root().join("datasets/reference")).expect("geography");
    let cubes_at = |month: u32, day: u32| {
        let context = Context {
            geography: geography.clone(),
            as_of: days_from_civil(2025, month, day),
        };
        compute_all(&defs, &sources, &context).expect("cubes")
    };
    let publish = |cubes: &[Cube], secret: &[Vec<Vec<bool>>]| published_cubes(&defs, cubes, secret);
    // The previous release was protected with a stricter threshold (counts below 15 secret):
    // the new one, left alone, would publish some of its secrets and hide other values.
    let before_cubes = cubes_at(9, 30);
    let mut stricter = ProtectOptions::default();
    stricter.rules.min_count = 15;
    let before = protect_release(&before_cubes, &defs, &stricter).expect("previous protection");
    assert!(before.unresolved.is_empty());
    assert_eq!(before.loss.previous_mask_kept_pct, None);
    let previous = publish(&before_cubes, &before.secret);

    let cubes = cubes_at(12, 31);
    let alone = protect_release(&cubes, &defs, &ProtectOptions::default()).expect("alone");
    let options = ProtectOptions {
        previous: Some(PreviousRelease {
            tables: previous.clone(),
        }),
        ..ProtectOptions::default()
    };
    let after = protect_release(&cubes, &defs, &options).expect("with the previous release");
    assert!(after.unresolved.is_empty(), "{:?}", after.unresolved);
    let kept_pct = after
        .loss
        .previous_mask_kept_pct
        .expect("the share of the previous mask kept is reported");

    // What both releases show, matched by coordinates.
    let old = statuses(&previous);
    let truth = statuses(&publish(&cubes, &no_secret(&cubes)));
    let new = statuses(&publish(&cubes, &after.secret));
    let alone_new = statuses(&publish(&cubes, &alone.secret));
    let (mut hidden_before, mut kept, mut kept_alone, mut known_hidden) = (0, 0, 0, 0);
    for (key, shown_before) in &old {
        let Some(now) = new.get(key) else { continue };
        match shown_before {
            None => {
                hidden_before += 1;
                kept += usize::from(now.is_none());
                kept_alone += usize::from(alone_new[key].is_none());
            }
            Some(v) => {
                if now.is_none() && truth[key] == Some(*v) {
                    known_hidden += 1;
                }
            }
        }
    }
    let known_hidden_alone = old
        .iter()
        .filter(|(key, shown)| {
            shown.is_some()
                && alone_new.get(*key).is_some_and(|n| n.is_none())
                && truth[*key] == **shown
        })
        .count();
    eprintln!(
        "previous mask {hidden_before} values: kept {kept} ({kept_pct:.1} %), {kept_alone} without \
         the previous release; known values hidden: {known_hidden}, {known_hidden_alone} without"
    );
    assert!(hidden_before > 0, "the previous release hid something");
    assert!(
        known_hidden_alone > 0 && kept_alone < hidden_before,
        "the case does not tell the two protections apart"
    );
    assert_eq!(
        known_hidden, 0,
        "a value published unchanged before is hidden now"
    );
    let share = 100.0 * kept as f64 / hidden_before as f64;
    assert!((share - kept_pct).abs() < 1e-9, "{share} vs {kept_pct}");
    assert!(
        kept >= kept_alone,
        "kept {kept} < {kept_alone} without the previous release"
    );

    let audit = audit_release(&publish(&cubes, &after.secret)).expect("audit");
    assert!(audit.passed, "{:?}", audit.failures.first());
    assert!(!after.same_as_previous);

    // Protecting the same cubes again after this release gives this release.
    let again = protect_release(
        &cubes,
        &defs,
        &ProtectOptions {
            previous: Some(PreviousRelease {
                tables: publish(&cubes, &after.secret),
            }),
            ..ProtectOptions::default()
        },
    )
    .expect("again");
    assert_eq!(again.secret, after.secret);
    assert!(again.same_as_previous);
    assert_eq!(again.loss.previous_mask_kept_pct, Some(100.0));
}

fn no_secret(cubes: &[Cube]) -> Vec<Vec<Vec<bool>>> {
    cubes
        .iter()
        .map(|c| c.measures.iter().map(|_| vec![false; c.len()]).collect())
        .collect()
}

/// `beneficiaires` breaks persons down by sensitive attributes (RSA, ASS, AAH, RQTH): where a
/// breakdown's total is from 1 to 10, every value of it is hidden, zeros and total included
/// (a published zero would tell everyone's status), and the audit passes: every hidden zero
/// among them can be 1 or more for all an attacker knows.
#[test]
fn small_sensitive_breakdowns_are_hidden_whole() {
    let mut defs = load_dir(&root().join("datasets")).expect("definitions");
    defs.retain(|d| d.id == "beneficiaires");
    // Only the crossings by a sensitive attribute (a much smaller cube, quicker to protect).
    defs[0].crossings.retain(|c| {
        ["rsa", "ass", "aah", "rqth"]
            .iter()
            .any(|a| c.contains_key(*a))
    });
    let sources = sources_2025_at(0.001);
    let context = Context {
        geography: Geography::from_reference_dir(&root().join("datasets/reference"))
            .expect("geography"),
        as_of: days_from_civil(2025, 12, 31),
    };
    let cubes = compute_all(&defs, &sources, &context).expect("cubes");
    let p = protect_release(&cubes, &defs, &ProtectOptions::default()).expect("protection");
    let cube = &cubes[0];
    let mi = cube
        .measures
        .iter()
        .position(|m| m.id == "beneficiaires")
        .expect("persons");
    let hidden = &p.secret[0][mi];
    let (mut rows, mut zeros) = (0, 0);
    for attribute in ["rsa", "ass", "aah", "rqth"] {
        let d = cube
            .dimensions
            .iter()
            .position(|d| d.id == attribute)
            .expect("sensitive dimension");
        let dim = &cube.dimensions[d];
        let members: Vec<&str> = dim.codes.iter().skip(1).map(String::as_str).collect();
        for row in 0..cube.len() {
            if dim.code(row) != "_T" {
                continue;
            }
            let at = |code: &str| -> Option<usize> {
                let coords: Vec<(&str, &str)> = cube
                    .dimensions
                    .iter()
                    .enumerate()
                    .map(|(k, x)| (x.id.as_str(), if k == d { code } else { x.code(row) }))
                    .collect();
                cube.find(&coords)
            };
            let present: Vec<Option<usize>> = members.iter().map(|m| at(m)).collect();
            if present.iter().all(Option::is_none) {
                continue; // not broken down by this attribute
            }
            // Dense: every member has a cell, zeros included.
            assert!(
                present.iter().all(Option::is_some),
                "{attribute}: a breakdown with missing members: {present:?}"
            );
            let total = cube.value("beneficiaires", row).unwrap_or(0.0);
            if !(1.0..=10.0).contains(&total) {
                continue;
            }
            assert!(hidden[row], "{attribute}: a small total {total} published");
            for r in present.into_iter().flatten() {
                rows += 1;
                assert!(
                    hidden[r],
                    "{attribute}: a value of a breakdown whose total is {total} published"
                );
                if cube.value("beneficiaires", r) == Some(0.0) {
                    zeros += 1;
                }
            }
        }
    }
    assert!(rows > 0, "the small country has small sensitive breakdowns");
    assert!(zeros > 0, "with zeros in them");
    let tables = published_cubes(&defs, &cubes, &p.secret);
    let audit = audit_release(&tables).expect("audit");
    assert!(
        audit.passed,
        "{:?}",
        &audit.failures[..audit.failures.len().min(3)]
    );
    eprintln!(
        "beneficiaires at scale 0.001: {rows} values in small sensitive breakdowns, {zeros} zeros"
    );
}
