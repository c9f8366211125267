"""PutReplicationConfiguration and DescribeRegistry through boto3 (signed with the account's root key, in IAM
mode): round trips, ECR's refusals, clearing, per-region configurations, and Wharf's tag filters through
the event hooks of wharf_tag_filters.py.

Runs with the root key in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the region in AWS_DEFAULT_REGION.
"""
import boto3
from botocore.config import Config

from wharf_tag_filters import wharf_tag_filters
from wharf_test import ACCOUNT, ENDPOINT, REGION, done, expect_error

CONFIG = Config(retries={"max_attempts": 1})
OTHER_REGION = "ap-south-1" if REGION != "ap-south-1" else "eu-central-1"


def ecr_client(region=REGION):
    return boto3.client("ecr", endpoint_url=ENDPOINT, region_name=region, config=CONFIG)


ecr = ecr_client()
hooked = wharf_tag_filters(ecr_client())


def destination(region, account=ACCOUNT):
    return {"region": region, "registryId": account}


assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}

# --- A configuration round-trips; a rule without filters answers without repositoryFilters ---
config = {"rules": [
    {"destinations": [destination("us-west-2"), destination(REGION, "210987654321")],
     "repositoryFilters": [{"filter": "prod/", "filterType": "PREFIX_MATCH"}, {"filter": "shared", "filterType": "PREFIX_MATCH"}]},
    {"destinations": [destination("us-west-2")]},
]}
put = ecr.put_replication_configuration(replicationConfiguration=config)
assert put["replicationConfiguration"] == config, put
described = ecr.describe_registry()
assert described["registryId"] == ACCOUNT and described["replicationConfiguration"] == config, described
assert "repositoryFilters" not in described["replicationConfiguration"]["rules"][1], described

# --- Each registry (account and region) has its own ---
other = ecr_client(OTHER_REGION)
assert other.describe_registry()["replicationConfiguration"] == {"rules": []}
other.put_replication_configuration(replicationConfiguration={"rules": [{"destinations": [destination(REGION)]}]})
assert ecr.describe_registry()["replicationConfiguration"] == config
assert other.describe_registry()["replicationConfiguration"]["rules"][0]["destinations"] == [destination(REGION)]

# --- ECR's refusals; a refused put leaves the configuration as it was ---
def refused(configuration, contains):
    expect_error("InvalidParameterException", ecr.put_replication_configuration, replicationConfiguration=configuration, contains=contains)


refused({"rules": [{"destinations": [destination(f"us-west-{i}")]} for i in range(11)]},
        "Invalid parameter at 'replicationConfiguration.rules' failed to satisfy constraint: 'must have length less than or equal to 10'")
refused({"rules": [{"destinations": [destination("eu-north-1", f"2109876543{i:02d}") for i in range(26)]}]},
        "'Replication configuration cannot have more than 25 unique destinations across all rules; it has 26'")
refused({"rules": [{"destinations": [destination(REGION)]}]},
        "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Replication destination cannot be the same as the source registry'")
refused({"rules": [{"destinations": [destination("us-west-2"), destination("us-west-2")]}]},
        "'Replication rule cannot contain duplicate destinations: region us-west-2, registry " + ACCOUNT + "'")
refused({"rules": [{"destinations": [destination("US_WEST_2")]}]},
        "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations.1.member.region' failed to satisfy constraint: 'must satisfy regular expression '[0-9a-z-]{2,25}''")
refused({"rules": [{"destinations": [destination("us-west-2", "12345678901x")]}]},
        "Invalid parameter at 'replicationConfiguration.rules.1.member.destinations.1.member.registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''")
refused({"rules": [{"destinations": [destination("us-west-2")], "repositoryFilters": [{"filter": "Prod", "filterType": "PREFIX_MATCH"}]}]},
        "Invalid parameter at 'replicationConfiguration.rules.1.member.repositoryFilters.1.member.filter' failed to satisfy constraint: 'must satisfy regular expression")
refused({"rules": [{"destinations": [destination("us-west-2")], "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}]}]},
        "Invalid parameter at 'replicationConfiguration.rules.1.member.repositoryFilters.1.member.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [PREFIX_MATCH]'")
assert ecr.describe_registry()["replicationConfiguration"] == config

# --- Wharf's tag filters, through the hooks: signed with the body they add, echoed, described ---
tagged = {"rules": [
    {"destinations": [destination("us-west-2")], "wharfTagFilters": ["release-*", "v*"]},
    {"destinations": [destination("eu-north-1")], "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}]},
]}
assert hooked.put_replication_configuration(replicationConfiguration=tagged)["replicationConfiguration"] == tagged
assert hooked.describe_registry()["replicationConfiguration"] == tagged
# Without the hooks boto3 drops the member from the answer (the configuration still has it).
assert "wharfTagFilters" not in ecr.describe_registry()["replicationConfiguration"]["rules"][0]
expect_error("InvalidParameterException", hooked.put_replication_configuration,
             replicationConfiguration={"rules": [{"destinations": [destination("us-west-2")], "wharfTagFilters": ["release/1"]}]},
             contains="'replicationConfiguration.rules.1.member.wharfTagFilters.1.member' failed to satisfy constraint")

# --- An empty rule list turns replication off ---
assert ecr.put_replication_configuration(replicationConfiguration={"rules": []})["replicationConfiguration"] == {"rules": []}
assert ecr.describe_registry()["replicationConfiguration"] == {"rules": []}

done("ecr_replication_configuration.py")
