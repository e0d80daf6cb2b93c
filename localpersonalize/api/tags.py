"""Tags on any resource: TagResource, UntagResource, ListTagsForResource (spec 60, tagging)."""

from __future__ import annotations

from ..errors import InvalidInputException, ResourceNotFoundException, TooManyTagKeysException, TooManyTagsException
from . import operation

MAX_TAGS = 50


def _resource(ctx, arn: str):
    res = ctx.store.find(arn)
    if res is None:
        raise ResourceNotFoundException(f"The given resource does not exist: {arn}")
    return res


@operation("TagResource")
def tag_resource(ctx, p):
    with ctx.store.lock:
        res = _resource(ctx, p["resourceArn"])
        new = {t["tagKey"]: t["tagValue"] for t in p["tags"]}
        if any(k.lower().startswith("aws:") for k in new):
            raise InvalidInputException("Tag keys starting with aws: are reserved.")
        if len({**res.tags, **new}) > MAX_TAGS:
            raise TooManyTagsException(f"A resource can have at most {MAX_TAGS} tags.")
        res.tags.update(new)
    return {}


@operation("UntagResource")
def untag_resource(ctx, p):
    with ctx.store.lock:
        res = _resource(ctx, p["resourceArn"])
        if len(p["tagKeys"]) > MAX_TAGS:
            raise TooManyTagKeysException(f"At most {MAX_TAGS} tag keys can be removed at once.")
        for key in p["tagKeys"]:
            res.tags.pop(key, None)
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(ctx, p):
    res = _resource(ctx, p["resourceArn"])
    return {"tags": [{"tagKey": k, "tagValue": v} for k, v in res.tags.items()]}
