#!/usr/bin/env python3
"""DuckDB side of the cube comparison: the same aggregations as pilotage, from the same Parquet.

Computes, with GROUP BY GROUPING SETS generated from the crossings of datasets/<id>.toml, the
distinct-count and sum measures of two datasets:
  - candidatures: `recues` (applications received) and `candidats` (distinct persons);
  - beneficiaires: `beneficiaires` (distinct persons with >= 1 validated hour) and `heures`.
It prints the wall time of each, the number of rows, and with --check writes a few cells
(France, régions and départements by year) to a CSV for pilotage's cross-check test.

Usage: cubes_duckdb.py SOURCES_DIR [--check OUT.csv] [--threads N]
Needs: python3 -m venv .venv && .venv/bin/pip install duckdb   (Python 3.11+ for tomllib)
"""
import argparse
import pathlib
import time
import tomllib

import duckdb

ROOT = pathlib.Path(__file__).resolve().parents[2]
REF = ROOT / "datasets" / "reference" / "departements.csv"

# Column expressions per (dimension, level); the total level has none.
TERRITORY = {"france": None, "region": "'REG-' || reg", "departement": "'DEP-' || dep"}
PERIOD = {
    "annee": "CAST(y AS VARCHAR)",
    "trimestre": "CAST(y AS VARCHAR) || '-T' || CAST((m + 2) // 3 AS VARCHAR)",
    "mois": "CAST(y AS VARCHAR) || '-' || LPAD(CAST(m AS VARCHAR), 2, '0')",
}


def levels(dim):
    if dim["type"] == "territory":
        return list(TERRITORY)
    if dim["type"] == "period":
        return list(PERIOD)
    return ["total"] + [lvl["id"] for lvl in dim["levels"]]


def level_expr(dim, level, cat_exprs):
    if dim["type"] == "territory":
        return TERRITORY[level]
    if dim["type"] == "period":
        return PERIOD[level]
    return None if level == "total" else cat_exprs[(dim["id"], level)]


def grouping_sets(defn, cat_exprs):
    """Every projection of every crossing, as lists of expressions (the same set pilotage makes)."""
    dims = defn["dimensions"]
    seen, sets = set(), []
    for crossing in defn["crossings"]:
        maxes = [levels(d).index(crossing.get(d["id"], levels(d)[0])) for d in dims]
        combos = [[]]
        for d, mx in zip(dims, maxes):
            combos = [c + [lv] for c in combos for lv in range(mx + 1)]
        for combo in combos:
            key = tuple(combo)
            if key in seen:
                continue
            seen.add(key)
            exprs = [level_expr(d, levels(d)[lv], cat_exprs) for d, lv in zip(dims, combo)]
            sets.append([e for e in exprs if e])
    return sets


def sql_sets(sets):
    return ", ".join("(" + ", ".join(s) + ")" for s in sets)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sources")
    ap.add_argument("--check")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    src = pathlib.Path(args.sources)
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"CREATE VIEW geo AS SELECT code AS dep, region AS reg FROM read_csv('{REF}', all_varchar=true)")
    t = lambda name: f"read_parquet('{src / (name + '.parquet')}')"
    kind_group = "CASE WHEN kind IN ('ACI','AI','EI','ETTI','EITI') THEN 'IAE' ELSE 'HORS_IAE' END"
    prescriber_group = (
        "CASE WHEN sender_prescriber_kind IS NULL THEN 'SANS_PRESCRIPTEUR' "
        "WHEN sender_prescriber_kind IN ('ML','FT','CAP_EMPLOI') THEN 'SPE' "
        "WHEN sender_prescriber_kind IN ('DEPT','ODC') THEN 'DEPARTEMENT' "
        "WHEN sender_prescriber_kind = 'Autre' THEN 'AUTRE' ELSE 'NOUVEAUX_PRESCRIPTEURS' END"
    )
    defs = {n: tomllib.loads((ROOT / "datasets" / f"{n}.toml").read_text()) for n in ["candidatures", "beneficiaires"]}
    results = {}

    # candidatures: received and distinct candidates, dated by the date of application.
    cat = {
        ("type_structure", "groupe"): "kgroup",
        ("type_structure", "type"): "kind",
        ("origine", "origine"): "origine",
        ("groupe_prescripteur", "groupe"): "pgroup",
    }
    sets = grouping_sets(defs["candidatures"], cat)
    query = f"""
      WITH a AS (
        SELECT s.departement AS dep, g.reg, s.kind, {kind_group} AS kgroup, c.origine,
               {prescriber_group} AS pgroup, year(c.created_at) AS y, month(c.created_at) AS m, c.hash_nir
        FROM {t('candidatures')} c JOIN {t('structures')} s ON s.id = c.structure_id
        JOIN geo g ON g.dep = s.departement
        WHERE c.creation_path NOT IN ('pe_approval', 'ai_stock') AND year(c.created_at) BETWEEN 2021 AND 2025)
      SELECT {', '.join(sorted({e for s in sets for e in s}))}, grouping_id({', '.join(sorted({e for s in sets for e in s}))}) AS gid,
             count(*) AS recues, count(DISTINCT hash_nir) AS candidats
      FROM a GROUP BY GROUPING SETS ({sql_sets(sets)})"""
    start = time.perf_counter()
    rows = con.execute(query).fetchall()
    results["candidatures"] = (time.perf_counter() - start, len(rows), len(sets))

    # beneficiaires: distinct persons with >= 1 validated hour, and hours.
    cat = {
        ("type_structure", "groupe"): "kgroup", ("type_structure", "type"): "kind",
        ("sexe", "sexe"): "sex", ("tranche_age", "tranche"): "age",
        ("rsa", "beneficiaire"): "rsa_group", ("rsa", "rsa"): "rsa",
        ("ass", "valeur"): "ass", ("aah", "valeur"): "aah", ("rqth", "valeur"): "rqth",
        ("qpv", "valeur"): "qpv", ("zrr", "valeur"): "zrr",
        ("duree_chomage", "duree"): "duree",
        ("niveau_formation", "groupe"): "edu_group", ("niveau_formation", "niveau"): "edu",
    }
    yn = lambda c: f"CASE WHEN k.{c} THEN 'OUI' ELSE 'NON' END"
    sets = grouping_sets(defs["beneficiaires"], cat)
    exprs = sorted({e for s in sets for e in s})
    query = f"""
      WITH st AS (SELECT asp_id, min(id) AS id FROM {t('structures')} WHERE asp_id IS NOT NULL GROUP BY asp_id),
      e AS (
        SELECT s.departement AS dep, g.reg, s.kind, {kind_group} AS kgroup, p.sex,
               CASE WHEN e.year - p.birth_year < 26 THEN 'MOINS_26' WHEN e.year - p.birth_year < 50 THEN 'DE_26_A_49' ELSE '50_ET_PLUS' END AS age,
               k.rsa, CASE WHEN k.rsa = 'NON' THEN 'RSA_NON' ELSE 'RSA_OUI' END AS rsa_group,
               {yn('ass')} AS ass, {yn('aah')} AS aah, {yn('rqth')} AS rqth, {yn('qpv')} AS qpv, {yn('zrr')} AS zrr,
               coalesce(k.unemployment_duration, 'NR') AS duree, coalesce(k.education_level, 'NR') AS edu,
               CASE WHEN k.education_level IS NULL THEN 'NIVEAU_NR' WHEN k.education_level IN ('00','01','50','51','60','70') THEN 'CAP_BEP_OU_INFRA' ELSE 'BAC_OU_PLUS' END AS edu_group,
               e.year AS y, e.month AS m, e.salarie_id, e.hours_worked
        FROM {t('etats_mensuels')} e JOIN {t('contrats')} k ON k.id = e.contrat_id
        JOIN st ON st.asp_id = k.structure_asp_id JOIN {t('structures')} s ON s.id = st.id
        JOIN {t('salaries')} p ON p.id = e.salarie_id JOIN geo g ON g.dep = s.departement
        WHERE e.state IN ('VALIDE', 'DEBLOQUE') AND e.hours_worked > 0 AND e.year BETWEEN 2021 AND 2025)
      SELECT {', '.join(exprs)}, grouping_id({', '.join(exprs)}) AS gid,
             count(DISTINCT salarie_id) AS beneficiaires, sum(hours_worked) AS heures
      FROM e GROUP BY GROUPING SETS ({sql_sets(sets)})"""
    start = time.perf_counter()
    rows = con.execute(query).fetchall()
    results["beneficiaires"] = (time.perf_counter() - start, len(rows), len(sets))

    for name, (secs, n, s) in results.items():
        print(f"duckdb {name}: {secs:.3f} s, {n} rows, {s} grouping sets")
    print(f"duckdb total: {sum(r[0] for r in results.values()):.3f} s")

    if args.check:
        lines = ["dataset,cell,measure,value"]
        q = f"""
          SELECT coalesce('DEP-' || dep, 'REG-' || reg, 'FR') AS terr, y, count(*) AS recues, count(DISTINCT c.hash_nir) AS candidats
          FROM {t('candidatures')} c JOIN {t('structures')} s ON s.id = c.structure_id
          JOIN (SELECT code AS dep2, region AS reg2 FROM read_csv('{REF}', all_varchar=true)) g2 ON g2.dep2 = s.departement,
          LATERAL (SELECT s.departement AS dep, g2.reg2 AS reg, year(c.created_at) AS y)
          WHERE c.creation_path NOT IN ('pe_approval', 'ai_stock') AND y BETWEEN 2021 AND 2025
          GROUP BY GROUPING SETS ((y), (reg, y), (dep, reg, y)) ORDER BY 1, 2"""
        for terr, y, recues, candidats in con.execute(q).fetchall():
            if terr.startswith("DEP-") and terr not in ("DEP-01", "DEP-75", "DEP-2A", "DEP-971"):
                continue
            lines.append(f"candidatures,territoire={terr};periode={y},recues,{recues}")
            lines.append(f"candidatures,territoire={terr};periode={y},candidats,{candidats}")
        q = f"""
          WITH st AS (SELECT asp_id, min(id) AS id FROM {t('structures')} WHERE asp_id IS NOT NULL GROUP BY asp_id)
          SELECT CASE WHEN grouping(g.region) = 0 THEN 'REG-' || g.region ELSE 'FR' END AS terr, e.year,
                 count(DISTINCT e.salarie_id), round(sum(e.hours_worked))
          FROM {t('etats_mensuels')} e JOIN {t('contrats')} k ON k.id = e.contrat_id
          JOIN st ON st.asp_id = k.structure_asp_id JOIN {t('structures')} s ON s.id = st.id
          JOIN read_csv('{REF}', all_varchar=true) g ON g.code = s.departement
          WHERE e.state IN ('VALIDE', 'DEBLOQUE') AND e.hours_worked > 0 AND e.year BETWEEN 2021 AND 2025
          GROUP BY GROUPING SETS ((e.year), (g.region, e.year)) ORDER BY 1, 2"""
        for terr, y, persons, hours in con.execute(q).fetchall():
            lines.append(f"beneficiaires,territoire={terr};periode={y},beneficiaires,{persons}")
            if terr == "FR":
                lines.append(f"beneficiaires,territoire={terr};periode={y},heures,{int(hours)}")
        pathlib.Path(args.check).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
