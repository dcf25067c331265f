#!/usr/bin/env python3
"""Converts the JSON of @etalab/decoupage-administratif into the compact CSVs of the referential.

Called by build.sh (Python 3 standard library only). Writes, in --out:
  regions.csv       code,nom,chef_lieu,zone,collectivite_outre_mer
  departements.csv  code,nom,region,chef_lieu,zone,collectivite_outre_mer
  communes.csv      code,nom,departement,region,epci,population
  epci.csv          code,nom,type,mode_financement,population_municipale,population_totale
  PROVENANCE.md     package, version, integrity, license, date, row counts, file checksums

All files are UTF-8, comma-separated, with a header line and "\n" line endings; codes are strings
(leading zeros kept); rows are sorted by code (byte order) so that a rebuild gives the same bytes.
Only communes of type "commune-actuelle" are kept (communes déléguées, associées and municipal
arrondissements are not communes of the current COG). The conversion refuses data that breaks
the invariants the Rust side relies on, so a surprising new vintage fails here, loudly.
"""

import argparse
import base64
import csv
import datetime
import hashlib
import io
import json
import os
import sys

# The 18 régions (13 metropolitan + 5 overseas): anything else in the package is an overseas
# collectivity (COM) listed at région level for convenience.
REAL_REGIONS = {
    "01", "02", "03", "04", "06", "11", "24", "27", "28",
    "32", "44", "52", "53", "75", "76", "84", "93", "94",
}
REAL_DEPARTEMENT_COUNT = 101
ZONES = {"metro", "drom", "com"}


def fail(message):
    print(f"convert.py: {message}", file=sys.stderr)
    sys.exit(1)


def load(package_dir, name):
    with open(os.path.join(package_dir, "data", f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def to_csv(header, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def flag(value):
    return "true" if value else "false"


def check_integrity(tarball, expected, pack):
    with open(tarball, "rb") as f:
        data = f.read()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    shasum = hashlib.sha1(data).hexdigest()
    if integrity != expected:
        fail(f"tarball integrity {integrity} differs from the pinned {expected}")
    if integrity != pack.get("integrity") or shasum != pack.get("shasum"):
        fail("tarball checksums differ from what npm reported")
    return integrity, shasum, len(data)


def build_regions(raw):
    rows = []
    for r in sorted(raw, key=lambda r: r["code"]):
        if r["zone"] not in ZONES:
            fail(f"région {r['code']}: unexpected zone {r['zone']!r}")
        collectivity = r["code"] not in REAL_REGIONS
        if collectivity != (r["zone"] == "com"):
            fail(f"région {r['code']}: zone {r['zone']!r} disagrees with the list of régions")
        rows.append([r["code"], r["nom"], r.get("chefLieu", ""), r["zone"], flag(collectivity)])
    real = {row[0] for row in rows if row[4] == "false"}
    if real != REAL_REGIONS:
        fail(f"expected the 18 régions, found {sorted(real)}")
    return rows


def build_departements(raw, region_codes):
    rows = []
    for d in sorted(raw, key=lambda d: d["code"]):
        if d["region"] not in region_codes:
            fail(f"département {d['code']}: unknown région {d['region']}")
        if d["zone"] not in ZONES:
            fail(f"département {d['code']}: unexpected zone {d['zone']!r}")
        collectivity = d["zone"] == "com"
        if collectivity == (d["region"] in REAL_REGIONS):
            fail(f"département {d['code']}: zone {d['zone']!r} disagrees with région {d['region']}")
        rows.append([
            d["code"], d["nom"], d["region"], d.get("chefLieu", ""), d["zone"], flag(collectivity),
        ])
    real = sum(1 for row in rows if row[5] == "false")
    if real != REAL_DEPARTEMENT_COUNT:
        fail(f"expected {REAL_DEPARTEMENT_COUNT} départements, found {real}")
    return rows


def build_epci(raw):
    rows = []
    member_of = {}
    for e in sorted(raw, key=lambda e: e["code"]):
        code = e["code"]
        if len(code) != 9 or not code.isdigit():
            fail(f"EPCI {code!r}: not a 9-digit SIREN")
        for m in e["membres"]:
            if m["code"] in member_of:
                fail(f"commune {m['code']} belongs to EPCI {member_of[m['code']]} and {code}")
            member_of[m["code"]] = code
        rows.append([
            code, e["nom"], e["type"], e.get("modeFinancement", ""),
            e.get("populationMunicipale", ""), e.get("populationTotale", ""),
        ])
    return rows, member_of


def build_communes(raw, departements, member_of):
    dep_region = {row[0]: row[2] for row in departements}
    rows = []
    for c in sorted((c for c in raw if c["type"] == "commune-actuelle"), key=lambda c: c["code"]):
        code, dep = c["code"], c["departement"]
        if len(code) != 5:
            fail(f"commune {code!r}: not 5 characters")
        if dep_region.get(dep) != c["region"]:
            fail(f"commune {code}: département {dep} / région {c['region']} do not match")
        if not code.startswith(dep):
            fail(f"commune {code}: code does not start with its département {dep}")
        population = c.get("population")
        if population is not None and (not isinstance(population, int) or population < 0):
            fail(f"commune {code}: bad population {population!r}")
        rows.append([
            code, c["nom"], dep, c["region"], member_of.get(code, ""),
            "" if population is None else str(population),
        ])
    codes = {row[0] for row in rows}
    stray = sorted(set(member_of) - codes)
    if stray:
        fail(f"EPCI members that are not current communes: {stray[:10]}")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--package-name", required=True)
    p.add_argument("--package-version", required=True)
    p.add_argument("--expected-integrity", required=True)
    p.add_argument("--tarball", required=True)
    p.add_argument("--pack-json", required=True)
    p.add_argument("--time-json", required=True)
    p.add_argument("--package-dir", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    with open(args.pack_json, encoding="utf-8") as f:
        pack = json.load(f)[0]
    integrity, shasum, size = check_integrity(args.tarball, args.expected_integrity, pack)
    with open(os.path.join(args.package_dir, "package.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("name") != args.package_name or manifest.get("version") != args.package_version:
        fail("the unpacked package.json does not name the requested package and version")
    with open(os.path.join(args.package_dir, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    data_license = "Licence Ouverte" if "Licence Ouverte" in readme else "not stated"
    try:
        with open(args.time_json, encoding="utf-8") as f:
            published = json.load(f).get(args.package_version, "unknown")
    except (OSError, ValueError):
        published = "unknown"

    regions = build_regions(load(args.package_dir, "regions"))
    departements = build_departements(
        load(args.package_dir, "departements"), {row[0] for row in regions}
    )
    epci, member_of = build_epci(load(args.package_dir, "epci"))
    communes = build_communes(load(args.package_dir, "communes"), departements, member_of)

    files = {
        "regions.csv": to_csv(
            ["code", "nom", "chef_lieu", "zone", "collectivite_outre_mer"], regions),
        "departements.csv": to_csv(
            ["code", "nom", "region", "chef_lieu", "zone", "collectivite_outre_mer"], departements),
        "communes.csv": to_csv(
            ["code", "nom", "departement", "region", "epci", "population"], communes),
        "epci.csv": to_csv(
            ["code", "nom", "type", "mode_financement", "population_municipale",
             "population_totale"], epci),
    }
    for name, data in files.items():
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
           else datetime.datetime.now(datetime.timezone.utc))
    collectivity_deps = {d[0] for d in departements if d[5] == "true"}
    collectivity_communes = [c for c in communes if c[2] in collectivity_deps]
    counts = {
        "regions.csv": (len(regions), sum(1 for r in regions if r[4] == "true")),
        "departements.csv": (len(departements), len(collectivity_deps)),
        "communes.csv": (len(communes), len(collectivity_communes)),
        "epci.csv": (len(epci), len({c[4] for c in collectivity_communes if c[4]})),
    }
    population = sum(int(c[5]) for c in communes if c[5])
    lines = [
        "# Provenance of the territory referential",
        "",
        "Generated by `datasets/reference/build.sh` (do not edit by hand; rerun the script).",
        "",
        "| field | value |",
        "|---|---|",
        f"| package | `{args.package_name}` |",
        f"| version | `{args.package_version}` (COG vintage: see docs/territory.md) |",
        f"| published | {published} |",
        f"| tarball | `{os.path.basename(args.tarball)}` ({size} bytes) |",
        f"| integrity | `{integrity}` |",
        f"| shasum (SHA-1) | `{shasum}` |",
        f"| license (code, package.json) | {manifest.get('license', 'not stated')} |",
        f"| license (data, package README) | {data_license} |",
        "| upstream sources (package README) | INSEE Code officiel géographique; DGCL list of "
        "EPCI à fiscalité propre; INSEE populations légales |",
        f"| generated on | {now.strftime('%Y-%m-%d')} |",
        f"| population of current communes | {population} |",
        "",
        "| file | rows | of which overseas collectivities | SHA-256 |",
        "|---|---|---|---|",
    ]
    for name, data in files.items():
        rows, com = counts[name]
        lines.append(f"| `{name}` | {rows} | {com} | `{hashlib.sha256(data).hexdigest()}` |")
    lines.append("")
    with open(os.path.join(args.out, "PROVENANCE.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))
    for name, (rows, com) in counts.items():
        print(f"{name}: {rows} rows ({com} in overseas collectivities)", file=sys.stderr)


if __name__ == "__main__":
    main()
