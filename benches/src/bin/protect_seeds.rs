//! One run of disclosure control over a generated country, printed as one line: seed, scale,
//! values, confidential values, claims, claims left unproved, share hidden, seconds of the
//! protection, seconds of the check and whether the independent checker passed.
//!
//! `protect_seeds SEED SCALE` (`--header` prints the column names). Datasets: the nine, or
//! `PILOTAGE_DATASETS=a,b`; years 2021–2025, or from `PILOTAGE_FIRST_YEAR` to 2025. Run by
//! `benches/protect_seeds.sh` over seeds and scales.

use pilotage_benches::{cubes, datasets_from_env, definitions, env_or, generated_sources};

const HEADER: &str = "seed\tscale\tvalues\tconfidential\tclaims\tunproved\thidden_pct\tprotect_s\tcheck_s\tchecker_passed";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--header") {
        println!("{HEADER}");
        return;
    }
    let usage = "usage: protect_seeds SEED SCALE | protect_seeds --header";
    let (Some(seed), Some(scale)) = (
        args.first().and_then(|s| s.parse::<u64>().ok()),
        args.get(1).and_then(|s| s.parse::<f64>().ok()),
    ) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let first_year: i32 = env_or("PILOTAGE_FIRST_YEAR", 2021);
    let ids = datasets_from_env(None);
    let defs = definitions(ids.as_deref());
    let cubes = cubes(
        &defs,
        &generated_sources(scale, seed, (first_year, 2025)),
        2025,
    );
    let pass = pilotage_benches::protect_and_check(&defs, &cubes);
    let (p, r) = (&pass.protection, &pass.report);
    println!(
        "{seed}\t{scale}\t{}\t{}\t{}\t{}\t{:.1}\t{:.1}\t{:.2}\t{}",
        p.stats.values,
        p.stats.confidential,
        p.stats.claims,
        p.stats.unproved,
        p.overall.secret_share_pct(),
        pass.protect_seconds,
        pass.check_seconds,
        r.passed
    );
}
