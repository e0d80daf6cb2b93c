"""The tagging rules of every taggable resource (spec 60 §6.1; model shapes Tag, TagResource)."""

from __future__ import annotations

from typing import Iterable

from ..errors import InvalidInputException, TooManyTagKeysException, TooManyTagsException
from . import quotas

RESERVED_PREFIX = "aws:"


def merged(existing: dict[str, str], new: Iterable[dict]) -> dict[str, str]:
    """``existing`` tags with ``new`` (``[{"tagKey", "tagValue"}]``) applied; a key given again overwrites.

    Raises:
        InvalidInputException: a key or value starting with ``aws:`` (reserved for AWS, spec 60 §6.1).
        TooManyTagsException: more than ``tags_per_resource`` (50) tags on the resource afterwards.
    """
    out = dict(existing)
    for tag in new or ():
        key, value = tag["tagKey"], tag.get("tagValue", "")
        if key.lower().startswith(RESERVED_PREFIX) or value.lower().startswith(RESERVED_PREFIX):
            raise InvalidInputException(
                f"Tag keys and values cannot start with '{RESERVED_PREFIX}': it is reserved for AWS use ({key}).")
        out[key] = value
    if len(out) > quotas.limit("tags_per_resource"):
        quotas.check("tags_per_resource", len(out), TooManyTagsException)
    return out


def without(existing: dict[str, str], keys: list[str]) -> dict[str, str]:
    """``existing`` minus ``keys``.

    Raises:
        TooManyTagKeysException: more keys than a resource can have tags (50).
    """
    n = quotas.limit("tags_per_resource")
    if len(keys) > n:
        raise TooManyTagKeysException(
            f"The request contains {len(keys)} tag keys; a resource can have at most {n} tags.")
    return {k: v for k, v in existing.items() if k not in set(keys)}
