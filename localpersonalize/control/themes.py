"""Themes for batch recommendations of Similar-Items (``batchInferenceJobMode`` ``THEME_GENERATION``; spec 30
§11.4; guide "Batch recommendations with themes from Content Generator", L13590-L13660).

The service names each group of related items with a generative model. localpersonalize does the same
offline and deterministically from the items' metadata, so the *format* is the service's and the text is
plainly not: the theme is built from the group's most distinctive category value (a categorical string
column of the Items dataset, e.g. ``GENRES``) and keywords (words of the textual column and the item
names), each weighed by TF-IDF against the whole catalogue, e.g. ``"Comedy picks: wedding and friends"``;
a group with nothing distinctive gets ``"More like <name of the input item>"``. Each item's relevance
score is the cosine between its TF-IDF vector and the theme's words (0 to 1; the service's scores run about
-0.1 to 0.6), and the items are re-ranked by it, descending, as the service does.

Preconditions (guide L13615-L13625): the recipe is Similar-Items; the region is us-east-1, us-west-2 or
ap-northeast-1; the Items dataset has a textual field and the string column named in
``themeGenerationConfig.fieldsForThemeGeneration.itemName``; an input file holds at most 100 items.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from ..errors import InvalidInputException
from .lifecycle import FailedWork

#: Regions of the Content Generator (guide L13605-L13611).
THEME_REGIONS = ("us-east-1", "us-west-2", "ap-northeast-1")
#: Items (lines) per input file with themes (guide L13615; spec 60 §1.11).
MAX_THEME_LINES = 100

_WORD = re.compile(r"[^\W\d_][\w'-]*[^\W_]", re.UNICODE)
_STOPWORDS = frozenset("""a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves""".split())


def check_request(region: str, recipe, data, config: dict | None) -> None:
    """Create-time preconditions of a THEME_GENERATION job (module docstring).

    Raises InvalidInputException naming the rule that is not met.
    """
    if not recipe.theme_generation:
        raise InvalidInputException(f"Theme generation needs the Similar-Items recipe (aws-similar-items), not "
                                    f"{recipe.name}.")
    if region not in THEME_REGIONS:
        raise InvalidInputException(f"Theme generation is not available in {region}; use one of "
                                    f"{', '.join(THEME_REGIONS)}.")
    name_field = ((config or {}).get("fieldsForThemeGeneration") or {}).get("itemName")
    if not name_field:
        raise InvalidInputException("THEME_GENERATION needs themeGenerationConfig.fieldsForThemeGeneration.itemName.")
    items = data.dataset("ITEMS")
    if items is None:
        raise InvalidInputException("Theme generation needs an Items dataset with item names and a textual field.")
    field = items.schema.field(name_field)
    if field is None or field.type != "string":
        raise InvalidInputException(f"itemName {name_field} must be a string column of the Items dataset.")
    if not any(f.textual for f in items.schema.fields):
        raise InvalidInputException("Theme generation needs a textual field (such as DESCRIPTION) in the Items "
                                    "dataset.")


class Catalogue:
    """The words and category values of every item with an Items row, and their IDF over the catalogue.

    ``name_field``: the item-name column. Tokens are ``("c", value)`` for each value of a categorical
    string column (``A|B`` counts both) and ``("w", word)`` for the lower-cased words (stop words and
    one-letter words left out) of the name and the textual columns.
    """

    def __init__(self, data, name_field: str):
        ds = data.dataset("ITEMS")
        self.data = data
        self.row_of = {int(c): r for r, c in enumerate(ds.codes("ITEM_ID").tolist())}
        self.names = self._strings(ds, name_field)
        cats = [f.name for f in ds.schema.fields if f.categorical and f.type == "string"]
        texts = [name_field] + [f.name for f in ds.schema.fields if f.textual]
        self.tokens: list[Counter] = [Counter() for _ in range(ds.n_rows)]
        for name in cats:
            for r, v in enumerate(self._strings(ds, name)):
                self.tokens[r].update(("c", part.strip()) for part in (v or "").split("|") if part.strip())
        for name in texts:
            for r, v in enumerate(self._strings(ds, name)):
                self.tokens[r].update(("w", w) for w in _words(v))
        df = Counter(t for bag in self.tokens for t in bag)
        n = max(1, ds.n_rows)
        self.idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()}

    @staticmethod
    def _strings(ds, name) -> list:
        values, nulls = ds.column(name), ds.null_mask(name)
        return [None if (nulls is not None and nulls[r]) or v is None else str(v) for r, v in enumerate(values)]

    def vector(self, item_id: str) -> dict:
        """TF-IDF weights of an item's tokens (empty for an item without an Items row)."""
        r = self.row_of.get(int(self.data.items.code(item_id, add=False)))
        if r is None:
            return {}
        return {t: c * self.idf[t] for t, c in self.tokens[r].items()}

    def name(self, item_id: str) -> str | None:
        r = self.row_of.get(int(self.data.items.code(item_id, add=False)))
        return None if r is None else self.names[r]


def _words(text: str | None) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text or "")) if w not in _STOPWORDS]


def theme(catalogue: Catalogue, seed_item: str, item_ids: list[str]) -> tuple[str, list[str], list[float]]:
    """The theme of one group: ``(theme, item IDs re-ranked by relevance, relevance scores)``.

    The theme's tokens are the group's top category value and top two words by summed TF-IDF over the
    items (a token must occur in at least two items when the group has more than one).
    """
    vectors = [catalogue.vector(i) for i in item_ids]
    weight, support = Counter(), Counter()
    for v in vectors:
        weight.update(v)
        support.update(v.keys())
    least = 2 if len(item_ids) > 1 else 1
    ranked = sorted((t for t in weight if support[t] >= least), key=lambda t: (-weight[t], t))
    category = next((t for t in ranked if t[0] == "c"), None)
    named = set(_words(category[1])) if category else set()
    words = [t for t in ranked if t[0] == "w" and t[1] not in named][:2]
    if category and words:
        text = f"{category[1]} picks: {' and '.join(w[1] for w in words)}"
    elif category:
        text = f"The best of {category[1]}"
    elif words:
        text = f"Picks about {' and '.join(w[1] for w in words)}"
    else:
        text = f"More like {catalogue.name(seed_item) or seed_item}"
    chosen = [t for t in (category, *words) if t is not None]
    scores = []
    for v in vectors:
        norm = math.sqrt(sum(x * x for x in v.values())) * math.sqrt(max(1, len(chosen)))
        scores.append(round(sum(v.get(t, 0.0) for t in chosen) / norm, 8) if norm else 0.0)
    order = np.lexsort((np.arange(len(scores)), -np.asarray(scores))) if scores else []
    return text, [item_ids[k] for k in order], [scores[k] for k in order]


def add_themes(data, config: dict, lines: list[dict], key: str) -> list[dict]:
    """Give every answered line of one input file a ``theme`` and ``itemsThemeRelevanceScores`` (its
    ``recommendedItems`` re-ranked by relevance). Raises FailedWork when the file has more than
    :data:`MAX_THEME_LINES` lines."""
    if len(lines) > MAX_THEME_LINES:
        raise FailedWork(f"The input {key} has {len(lines)} items; theme generation takes at most "
                         f"{MAX_THEME_LINES} items per input file.")
    catalogue = Catalogue(data, config["fieldsForThemeGeneration"]["itemName"])
    out = []
    for line in lines:
        if "output" in line:
            text, items, scores = theme(catalogue, line["input"]["itemId"], line["output"]["recommendedItems"])
            line = {"input": line["input"], "output": {"recommendedItems": items, "theme": text,
                                                       "itemsThemeRelevanceScores": scores}}
        out.append(line)
    return out
