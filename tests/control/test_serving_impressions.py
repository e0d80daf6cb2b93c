"""Implicit and explicit impressions counted for exploration (control/serving.impression_counts): the
explicit ``IMPRESSION`` list of an event wins, else the answer its ``RECOMMENDATION_ID`` names (spec 40
rule 4, spec 10 §5.3)."""

import json

import numpy as np

from localpersonalize.control import serving
from localpersonalize.data.datasets import DatasetGroupData
from localpersonalize.data.schemas import parse_schema

SCHEMA = parse_schema(json.dumps({"type": "record", "name": "Interactions", "fields": [
    {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"}, {"name": "IMPRESSION", "type": ["null", "string"]},
    {"name": "RECOMMENDATION_ID", "type": ["null", "string"]}]}))


def test_explicit_impressions_win_over_the_answer_a_recommendation_id_names():
    data = DatasetGroupData()
    ds = data.create_dataset("INTERACTIONS", SCHEMA)
    ds.put_records([{"USER_ID": "u", "ITEM_ID": f"i{k}", "TIMESTAMP": k} for k in range(6)])  # i0..i5 known
    serving.record_impressions(data, "RID-1", data.items.codes(["i4", "i5"], add=False))
    ds.put_records([
        {"USER_ID": "u", "ITEM_ID": "i0", "TIMESTAMP": 10, "IMPRESSION": "i0|i1|i9"},  # i9 unknown: ignored
        {"USER_ID": "v", "ITEM_ID": "i1", "TIMESTAMP": 11, "IMPRESSION": "i0|i1|i9"},  # the same list again
        {"USER_ID": "u", "ITEM_ID": "i2", "TIMESTAMP": 12, "IMPRESSION": "i2", "RECOMMENDATION_ID": "RID-1"},
        {"USER_ID": "u", "ITEM_ID": "i4", "TIMESTAMP": 13, "RECOMMENDATION_ID": "RID-1"},  # implicit: i4, i5
        {"USER_ID": "u", "ITEM_ID": "i3", "TIMESTAMP": 14, "RECOMMENDATION_ID": "RID-unknown"},
    ])
    counts = serving.impression_counts(data)
    expected = dict.fromkeys(data.items.ids, 0.0) | {"i0": 2.0, "i1": 2.0, "i2": 1.0, "i4": 1.0, "i5": 1.0}
    assert dict(zip(data.items.ids, counts.tolist())) == expected
    assert counts.shape == (len(data.items),) and counts.dtype == np.float64
