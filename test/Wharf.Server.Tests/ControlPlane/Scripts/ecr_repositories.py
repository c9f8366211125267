"""Repositories, settings, registry and resource tags through boto3, with every error path."""
from wharf_test import ACCOUNT, PREFIX, REGION, client, done, expect_error

ecr = client()
loose = client(validate=False)
name = f"{PREFIX}/team/app"

# CreateRepository with every setting, and the Repository shape. A KMS key named by alias must exist (ECR checks it).
kms_client = client(service="kms")
wharf_key = kms_client.create_key()["KeyMetadata"]
kms_client.create_alias(AliasName=f"alias/{PREFIX}-wharf", TargetKeyId=wharf_key["KeyId"])
created = ecr.create_repository(
    repositoryName=name,
    tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "dev"}],
    imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
    imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}, {"filterType": "WILDCARD", "filter": "dev-*"}],
    imageScanningConfiguration={"scanOnPush": True},
    encryptionConfiguration={"encryptionType": "KMS", "kmsKey": f"alias/{PREFIX}-wharf"},
)["repository"]
assert created["repositoryArn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}", created
assert created["registryId"] == ACCOUNT and created["repositoryName"] == name, created
host, _, path = created["repositoryUri"].partition("/")
assert host.startswith(f"{ACCOUNT}.dkr.ecr.{REGION}.") and path == name, created["repositoryUri"]
assert created["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION", created
assert [f["filter"] for f in created["imageTagMutabilityExclusionFilters"]] == ["latest", "dev-*"], created
assert created["imageScanningConfiguration"] == {"scanOnPush": True}, created
assert created["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": wharf_key["Arn"]}, created
assert created["createdAt"].year >= 2024, created

expect_error("RepositoryAlreadyExistsException", ecr.create_repository, repositoryName=name,
             contains=f"The repository with name '{name}' already exists in the registry with id '{ACCOUNT}'")

# Model validation, in ECR's words.
expect_error("InvalidParameterException", ecr.create_repository, repositoryName="Upper/Case",
             contains="Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression")
expect_error("InvalidParameterException", loose.create_repository, repositoryName="a",
             contains="Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'")
expect_error("InvalidParameterException", loose.create_repository, repositoryName=f"{PREFIX}/x", imageTagMutability="SOMETIMES",
             contains="Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]")
expect_error("InvalidParameterException", ecr.create_repository, repositoryName=f"{PREFIX}/x", imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
             contains="imageTagMutabilityExclusionFilters")
expect_error("InvalidParameterException", ecr.create_repository, repositoryName=f"{PREFIX}/x",
             imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "x"}], contains="imageTagMutabilityExclusionFilters")
expect_error("InvalidParameterException", ecr.create_repository, repositoryName=f"{PREFIX}/x",
             encryptionConfiguration={"encryptionType": "AES256", "kmsKey": "k"}, contains="kmsKey")
expect_error("InvalidParameterException", ecr.create_repository, repositoryName=f"{PREFIX}/x", imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
             imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": f"f{i}"} for i in range(6)],
             contains="'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'must have length less than or equal to 5'")
expect_error("InvalidParameterException", loose.describe_repositories, maxResults=1001,
             contains="Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 1000'")

# DescribeRepositories by name, and its errors.
described = ecr.describe_repositories(repositoryNames=[name])["repositories"]
assert [r["repositoryName"] for r in described] == [name] and described[0]["repositoryArn"] == created["repositoryArn"], described
expect_error("RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=[name, f"{PREFIX}/missing"],
             contains=f"The repository with name '{PREFIX}/missing' does not exist in the registry with id '{ACCOUNT}'")
expect_error("InvalidParameterException", ecr.describe_repositories, repositoryNames=[name], maxResults=5, contains="maxResults")

# Settings.
m = ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability="MUTABLE_WITH_EXCLUSION",
                                 imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "v*"}])
assert m["imageTagMutability"] == "MUTABLE_WITH_EXCLUSION" and m["imageTagMutabilityExclusionFilters"][0]["filter"] == "v*", m
expect_error("InvalidParameterException", ecr.put_image_tag_mutability, repositoryName=name, imageTagMutability="MUTABLE_WITH_EXCLUSION")
expect_error("RepositoryNotFoundException", ecr.put_image_tag_mutability, repositoryName=f"{PREFIX}/missing", imageTagMutability="MUTABLE")
s = ecr.put_image_scanning_configuration(repositoryName=name, imageScanningConfiguration={"scanOnPush": False})
assert s["imageScanningConfiguration"] == {"scanOnPush": False}, s
after = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
assert after["imageTagMutability"] == "MUTABLE_WITH_EXCLUSION" and after["imageScanningConfiguration"]["scanOnPush"] is False, after
assert after["encryptionConfiguration"]["encryptionType"] == "KMS", after

registry = ecr.describe_registry()
assert registry["registryId"] == ACCOUNT and registry["replicationConfiguration"] == {"rules": []}, registry

# Resource tags.
arn = created["repositoryArn"]
assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "a"}]
ecr.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "b"}, {"Key": "cost", "Value": "42"}])
ecr.untag_resource(resourceArn=arn, tagKeys=["env", "never-there"])
assert ecr.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "cost", "Value": "42"}, {"Key": "team", "Value": "b"}]
expect_error("TooManyTagsException", ecr.tag_resource, resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
ecr.tag_resource(resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(48)])
assert len(ecr.list_tags_for_resource(resourceArn=arn)["tags"]) == 50
expect_error("InvalidTagParameterException", ecr.tag_resource, resourceArn=arn, tags=[{"Key": "aws:reserved", "Value": "v"}])
expect_error("InvalidTagParameterException", ecr.tag_resource, resourceArn=arn, tags=[{"Key": "k" * 129, "Value": "v"}])
expect_error("InvalidTagParameterException", ecr.tag_resource, resourceArn=arn, tags=[{"Key": "k0", "Value": "v" * 257}])
expect_error("InvalidParameterException", ecr.list_tags_for_resource, resourceArn="arn:aws:s3:::bucket", contains="resourceArn")
expect_error("RepositoryNotFoundException", ecr.list_tags_for_resource,
             resourceArn=f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{PREFIX}/missing")
expect_error("TooManyTagsException", ecr.create_repository, repositoryName=f"{PREFIX}/many-tags",
             tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])

# Another account's registry by registryId (open mode lets the default caller act there).
other = ecr.create_repository(registryId="210987654321", repositoryName=f"{PREFIX}/elsewhere")["repository"]
assert other["repositoryArn"] == f"arn:aws:ecr:{REGION}:210987654321:repository/{PREFIX}/elsewhere", other
expect_error("RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=[f"{PREFIX}/elsewhere"])

# Operations of later issues answer clearly.
expect_error("UnsupportedOperationException", ecr.get_signing_configuration, contains="GetSigningConfiguration")

# DeleteRepository.
gone = ecr.delete_repository(repositoryName=name)["repository"]
assert gone["repositoryName"] == name and gone["repositoryArn"] == arn, gone
expect_error("RepositoryNotFoundException", ecr.delete_repository, repositoryName=name)
ecr.delete_repository(registryId="210987654321", repositoryName=f"{PREFIX}/elsewhere")

done("ecr_repositories")
