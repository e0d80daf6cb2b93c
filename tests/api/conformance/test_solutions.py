"""Conformance of solutions, solution versions and campaigns, by operation."""

from __future__ import annotations

from localpersonalize.control import clock

from .harness import Case, cases_test
from .test_datasets import PATTERN, TAGS51, quota, stepped
from .world import RECIPE

OPERATIONS = ["CreateSolution", "DescribeSolution", "ListSolutions", "UpdateSolution", "DeleteSolution",
              "CreateSolutionVersion", "DescribeSolutionVersion", "ListSolutionVersions",
              "StopSolutionVersionCreation", "GetSolutionMetrics",
              "CreateCampaign", "DescribeCampaign", "ListCampaigns", "UpdateCampaign", "DeleteCampaign"]

UNREACHABLE = {
    **{(op, "InvalidInputException"): PATTERN for op in (
        "DescribeSolution", "DeleteSolution", "DescribeSolutionVersion", "DescribeCampaign", "DeleteCampaign")},
    ("ListSolutions", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    ("ListSolutionVersions", "InvalidInputException"): PATTERN,
    ("ListCampaigns", "InvalidInputException"): "a filter ARN of nothing lists nothing; " + PATTERN,
    ("UpdateSolution", "LimitExceededException"): "no documented quota limits solution updates",
    ("GetSolutionMetrics", "InvalidInputException"): PATTERN,
}


def create_solution(w, name="s2", recipe="aws-popularity-count", **kw):
    return w.p.create_solution(name=name, datasetGroupArn=kw.pop("group", None) or w.group, recipeArn=RECIPE + recipe, **kw)


def training_version(w):
    """A version still in CREATE PENDING (stepped pacing)."""
    w.import_job
    solution = w.solution
    clock.set_pacing("stepped")
    return w.new_version(solution, wait=False)


def latest(w):
    w.version
    return w.new_campaign("latest", w.solution + "/$LATEST", campaignConfig={"syncWithLatestSolutionVersion": True})


CASES = [
    # ----- solutions
    Case("CreateSolution", lambda w: create_solution(w, eventType="watch")),
    Case("CreateSolution", lambda w: (w.solution, create_solution(w, "solution")), raises="ResourceAlreadyExistsException"),
    Case("CreateSolution", lambda w: create_solution(w, group=w.missing("dataset-group")),
         raises="ResourceNotFoundException"),
    Case("CreateSolution", lambda w: create_solution(w, recipe="aws-no-such-recipe"), raises="ResourceNotFoundException",
         name="recipe"),
    Case("CreateSolution", stepped(lambda w: create_solution(w, group=w.p.create_dataset_group(name="n")["datasetGroupArn"])),
         raises="ResourceInUseException"),
    Case("CreateSolution", lambda w: create_solution(w, recipe="aws-vod-top-picks"), raises="InvalidInputException",
         match="domain use case"),
    Case("CreateSolution", quota("active_solutions_per_dataset_group", 1, lambda w: (w.solution, create_solution(w))),
         raises="LimitExceededException"),
    Case("CreateSolution", lambda w: create_solution(w, tags=TAGS51), raises="TooManyTagsException"),
    Case("DescribeSolution", lambda w: (w.version, w.p.describe_solution(solutionArn=w.solution)),
         check=lambda r, w: r[1]["solution"]["latestSolutionVersion"]["solutionVersionArn"] == w.version),
    Case("DescribeSolution", lambda w: w.p.describe_solution(solutionArn=w.missing("solution")),
         raises="ResourceNotFoundException", match="The given solution does not exist"),
    Case("ListSolutions", lambda w: (w.solution, w.p.list_solutions(datasetGroupArn=w.group)),
         check=lambda r, w: [s["solutionArn"] for s in r[1]["solutions"]] == [w.solution]),
    Case("ListSolutions", lambda w: w.p.list_solutions(nextToken="x"), raises="InvalidNextTokenException"),
    Case("UpdateSolution", lambda w: w.p.update_solution(solutionArn=w.solution, performAutoTraining=False)),
    Case("UpdateSolution", lambda w: w.p.update_solution(solutionArn=w.missing("solution"), performAutoTraining=False),
         raises="ResourceNotFoundException"),
    Case("UpdateSolution", lambda w: (w.solution, clock.set_pacing("stepped"),
                                      w.p.update_solution(solutionArn=w.solution, performAutoTraining=True),
                                      w.p.update_solution(solutionArn=w.solution, performAutoTraining=False)),
         raises="ResourceInUseException"),
    Case("UpdateSolution", lambda w: w.p.update_solution(
        solutionArn=w.solution, solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(0 days)"}}),
         raises="InvalidInputException"),
    Case("DeleteSolution", lambda w: w.p.delete_solution(solutionArn=w.solution)),
    Case("DeleteSolution", lambda w: w.p.delete_solution(solutionArn=w.missing("solution")),
         raises="ResourceNotFoundException"),
    Case("DeleteSolution", lambda w: (w.campaign, w.p.delete_solution(solutionArn=w.solution)),
         raises="ResourceInUseException", match="campaign"),
    # ----- solution versions
    Case("CreateSolutionVersion", lambda w: (w.import_job, w.p.create_solution_version(solutionArn=w.solution, name="v"))),
    Case("CreateSolutionVersion", lambda w: w.p.create_solution_version(solutionArn=w.missing("solution")),
         raises="ResourceNotFoundException"),
    Case("CreateSolutionVersion", stepped(lambda w: w.p.create_solution_version(
        solutionArn=create_solution(w)["solutionArn"])), raises="ResourceInUseException"),
    Case("CreateSolutionVersion", lambda w: w.p.create_solution_version(solutionArn=w.solution, trainingMode="UPDATE"),
         raises="InvalidInputException", match="UPDATE"),
    Case("CreateSolutionVersion", quota("pending_solution_versions", 0, lambda w: w.p.create_solution_version(
        solutionArn=w.solution)), raises="LimitExceededException"),
    Case("CreateSolutionVersion", lambda w: w.p.create_solution_version(solutionArn=w.solution, tags=TAGS51),
         raises="TooManyTagsException"),
    Case("CreateSolutionVersion", lambda w: (w.import_job, w.new_version(w.solution, name="v"),
                                             w.p.create_solution_version(solutionArn=w.solution, name="v")),
         raises="ResourceAlreadyExistsException"),
    Case("DescribeSolutionVersion", lambda w: w.p.describe_solution_version(solutionVersionArn=w.version),
         check=lambda r, w: r["solutionVersion"]["trainingType"] == "MANUAL"),
    Case("DescribeSolutionVersion", lambda w: w.p.describe_solution_version(solutionVersionArn=w.solution),
         raises="ResourceNotFoundException", match="The given solution version does not exist", name="wrong-kind"),
    Case("ListSolutionVersions", lambda w: (w.version, w.p.list_solution_versions(solutionArn=w.solution)),
         check=lambda r, w: [v["solutionVersionArn"] for v in r[1]["solutionVersions"]] == [w.version]),
    Case("ListSolutionVersions", lambda w: w.p.list_solution_versions(solutionArn=w.missing("solution")),
         raises="ResourceNotFoundException"),
    Case("ListSolutionVersions", lambda w: w.p.list_solution_versions(nextToken="x"), raises="InvalidNextTokenException"),
    Case("StopSolutionVersionCreation", lambda w: w.p.stop_solution_version_creation(
        solutionVersionArn=training_version(w))),
    Case("StopSolutionVersionCreation", lambda w: w.p.stop_solution_version_creation(
        solutionVersionArn=w.missing("solution-version")), raises="ResourceNotFoundException"),
    Case("StopSolutionVersionCreation", lambda w: w.p.stop_solution_version_creation(solutionVersionArn=w.version),
         raises="InvalidInputException"),
    Case("StopSolutionVersionCreation", lambda w: (lambda v: (
        w.p.describe_solution_version(solutionVersionArn=v), w.p.stop_solution_version_creation(solutionVersionArn=v),
        w.p.stop_solution_version_creation(solutionVersionArn=v)))(training_version(w)),
         raises="ResourceInUseException", match="already stopping"),
    Case("GetSolutionMetrics", lambda w: w.p.get_solution_metrics(solutionVersionArn=w.version),
         check=lambda r, w: set(r["metrics"]) >= {"coverage", "precision_at_10", "mean_reciprocal_rank_at_25"}),
    Case("GetSolutionMetrics", lambda w: w.p.get_solution_metrics(solutionVersionArn=w.missing("solution-version")),
         raises="ResourceNotFoundException"),
    Case("GetSolutionMetrics", lambda w: w.p.get_solution_metrics(solutionVersionArn=training_version(w)),
         raises="ResourceInUseException"),
    # ----- campaigns
    Case("CreateCampaign", lambda w: w.p.create_campaign(name="c", solutionVersionArn=w.version, minProvisionedTPS=2)),
    Case("CreateCampaign", lambda w: w.p.create_campaign(name="c", solutionVersionArn=w.missing("solution-version")),
         raises="ResourceNotFoundException"),
    Case("CreateCampaign", lambda w: w.p.create_campaign(name="c", solutionVersionArn=w.solution),
         raises="ResourceNotFoundException", name="solution-arn"),
    Case("CreateCampaign", lambda w: (w.campaign, w.p.create_campaign(name="campaign", solutionVersionArn=w.version)),
         raises="ResourceAlreadyExistsException"),
    Case("CreateCampaign", quota("active_campaigns_per_dataset_group", 1, lambda w: (
        w.campaign, w.p.create_campaign(name="c2", solutionVersionArn=w.version))),
         raises="LimitExceededException", match="Can't create campaign. There are more than 1 resources"),
    Case("CreateCampaign", lambda w: w.p.create_campaign(name="c", solutionVersionArn=training_version(w)),
         raises="ResourceInUseException"),
    Case("CreateCampaign", lambda w: w.p.create_campaign(name="c", solutionVersionArn=w.version,
                                                         campaignConfig={"syncWithLatestSolutionVersion": True}),
         raises="InvalidInputException", match="$LATEST"),
    Case("CreateCampaign", lambda w: w.p.create_campaign(name="c", solutionVersionArn=w.version, tags=TAGS51),
         raises="TooManyTagsException"),
    Case("DescribeCampaign", lambda w: w.p.describe_campaign(campaignArn=latest(w)),
         check=lambda r, w: r["campaign"]["solutionVersionArn"] == w.solution + "/$LATEST"),
    Case("DescribeCampaign", lambda w: w.p.describe_campaign(campaignArn=w.missing("campaign")),
         raises="ResourceNotFoundException"),
    Case("ListCampaigns", lambda w: (w.campaign, w.p.list_campaigns(solutionArn=w.solution)),
         check=lambda r, w: [c["campaignArn"] for c in r[1]["campaigns"]] == [w.campaign]),
    Case("ListCampaigns", lambda w: w.p.list_campaigns(nextToken="x"), raises="InvalidNextTokenException"),
    Case("UpdateCampaign", lambda w: w.p.update_campaign(campaignArn=w.campaign, minProvisionedTPS=5)),
    Case("UpdateCampaign", lambda w: w.p.update_campaign(campaignArn=w.missing("campaign")),
         raises="ResourceNotFoundException"),
    Case("UpdateCampaign", lambda w: (w.campaign, clock.set_pacing("stepped"),
                                      w.p.update_campaign(campaignArn=w.campaign, minProvisionedTPS=5),
                                      w.p.update_campaign(campaignArn=w.campaign, minProvisionedTPS=6)),
         raises="ResourceInUseException"),
    Case("UpdateCampaign", lambda w: w.p.update_campaign(campaignArn=w.campaign,
                                                         campaignConfig={"syncWithLatestSolutionVersion": True}),
         raises="InvalidInputException"),
    Case("DeleteCampaign", lambda w: w.p.delete_campaign(campaignArn=w.campaign)),
    Case("DeleteCampaign", lambda w: w.p.delete_campaign(campaignArn=w.missing("campaign")),
         raises="ResourceNotFoundException"),
    Case("DeleteCampaign", lambda w: (w.version, clock.set_pacing("stepped"), w.p.delete_campaign(
        campaignArn=w.p.create_campaign(name="c", solutionVersionArn=w.version)["campaignArn"])),
         raises="ResourceInUseException"),
]

test_conformance = cases_test(CASES)
