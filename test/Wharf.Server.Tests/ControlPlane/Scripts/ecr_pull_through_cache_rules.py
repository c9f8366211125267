"""Pull-through cache rules through boto3: the five operations and their answers, the model's checks in
ECR's wording (botocore's own checks off), ECR's semantic refusals, ROOT and the implied '/', paging."""
import datetime

from wharf_test import ACCOUNT, REGION, client, done, expect_error

ecr = client()
loose = client(validate=False)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/wharf-pull"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/hub-AbCdEf"

# --- Create: ECR's upstreams get their names; any other registry is Wharf's extension ---
r = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="k8s/", upstreamRegistryUrl="registry.k8s.io")
assert r["ecrRepositoryPrefix"] == "k8s/" and r["upstreamRegistry"] == "k8s" and r["registryId"] == ACCOUNT, r
assert r["upstreamRepositoryPrefix"] == "ROOT" and isinstance(r["createdAt"], datetime.datetime), r
assert "credentialArn" not in r and "customRoleArn" not in r, r
r = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws", upstreamRegistry="ecr-public")
assert r["upstreamRegistry"] == "ecr-public", r
r = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="lab", upstreamRegistryUrl="https://registry.lab.example:8443/")
assert "upstreamRegistry" not in r and r["upstreamRegistryUrl"] == "https://registry.lab.example:8443/", r
r = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="ROOT", upstreamRegistryUrl=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
                                       customRoleArn=ROLE)
assert r["upstreamRegistry"] == "ecr" and r["customRoleArn"] == ROLE and r["ecrRepositoryPrefix"] == "ROOT", r

# --- The implied trailing '/': one rule per prefix either way ---
expect_error("PullThroughCacheRuleAlreadyExistsException", ecr.create_pull_through_cache_rule,
             ecrRepositoryPrefix="k8s", upstreamRegistryUrl="registry.k8s.io",
             contains=f"A pull through cache rule with the prefix 'k8s' already exists in the registry with id '{ACCOUNT}'")
expect_error("PullThroughCacheRuleAlreadyExistsException", ecr.create_pull_through_cache_rule,
             ecrRepositoryPrefix="lab/", upstreamRegistryUrl="quay.io")

# --- The model's checks, in ECR's wording ---
for prefix, constraint in [("a", "must have length greater than or equal to 2"),
                           ("a" * 31, "must have length less than or equal to 30"),
                           ("Hub", "must satisfy regular expression")]:
    expect_error("InvalidParameterException", loose.create_pull_through_cache_rule, ecrRepositoryPrefix=prefix,
                 upstreamRegistryUrl="quay.io", contains=f"Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: '{constraint}")
expect_error("InvalidParameterException", loose.create_pull_through_cache_rule, ecrRepositoryPrefix="dh", upstreamRegistryUrl="registry-1.docker.io",
             credentialArn=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:dockerhub-credentials-AbCdEf",
             contains="Invalid parameter at 'credentialArn' failed to satisfy constraint")
expect_error("InvalidParameterException", loose.create_pull_through_cache_rule, ecrRepositoryPrefix="x1", upstreamRegistryUrl="quay.io",
             upstreamRegistry="harbor", contains="Invalid parameter at 'upstreamRegistry'")
expect_error("InvalidParameterException", loose.describe_pull_through_cache_rules, maxResults=0, contains="Invalid parameter at 'maxResults'")

# --- ECR's semantic refusals ---
expect_error("UnsupportedUpstreamRegistryException", ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="gh",
             upstreamRegistryUrl="ghcr.io", upstreamRegistry="gitlab-container-registry",
             contains="The upstream registry URL 'ghcr.io' is the upstream registry 'github-container-registry', not 'gitlab-container-registry'")
expect_error("InvalidParameterException", ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="gh", upstreamRegistryUrl="ghcr.io",
             contains="a rule for the upstream registry github-container-registry needs the ARN of a Secrets Manager secret")
expect_error("SecretNotFoundException", ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="gh", upstreamRegistryUrl="ghcr.io",
             credentialArn=SECRET)
expect_error("InvalidParameterException", ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="wh",
             upstreamRegistryUrl="https://wharf.lab.example", upstreamRegistry="ecr",
             contains="a rule for an ecr upstream registry needs the ARN of the IAM role to pull with")
expect_error("InvalidParameterException", ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="plain",
             upstreamRegistryUrl="http://registry.lab.example", contains="PullThroughCache:AllowInsecureUpstreams")
assert [x["ecrRepositoryPrefix"] for x in ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]] == ["ROOT", "ecr-public", "k8s/", "lab"]

# --- Describe: filter (with or without '/'), unknown prefix, paging bound to the filter ---
rules = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["k8s", "lab/"])["pullThroughCacheRules"]
assert [x["ecrRepositoryPrefix"] for x in rules] == ["k8s/", "lab"], rules
assert all(x["createdAt"] == x["updatedAt"] for x in rules), rules
expect_error("PullThroughCacheRuleNotFoundException", ecr.describe_pull_through_cache_rules, ecrRepositoryPrefixes=["k8s", "none"],
             contains=f"The pull through cache rule with the prefix 'none' does not exist in the registry with id '{ACCOUNT}'")
seen, token = [], None
while True:
    kwargs = {"maxResults": 1} if token is None else {"maxResults": 1, "nextToken": token}
    page = ecr.describe_pull_through_cache_rules(**kwargs)
    assert len(page["pullThroughCacheRules"]) <= 1, page
    seen += [x["ecrRepositoryPrefix"] for x in page["pullThroughCacheRules"]]
    token = page.get("nextToken")
    if token is None:
        break
assert seen == ["ROOT", "ecr-public", "k8s/", "lab"], seen
first = ecr.describe_pull_through_cache_rules(maxResults=1)
expect_error("InvalidParameterException", ecr.describe_pull_through_cache_rules, ecrRepositoryPrefixes=["k8s"],
             maxResults=1, nextToken=first["nextToken"])

# --- Update changes the role (or secret) only; Validate answers; Delete answers the rule ---
other = f"arn:aws:iam::{ACCOUNT}:role/other"
u = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="ROOT", customRoleArn=other)
assert u["customRoleArn"] == other and u["ecrRepositoryPrefix"] == "ROOT" and u["upstreamRepositoryPrefix"] == "ROOT", u
assert isinstance(u["updatedAt"], datetime.datetime) and "upstreamRegistryUrl" not in u, u
expect_error("InvalidParameterException", ecr.update_pull_through_cache_rule, ecrRepositoryPrefix="k8s", customRoleArn=other,
             contains="only a rule for an ecr upstream registry assumes a role")
expect_error("InvalidParameterException", ecr.update_pull_through_cache_rule, ecrRepositoryPrefix="k8s", credentialArn=SECRET,
             contains="the upstream registry k8s is pulled from without credentials")
v = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="lab/")
assert v["isValid"] is False and v["failure"] and v["ecrRepositoryPrefix"] == "lab" and v["registryId"] == ACCOUNT, v
d = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="k8s")
assert d["ecrRepositoryPrefix"] == "k8s/" and d["upstreamRegistryUrl"] == "registry.k8s.io" and "updatedAt" not in d, d
expect_error("PullThroughCacheRuleNotFoundException", ecr.delete_pull_through_cache_rule, ecrRepositoryPrefix="k8s/")
expect_error("PullThroughCacheRuleNotFoundException", ecr.validate_pull_through_cache_rule, ecrRepositoryPrefix="k8s")
for prefix in ["ROOT", "ecr-public", "lab"]:
    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []

done("ecr_pull_through_cache_rules")
