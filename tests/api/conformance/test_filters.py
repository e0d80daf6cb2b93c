"""Conformance of filters, by operation (one shared world for the module)."""

from __future__ import annotations

import pytest

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN, TAGS51, quota
from .world import WATCHED

OPERATIONS = ["CreateFilter", "DescribeFilter", "ListFilters", "DeleteFilter"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in ("DescribeFilter", "DeleteFilter")},
    ("ListFilters", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
}


@pytest.fixture
def world(shared_world):
    return shared_world


def create(w, expression=WATCHED, **kw):
    w.dataset
    kw.setdefault("datasetGroupArn", w.group)
    return w.p.create_filter(name=kw.pop("name", None) or w.fresh("f"), filterExpression=expression, **kw)


def delete_new(w):
    """Delete a new ACTIVE filter; returns its ARN."""
    arn = w.new_filter(w.fresh("f"))
    w.p.delete_filter(filterArn=arn)
    return arn


def pending_filter(w) -> str:
    """A filter still in CREATE PENDING (stepped pacing from here on)."""
    w.dataset
    clock.set_pacing("stepped")
    return create(w)["filterArn"]


def listed(r, w):
    arns = [f["filterArn"] for f in r[1]["Filters"]]
    assert w.filter in arns and all(f["datasetGroupArn"] == w.group for f in r[1]["Filters"])


CASES = [
    Case("CreateFilter", lambda w: create(w, 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($TYPES)'),
         check=lambda r, w: r["filterArn"].startswith("arn:aws:personalize:us-east-1:123456789012:filter/f")),
    Case("CreateFilter", lambda w: (w.filter, create(w, name="watched")), raises="ResourceAlreadyExistsException",
         match="Another resource with Arn"),
    Case("CreateFilter", lambda w: create(w, datasetGroupArn=w.missing("dataset-group")),
         raises="ResourceNotFoundException", match="The given dataset group does not exist"),
    Case("CreateFilter", lambda w: create(w, 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ($TYPES)'),
         raises="InvalidInputException", match="Placeholders are not supported for the NOT_IN operator"),
    Case("CreateFilter", lambda w: create(w, "EXCLUDE ItemID WHERE Items.NOPE IN (\"x\")"),
         raises="InvalidInputException", name="unknown-dataset"),
    Case("CreateFilter", quota("filters_per_dataset_group", 1, lambda w: (w.filter, create(w))),
         raises="LimitExceededException", match="more than 1 resources with ACTIVE status"),
    Case("CreateFilter", lambda w: create(w, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeFilter", lambda w: w.p.describe_filter(filterArn=w.filter),
         check=lambda r, w: r["filter"]["status"] == "ACTIVE" and r["filter"]["filterExpression"] == WATCHED
         and r["filter"]["datasetGroupArn"] == w.group),
    Case("DescribeFilter", lambda w: w.p.describe_filter(filterArn=w.missing("filter")),
         raises="ResourceNotFoundException", match="The given filter does not exist"),
    Case("ListFilters", lambda w: (w.filter, w.p.list_filters(datasetGroupArn=w.group)), check=listed),
    Case("ListFilters", lambda w: w.p.list_filters(nextToken="forged"), raises="InvalidNextTokenException"),
    Case("DeleteFilter", delete_new,
         check=lambda arn, w: arn not in [f["filterArn"] for f in w.p.list_filters()["Filters"]]),
    Case("DeleteFilter", lambda w: w.p.delete_filter(filterArn=w.missing("filter")), raises="ResourceNotFoundException"),
    Case("DeleteFilter", lambda w: w.p.delete_filter(filterArn=pending_filter(w)), raises="ResourceInUseException",
         match="CREATE PENDING"),
]

test_conformance = cases_test(CASES)
