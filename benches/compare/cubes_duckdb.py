#!/usr/bin/env python3
"""DuckDB side of the cube comparison: the same aggregations as pilotage, from the same Parquet.

Computes, with GROUP BY GROUPING SETS generated from the crossings of pilotage-core/data/datasets/<id>.toml, the
distinct-count and sum measures of two datasets:
  - candidatures: `recues` (applications received) and `candidats` (distinct persons);
  - beneficiaires: `beneficiaires` (distinct persons with >= 1 validated hour) and `heures`.
It prints the wall time of each, the number of rows, and with --check writes cells (France, every
région and four départements, by year; stocks also by quarter of 2024) to a CSV for pilotage's
cross-check test. The checked cells cover every kind of measure, each recomputed here from the
definitions' wording alone: distinct persons, events, summed and averaged magnitudes (hours, ETP
conventionnés prorated by days, ETP réalisés), a rate and a difference, medians (delays, length of
the parcours), stocks at period end (applications pending with the automatic refusal on day 60,
PASS IAE valid / expiring within 90 days / suspended) and the per-kind exit examination rule over
chains of renewals (recursive CTE). A value within 1e-6 of a rounding tie is left out: the order of
a floating-point sum could decide it either way.

Usage: cubes_duckdb.py SOURCES_DIR [--check OUT.csv] [--threads N] [--as-of YYYY-MM-DD]
Needs: python3 -m venv .venv && .venv/bin/pip install duckdb   (Python 3.11+ for tomllib)
"""
import argparse
import pathlib
import time
import tomllib

import duckdb

ROOT = pathlib.Path(__file__).resolve().parents[2]
REF = ROOT / "pilotage-core" / "data" / "reference" / "departements.csv"

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

# Départements whose cells the cross-check keeps (with France and every région).
CHECK_DEPS = ("01", "75", "2A", "971")
# Excluded creation paths of the recruitment-side datasets (their definitions say so).
EXCLUDED_PATHS = "('pe_approval', 'ai_stock')"
# Days after which an application left new/processing is refused automatically.
AUTO_REFUSAL_DAYS = 60
# Horizon of a PASS IAE "expiring soon", in days.
EXPIRING_SOON_DAYS = 90


def territories(select_value):
    """GROUPING SETS over France, régions and départements: `terr` as pilotage codes it."""
    return f"""
      SELECT CASE WHEN grouping(dep) = 0 THEN 'DEP-' || dep WHEN grouping(reg) = 0 THEN 'REG-' || reg ELSE 'FR' END AS terr,
             period, {select_value}
      FROM cells GROUP BY GROUPING SETS ((period), (reg, period), (dep, reg, period))
      HAVING (grouping(reg) = 1 OR reg IS NOT NULL) AND (grouping(dep) = 1 OR dep IN {CHECK_DEPS})
      ORDER BY 1, 2"""


def publishable(x, decimals):
    """False when x lies within 1e-6 of a rounding tie: the summation order could decide it."""
    f = abs(x) * 10**decimals
    return abs(f - int(f) - 0.5) > 1e-6


def rounded(x, decimals):
    """Rounds half away from zero, as pilotage publishes."""
    f = 10**decimals
    v = int(abs(x) * f + 0.5) / f
    return -v if x < 0 else v


def fmt(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def check_cells(con, t, as_of):
    """Cells of every kind of measure, by an implementation written from the definitions alone:
    stocks at period end (applications pending, PASS IAE valid / expiring soon / suspended), medians
    (delays, length of the parcours), averaged magnitudes (ETP conventionnés and réalisés) with their
    rate, and events under the per-kind exit rules."""
    lines = []
    # Period ends: every year (31 December) and, for the stocks, the quarters of 2024.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE ends AS
      SELECT CAST(y AS VARCHAR) AS period, make_date(y, 12, 31) AS e FROM range(2021, 2026) r(y)
      UNION ALL SELECT '2024-T' || q, last_day(make_date(2024, 3 * q, 1)) FROM range(1, 5) r(q)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE geo_dep AS
      SELECT code AS dep, region AS reg FROM read_csv('{REF}', all_varchar=true)""")
    as_of = f"DATE '{as_of}'"

    # Applications kept, with the automatic refusal on day 60 applied when that day is known.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE apps AS
      SELECT c.created_at AS created, c.first_looked_at AS looked, s.departement AS dep, g.reg,
             CASE WHEN auto THEN 'refused' ELSE c.state END AS state,
             CASE WHEN auto THEN c.created_at + {AUTO_REFUSAL_DAYS} ELSE c.processed_at END AS answered
      FROM (SELECT *, state IN ('new', 'processing') AND processed_at IS NULL
                      AND created_at + {AUTO_REFUSAL_DAYS} <= {as_of} AS auto
            FROM {t('candidatures')} WHERE creation_path NOT IN {EXCLUDED_PATHS}) c
      JOIN {t('structures')} s ON s.id = c.structure_id LEFT JOIN geo_dep g ON g.dep = s.departement""")
    # candidatures.en_attente: sent on or before the period end, not answered by then.
    q = """WITH cells AS (
        SELECT dep, reg, period FROM apps JOIN ends ON created <= e AND e < coalesce(answered, DATE '9999-12-31')
        WHERE e <= """ + as_of + """ AND state IN ('new', 'processing', 'postponed', 'accepted', 'refused', 'cancelled', 'obsolete'))"""
    for terr, period, n in con.execute(q + territories("count(*)")).fetchall():
        lines.append(f"candidatures,territoire={terr};periode={period},en_attente,{n}")
    # candidatures_delais: answered / first looked at in the year, delays in days and their medians.
    for measure, count, date, cond in [
        ("delai_reponse_median", "reponses", "answered", "state IN ('accepted', 'refused', 'cancelled', 'obsolete')"),
        ("delai_prise_en_compte_median", "prises_en_compte", "looked", "TRUE"),
    ]:
        q = f"""WITH cells AS (
            SELECT dep, reg, CAST(year({date}) AS VARCHAR) AS period, greatest({date} - created, 0) AS days
            FROM apps WHERE {date} IS NOT NULL AND {cond} AND year({date}) BETWEEN 2021 AND 2025)"""
        for terr, period, n, median in con.execute(q + territories("count(*), quantile_cont(days, 0.5)")).fetchall():
            if len(period) != 4:
                continue
            cell = f"candidatures_delais,territoire={terr};periode={period}"
            lines.append(f"{cell},{count},{n}")
            if publishable(median, 1):
                lines.append(f"{cell},{measure},{fmt(rounded(median, 1))}")

    # PASS IAE kept (not from an excluded application), in the département of their structure.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE passes AS
      SELECT p.id, p.issued_at, p.end_date, s.departement AS dep, g.reg
      FROM {t('pass_iae')} p LEFT JOIN {t('structures')} s ON s.id = p.structure_id
      LEFT JOIN geo_dep g ON g.dep = s.departement
      WHERE p.candidature_id IS NULL OR p.candidature_id NOT IN
        (SELECT id FROM {t('candidatures')} WHERE creation_path IN {EXCLUDED_PATHS})""")
    q = f"""WITH cells AS (
        SELECT dep, reg, period, end_date <= e + {EXPIRING_SOON_DAYS} AS expiring
        FROM passes JOIN ends ON issued_at <= e AND e <= end_date WHERE e <= {as_of})"""
    for terr, period, valid, expiring in con.execute(q + territories("count(*), count(*) FILTER (WHERE expiring)")).fetchall():
        lines.append(f"pass_iae,territoire={terr};periode={period},valides,{valid}")
        lines.append(f"pass_iae,territoire={terr};periode={period},expirant_bientot,{expiring}")
    q = f"""WITH cells AS (
        SELECT dep, reg, period FROM {t('pass_iae_suspensions')} u JOIN passes p ON p.id = u.pass_iae_id
        JOIN ends ON u.start_date <= e AND e <= u.end_date WHERE e <= {as_of})"""
    for terr, period, n in con.execute(q + territories("count(*)")).fetchall():
        lines.append(f"pass_iae,territoire={terr};periode={period},suspendus,{n}")

    # ETP, in the département of the annexe financière. Annexes that count: states VALIDE,
    # PROVISOIRE, CLOTURE, every measure but FDI; annual hours default to 1,607.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE afs AS
      SELECT a.id, a.departement AS dep, g.reg, a.start_date, a.end_date, a.etp_conventionnes_mensuels AS monthly,
             CASE WHEN a.heures_annuelles_etp > 0 THEN a.heures_annuelles_etp ELSE 1607 END AS annual_hours
      FROM {t('annexes_financieres')} a LEFT JOIN geo_dep g ON g.dep = a.departement
      WHERE a.state IN ('VALIDE', 'PROVISOIRE', 'CLOTURE') AND a.measure <> 'FDI_DC'""")
    # Conventionnés: the monthly figure prorated by the days of effect in each month, averaged
    # over the 12 months of the year. Réalisés: validated hours × 12 ÷ annual hours, averaged.
    q = f"""WITH months AS (
        SELECT y, make_date(y, m, 1) AS first, last_day(make_date(y, m, 1)) AS last
        FROM range(2021, 2026) r(y), range(1, 13) s(m)),
      facts AS (
        SELECT dep, reg, y, monthly * (least(end_date, last) - greatest(start_date, first) + 1)
                            / (last - first + 1) AS conv, 0.0 AS done
        FROM afs JOIN months ON least(end_date, last) >= greatest(start_date, first)
        UNION ALL
        SELECT a.dep, a.reg, e.year, 0.0, e.hours_worked * 12 / a.annual_hours
        FROM {t('etats_mensuels')} e JOIN afs a ON a.id = e.af_id
        WHERE e.state IN ('VALIDE', 'DEBLOQUE') AND e.hours_worked > 0 AND e.year BETWEEN 2021 AND 2025),
      cells AS (SELECT dep, reg, CAST(y AS VARCHAR) AS period, conv, done FROM facts)"""
    for terr, period, conv, done in con.execute(q + territories("sum(conv) / 12, sum(done) / 12")).fetchall():
        cell = f"etp,territoire={terr};periode={period}"
        for measure, v in [("etp_conventionnes", conv), ("etp_realises", done)]:
            if publishable(v, 2):
                lines.append(f"{cell},{measure},{fmt(rounded(v, 2))}")
        if conv > 0 and publishable(100 * done / conv, 1):
            lines.append(f"{cell},taux_realisation,{fmt(rounded(100 * done / conv, 1))}")
        if publishable(done - conv, 2):
            lines.append(f"{cell},ecart,{fmt(rounded(done - conv, 2))}")

    # Sorties: chains of renewals by parent id, exits by category, the per-kind examination rule
    # (ACI/EI: more than 3 months from the chain's first day; AI/ETTI: 150 validated hours or more
    # over the chain; EITI: always), hires (first contract of a chain) and parcours lengths.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE chains AS
      WITH RECURSIVE k AS (SELECT * FROM {t('contrats')}),
      chain(id, root) AS (
        SELECT id, id FROM k WHERE parent_contrat_id IS NULL OR parent_contrat_id NOT IN (SELECT id FROM k)
        UNION ALL SELECT k.id, chain.root FROM k JOIN chain ON k.parent_contrat_id = chain.id)
      SELECT k.*, chain.root, r.start_date AS root_start, s.kind, s.departement AS dep, g.reg
      FROM k JOIN chain ON chain.id = k.id JOIN k r ON r.id = chain.root
      JOIN (SELECT asp_id, min(id) AS sid FROM {t('structures')} WHERE asp_id IS NOT NULL GROUP BY asp_id) st
        ON st.asp_id = k.structure_asp_id
      JOIN {t('structures')} s ON s.id = st.sid LEFT JOIN geo_dep g ON g.dep = s.departement
      WHERE s.kind IN ('ACI', 'AI', 'EI', 'ETTI', 'EITI')""")
    q = """WITH cells AS (SELECT dep, reg, CAST(year(start_date) AS VARCHAR) AS period FROM chains
        WHERE id = root AND year(start_date) BETWEEN 2021 AND 2025)"""
    for terr, period, n in con.execute(q + territories("count(*)")).fetchall():
        lines.append(f"sorties,territoire={terr};periode={period},embauches,{n}")
    q = f"""WITH hours AS (
        SELECT c.root, sum(e.hours_worked) AS h FROM {t('etats_mensuels')} e JOIN chains c ON c.id = e.contrat_id
        WHERE e.state IN ('VALIDE', 'DEBLOQUE') AND e.hours_worked > 0 GROUP BY c.root),
      cells AS (
        SELECT c.dep, c.reg, CAST(year(c.exit_date) AS VARCHAR) AS period, m.category,
               c.exit_date - c.root_start + 1 AS days,
               CASE WHEN c.kind IN ('ACI', 'EI') THEN (c.exit_date - c.root_start + 1) / 30.4375 > 3
                    WHEN c.kind IN ('AI', 'ETTI') THEN coalesce(h.h, 0) >= 150 ELSE TRUE END AS examined
        FROM chains c JOIN {t('motifs_sortie')} m ON m.code = c.exit_motive LEFT JOIN hours h ON h.root = c.root
        WHERE c.exit_date IS NOT NULL AND m.category <> 'RETRAIT_SORTIES_CONSTATEES'
          AND year(c.exit_date) BETWEEN 2021 AND 2025)"""
    select = """count(*), count(*) FILTER (WHERE examined),
        count(*) FILTER (WHERE examined AND category = 'EMPLOI_DURABLE'),
        count(*) FILTER (WHERE examined AND category IN ('EMPLOI_DURABLE', 'EMPLOI_TRANSITION', 'SORTIE_POSITIVE')),
        quantile_cont(greatest(days, 0), 0.5)"""
    for terr, period, n, examined, durable, dynamic, median in con.execute(q + territories(select)).fetchall():
        cell = f"sorties,territoire={terr};periode={period}"
        lines.append(f"{cell},sorties,{n}")
        lines.append(f"{cell},sorties_examinees,{examined}")
        lines.append(f"{cell},sorties_emploi_durable,{durable}")
        lines.append(f"{cell},sorties_dynamiques,{dynamic}")
        if publishable(median, 1):
            lines.append(f"{cell},duree_parcours_mediane,{fmt(rounded(median, 1))}")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sources")
    ap.add_argument("--check")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--as-of", default="2025-12-31", help="extraction date of the sources (YYYY-MM-DD)")
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
    defs = {n: tomllib.loads((ROOT / "pilotage-core" / "data" / "datasets" / f"{n}.toml").read_text()) for n in ["candidatures", "beneficiaires"]}
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
        lines += check_cells(con, t, args.as_of)
        pathlib.Path(args.check).write_text("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
