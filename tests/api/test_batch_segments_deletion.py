"""Batch segment jobs after a data deletion job (spec 40 §11; guide L16175): in a module of its own, as it
deletes users from its catalogue."""

from __future__ import annotations

import boto3

from ..helpers import wait_for
from .batch_world import ROLE, build_catalogue, open_world, run_batch_job


def segment(world):
    return run_batch_job("segment", world["aws-item-affinity"], [{"itemId": "i0"}], "segments", numResults=10)[0][
        "output"]["recommendedUsers"]


def test_users_deleted_by_a_data_deletion_job_leave_the_segments_of_an_older_model():
    """Guide L16175: once users are deleted, Personalize no longer considers them for user segments,
    even from the solution version trained before the deletion."""
    with open_world(lambda: build_catalogue(("aws-item-affinity",))) as own:
        before = segment(own)
        gone = before[:3]
        p = boto3.client("personalize")
        boto3.client("s3").put_object(Bucket="bucket", Key="delete.csv", Body=("USER_ID\n" + "\n".join(gone)).encode())
        arn = p.create_data_deletion_job(jobName="forget", datasetGroupArn=own["group"], roleArn=ROLE,
                                         dataSource={"dataLocation": "s3://bucket/delete.csv"})["dataDeletionJobArn"]
        job = wait_for(lambda: p.describe_data_deletion_job(dataDeletionJobArn=arn), "dataDeletionJob")
        assert job["status"] == "COMPLETED"
        after = segment(own)
        assert not set(gone) & set(after) and after[:7] == before[3:] and len(after) == 10
