"""Wharf's replication tag filters through boto3 (docs/replication.md shows this file).

boto3 knows only the members of ECR's model: it refuses "wharfTagFilters" on a rule and drops it from
answers. wharf_tag_filters(ecr) registers three event handlers on one ECR client so that
put_replication_configuration takes "wharfTagFilters" on a rule and the answers of
put_replication_configuration and describe_registry show them. The body is changed before it is
signed, so the signature covers the tag filters.
"""
import json


def wharf_tag_filters(ecr):
    def take(params, context, **_):
        # Before boto3 validates the parameters: set the tag filters aside, by rule.
        configuration = params.get("replicationConfiguration")
        if isinstance(configuration, dict) and isinstance(configuration.get("rules"), list):
            rules = configuration["rules"]
            context["wharfTagFilters"] = [rule.get("wharfTagFilters") for rule in rules]
            params["replicationConfiguration"] = dict(
                configuration, rules=[{k: v for k, v in rule.items() if k != "wharfTagFilters"} for rule in rules])

    def put_back(params, context, **_):
        # After serialisation, before signing: write them into the JSON body.
        filters = context.get("wharfTagFilters")
        if filters and any(f is not None for f in filters):
            body = json.loads(params["body"])
            for rule, tags in zip(body["replicationConfiguration"]["rules"], filters):
                if tags is not None:
                    rule["wharfTagFilters"] = tags
            params["body"] = json.dumps(body).encode()

    def show(http_response, parsed, **_):
        # boto3 parsed the answer by the model; copy the tag filters over from the raw JSON.
        if http_response.status_code == 200:
            raw = json.loads(http_response.content).get("replicationConfiguration", {}).get("rules", [])
            for rule, answer in zip(raw, parsed.get("replicationConfiguration", {}).get("rules", [])):
                if "wharfTagFilters" in rule:
                    answer["wharfTagFilters"] = rule["wharfTagFilters"]

    ecr.meta.events.register("before-parameter-build.ecr.PutReplicationConfiguration", take)
    ecr.meta.events.register("before-call.ecr.PutReplicationConfiguration", put_back)
    ecr.meta.events.register("after-call.ecr.PutReplicationConfiguration", show)
    ecr.meta.events.register("after-call.ecr.DescribeRegistry", show)
    return ecr
