"""The check .ci/schemathesis.toml adds to schemathesis (the reason is written there).

On the data route the built-in positive-data check accepts a 400; `data_query_refusals` fails
every 400 answer to a schema-valid request there but a problem refusing a value whose validity
depends on the dataset or on the server: a sort key or measure naming a column the dataset lacks,
a filter naming a dimension or code it lacks, a cursor the server did not issue for this query.
"""

import json

import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case

DATA_ROUTE = ("GET", "/v1/datasets/{id}/data")
# The parameters named above and the problem kinds that refuse them (docs/api.md, Errors).
DATASET_PARAMETERS = {"sort", "measures", "cursor"}
REFUSALS = {
    "urn:pilotage:problem:bad-parameter",
    "urn:pilotage:problem:unknown-dimension",
    "urn:pilotage:problem:unknown-code",
    "urn:pilotage:problem:bad-cursor",
}


def _refuses_a_dataset_value(case, response) -> bool:
    if not response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        return False
    try:
        problem = json.loads(response.content)
    except ValueError:
        return False
    parameter = problem.get("parameter")
    # A filter is any other query parameter: its name is the dimension.
    filters = set((case.query or {}).keys()) - {"format", "limit", "release"} - DATASET_PARAMETERS
    named = parameter in DATASET_PARAMETERS or parameter in filters
    return named and problem.get("type") in REFUSALS


@schemathesis.check
def data_query_refusals(ctx, response, case):
    if (case.operation.method.upper(), case.operation.path) != DATA_ROUTE:
        return None
    meta = case.meta
    # As the built-in check: negative cases and request-shape probes are judged by other checks.
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    if response.status_code != 400 or _refuses_a_dataset_value(case, response):
        return None
    raise Failure(
        operation=case.operation.label,
        title="Schema-valid request rejected",
        message="A 400 to a schema-valid data query must be a problem naming `sort`, `measures`, "
        f"`cursor` or a filter (a value the dataset or server does not have); got {response.content[:300]!r}",
    )
