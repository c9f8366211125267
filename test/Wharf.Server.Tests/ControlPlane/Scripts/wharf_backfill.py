"""Wharf's backfill through the API: PutReplicationConfiguration with "wharfBackfill": true (docs/replication.md).

boto3 knows only the members of ECR's model, so one event handler adds the member to the JSON body
before it is signed (the signature covers it) and another shows Wharf's answer member. Run by
CrossAccountAndBackfillTests with WHARF_ENDPOINT, AWS_DEFAULT_REGION and WHARF_REPLICATION (the
configuration, as JSON).
"""
import json
import os

import boto3


def wharf_backfill(ecr):
    def add(params, **_):
        body = json.loads(params["body"])
        body["wharfBackfill"] = True
        params["body"] = json.dumps(body).encode()

    def show(http_response, parsed, **_):
        if http_response.status_code == 200:
            raw = json.loads(http_response.content)
            if "wharfBackfill" in raw:
                parsed["wharfBackfill"] = raw["wharfBackfill"]

    ecr.meta.events.register("before-call.ecr.PutReplicationConfiguration", add)
    ecr.meta.events.register("after-call.ecr.PutReplicationConfiguration", show)
    return ecr


if __name__ == "__main__":
    ecr = wharf_backfill(boto3.client("ecr", endpoint_url=os.environ["WHARF_ENDPOINT"], region_name=os.environ["AWS_DEFAULT_REGION"]))
    answer = ecr.put_replication_configuration(replicationConfiguration=json.loads(os.environ["WHARF_REPLICATION"]))
    assert answer.get("wharfBackfill") == "REQUESTED", answer
    print(json.dumps({"wharfBackfill": answer["wharfBackfill"], "rules": len(answer["replicationConfiguration"]["rules"])}))
