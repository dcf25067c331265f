"""Checks a pilotage release with tools pilotage did not write.

Usage: python interop.py RELEASE_DIR

For every dataset of the manifest:
- pyarrow, polars and DuckDB each read the Parquet file and find the same rows as the CSV
  (read by Python's csv module, compared value by value with the Parquet column's type);
- frictionless validates the CSV against its Table Schema;
- every file's size and SHA-256 match the manifest.
Then the DCAT catalog is parsed as RDF (rdflib) and checked for the DCAT-AP mandatory
properties of the catalog, its datasets and their distributions.
Exits 1 with one line per problem, 0 when everything agrees.
"""

import csv
import hashlib
import json
import math
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import rdflib
from frictionless import Resource, Schema, validate
from rdflib.namespace import DCAT, DCTERMS, RDF

problems = []


def problem(message):
    problems.append(message)
    print(f"FAIL {message}", flush=True)


def same(expected, got, kind):
    """Compares a CSV field with a Parquet value of the given kind ('int', 'float', 'str')."""
    if expected == "":
        return got is None
    if got is None:
        return False
    if kind == "int":
        return int(expected) == int(got)
    if kind == "float":
        return math.isclose(float(expected), float(got), rel_tol=1e-12, abs_tol=1e-12)
    return expected == str(got)


def kind_of(arrow_type):
    text = str(arrow_type)
    if text.startswith(("uint", "int")):
        return "int"
    if text.startswith(("double", "float")):
        return "float"
    return "str"


def compare(name, reader, header, kinds, csv_rows, rows):
    if len(rows) != len(csv_rows):
        problem(f"{name}: {reader} reads {len(rows)} rows, the CSV has {len(csv_rows)}")
        return
    for i, (want, got) in enumerate(zip(csv_rows, rows)):
        for j, column in enumerate(header):
            if not same(want[j], got[j], kinds[j]):
                problem(f"{name}: {reader} row {i + 1} column {column}: {got[j]!r} vs CSV {want[j]!r}")
                return


def check_dataset(release, dataset):
    ident = dataset["id"]
    parquet_path = release / f"{ident}.parquet"
    csv_path = release / f"{ident}.csv"
    schema_path = release / f"{ident}.schema.json"
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        csv_rows = list(reader)
    if len(csv_rows) != dataset["rows"]:
        problem(f"{ident}: the manifest says {dataset['rows']} rows, the CSV has {len(csv_rows)}")

    table = pq.read_table(parquet_path)
    if table.column_names != header:
        problem(f"{ident}: Parquet columns {table.column_names} differ from the CSV header {header}")
        return
    kinds = [kind_of(f.type) for f in table.schema]
    meta = pq.ParquetFile(parquet_path).metadata.metadata or {}
    if meta.get(b"pilotage.dataset") != ident.encode():
        problem(f"{ident}: Parquet key/value metadata does not name the dataset")

    compare(ident, "pyarrow", header, kinds, csv_rows, list(zip(*[c.to_pylist() for c in table.columns])))
    frame = pl.read_parquet(parquet_path)
    compare(ident, "polars", header, kinds, csv_rows, frame.rows())
    con = duckdb.connect()
    rows = con.execute(f"SELECT * FROM read_parquet('{parquet_path}')").fetchall()
    compare(ident, "duckdb", header, kinds, csv_rows, rows)
    duck_csv = con.execute(
        f"SELECT count(*) FROM read_csv('{csv_path}', header=true, all_varchar=true)"
    ).fetchone()[0]
    if duck_csv != len(csv_rows):
        problem(f"{ident}: DuckDB reads {duck_csv} CSV rows, Python's csv {len(csv_rows)}")

    schema = Schema.from_descriptor(json.loads(schema_path.read_text(encoding="utf-8")))
    report = validate(Resource(path=csv_path.name, basepath=str(release), schema=schema))
    if not report.valid:
        errors = report.flatten(["rowNumber", "fieldName", "type", "note"])
        for error in errors[:10]:
            problem(f"{ident}: frictionless: {error}")
        if not errors:
            problem(f"{ident}: frictionless: {report.to_dict()}")


def check_catalog(release, manifest):
    graph = rdflib.Graph()
    graph.parse(release / "catalog.jsonld", format="json-ld")
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    if len(catalogs) != 1:
        problem(f"catalog: {len(catalogs)} dcat:Catalog found, expected 1")
        return
    catalog = catalogs[0]
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCAT.dataset):
        if (catalog, prop, None) not in graph:
            problem(f"catalog: the catalog lacks {prop}")
    datasets = list(graph.objects(catalog, DCAT.dataset))
    if len(datasets) != len(manifest["datasets"]):
        problem(f"catalog: {len(datasets)} datasets, the manifest has {len(manifest['datasets'])}")
    for ds in datasets:
        for prop in (DCTERMS.title, DCTERMS.description):
            if (ds, prop, None) not in graph:
                problem(f"catalog: dataset {ds} lacks {prop}")
        distributions = list(graph.objects(ds, DCAT.distribution))
        if not distributions:
            problem(f"catalog: dataset {ds} has no distribution")
        for dist in distributions:
            if (dist, DCAT.accessURL, None) not in graph:
                problem(f"catalog: distribution {dist} lacks dcat:accessURL")
            if (dist, DCAT.byteSize, None) not in graph:
                problem(f"catalog: distribution {dist} lacks dcat:byteSize")
    print(f"catalog: {len(graph)} triples, {len(datasets)} datasets", flush=True)


def main():
    release = Path(sys.argv[1]).resolve()
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        data = (release / f["name"]).read_bytes()
        if len(data) != f["bytes"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
            problem(f"{f['name']}: size or SHA-256 differs from the manifest")
    for dataset in manifest["datasets"]:
        before = len(problems)
        check_dataset(release, dataset)
        if len(problems) == before:
            print(f"ok   {dataset['id']}: {dataset['rows']} rows read alike by pyarrow, polars, "
                  f"DuckDB and csv; frictionless valid", flush=True)
    check_catalog(release, manifest)
    if problems:
        print(f"{len(problems)} problem(s) in release {manifest['version']}")
        sys.exit(1)
    print(f"release {manifest['version']}: every check passed")


if __name__ == "__main__":
    main()
