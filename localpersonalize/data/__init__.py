"""Data layer: schemas, CSV bulk import and columnar dataset storage.

Pure: bytes and strings in, numpy columns out. Knows nothing of HTTP, boto,
ARNs or S3 (the caller reads the object and passes its bytes).
"""
from .schemas import (
    Field,
    Schema,
    SchemaError,
    canonical_dataset_type,
    canonical_domain,
    check_schema_for_dataset,
    parse_schema,
)
from .csv_import import (
    MIN_INTERACTIONS,
    ImportFailure,
    StringColumn,
    Table,
    check_min_interactions,
    parse_csv,
    table_from_records,
)
from .datasets import Dataset, DatasetGroupData, IdIndex

__all__ = [
    "Field", "Schema", "SchemaError", "canonical_dataset_type", "canonical_domain",
    "check_schema_for_dataset", "parse_schema",
    "MIN_INTERACTIONS", "ImportFailure", "StringColumn", "Table", "check_min_interactions",
    "parse_csv", "table_from_records",
    "Dataset", "DatasetGroupData", "IdIndex",
]
