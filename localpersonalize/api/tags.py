"""Tags on any resource: TagResource, UntagResource, ListTagsForResource (spec 60 §6; rules in
control/tags.py)."""

from __future__ import annotations

from ..control import tags as tagging
from ..errors import ResourceNotFoundException
from . import operation


def _resource(ctx, arn: str):
    res = ctx.store.find(arn)
    if res is None:
        raise ResourceNotFoundException(f"The given resource does not exist: {arn}")
    return res


@operation("TagResource")
def tag_resource(ctx, p):
    """Any resource; at most 50 tags; `aws:` prefix refused; a key given again overwrites."""
    with ctx.store.lock:
        res = _resource(ctx, p["resourceArn"])
        res.tags = tagging.merged(res.tags, p["tags"])
    return {}


@operation("UntagResource")
def untag_resource(ctx, p):
    """Any resource; more than 50 keys is TooManyTagKeysException; unknown keys are ignored."""
    with ctx.store.lock:
        res = _resource(ctx, p["resourceArn"])
        res.tags = tagging.without(res.tags, p["tagKeys"])
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(ctx, p):
    """The tags of any resource, in the order they were first set."""
    res = _resource(ctx, p["resourceArn"])
    return {"tags": [{"tagKey": k, "tagValue": v} for k, v in res.tags.items()]}
