"""A world of resources for conformance cases, built lazily through boto3: asking for ``world.campaign``
creates (and waits for) the schema, dataset group, dataset, import, solution, trained version and campaign
it needs, and nothing else. Synthetic data big enough to train on (1,200 interactions of 30 users over 50
items), so a trained version costs a few tens of milliseconds."""

from __future__ import annotations

import itertools
import json
from functools import cached_property

import boto3

from localpersonalize.control import arns

from ...helpers import wait_for

REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/personalize"
RECIPE = "arn:aws:personalize:::recipe/"


def avro(name: str, fields: list[dict]) -> str:
    """A Personalize schema document (Avro record ``name`` with ``fields``)."""
    return json.dumps({"type": "record", "name": name, "namespace": "com.amazonaws.personalize.schema",
                       "fields": fields, "version": "1.0"})


INTERACTIONS = avro("Interactions", [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                                     {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}])
#: Schemas of the other dataset types of a custom group, by ``datasetType``.
SCHEMAS = {
    "Items": avro("Items", [{"name": "ITEM_ID", "type": "string"},
                            {"name": "GENRE", "type": ["null", "string"], "categorical": True},
                            {"name": "PRICE", "type": ["null", "float"]}]),
    "Users": avro("Users", [{"name": "USER_ID", "type": "string"},
                            {"name": "SEGMENT", "type": ["null", "string"], "categorical": True}]),
    "Actions": avro("Actions", [{"name": "ACTION_ID", "type": "string"}, {"name": "VALUE", "type": ["null", "long"]}]),
    "Action_Interactions": avro("ActionInteractions", [
        {"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
        {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}]),
}
WATCHED = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")'


def interactions_csv(n_users: int = 30, per_user: int = 40, n_items: int = 50, t0: int = 1_600_000_000) -> bytes:
    """USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP rows (``watch`` events): user u sees items (u*7 + k) mod n_items."""
    rows = [f"u{u},i{(u * 7 + k * 3) % n_items},watch,{t0 + u * 1000 + k}"
            for u in range(n_users) for k in range(per_user)]
    return ("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n" + "\n".join(rows) + "\n").encode()


def once(fn):
    """``fn(world)`` computed once per world and kept on it (a lazily built resource of a module's cases)."""
    def get(world):
        if fn.__name__ not in world.__dict__:
            world.__dict__[fn.__name__] = fn(world)
        return world.__dict__[fn.__name__]
    return get


def settled(describe, key: str) -> dict:
    """Poll until the record leaves every in-between status (helpers.wait_for, plus DELETE/STOP/START)."""
    return wait_for(describe, key)


class World:
    """Lazily created resources of one test (inside ``personalize_mock``); ARNs as attributes."""

    def __init__(self):
        self.p = boto3.client("personalize", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.runtime = boto3.client("personalize-runtime", region_name=REGION)
        self.events = boto3.client("personalize-events", region_name=REGION)
        self._names = itertools.count(1)

    # ----- helpers
    def missing(self, kind: str, name: str = "missing") -> str:
        """A well-formed ARN of ``kind`` that names nothing."""
        if kind == "solution-version":
            return arns.arn(REGION, ACCOUNT, "solution", "missing") + "/0123abcd"
        return arns.arn(REGION, ACCOUNT, kind, name)

    def fresh(self, prefix: str) -> str:
        """A name not used before in this world (cases of a shared world must not collide)."""
        return f"{prefix}{next(self._names)}"

    def upload(self, key: str, body: bytes) -> str:
        if not getattr(self, "_bucket", False):
            self.s3.create_bucket(Bucket="bucket")
            self._bucket = True
        self.s3.put_object(Bucket="bucket", Key=key, Body=body)
        return f"s3://bucket/{key}"

    def new_group(self, name: str, domain: str | None = None) -> str:
        kw = {"domain": domain} if domain else {}
        arn = self.p.create_dataset_group(name=name, **kw)["datasetGroupArn"]
        settled(lambda: self.p.describe_dataset_group(datasetGroupArn=arn), "datasetGroup")
        return arn

    def new_dataset(self, group: str, schema: str, name: str = "interactions") -> str:
        arn = self.p.create_dataset(name=name, schemaArn=schema, datasetGroupArn=group,
                                    datasetType="Interactions")["datasetArn"]
        settled(lambda: self.p.describe_dataset(datasetArn=arn), "dataset")
        return arn

    def new_typed_dataset(self, group: str, dataset_type: str, wait: bool = True) -> str:
        """A ``dataset_type`` dataset (Items, Users, Actions, Action_Interactions) of :data:`SCHEMAS` in
        ``group`` (one schema per type, shared)."""
        schema = self.typed_schema(dataset_type)
        arn = self.p.create_dataset(name=self.fresh(dataset_type.lower()), schemaArn=schema, datasetGroupArn=group,
                                    datasetType=dataset_type)["datasetArn"]
        if wait:
            settled(lambda: self.p.describe_dataset(datasetArn=arn), "dataset")
        return arn

    def typed_schema(self, dataset_type: str) -> str:
        cache = self.__dict__.setdefault("_schemas", {})
        if dataset_type not in cache:
            cache[dataset_type] = self.p.create_schema(name=f"{dataset_type.lower()}-schema",
                                                       schema=SCHEMAS[dataset_type])["schemaArn"]
        return cache[dataset_type]

    def new_tracker(self, group: str, wait: bool = True) -> dict:
        """CreateEventTracker's answer (``eventTrackerArn``, ``trackingId``) for ``group``."""
        answer = self.p.create_event_tracker(name=self.fresh("tracker"), datasetGroupArn=group)
        if wait:
            settled(lambda: self.p.describe_event_tracker(eventTrackerArn=answer["eventTrackerArn"]), "eventTracker")
        return answer

    def new_filter(self, name: str, expression: str = WATCHED, group: str | None = None, wait: bool = True) -> str:
        """A filter of ``group`` (default: :attr:`group`, with its Interactions dataset)."""
        if group is None:
            self.dataset
            group = self.group
        arn = self.p.create_filter(name=name, datasetGroupArn=group, filterExpression=expression)["filterArn"]
        if wait:
            settled(lambda: self.p.describe_filter(filterArn=arn), "filter")
        return arn

    def new_attribution(self, group: str, name: str | None = None, wait: bool = True, **kw) -> str:
        """A metric attribution of ``group`` counting ``watch`` events (SAMPLECOUNT())."""
        kw.setdefault("metrics", [{"eventType": "watch", "expression": "SAMPLECOUNT()", "metricName": "watches"}])
        kw.setdefault("metricsOutputConfig", {"roleArn": ROLE})
        arn = self.p.create_metric_attribution(name=name or self.fresh("attribution"), datasetGroupArn=group,
                                               **kw)["metricAttributionArn"]
        if wait:
            settled(lambda: self.p.describe_metric_attribution(metricAttributionArn=arn), "metricAttribution")
        return arn

    def new_import(self, dataset: str, name: str, body: bytes | None = None, wait: bool = True) -> str:
        location = self.upload(f"{name}.csv", body or interactions_csv())
        arn = self.p.create_dataset_import_job(jobName=name, datasetArn=dataset, roleArn=ROLE,
                                               dataSource={"dataLocation": location})["datasetImportJobArn"]
        if wait:
            assert settled(lambda: self.p.describe_dataset_import_job(datasetImportJobArn=arn),
                           "datasetImportJob")["status"] == "ACTIVE"
        return arn

    def new_solution(self, name: str, recipe: str = "aws-popularity-count", group: str | None = None, **kw) -> str:
        kw.setdefault("performAutoTraining", False)
        arn = self.p.create_solution(name=name, datasetGroupArn=group or self.group, recipeArn=RECIPE + recipe,
                                     **kw)["solutionArn"]
        settled(lambda: self.p.describe_solution(solutionArn=arn), "solution")
        return arn

    def new_version(self, solution: str, wait: bool = True, **kw) -> str:
        arn = self.p.create_solution_version(solutionArn=solution, **kw)["solutionVersionArn"]
        if wait:
            assert settled(lambda: self.p.describe_solution_version(solutionVersionArn=arn),
                           "solutionVersion")["status"] == "ACTIVE"
        return arn

    def new_campaign(self, name: str, version: str, **kw) -> str:
        arn = self.p.create_campaign(name=name, solutionVersionArn=version, **kw)["campaignArn"]
        settled(lambda: self.p.describe_campaign(campaignArn=arn), "campaign")
        return arn

    # ----- the custom chain
    @cached_property
    def schema(self) -> str:
        return self.p.create_schema(name="interactions", schema=INTERACTIONS)["schemaArn"]

    @cached_property
    def group(self) -> str:
        return self.new_group("group")

    @cached_property
    def dataset(self) -> str:
        return self.new_dataset(self.group, self.schema)

    @cached_property
    def import_job(self) -> str:
        return self.new_import(self.dataset, "import")

    @cached_property
    def solution(self) -> str:
        return self.new_solution("solution")

    @cached_property
    def version(self) -> str:
        self.import_job
        return self.new_version(self.solution)

    @cached_property
    def campaign(self) -> str:
        return self.new_campaign("campaign", self.version)

    @cached_property
    def affinity_version(self) -> str:
        """An ACTIVE Item-Affinity version (USER_SEGMENTATION, for batch segment jobs) of :attr:`group`."""
        self.import_job
        return self.new_version(self.new_solution("affinity", "aws-item-affinity"))

    @cached_property
    def tracker(self) -> dict:
        """The event tracker of :attr:`group` (its ``eventTrackerArn`` and ``trackingId``)."""
        return self.new_tracker(self.group)

    @cached_property
    def filter(self) -> str:
        return self.new_filter("watched")

    @cached_property
    def attribution(self) -> str:
        self.dataset
        return self.new_attribution(self.group, "attribution")

    # ----- the domain chain
    @cached_property
    def domain_schema(self) -> str:
        return self.p.create_schema(name="vod-interactions", schema=INTERACTIONS, domain="VIDEO_ON_DEMAND")["schemaArn"]

    @cached_property
    def domain_group(self) -> str:
        return self.new_group("vod", "VIDEO_ON_DEMAND")

    @cached_property
    def domain_dataset(self) -> str:
        arn = self.new_dataset(self.domain_group, self.domain_schema, "vod-interactions")
        self.new_import(arn, "vod-import")
        return arn

    def new_recommender(self, name: str, recipe: str = "aws-vod-top-picks", wait: bool = True, **kw) -> str:
        self.domain_dataset
        arn = self.p.create_recommender(name=name, datasetGroupArn=self.domain_group, recipeArn=RECIPE + recipe,
                                        **kw)["recommenderArn"]
        if wait:
            assert settled(lambda: self.p.describe_recommender(recommenderArn=arn), "recommender")["status"] == "ACTIVE"
        return arn

    @cached_property
    def recommender(self) -> str:
        return self.new_recommender("recommender")
