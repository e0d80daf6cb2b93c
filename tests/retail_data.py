"""Seeded e-commerce interactions over the Retail Demo Store catalogue and synthetic users (MIT-0).

The Retail Demo Store (aws-samples/retail-demo-store, copied into ``shared/data/retail-demo-store/``)
publishes a product catalogue (2,465 products in 20 categories, with style, price, gender affinity and
a description) and 5,250 synthetic users with personas (three preferred categories) and a discount
persona, but no interactions. :func:`retail_world` generates them with a funnel of our own:

* every chosen user has sessions spread over ``days`` days (Poisson, mean ``sessions_per_user``);
* a session picks one of the persona's categories with weights 0.6 / 0.25 / 0.15, then a product of
  that category (the user's gender affinity or none), by a seeded Zipf(1.0) product popularity;
* the product is viewed (``View``), put in the cart (``AddToCart``) with probability 0.3 and bought
  (``Purchase``) with probability 0.5 of those; ``lower_priced_products`` users buy items under the
  category's median price twice as often and pricier ones half as often; a few seconds separate the steps.

Everything is deterministic for a seed. Output: CSV bytes in the domain's schemas (ECOMMERCE
Interactions ``USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE``; Items ``ITEM_ID,PRICE,CATEGORY_L1,CATEGORY_L2,
GENDER,PRODUCT_DESCRIPTION,CREATION_TIMESTAMP``; Users ``USER_ID,AGE,GENDER``) plus the parsed
records for assertions. The YAML catalogue is read with a small reader of its flat layout (PyYAML is
not a project dependency).
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "retail-demo-store"
START = 1_700_000_000
DAY = 86400

INTERACTIONS_SCHEMA = {"type": "record", "name": "Interactions", "namespace": "com.amazonaws.personalize.schema",
                       "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                  {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}],
                       "version": "1.0"}
ITEMS_SCHEMA = {"type": "record", "name": "Items", "namespace": "com.amazonaws.personalize.schema",
                "fields": [{"name": "ITEM_ID", "type": "string"}, {"name": "PRICE", "type": "float"},
                           {"name": "CATEGORY_L1", "type": "string", "categorical": True},
                           {"name": "CATEGORY_L2", "type": ["null", "string"], "categorical": True},
                           {"name": "GENDER", "type": ["null", "string"], "categorical": True},
                           {"name": "PRODUCT_DESCRIPTION", "type": ["null", "string"], "textual": True},
                           {"name": "CREATION_TIMESTAMP", "type": "long"}],
                "version": "1.0"}
USERS_SCHEMA = {"type": "record", "name": "Users", "namespace": "com.amazonaws.personalize.schema",
                "fields": [{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": "int"},
                           {"name": "GENDER", "type": "string", "categorical": True}],
                "version": "1.0"}


def read_flat_yaml_list(text: str) -> list[dict]:
    """The records of a YAML list of flat mappings (``- key: value`` / ``  key: value`` lines, folded
    continuation lines indented deeper). Values stay strings; quotes are stripped."""
    out, last = [], None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("- "):
            out.append({})
            line = "  " + line[2:]
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 2 and ":" in body:
            key, _, value = body.partition(":")
            last = key.strip()
            out[-1][last] = value.strip().strip("'\"")
        elif last is not None:
            out[-1][last] = (out[-1][last] + " " + body).strip()
    return out


def _csv(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


@dataclass
class RetailWorld:
    """Generated data: CSV bytes per dataset, the products and users used, and the events as a list of
    ``(user_id, item_id, timestamp, event_type)`` tuples."""

    interactions_csv: bytes
    items_csv: bytes
    users_csv: bytes
    products: list[dict]
    users: list[dict]
    events: list[tuple] = field(default_factory=list)

    def category_of(self) -> dict[str, str]:
        return {p["id"]: p["category"] for p in self.products}

    def persona_of(self) -> dict[str, list[str]]:
        return {u["id"]: u["categories"] for u in self.users}


def retail_world(n_users: int = 800, days: int = 90, sessions_per_user: float = 14.0, seed: int = 0) -> RetailWorld:
    """Generate the funnel (module docstring) for ``n_users`` users sampled (seeded) from the 5,250."""
    if not (RETAIL / "products.yaml").exists():
        pytest.skip(f"the Retail Demo Store data is not at {RETAIL}")
    rng = np.random.default_rng(seed)
    products = read_flat_yaml_list((RETAIL / "products.yaml").read_text())
    with gzip.open(RETAIL / "users.json.gz", "rt") as f:
        all_users = json.load(f)
    for p in products:
        p["price"] = float(p.get("price") or 0.0)
    by_cat: dict[str, list[int]] = {}
    for k, p in enumerate(products):
        by_cat.setdefault(p["category"], []).append(k)
    weight = rng.permutation(1.0 / np.arange(1, len(products) + 1))     # seeded Zipf(1.0) popularity
    median = {c: np.median([products[k]["price"] for k in ks]) for c, ks in by_cat.items()}
    chosen = []
    for u in (all_users[i] for i in rng.permutation(len(all_users))):
        cats = [c for c in u.get("persona", "").split("_") if c in by_cat]
        if len(cats) >= 1:
            chosen.append(dict(u, categories=cats))
        if len(chosen) == n_users:
            break
    events = []
    for u in chosen:
        cats = u["categories"]
        w = np.array([0.6, 0.25, 0.15][:len(cats)])
        g = u.get("gender", "")
        for _ in range(max(2, rng.poisson(sessions_per_user))):
            t = START + int(rng.integers(days * DAY))
            cat = cats[int(rng.choice(len(cats), p=w / w.sum()))]
            ks = [k for k in by_cat[cat] if products[k].get("gender_affinity", "") in ("", g)] or by_cat[cat]
            p = weight[ks] / weight[ks].sum()
            prod = products[ks[int(rng.choice(len(ks), p=p))]]
            events.append((u["id"], prod["id"], t, "View"))
            if rng.random() < 0.3:
                events.append((u["id"], prod["id"], t + 30, "AddToCart"))
                buy = 0.5
                if u.get("discount_persona") == "lower_priced_products":
                    buy = 1.0 if prod["price"] < median[cat] else 0.25
                if rng.random() < buy:
                    events.append((u["id"], prod["id"], t + 90, "Purchase"))
    events.sort(key=lambda e: (e[2], e[0]))
    used = sorted({e[1] for e in events})
    items = [p for p in products if p["id"] in set(used)] + [p for p in products if p["id"] not in set(used)][:50]
    items_rows = [(p["id"], f"{p['price']:.2f}", p["category"], p.get("style") or "",
                   {"M": "men", "F": "women"}.get(p.get("gender_affinity", ""), ""),
                   p.get("description", ""), START - DAY * (1 + k % 300)) for k, p in enumerate(items)]
    return RetailWorld(
        interactions_csv=_csv(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"], events),
        items_csv=_csv([f["name"] for f in ITEMS_SCHEMA["fields"]], items_rows),
        users_csv=_csv(["USER_ID", "AGE", "GENDER"], [(u["id"], u.get("age", 30), u.get("gender", "U") or "U")
                                                      for u in chosen]),
        products=items, users=chosen, events=events)
