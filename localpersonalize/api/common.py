"""Small helpers shared by the handlers: listing with pagination, and the ACTIVE-parent rule."""

from __future__ import annotations

from ..control.store import Resource, paginate
from ..errors import InvalidInputException, ResourceInUseException


def list_page(resources: list[Resource], params: dict, key: str, default_max: int = 100) -> dict:
    """``{key: [records...], "nextToken": ...}`` for one page, newest first as the service lists them."""
    records = [r.record for r in reversed(resources)]
    page, token = paginate(records, params, default_max)
    return {key: page, "nextToken": token}


def require_active(res: Resource, what: str, exc=ResourceInUseException) -> None:
    """Raise ``exc`` unless ``res`` is ACTIVE (spec 30 §14: parents must be ACTIVE)."""
    if res.status != "ACTIVE":
        raise exc(f"The {what} {res.arn} is not in an ACTIVE state (status: {res.status}).")


def no_children(store, res: Resource, kinds: tuple[str, ...], what: str) -> None:
    """Raise ``ResourceInUseException`` when resources of ``kinds`` still hang off ``res``."""
    for kind in kinds:
        children = store.all(kind, lambda r: r.parent == res.arn)
        if children:
            raise ResourceInUseException(
                f"Cannot delete {what} {res.arn}: it still has {len(children)} {kind.replace('-', ' ')}(s), "
                f"e.g. {children[0].arn}. Delete them first."
            )


def bool_param(value) -> bool | None:
    """Accept ``True``/``"true"`` alike (the guide's CLI samples pass booleans as strings)."""
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise InvalidInputException(f"Expected a boolean, got {value!r}")
        return value.lower() == "true"
    return value
