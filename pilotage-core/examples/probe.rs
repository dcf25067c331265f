//! Witness protection of a generated country, with its figures: values, claims, points, unproved
//! claims by dataset and measure (`PILOTAGE_SCALE`, `PILOTAGE_SEED`, `PILOTAGE_DATASETS`,
//! `PILOTAGE_YEAR` for sources of one year as the demo's;
//! `PILOTAGE_PROVING=CODE,CODE` prints the points proving claims of rows with those codes;
//! `PILOTAGE_DETAIL` adds the hidden share per measure and per level, `PILOTAGE_NO_RELATIONS`
//! drops the relations between measures the definitions declare, `PILOTAGE_PRIMARY_ONLY` prints
//! the same shares for the primary rules alone and stops there).
use pilotage_core::cube::Geography;
use pilotage_core::cube::calendar::days_from_civil;
use pilotage_core::dataset::load_dir;
use pilotage_core::disclosure::release::{ProtectOptions, primary_mask, protect_release};
use pilotage_core::indicator::{Context, Sources, compute_all};
use pilotage_core::synth::{GeneratorConfig, generate_batches};
use std::path::{Path, PathBuf};
use std::time::Instant;
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut defs = load_dir(&repo().join("pilotage-core/data/datasets")).expect("definitions");
    if let Some(only) = std::env::var_os("PILOTAGE_DATASETS") {
        let only = only.to_string_lossy().into_owned();
        defs.retain(|d| only.split(',').any(|id| id == d.id));
    }
    if std::env::var_os("PILOTAGE_NO_RELATIONS").is_some() {
        for d in &mut defs {
            d.relations.clear();
        }
    }
    let geography = Geography::from_reference_dir(&repo().join("pilotage-core/data/reference"))
        .expect("referential");
    let context = Context {
        geography,
        as_of: days_from_civil(2025, 12, 31),
    };
    let scale: f64 = std::env::var("PILOTAGE_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.001);
    let seed: u64 = std::env::var("PILOTAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let t = Instant::now();
    let mut config = GeneratorConfig {
        scale,
        seed,
        ..GeneratorConfig::default()
    };
    if let Some(year) = std::env::var("PILOTAGE_YEAR")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.first_year = year;
        config.last_year = year;
    }
    let mut sources = Sources::new();
    generate_batches(&config, &mut |table, batch| {
        sources.push(table, batch);
        Ok(())
    })
    .expect("generate");
    let cubes = compute_all(&defs, &sources, &context).expect("cubes");
    println!("cubes {:.1}s", t.elapsed().as_secs_f64());
    if let Ok(code) = std::env::var("PILOTAGE_ROWS") {
        for cube in &cubes {
            for r in 0..cube.len() {
                let at: Vec<&str> = cube.dimensions.iter().map(|d| d.code(r)).collect();
                if at.contains(&code.as_str()) {
                    let v = match &cube.measures[0].values {
                        pilotage_core::cube::MeasureValues::Counts(v) => format!("{:?}", v[r]),
                        pilotage_core::cube::MeasureValues::Values(v) => format!("{:?}", v[r]),
                    };
                    println!("  row {} {v}", at.join("/"));
                }
            }
        }
    }
    if std::env::var_os("PILOTAGE_PRIMARY_ONLY").is_some() {
        let t = Instant::now();
        let secret = primary_mask(&cubes, &defs, &ProtectOptions::default()).expect("primary");
        println!("primary rules {:.1}s", t.elapsed().as_secs_f64());
        detail(&cubes, &secret);
        return;
    }
    let t = Instant::now();
    let p = protect_release(&cubes, &defs, &ProtectOptions::default()).expect("protect");
    let s = &p.stats;
    println!(
        "protect {:.1}s values {} rel {} conf {} claims {} points {} changes {} shared {} unproved {}",
        t.elapsed().as_secs_f64(),
        s.values,
        s.relations,
        s.confidential,
        s.claims,
        s.points,
        s.point_changes,
        s.claims_shared,
        s.unproved
    );
    println!(
        "overall primary {} secondary {} hidden {:.1}%",
        p.overall.primary,
        p.overall.secondary,
        p.overall.secret_share_pct()
    );
    for d in &p.datasets {
        println!(
            "  {:<22} values {:>8} primary {:>7} secondary {:>7} hidden {:>5.1}%",
            d.dataset,
            d.overall.values,
            d.overall.primary,
            d.overall.secondary,
            d.overall.secret_share_pct()
        );
    }
    if std::env::var_os("PILOTAGE_DETAIL").is_some() {
        detail(&cubes, &p.secret);
    }
    let show: usize = std::env::var("PILOTAGE_POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // `PILOTAGE_PROVING=REG-28,2025-07`: every point proving a claim of a row with those codes.
    let proving: Vec<String> = std::env::var("PILOTAGE_PROVING")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let step = (p.certificate.points.len() / show.max(1)).max(1);
    let chosen: Vec<&pilotage_core::certificate::Point> = if proving.is_empty() {
        p.certificate
            .points
            .iter()
            .step_by(step)
            .take(show)
            .collect()
    } else {
        p.certificate
            .points
            .iter()
            .filter(|point| {
                point.claims.iter().any(|c| {
                    let cube = &cubes[c.cell.dataset as usize];
                    proving.iter().all(|code| {
                        cube.dimensions
                            .iter()
                            .any(|d| d.code(c.cell.row as usize) == code)
                    })
                })
            })
            .collect()
    };
    for point in chosen {
        let name = |c: &pilotage_core::certificate::CellRef| {
            let cube = &cubes[c.dataset as usize];
            let at: Vec<&str> = cube
                .dimensions
                .iter()
                .map(|d| d.code(c.row as usize))
                .collect();
            format!("{} {}", at.join("/"), cube.measures[c.measure as usize].id)
        };
        println!(
            "  point: {} changes, proves {}",
            point.changes.len(),
            point
                .claims
                .iter()
                .map(|c| format!("{} {:?}", name(&c.cell), c.kind))
                .collect::<Vec<_>>()
                .join("; ")
        );
        for (c, d) in &point.changes {
            println!("      {:+} {}", d, name(c));
        }
    }
    let mut by: std::collections::BTreeMap<(String, String, String), usize> = Default::default();
    for u in &p.unresolved {
        *by.entry((u.dataset.clone(), u.measure.clone(), u.reason.clone()))
            .or_default() += 1;
    }
    for (k, v) in &by {
        println!("  unresolved {v:>6} {k:?}");
    }
    for u in p.unresolved.iter().take(8) {
        println!(
            "    {} {:?} {} = {} : {}",
            u.dataset, u.coordinates, u.measure, u.value, u.reason
        );
    }
    for k in &s.relation_kinds {
        if k.3.contains("where") || k.2.starts_with('=') {
            println!("  rel {:?}", k);
        }
    }
}

fn detail(cubes: &[pilotage_core::cube::Cube], secret: &[Vec<Vec<bool>>]) {
    for (cube, secret) in cubes.iter().zip(secret) {
        let mut by_level: std::collections::BTreeMap<(String, String), (usize, usize)> =
            Default::default();
        for (m, rows) in cube.measures.iter().zip(secret) {
            let hidden = rows.iter().filter(|&&x| x).count();
            println!(
                "  {:<22} {:<28} hidden {:>6} of {:>7} ({:.1}%)",
                cube.dataset,
                m.id,
                hidden,
                rows.len(),
                100.0 * hidden as f64 / rows.len().max(1) as f64
            );
            for (r, &h) in rows.iter().enumerate() {
                let key = cube
                    .dimensions
                    .iter()
                    .filter(|d| d.level_names.len() > 1)
                    .map(|d| d.level(r).to_owned())
                    .collect::<Vec<_>>();
                let key = (key.first().cloned().unwrap_or_default(), key[1..].join("×"));
                let e = by_level.entry(key).or_default();
                e.0 += 1;
                e.1 += usize::from(h);
            }
        }
        for ((a, b), (n, h)) in &by_level {
            println!(
                "  {:<22} {:<12} {:<20} hidden {:>6} of {:>7} ({:.1}%)",
                cube.dataset,
                a,
                b,
                h,
                n,
                100.0 * *h as f64 / (*n).max(1) as f64
            );
        }
    }
}
