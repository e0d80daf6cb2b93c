"""Lifecycles of dataset groups, datasets, import jobs, solutions, versions, campaigns and recommenders as
the state machine table of spec 30 spells them, under the three pacings, and automatic training."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localpersonalize.control import clock

from .conformance.world import World, interactions_csv, settled


@pytest.fixture
def w(personalize_mock):
    return World()


def statuses(describe, key, n, field=None):
    """The status shown by each of ``n`` Describe calls (stepped pacing: one step per call)."""
    out = []
    for _ in range(n):
        record = describe()[key]
        out.append((record.get(field) or {}).get("status") if field else record["status"])
    return out


def code(err):
    return err.value.response["Error"]["Code"]


def test_stepped_pacing_shows_every_create_status_of_a_dataset_group(w):
    clock.set_pacing("stepped")
    arn = w.p.create_dataset_group(name="g")["datasetGroupArn"]
    seen = statuses(lambda: w.p.describe_dataset_group(datasetGroupArn=arn), "datasetGroup", 4)
    assert seen == ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE", "ACTIVE"]


def test_dataset_group_delete_goes_through_delete_pending_then_disappears(w):
    clock.set_pacing("stepped")
    arn = w.p.create_dataset_group(name="g")["datasetGroupArn"]
    statuses(lambda: w.p.describe_dataset_group(datasetGroupArn=arn), "datasetGroup", 3)
    w.p.delete_dataset_group(datasetGroupArn=arn)
    assert w.p.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "DELETE PENDING"
    with pytest.raises(ClientError) as err:
        w.p.describe_dataset_group(datasetGroupArn=arn)
    assert code(err) == "ResourceNotFoundException"


def test_a_group_still_being_created_refuses_datasets_and_deletion(w):
    clock.set_pacing("stepped")
    arn = w.p.create_dataset_group(name="g")["datasetGroupArn"]
    with pytest.raises(ClientError) as err:
        w.p.create_dataset(name="d", schemaArn=w.schema, datasetGroupArn=arn, datasetType="Interactions")
    assert code(err) == "ResourceInUseException"
    with pytest.raises(ClientError) as err:
        w.p.delete_dataset_group(datasetGroupArn=arn)
    assert code(err) == "ResourceInUseException"


def test_dataset_delete_chain_is_delete_pending_then_delete_in_progress(w):
    dataset = w.dataset
    clock.set_pacing("stepped")
    w.p.delete_dataset(datasetArn=dataset)
    seen = statuses(lambda: w.p.describe_dataset(datasetArn=dataset), "dataset", 2)
    assert seen == ["DELETE PENDING", "DELETE IN_PROGRESS"]
    assert w.p.list_datasets(datasetGroupArn=w.group)["datasets"] == []


def test_import_job_walks_pending_in_progress_active_when_stepped(w):
    dataset = w.dataset
    clock.set_pacing("stepped")
    job = w.new_import(dataset, "job", wait=False)
    seen = statuses(lambda: w.p.describe_dataset_import_job(datasetImportJobArn=job), "datasetImportJob", 3)
    assert seen == ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]


def test_solution_version_trains_through_the_create_chain_and_shows_in_latest_solution_version(w):
    w.import_job
    solution = w.solution
    clock.set_pacing("stepped")
    version = w.new_version(solution, wait=False)
    describe = lambda: w.p.describe_solution_version(solutionVersionArn=version)  # noqa: E731
    assert statuses(describe, "solutionVersion", 3) == ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]
    found = describe()["solutionVersion"]
    assert found["trainingMode"] == "FULL" and found["trainingType"] == "MANUAL" and found["trainingHours"] > 0
    latest = w.p.describe_solution(solutionArn=solution)["solution"]["latestSolutionVersion"]
    assert latest["solutionVersionArn"] == version and latest["status"] == "ACTIVE"
    assert latest["trainingType"] == "MANUAL"


def test_stop_solution_version_creation_from_pending_ends_stopped(w):
    w.import_job
    clock.set_pacing("stepped")
    version = w.new_version(w.solution, wait=False)
    w.p.stop_solution_version_creation(solutionVersionArn=version)
    found = w.p.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
    assert found["status"] == "CREATE STOPPED"


def test_stop_solution_version_creation_in_progress_goes_through_create_stopping(w):
    w.import_job
    clock.set_pacing("stepped")
    version = w.new_version(w.solution, wait=False)
    describe = lambda: w.p.describe_solution_version(solutionVersionArn=version)  # noqa: E731
    assert statuses(describe, "solutionVersion", 1) == ["CREATE PENDING"]  # now CREATE IN_PROGRESS
    w.p.stop_solution_version_creation(solutionVersionArn=version)
    assert statuses(describe, "solutionVersion", 3) == ["CREATE STOPPING", "CREATE STOPPED", "CREATE STOPPED"]
    with pytest.raises(ClientError) as err:
        w.p.stop_solution_version_creation(solutionVersionArn=version)
    assert code(err) == "InvalidInputException"


def test_campaign_create_and_delete_chains(w):
    version = w.version
    clock.set_pacing("stepped")
    arn = w.p.create_campaign(name="c", solutionVersionArn=version)["campaignArn"]
    describe = lambda: w.p.describe_campaign(campaignArn=arn)  # noqa: E731
    assert statuses(describe, "campaign", 3) == ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]
    w.p.delete_campaign(campaignArn=arn)
    assert statuses(describe, "campaign", 2) == ["DELETE PENDING", "DELETE IN_PROGRESS"]
    assert w.p.list_campaigns(solutionArn=w.solution)["campaigns"] == []


def test_update_campaign_is_tracked_in_latest_campaign_update_and_serves_the_old_version_meanwhile(w):
    campaign, old = w.campaign, w.version
    new = w.new_version(w.solution)
    clock.set_pacing("stepped")
    w.p.update_campaign(campaignArn=campaign, solutionVersionArn=new, minProvisionedTPS=2)
    describe = lambda: w.p.describe_campaign(campaignArn=campaign)  # noqa: E731
    first = describe()["campaign"]
    assert first["status"] == "ACTIVE" and first["solutionVersionArn"] == old
    assert first["latestCampaignUpdate"]["status"] == "CREATE PENDING"
    assert first["latestCampaignUpdate"]["solutionVersionArn"] == new
    with pytest.raises(ClientError) as err:  # one update at a time
        w.p.update_campaign(campaignArn=campaign, minProvisionedTPS=3)
    assert code(err) == "ResourceInUseException"
    assert statuses(describe, "campaign", 2, "latestCampaignUpdate") == ["CREATE IN_PROGRESS", "ACTIVE"]
    done = describe()["campaign"]
    assert done["solutionVersionArn"] == new and done["minProvisionedTPS"] == 2


def test_latest_campaign_follows_new_versions_with_sync(w):
    solution, first = w.solution, w.version
    campaign = w.p.create_campaign(name="c", solutionVersionArn=solution + "/$LATEST",
                                   campaignConfig={"syncWithLatestSolutionVersion": True})["campaignArn"]
    found = w.p.describe_campaign(campaignArn=campaign)["campaign"]
    assert found["status"] == "ACTIVE" and "latestCampaignUpdate" not in found
    second = w.new_version(solution)
    found = w.p.describe_campaign(campaignArn=campaign)["campaign"]
    update = found["latestCampaignUpdate"]
    assert update["status"] == "ACTIVE" and update["solutionVersionArn"] == solution + "/$LATEST"
    assert second != first
    recs = w.runtime.get_recommendations(campaignArn=campaign, userId="u1")["itemList"]
    assert recs  # served by the redeployed version


def test_recommender_stop_and_start_chains(w):
    rec = w.recommender
    clock.set_pacing("stepped")
    describe = lambda: w.p.describe_recommender(recommenderArn=rec)  # noqa: E731
    w.p.stop_recommender(recommenderArn=rec)
    assert statuses(describe, "recommender", 3) == ["STOP PENDING", "STOP IN_PROGRESS", "INACTIVE"]
    with pytest.raises(ClientError) as err:
        w.runtime.get_recommendations(recommenderArn=rec, userId="u1")
    assert code(err) == "InvalidInputException"
    w.p.start_recommender(recommenderArn=rec)
    with pytest.raises(ClientError) as err:  # busy starting
        w.p.stop_recommender(recommenderArn=rec)
    assert code(err) == "ResourceInUseException"
    assert statuses(describe, "recommender", 3) == ["START PENDING", "START IN_PROGRESS", "ACTIVE"]


def test_update_recommender_retrains_when_training_columns_change(w):
    rec = w.recommender
    clock.set_pacing("stepped")
    w.p.update_recommender(recommenderArn=rec, recommenderConfig={"minRecommendationRequestsPerSecond": 3})
    describe = lambda: w.p.describe_recommender(recommenderArn=rec)  # noqa: E731
    assert statuses(describe, "recommender", 3, "latestRecommenderUpdate") == [
        "CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]
    found = describe()["recommender"]
    assert found["status"] == "ACTIVE" and found["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 3
    assert found["latestRecommenderUpdate"]["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 3


def test_update_solution_turns_automatic_training_on_through_latest_solution_update(w):
    solution = w.solution
    clock.set_pacing("stepped")
    w.p.update_solution(solutionArn=solution, performAutoTraining=True,
                        solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(3 days)"}})
    describe = lambda: w.p.describe_solution(solutionArn=solution)  # noqa: E731
    assert statuses(describe, "solution", 3, "latestSolutionUpdate") == [
        "CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]
    found = describe()["solution"]
    assert found["performAutoTraining"] is True
    assert found["solutionConfig"]["autoTrainingConfig"] == {"schedulingExpression": "rate(3 days)"}
    assert found["latestSolutionUpdate"]["solutionUpdateConfig"]["autoTrainingConfig"]["schedulingExpression"] \
        == "rate(3 days)"


def test_timed_pacing_moves_statuses_with_the_clock(w):
    clock.freeze()
    clock.set_pacing("timed", {"dataset-group": 10})
    arn = w.p.create_dataset_group(name="g")["datasetGroupArn"]
    describe = lambda: w.p.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]  # noqa: E731
    assert describe()["status"] == "CREATE PENDING"
    clock.advance(9)
    assert describe()["status"] == "CREATE PENDING"
    clock.advance(1)
    assert describe()["status"] == "CREATE IN_PROGRESS"
    clock.advance(10)
    found = describe()
    assert found["status"] == "ACTIVE"
    assert found["lastUpdatedDateTime"].timestamp() == pytest.approx(found["creationDateTime"].timestamp() + 20)


def test_timed_training_waits_for_its_duration_and_its_work(w):
    w.import_job
    solution = w.solution
    clock.freeze()
    clock.set_pacing("timed", {"solution-version": 600, "default": 0})
    version = w.new_version(solution, wait=False)
    describe = lambda: w.p.describe_solution_version(solutionVersionArn=version)["solutionVersion"]  # noqa: E731
    assert describe()["status"] == "CREATE PENDING"
    clock.advance(600)
    assert describe()["status"] == "CREATE IN_PROGRESS"
    clock.advance(600)
    assert describe()["status"] == "ACTIVE"


def test_immediate_pacing_is_the_default_and_creates_active_groups_at_once(w):
    arn = w.p.create_dataset_group(name="g")["datasetGroupArn"]
    assert w.p.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE"


# ----- automatic training
def autotrained(w, solution):
    return [v for v in w.p.list_solution_versions(solutionArn=solution)["solutionVersions"]
            if v["trainingType"] == "AUTOMATIC"]


def test_automatic_training_runs_one_hour_after_the_solution_is_active(w):
    w.import_job
    clock.freeze()
    solution = w.new_solution("auto", performAutoTraining=True)
    clock.advance(3599)
    assert autotrained(w, solution) == []
    clock.advance(1)
    found = autotrained(w, solution)
    assert len(found) == 1 and found[0]["trainingMode"] == "AUTOTRAIN" and found[0]["status"] == "ACTIVE"
    version = w.p.describe_solution_version(solutionVersionArn=found[0]["solutionVersionArn"])["solutionVersion"]
    assert version["trainingType"] == "AUTOMATIC" and version["trainingMode"] == "AUTOTRAIN"


def test_automatic_training_needs_new_interactions_since_the_last_training(w):
    dataset = w.dataset
    w.import_job
    clock.freeze()
    solution = w.new_solution("auto", performAutoTraining=True,
                              solutionConfig={"autoTrainingConfig": {"schedulingExpression": "rate(1 day)"}})
    clock.advance(3600)
    assert len(autotrained(w, solution)) == 1
    clock.advance(86400)  # no new data: the tick is skipped
    assert len(autotrained(w, solution)) == 1
    w.new_import(dataset, "more", interactions_csv(t0=1_700_000_000))
    clock.advance(86400)
    assert len(autotrained(w, solution)) == 2


def test_a_manual_version_within_the_first_hour_skips_the_first_automatic_training(w):
    w.import_job
    clock.freeze()
    solution = w.new_solution("auto", performAutoTraining=True)
    w.new_version(solution)
    clock.advance(3600)
    assert autotrained(w, solution) == []


def test_automatic_training_redeploys_latest_campaigns(w):
    w.import_job
    clock.freeze()
    solution = w.new_solution("auto", performAutoTraining=True)
    first = w.new_version(solution)
    campaign = w.new_campaign("c", solution + "/$LATEST", campaignConfig={"syncWithLatestSolutionVersion": True})
    w.new_import(w.dataset, "more", interactions_csv(t0=1_700_000_000))
    clock.advance(3600 + 7 * 86400)  # the first tick is skipped (manual version), the second trains
    auto = autotrained(w, solution)
    assert len(auto) == 1 and auto[0]["solutionVersionArn"] != first
    update = w.p.describe_campaign(campaignArn=campaign)["campaign"]["latestCampaignUpdate"]
    assert update["status"] == "ACTIVE"


def test_scheduling_expression_out_of_range_is_refused(w):
    with pytest.raises(ClientError) as err:
        w.new_solution("bad", performAutoTraining=True,
                       solutionConfig={"autoTrainingConfig": {"schedulingExpression": "rate(31 days)"}})
    assert code(err) == "InvalidInputException"


# ----- recommender retraining (guide L9501, L10200, L10328)
WEEK = 7 * 86400


def test_recommenders_retrain_every_seven_days_only_when_new_interactions_arrived(w):
    rec = w.recommender
    clock.freeze()
    describe = lambda: w.p.describe_recommender(recommenderArn=rec)["recommender"]  # noqa: E731
    first = describe()
    clock.advance(WEEK)  # no new data: the model and its metrics stay
    assert describe()["modelMetrics"] == first["modelMetrics"]
    assert describe()["lastUpdatedDateTime"] == first["lastUpdatedDateTime"]
    w.new_import(w.domain_dataset, "more", interactions_csv(n_users=40, n_items=60, t0=1_700_000_000))
    clock.advance(WEEK - 1)
    assert describe()["modelMetrics"] == first["modelMetrics"]
    clock.advance(1)
    retrained = describe()
    assert retrained["status"] == "ACTIVE" and "latestRecommenderUpdate" not in retrained
    assert retrained["modelMetrics"] != first["modelMetrics"]
    assert retrained["lastUpdatedDateTime"] > first["lastUpdatedDateTime"]
    items = w.runtime.get_recommendations(recommenderArn=rec, userId="u35")["itemList"]
    assert {i["itemId"] for i in items} <= {f"i{k}" for k in range(60)}


def test_a_stopped_recommender_is_not_retrained_and_starting_resumes_the_schedule(w):
    rec = w.recommender
    clock.freeze()
    describe = lambda: w.p.describe_recommender(recommenderArn=rec)["recommender"]  # noqa: E731
    first = describe()["modelMetrics"]
    w.p.stop_recommender(recommenderArn=rec)
    assert settled(lambda: w.p.describe_recommender(recommenderArn=rec), "recommender")["status"] == "INACTIVE"
    w.new_import(w.domain_dataset, "more", interactions_csv(n_users=40, n_items=60, t0=1_700_000_000))
    clock.advance(2 * WEEK)
    assert describe()["modelMetrics"] == first
    w.p.start_recommender(recommenderArn=rec)
    assert settled(lambda: w.p.describe_recommender(recommenderArn=rec), "recommender")["status"] == "ACTIVE"
    clock.advance(WEEK - 1)
    assert describe()["modelMetrics"] == first
    clock.advance(1)
    assert describe()["modelMetrics"] != first
