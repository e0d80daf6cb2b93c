"""Batch inference jobs and batch segment jobs (spec 30 §11-§12; guide "Getting batch recommendations",
L13500-L14700): JSON Lines in S3 in, JSON Lines in S3 out.

A job reads every object under its input path (S3 prefix semantics), answers each line from an ACTIVE
custom solution version — with exactly the serving code of the runtime (api/runtime.py: history, filter
mask, top-k, scores), so a user's batch recommendations are what GetRecommendations gives for the same
user and filter — and writes ``<input name>.out`` under the output path. Lines:

=====================  ==========================================  ============================================
recipe type            input line                                   output
=====================  ==========================================  ============================================
USER_PERSONALIZATION   ``{"userId": "4638"}``                       ``recommendedItems``, ``scores``
POPULAR_ITEMS          ``{"userId": "12"}``                         ``recommendedItems``
RELATED_ITEMS          ``{"itemId": "105"}``                        ``recommendedItems`` (+ ``theme``,
                                                                    ``itemsThemeRelevanceScores`` in
                                                                    THEME_GENERATION mode)
PERSONALIZED_RANKING   ``{"userId": "891", "itemList": [...]}``     ``recommendedItems``, ``scores``
=====================  ==========================================  ============================================

Any line may carry ``filterValues`` for the job's filter. A line that cannot be answered (not JSON, a
missing ``userId``, a missing filter parameter...) gets ``{"input": ..., "error": "<why>"}``. Statuses are
those of the API reference: ``PENDING -> IN PROGRESS -> ACTIVE | CREATE FAILED`` (spec 30 U2).
"""

from __future__ import annotations

import json
import posixpath
import re

import numpy as np

from .. import engine, filters, jsontext, moto_compat
from ..control import lifecycle, quotas, recipes, themes
from ..control.lifecycle import ACTIVE, FailedWork
from ..errors import InvalidInputException, ResourceInUseException
from . import operation
from .common import check_item_exploration_config, describe_record, list_children
from ..control import serving
from ..control.serving import Served
from .runtime import DEFAULT_RESULTS
from .solutions import recipe_for

#: Batch job statuses (BatchInferenceJob.status / BatchSegmentJob.status docs; spec 30 U2).
PENDING, IN_PROGRESS = "PENDING", "IN PROGRESS"
JOB_CHAIN = (PENDING, IN_PROGRESS)
RUNNING = frozenset(JOB_CHAIN)
BATCH_INFERENCE, THEME_GENERATION = "BATCH_INFERENCE", "THEME_GENERATION"
#: Score cells (users x items) computed at once when users are served in blocks.
BLOCK_CELLS = 2_000_000
#: Input files per job (spec 60 §1.11).
MAX_INPUT_FILES = 1000


class _Context:
    """What the runtime's helpers need of a request context (``store``) inside a background job."""

    def __init__(self, store):
        self.store = store


# ----- checks shared by both kinds of job
def _version_and_recipe(store, arn: str):
    """The ACTIVE solution version at ``arn`` and its recipe. Raises ResourceNotFoundException (unknown),
    ResourceInUseException (still training), InvalidInputException (failed or stopped)."""
    version = store.get("solution-version", arn)
    if version.status in lifecycle.PENDING_OR_RUNNING:
        raise ResourceInUseException(f"The solution version {arn} is {version.status}; wait until it is ACTIVE.")
    if version.status != ACTIVE:
        raise InvalidInputException(f"The solution version {arn} is {version.status}, not ACTIVE.")
    return version, recipe_for(version.record["recipeArn"])


def _folder(uri: str) -> str:
    return uri if uri.endswith("/") else uri + "/"


def _check_paths(ctx, input_path: str, output_path: str) -> list[str]:
    """The input object keys (S3 prefix semantics, spec 30 §11.1). Raises InvalidInputException for a path
    that is not ``s3://bucket/...``, an output path equal to the input path (spec 60 §4.5), an input path
    that matches no object or too many."""
    for what, path in (("input", input_path), ("output", output_path)):
        try:
            moto_compat.split_s3_uri(_folder(path))
        except moto_compat.InvalidLocation:
            raise InvalidInputException(f"Invalid S3 {what} path {path!r}: use s3://<bucket>/<folder>/...") from None
    if input_path.rstrip("/") == output_path.rstrip("/"):
        raise InvalidInputException(
            f"Invalid S3 output path {output_path}: the output must go to another folder than the input.")
    try:
        keys = moto_compat.s3_prefix_keys(ctx.account_id, input_path)
    except moto_compat.S3Error as exc:
        raise InvalidInputException(f"Invalid S3 input path {input_path}: {exc}.") from None
    if len(keys) > MAX_INPUT_FILES:
        raise InvalidInputException(f"Invalid S3 input path {input_path}: {len(keys)} files match; at most "
                                    f"{MAX_INPUT_FILES} input files per job.")
    return keys


def _check_filter(store, filter_arn: str | None, group_arn: str) -> None:
    """The job's filter must exist (ResourceNotFoundException), be ACTIVE and belong to the version's
    dataset group (InvalidInputException)."""
    if not filter_arn:
        return
    res = store.get("filter", filter_arn)
    if res.status != ACTIVE:
        raise InvalidInputException(f"The filter {filter_arn} is not ACTIVE (status: {res.status}).")
    if res.parent != group_arn:
        raise InvalidInputException(f"The filter {filter_arn} belongs to another dataset group than {group_arn}.")


def _served(store, version, recipe, config: dict | None = None) -> Served:
    """What the job's lines are answered from; ``config``: the job's ``batchInferenceJobConfig`` (its
    ``itemExplorationConfig`` steers exploration as a campaign's does)."""
    group_arn = version.record["datasetGroupArn"]
    return Served(recipe, version.extra["trained"], store.find(group_arn).extra["data"], group_arn, config or {})


def _read_lines(ctx, bucket: str, key: str) -> list:
    """The lines of one input object: parsed JSON objects, or the raw text of a line that is not one."""
    try:
        text = moto_compat.s3_read(ctx.account_id, bucket, key).decode("utf-8")
    except moto_compat.S3Error as exc:
        raise FailedWork(f"Cannot read the input s3://{bucket}/{key}: {exc}.") from None
    except UnicodeDecodeError:
        raise FailedWork(f"The input s3://{bucket}/{key} is not UTF-8 encoded JSON Lines.") from None
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            doc = jsontext.loads(line)
        except jsontext.NotJSONText:
            doc = None                                     # an error line
        out.append(doc if isinstance(doc, dict) else line)
    return out


#: The output lines' encoder: compact, UTF-8 characters kept (one encoder: no per-line set-up).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _json_line(line: dict) -> str:
    """One output line's JSON text (compact, UTF-8 characters kept)."""
    return _ENCODER.encode(line)


def _write_outputs(ctx, output_path: str, key: str, lines: list) -> None:
    """Write ``lines`` (dicts, or JSON text already encoded by :func:`_json_line`) as JSON Lines to
    ``<output path>/<input name>.out``. Raises FailedWork when the output cannot be written."""
    bucket, prefix = moto_compat.split_s3_uri(_folder(output_path))
    body = "".join((line if isinstance(line, str) else _json_line(line)) + "\n" for line in lines)
    try:
        moto_compat.s3_write(ctx.account_id, bucket, prefix + posixpath.basename(key) + ".out", body.encode())
    except moto_compat.S3Error as exc:
        raise FailedWork(f"Cannot write the output to {output_path}: {exc}.") from None


def _error(line, message: str) -> dict:
    return {"input": line, "error": message}


# ----- batch inference
def _answer(items: list[dict]) -> dict:
    """``output`` of one line from the serving core's PredictedItems. ``scores`` (when the recipe gives
    scores) is parallel to ``recommendedItems``: an item served without a score (UP-v2's exploration or
    popular placeholders) has ``null`` at its position, so the two lists always line up."""
    out = {"recommendedItems": [i["itemId"] for i in items]}
    if any("score" in i for i in items):
        out["scores"] = [i.get("score") for i in items]
    return out


#: Decimals of a served score (serving.predicted: ``round(score, 7)``).
SCORE_DIGITS = 7


def _round_scores(x: np.ndarray) -> np.ndarray:
    """``round(v, SCORE_DIGITS)`` of every value of ``x`` (float64, any shape), bit for bit what Python's
    ``round`` gives (correctly rounded, ties to even): ``rint(v * 10**7) / 10**7`` is that whenever
    ``v * 10**7`` is not within 1e-6 of a half (its rounding error is below 2**-22 for |v| < 100: the
    integer part then cannot change) — the few others (and non-finite or large values) go through
    ``round`` itself."""
    scale = 10.0 ** SCORE_DIGITS
    y = x * scale
    out = np.rint(y) / scale
    with np.errstate(invalid="ignore"):
        odd = ~(np.abs(np.abs(y - np.floor(y)) - 0.5) >= 1e-6) | ~(np.abs(y) < 2.0 ** 30)
    if odd.any():
        out[odd] = [round(v, SCORE_DIGITS) for v in x[odd].tolist()]
    return out


def _answer_lines(served: Served, lines: list, codes: np.ndarray, scores: np.ndarray, reasons) -> list[str]:
    """The JSON text of each answered line ``{"input": line, "output": _answer(predicted(...))}`` built
    from a block's arrays (serving.recommend_rows: ``codes`` int[n, L], ``scores`` float64[n, L] -1 / NaN
    padded, ``reasons``) without PredictedItem dicts: the block's distinct item IDs looked up once, scores
    rounded for the block at once, one encoder call per line. The rules are serving.predicted's (a score
    rounded to 7 decimals where the ranking has one; none on a v2 recipe, 0.0 on others unless the item
    has a reason) and :func:`_answer`'s (``null`` for an item without a score when another has one)."""
    n = len(lines)
    valid = codes >= 0
    if not (valid[:, 1:] <= valid[:, :-1]).all():           # kept entries first, in order
        order = np.argsort(~valid, axis=1, kind="stable")
        codes, scores = np.take_along_axis(codes, order, axis=1), np.take_along_axis(scores, order, axis=1)
        valid = codes >= 0
    counts = np.count_nonzero(valid, axis=1).tolist()
    catalogue = served.data.items.ids                      # a list: only the block's distinct items are taken
    uniq, inv = np.unique(codes[valid], return_inverse=True)
    ids = np.full(codes.shape, "", dtype=object)
    ids[valid] = np.array([catalogue[c] for c in uniq.tolist()], dtype=object)[inv]
    recipe = served.recipe
    score_rows = None
    if recipe.returns_scores:
        scored = ~np.isnan(scores)
        present = scored & valid
        if not recipe.name.endswith("-v2"):                 # serving.predicted: 0.0 unless the item has a reason
            blank = np.zeros_like(present)
            for r, row in enumerate(reasons or ()):
                if row:
                    blank[r, :len(row)] = [bool(x) for x in row]
            present |= valid & ~blank
        values = _round_scores(np.where(scored, scores, 0.0)).astype(object)
        values[~present] = None
        has = present.any(axis=1).tolist()
        score_rows = [values[r, :counts[r]].tolist() if has[r] else None for r in range(n)]
    out = []
    for r in range(n):
        answer = {"recommendedItems": ids[r, :counts[r]].tolist()}
        if score_rows is not None and score_rows[r] is not None:
            answer["scores"] = score_rows[r]
        out.append(_ENCODER.encode({"input": lines[r], "output": answer}))
    return out


def _mask(ctx, served: Served, filter_arn, line: dict) -> np.ndarray:
    """GetRecommendations' eligible items (bool[n_catalogue]) for one line: the recipe's own exclusions
    and the filter with the line's ``filterValues`` (raises InvalidInputException, e.g. a missing
    INCLUDE parameter)."""
    n = served.n_catalogue
    allowed = serving.base_mask(served, line.get("userId"), n)
    if filter_arn:
        allowed = allowed & serving.filter_mask(ctx.store, served, filter_arn, line.get("filterValues"),
                                                user_id=line.get("userId"), item_id=line.get("itemId"), n=n)
    return allowed


def _check_line(served: Served, line) -> str | None:
    """Why ``line`` cannot be answered by the recipe (the input shapes of spec 30 §11.2), or None."""
    if not isinstance(line, dict):
        return "The line is not a JSON object."
    rtype = served.recipe.recipe_type
    need = {recipes.RELATED_ITEMS: ("itemId",), recipes.PERSONALIZED_RANKING: ("userId", "itemList")}.get(
        rtype, ("userId",))
    for key in need:
        if key not in line:
            return f"{key} is required for {served.recipe.name} ({rtype})."
    for key in ("userId", "itemId"):
        if key in line and (not isinstance(line[key], str) or not line[key]):
            return f"{key} must be a non-empty string."
    if "itemList" in need and (not isinstance(line["itemList"], list)
                               or not all(isinstance(i, str) for i in line["itemList"])):
        return "itemList must be a list of item ID strings."
    if "filterValues" in line and (not isinstance(line["filterValues"], dict)
                                   or not all(isinstance(v, str) for v in line["filterValues"].values())):
        return 'filterValues must map parameter names to strings such as "\\"Comedy\\"".'
    return None


def _rank_items(ctx, served: Served, filter_arn, line: dict) -> dict:
    """PERSONALIZED_RANKING: the line's ``itemList`` re-ranked as GetPersonalizedRanking ranks an
    ``inputList`` (serving.rank_items)."""
    allowed = None
    if filter_arn:
        allowed = serving.filter_mask(ctx.store, served, filter_arn, line.get("filterValues"),
                                      user_id=line.get("userId"), n=served.n_catalogue + 1)
    ranked, unknown = serving.rank_items(served, line["userId"], line["itemList"], allowed=allowed)
    return _answer(serving.ranking_predicted(served, ranked, unknown))


def _related(ctx, served: Served, filter_arn, line: dict, k: int) -> dict:
    """RELATED_ITEMS: GetRecommendations with ``itemId`` (an unknown item gets the popular items)."""
    ranked = serving.recommend_codes(served, line.get("userId"), k, _mask(ctx, served, filter_arn, line),
                                     item_code=served.data.items.code(line["itemId"], add=False))
    return _answer(serving.predicted(served, ranked))


def _users_block(ctx, served: Served, filter_arn, lines: list[dict], k: int) -> list:
    """USER_PERSONALIZATION / POPULAR_ITEMS for many users at once (serving.recommend_block: one fold-in,
    one matrix product and one exploration draw per block). Each result equals GetRecommendations for
    that user; a line whose filter cannot be applied gets an ``error``. Without a filter or a recipe's
    own exclusions every user has the same eligible items: one shared mask row. Answered lines come
    back as JSON text (:func:`_json_line`): a job's many output objects then never pile up for the
    garbage collector to walk again and again."""
    out: list = [None] * len(lines)
    if not filter_arn and not served.recipe.excludes_seen_event_types:
        rows, allowed = list(range(len(lines))), np.ones((1, served.n_catalogue), bool)
    else:
        masks, rows = [], []
        for r, line in enumerate(lines):
            try:
                masks.append(_mask(ctx, served, filter_arn, line))
            except InvalidInputException as exc:
                out[r] = _error(line, exc.message)
                continue
            rows.append(r)
        allowed = np.vstack(masks) if masks else None
    if rows:
        codes, scores, reasons = serving.recommend_rows(served, [lines[r]["userId"] for r in rows], allowed, k)
        for r, text in zip(rows, _answer_lines(served, [lines[r] for r in rows], codes, scores, reasons)):
            out[r] = text
    return out


def _inference_lines(ctx, served: Served, filter_arn, k: int, lines: list, progress=None) -> list:
    """Output lines (dicts or their JSON text) for the input ``lines`` of one file, in order;
    ``progress()`` (optional) is called after each block of users (the job's ``lastUpdatedDateTime``
    moves while it runs)."""
    out: list = [None] * len(lines)
    good = []
    for r, line in enumerate(lines):
        problem = _check_line(served, line)
        if problem:
            out[r] = _error(line, problem)
        else:
            good.append(r)
    rtype = served.recipe.recipe_type
    if rtype in (recipes.USER_PERSONALIZATION, recipes.POPULAR_ITEMS):
        step = max(1, BLOCK_CELLS // max(1, served.n_items))
        for s in range(0, len(good), step):
            block = good[s:s + step]
            for r, answer in zip(block, _users_block(ctx, served, filter_arn, [lines[r] for r in block], k)):
                out[r] = answer
            if progress is not None:
                progress()
        return out
    answer = _rank_items if rtype == recipes.PERSONALIZED_RANKING else (
        lambda c, s, f, line: _related(c, s, f, line, k))
    for r in good:
        try:
            out[r] = {"input": lines[r], "output": answer(ctx, served, filter_arn, lines[r])}
        except InvalidInputException as exc:
            out[r] = _error(lines[r], exc.message)
    return out


@operation("CreateBatchInferenceJob")
def create_batch_inference_job(ctx, p):
    """Checks at create (InvalidInputException unless noted): an ACTIVE custom solution version whose recipe
    supports batch inference (not Trending-Now, Next-Best-Action or a segmentation recipe); an ACTIVE
    filter of the same dataset group; ``itemExplorationConfig`` only for User-Personalization; input and
    output paths (``s3://``, different, an input that matches objects); the theme-generation
    preconditions; the quota of 5 jobs in progress (LimitExceededException). The job then answers every
    line in the background and ends ACTIVE, or CREATE FAILED with the reason (unreadable input, too many
    lines for themes, an output that cannot be written)."""
    store = ctx.store
    with store.lock:
        version, recipe = _version_and_recipe(store, p["solutionVersionArn"])
        if not recipe.batch_inference:
            kind = "batch segment jobs" if recipe.batch_segment else "real-time recommendations only"
            raise InvalidInputException(f"{recipe.name} ({recipe.recipe_type}) does not support batch inference "
                                        f"jobs ({kind}).")
        group_arn = version.record["datasetGroupArn"]
        _check_filter(store, p.get("filterArn"), group_arn)
        config = dict(p.get("batchInferenceJobConfig") or {})
        check_item_exploration_config(config.get("itemExplorationConfig"), "batchInferenceJobConfig")
        if config.get("itemExplorationConfig") and not recipe.exploration_configurable:
            raise InvalidInputException(f"itemExplorationConfig is only supported by the User-Personalization "
                                        f"recipes, not {recipe.name}.")
        mode = p.get("batchInferenceJobMode") or BATCH_INFERENCE
        if mode == THEME_GENERATION:
            themes.check_request(ctx.region, recipe, store.find(group_arn).extra["data"], p.get("themeGenerationConfig"))
        elif p.get("themeGenerationConfig"):
            raise InvalidInputException("themeGenerationConfig needs batchInferenceJobMode THEME_GENERATION.")
        k = p.get("numResults", DEFAULT_RESULTS)
        if k < 1:
            raise InvalidInputException(f"numResults must be at least 1; got {k}.")
        input_path, output_path = p["jobInput"]["s3DataSource"]["path"], p["jobOutput"]["s3DataDestination"]["path"]
        keys = _check_paths(ctx, input_path, output_path)
        arn = store.arn("batch-inference-job", p["jobName"])
        if store.find(arn) is None:
            quotas.check("pending_batch_inference_jobs",
                         len(store.all("batch-inference-job", lambda j: j.status in RUNNING)))
        record = {"jobName": p["jobName"], "batchInferenceJobArn": arn, "filterArn": p.get("filterArn"),
                  "solutionVersionArn": version.arn, "numResults": k, "jobInput": p["jobInput"],
                  "jobOutput": p["jobOutput"], "batchInferenceJobConfig": config, "roleArn": p["roleArn"],
                  "batchInferenceJobMode": mode, "themeGenerationConfig": p.get("themeGenerationConfig")}
        job = store.create("batch-inference-job", arn, {k_: v for k_, v in record.items() if v is not None},
                           parent=version.arn, tags=p.get("tags"), status=None)
        served = _served(store, version, recipe, config)
    bucket = moto_compat.split_s3_uri(input_path)[0]
    job_ctx = _Context(store)

    def work():
        files = [(key, _read_lines(ctx, bucket, key)) for key in keys]
        for key, lines in files:
            with served.data.reading():  # each file reads the group's data of one moment
                out = _inference_lines(job_ctx, served, p.get("filterArn"), k, lines, progress=lambda: store.touch(job))
            if mode == THEME_GENERATION:
                out = themes.add_themes(served.data, p["themeGenerationConfig"], out, key)
            _write_outputs(ctx, output_path, key, out)

    lifecycle.run_work(job, store, work, statuses=JOB_CHAIN)
    return {"batchInferenceJobArn": arn}


@operation("DescribeBatchInferenceJob")
def describe_batch_inference_job(ctx, p):
    """The job's record, with the service's statuses PENDING, IN PROGRESS, ACTIVE, CREATE FAILED."""
    return describe_record(ctx, p, "batch-inference-job", "batchInferenceJob")


@operation("ListBatchInferenceJobs")
def list_batch_inference_jobs(ctx, p):
    """Newest first, optionally of one solution version; paginated."""
    return list_children(ctx, p, "batch-inference-job", "batchInferenceJobs", "solutionVersionArn")


# ----- batch segment jobs
#: numResults of a segment job: default 25, at most 5 million users per segment (spec 30 §12).
DEFAULT_SEGMENT_USERS, MAX_SEGMENT_USERS = 25, 5_000_000
#: Input lines per job: 500 items for Item-Affinity, 10 queries for Item-Attribute-Affinity (spec 60 §1.11).
MAX_SEGMENT_LINES = {"aws-item-affinity": 500, "aws-item-attribute-affinity": 10}
_CLAUSE = re.compile(r'\s*ITEMS\.([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*', re.I)


def _attribute_filter(data, query: str):
    """An Item-Attribute-Affinity query (``ITEMS.<column> = "<value>"`` joined by ``AND``; spec 30 §12) as
    a filter expression over items, so that the filter evaluator resolves it (multi-valued ``A|B`` fields
    match any of their values). Raises InvalidInputException for anything else: another operator (``IN``),
    an unknown or textual column."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputException("itemAttributes must be a non-empty string.")
    schema = data.dataset("ITEMS").schema if data.dataset("ITEMS") is not None else None
    conditions = []
    for clause in re.split(r"\s+AND\s+", query.strip(), flags=re.I):
        m = _CLAUSE.fullmatch(clause)
        if not m:
            raise InvalidInputException(f'Invalid itemAttributes clause {clause!r}: use ITEMS.<column> = "<value>" '
                                        "joined by AND.")
        field = next((f for f in schema.fields if f.name.upper() == m.group(1).upper()), None) if schema else None
        if field is None or field.textual:
            what = "a textual column" if field is not None else "not a column of the Items dataset"
            raise InvalidInputException(f"Invalid itemAttributes: ITEMS.{m.group(1)} is {what}.")
        value = m.group(2)
        if field.type != "string":
            try:
                value = repr(float(value))
            except ValueError:
                raise InvalidInputException(f"Invalid itemAttributes: ITEMS.{field.name} is numeric; got "
                                            f"{value!r}.") from None
        conditions.append(f'Items.{field.name} IN ("{value}")' if field.type == "string"
                          else f"Items.{field.name} = {value}")
    return filters.compile_filter("INCLUDE ItemID WHERE " + " AND ".join(conditions), data)[0]


def _segment_items(served: Served, line) -> np.ndarray:
    """The item codes a segment line asks about: its ``itemId`` (Item-Affinity) or the items matching its
    ``itemAttributes`` (Item-Attribute-Affinity). Raises InvalidInputException for a bad line."""
    if not isinstance(line, dict):
        raise InvalidInputException("The line is not a JSON object.")
    data = served.data
    if served.recipe.name == "aws-item-affinity":
        if not isinstance(line.get("itemId"), str) or not line["itemId"]:
            raise InvalidInputException(f"itemId is required for {served.recipe.name}.")
        code = data.items.code(line["itemId"], add=False)
        if not 0 <= code < served.n_items:
            raise InvalidInputException(f"The item {line['itemId']} is not in the solution version's training data.")
        return np.array([code])
    if "itemAttributes" not in line:
        raise InvalidInputException(f"itemAttributes is required for {served.recipe.name}.")
    mask = filters.allowed_mask(_attribute_filter(data, line["itemAttributes"]), data, served.n_items)
    return np.flatnonzero(mask)


def _segment_lines(ctx, served: Served, filter_arn, k: int, lines: list) -> list[dict]:
    """Output lines of one segment input file: the top ``k`` users per line by the probability that their
    next interaction is one of the line's items (engine.users_for_items over the training snapshot's
    users, less those a data deletion job removed since: guide L16175), among the users the job's filter
    lets through (with the line's ``filterValues``)."""
    snap = served.trained.interactions
    model = served.trained.model
    active = np.flatnonzero(np.bincount(snap.user_idx, minlength=snap.n_users) > 0)
    active = active[~np.isin(active, served.data.deleted_since(served.trained.deletions))]
    out: list = [None] * len(lines)
    groups: dict = {}  # users allowed (bytes of the mask) -> [(line index, item codes)]
    for r, line in enumerate(lines):
        try:
            items = _segment_items(served, line)
            allowed = np.ones(snap.n_users, bool)
            if filter_arn:
                allowed = serving.filter_mask(ctx.store, served, filter_arn, line.get("filterValues"),
                                              n=snap.n_users, target="UserID")
        except InvalidInputException as exc:
            out[r] = _error(line, exc.message)
            continue
        groups.setdefault(allowed.tobytes(), (allowed, []))[1].append((r, items))
    ids = served.data.users.ids
    for allowed, members in groups.values():
        users = active[allowed[active]]
        histories = model.histories_csr([snap.history(u) for u in users])
        found = engine.users_for_items(model, histories, [items for _, items in members], k)
        for (r, _), (rows, _) in zip(members, found):
            out[r] = {"input": lines[r], "output": {"recommendedUsers": [ids[u] for u in users[rows]]}}
    return out


@operation("CreateBatchSegmentJob")
def create_batch_segment_job(ctx, p):
    """Checks at create (InvalidInputException unless noted): an ACTIVE solution version of a
    USER_SEGMENTATION recipe (Item-Affinity, Item-Attribute-Affinity); an ACTIVE filter of the same dataset
    group; ``numResults`` 1..5,000,000 (default 25); input and output paths as for batch inference; the
    quota of 5 jobs in progress (LimitExceededException). The job writes ``recommendedUsers`` per line and
    ends ACTIVE, or CREATE FAILED (more than 500 items / 10 queries, unreadable input, unwritable output)."""
    store = ctx.store
    with store.lock:
        version, recipe = _version_and_recipe(store, p["solutionVersionArn"])
        if not recipe.batch_segment:
            raise InvalidInputException(f"Batch segment jobs need a USER_SEGMENTATION recipe (Item-Affinity or "
                                        f"Item-Attribute-Affinity), not {recipe.name} ({recipe.recipe_type}).")
        _check_filter(store, p.get("filterArn"), version.record["datasetGroupArn"])
        k = p.get("numResults", DEFAULT_SEGMENT_USERS)
        if not 1 <= k <= MAX_SEGMENT_USERS:
            raise InvalidInputException(f"numResults must be between 1 and {MAX_SEGMENT_USERS}; got {k}.")
        input_path, output_path = p["jobInput"]["s3DataSource"]["path"], p["jobOutput"]["s3DataDestination"]["path"]
        keys = _check_paths(ctx, input_path, output_path)
        arn = store.arn("batch-segment-job", p["jobName"])
        if store.find(arn) is None:
            quotas.check("pending_batch_segment_jobs", len(store.all("batch-segment-job", lambda j: j.status in RUNNING)))
        record = {"jobName": p["jobName"], "batchSegmentJobArn": arn, "filterArn": p.get("filterArn"),
                  "solutionVersionArn": version.arn, "numResults": k, "jobInput": p["jobInput"],
                  "jobOutput": p["jobOutput"], "roleArn": p["roleArn"]}
        job = store.create("batch-segment-job", arn, {k_: v for k_, v in record.items() if v is not None},
                           parent=version.arn, tags=p.get("tags"), status=None)
        served = _served(store, version, recipe)
    bucket = moto_compat.split_s3_uri(input_path)[0]
    job_ctx = _Context(store)

    def work():
        files = [(key, _read_lines(ctx, bucket, key)) for key in keys]
        limit = MAX_SEGMENT_LINES[recipe.name]
        total = sum(len(lines) for _, lines in files)
        if total > limit:
            what = "items" if recipe.name == "aws-item-affinity" else "queries"
            raise FailedWork(f"The input has {total} {what}; {recipe.name} takes at most {limit} per job.")
        for key, lines in files:
            with served.data.reading():
                out = _segment_lines(job_ctx, served, p.get("filterArn"), k, lines)
            _write_outputs(ctx, output_path, key, out)

    lifecycle.run_work(job, store, work, statuses=JOB_CHAIN)
    return {"batchSegmentJobArn": arn}


@operation("DescribeBatchSegmentJob")
def describe_batch_segment_job(ctx, p):
    """The job's record, with the service's statuses PENDING, IN PROGRESS, ACTIVE, CREATE FAILED."""
    return describe_record(ctx, p, "batch-segment-job", "batchSegmentJob")


@operation("ListBatchSegmentJobs")
def list_batch_segment_jobs(ctx, p):
    """Newest first, optionally of one solution version; paginated."""
    return list_children(ctx, p, "batch-segment-job", "batchSegmentJobs", "solutionVersionArn")
