"""Repository creation templates through boto3: the four operations, paging, validation, and create on
push through the ECR API (InitiateLayerUpload to a missing repository) with the template's settings."""
import datetime
import json
from concurrent.futures import ThreadPoolExecutor

from wharf_test import ACCOUNT, PREFIX, client, done, expect_error, image_manifest, push_image, upload_layer

ecr = client()
loose = client(validate=False)

LIFECYCLE = json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5}, "action": {"type": "expire"}}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]})

# --- Create, with everything a template carries ---
r = ecr.create_repository_creation_template(
    prefix=f"{PREFIX}/cop", description="create on push", appliedFor=["CREATE_ON_PUSH"],
    imageTagMutability="IMMUTABLE", lifecyclePolicy=LIFECYCLE, repositoryPolicy=POLICY,
    resourceTags=[{"Key": "owner", "Value": "boto"}], encryptionConfiguration={"encryptionType": "KMS_DSSE"})
assert r["registryId"] == ACCOUNT, r
t = r["repositoryCreationTemplate"]
assert t["prefix"] == f"{PREFIX}/cop" and t["appliedFor"] == ["CREATE_ON_PUSH"] and t["imageTagMutability"] == "IMMUTABLE", t
assert t["encryptionConfiguration"] == {"encryptionType": "KMS_DSSE"} and t["resourceTags"] == [{"Key": "owner", "Value": "boto"}], t
assert isinstance(t["createdAt"], datetime.datetime) and t["createdAt"] == t["updatedAt"], t
ecr.create_repository_creation_template(prefix="ROOT", appliedFor=["CREATE_ON_PUSH", "REPLICATION"], resourceTags=[{"Key": "from", "Value": "root"}])

expect_error("TemplateAlreadyExistsException", ecr.create_repository_creation_template, prefix="ROOT", appliedFor=["REPLICATION"],
             contains="The repository creation template with prefix 'ROOT' already exists")
expect_error("TemplateNotFoundException", ecr.delete_repository_creation_template, prefix=f"{PREFIX}/none")
expect_error("TemplateNotFoundException", ecr.update_repository_creation_template, prefix=f"{PREFIX}/none", description="x")

# --- Validation: ECR's InvalidParameterException in its wording ---
expect_error("InvalidParameterException", loose.create_repository_creation_template, prefix=f"{PREFIX}/v",
             contains="Invalid parameter at 'appliedFor'")
expect_error("InvalidParameterException", loose.create_repository_creation_template, prefix=f"{PREFIX}/v", appliedFor=[],
             contains="Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must have length greater than or equal to 1'")
expect_error("InvalidParameterException", loose.create_repository_creation_template, prefix="x" * 257, appliedFor=["REPLICATION"],
             contains="Invalid parameter at 'prefix'")
expect_error("InvalidParameterException", ecr.create_repository_creation_template, prefix=f"{PREFIX}/v", appliedFor=["REPLICATION"],
             encryptionConfiguration={"encryptionType": "AES256", "kmsKey": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abc"},
             contains="kmsKey can only be specified when encryptionType is KMS or KMS_DSSE")
expect_error("InvalidParameterException", ecr.create_repository_creation_template, prefix=f"{PREFIX}/v", appliedFor=["REPLICATION"],
             resourceTags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)], contains="at most 50 tags")
expect_error("InvalidParameterException", ecr.create_repository_creation_template, prefix=f"{PREFIX}/v", appliedFor=["REPLICATION"],
             lifecyclePolicy="not json", contains="Lifecycle policy validation failure")
expect_error("InvalidParameterException", ecr.create_repository_creation_template, prefix=f"{PREFIX}/v", appliedFor=["REPLICATION"],
             repositoryPolicy="{}", contains="Invalid repository policy provided")
# Exclusion filters come with their mode, in an update as in a create.
expect_error("InvalidParameterException", ecr.update_repository_creation_template, prefix=f"{PREFIX}/cop",
             imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "dev-*"}],
             contains="imageTagMutabilityExclusionFilters can only be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")

# --- Paging: maxResults and nextToken, the token bound to the prefixes asked for ---
for name in ["a", "b", "c"]:
    ecr.create_repository_creation_template(prefix=f"{PREFIX}/page-{name}", appliedFor=["PULL_THROUGH_CACHE"])
expected = sorted(["ROOT", f"{PREFIX}/cop", f"{PREFIX}/page-a", f"{PREFIX}/page-b", f"{PREFIX}/page-c"])
seen, token = [], None
while True:
    kwargs = {"maxResults": 2} if token is None else {"maxResults": 2, "nextToken": token}
    page = ecr.describe_repository_creation_templates(**kwargs)
    assert page["registryId"] == ACCOUNT and len(page["repositoryCreationTemplates"]) <= 2, page
    seen += [t["prefix"] for t in page["repositoryCreationTemplates"]]
    token = page.get("nextToken")
    if token is None:
        break
assert seen == expected, seen
pages = list(ecr.get_paginator("describe_repository_creation_templates").paginate(PaginationConfig={"PageSize": 1}))
assert [t["prefix"] for p in pages for t in p["repositoryCreationTemplates"]] == expected and len(pages) == 5, pages
wanted = [f"{PREFIX}/page-c", f"{PREFIX}/page-a"]
first = ecr.describe_repository_creation_templates(prefixes=wanted, maxResults=1)
assert [t["prefix"] for t in first["repositoryCreationTemplates"]] == [f"{PREFIX}/page-a"] and first["nextToken"], first
second = ecr.describe_repository_creation_templates(prefixes=wanted, maxResults=1, nextToken=first["nextToken"])
assert [t["prefix"] for t in second["repositoryCreationTemplates"]] == [f"{PREFIX}/page-c"] and "nextToken" not in second, second
expect_error("InvalidParameterException", ecr.describe_repository_creation_templates, prefixes=[f"{PREFIX}/page-b"], nextToken=first["nextToken"])
expect_error("InvalidParameterException", loose.describe_repository_creation_templates, maxResults=0, contains="Invalid parameter at 'maxResults'")

# Templates created at once are all kept (one registry setting, changed under the registry's lock).
racers = [f"{PREFIX}/race-{i:02d}" for i in range(12)]
with ThreadPoolExecutor(6) as pool:
    list(pool.map(lambda p: client().create_repository_creation_template(prefix=p, appliedFor=["REPLICATION"]), racers))
listed = [t["prefix"] for t in ecr.describe_repository_creation_templates(prefixes=racers)["repositoryCreationTemplates"]]
assert listed == racers, listed
with ThreadPoolExecutor(6) as pool:
    list(pool.map(lambda p: client().delete_repository_creation_template(prefix=p), racers))
assert ecr.describe_repository_creation_templates(prefixes=racers)["repositoryCreationTemplates"] == []

# --- Create on push through the ECR API: the longest prefix, else ROOT ---


def first_push(repo):
    """A push to a repository that does not exist yet: InitiateLayerUpload creates it (BatchCheckLayerAvailability would not)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest, layer_digest = upload_layer(ecr, repo, config), upload_layer(ecr, repo, b"layer-bytes")
    manifest = image_manifest(config_digest, len(config), [(layer_digest, len(b"layer-bytes"))])
    ecr.put_image(repositoryName=repo, imageManifest=manifest.decode(), imageTag="v1")


repo = f"{PREFIX}/cop/app"
first_push(repo)
made = ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]
assert made["imageTagMutability"] == "IMMUTABLE" and made["encryptionConfiguration"]["encryptionType"] == "KMS_DSSE", made
assert ecr.get_lifecycle_policy(repositoryName=repo)["lifecyclePolicyText"] == LIFECYCLE
assert ecr.get_repository_policy(repositoryName=repo)["policyText"] == POLICY
assert ecr.list_tags_for_resource(resourceArn=made["repositoryArn"])["tags"] == [{"Key": "owner", "Value": "boto"}]
expect_error("ImageTagAlreadyExistsException", push_image, ecr, repo, tag="v1", annotation="other")

elsewhere = f"{PREFIX}-other/app"
first_push(elsewhere)
plain = ecr.describe_repositories(repositoryNames=[elsewhere])["repositories"][0]
assert plain["imageTagMutability"] == "MUTABLE", plain
assert ecr.list_tags_for_resource(resourceArn=plain["repositoryArn"])["tags"] == [{"Key": "from", "Value": "root"}]
expect_error("LifecyclePolicyNotFoundException", ecr.get_lifecycle_policy, repositoryName=elsewhere)

# --- Update keeps what it does not name; delete answers the template ---
u = ecr.update_repository_creation_template(prefix=f"{PREFIX}/cop/", description="changed", appliedFor=["CREATE_ON_PUSH", "REPLICATION"])
ut = u["repositoryCreationTemplate"]
assert ut["prefix"] == f"{PREFIX}/cop" and ut["description"] == "changed" and ut["lifecyclePolicy"] == LIFECYCLE, ut
assert ut["appliedFor"] == ["CREATE_ON_PUSH", "REPLICATION"] and ut["updatedAt"] >= ut["createdAt"], ut
d = ecr.delete_repository_creation_template(prefix=f"{PREFIX}/cop")["repositoryCreationTemplate"]
assert d["description"] == "changed", d
assert f"{PREFIX}/cop" not in [t["prefix"] for t in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]]
assert ecr.describe_repositories(repositoryNames=[repo])["repositories"][0]["imageTagMutability"] == "IMMUTABLE"

done("ecr_creation_templates")
