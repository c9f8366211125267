"""ECR's exact texts and fields where clients compare them (docs/ecr-api.md "ECR's exact answers")."""
import json
import re

from wharf_test import ACCOUNT, PREFIX, REGION, client, done, expect_error, push_image, sha256, upload_layer

ecr = client()
loose = client(validate=False)

# KMS without a key reports the registry's AWS managed key (aws/ecr) by its key ARN, stably.
kms = ecr.create_repository(repositoryName=f"{PREFIX}/kms", encryptionConfiguration={"encryptionType": "KMS"})["repository"]
key = kms["encryptionConfiguration"]["kmsKey"]
assert re.fullmatch(rf"arn:aws:kms:{REGION}:{ACCOUNT}:key/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}", key), key
assert kms["encryptionConfiguration"]["encryptionType"] == "KMS", kms
dsse = ecr.create_repository(repositoryName=f"{PREFIX}/dsse", encryptionConfiguration={"encryptionType": "KMS_DSSE"})["repository"]
assert dsse["encryptionConfiguration"]["kmsKey"] == key, dsse  # one managed key per registry
described = ecr.describe_repositories(repositoryNames=[f"{PREFIX}/kms"])["repositories"][0]
assert described["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}, described
aes = ecr.create_repository(repositoryName=f"{PREFIX}/aes")["repository"]
assert aes["encryptionConfiguration"] == {"encryptionType": "AES256"}, aes
# A named key (here by its alias) must exist in the key service; ECR stores and shows the key's ARN.
kms_client = client(service="kms")
mine = kms_client.create_key()["KeyMetadata"]
kms_client.create_alias(AliasName=f"alias/{PREFIX}-mine", TargetKeyId=mine["KeyId"])
given = ecr.create_repository(repositoryName=f"{PREFIX}/given", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": f"alias/{PREFIX}-mine"})["repository"]
assert given["encryptionConfiguration"]["kmsKey"] == mine["Arn"], given

# An invalid repository or registry policy: ECR's one text, without the reason.
repo = f"{PREFIX}/app"
ecr.create_repository(repositoryName=repo)
for bad in ['{"Statement":[{"Effect":"Allow","Action":"ecr:*"}]}', "not json", '{"Version":"2012-10-17","Statement":[]}']:
    expect_error("InvalidParameterException", ecr.set_repository_policy, repositoryName=repo, policyText=bad,
                 contains="Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")
    expect_error("InvalidParameterException", ecr.put_registry_policy, policyText=bad,
                 contains="Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'")

# Get/DeleteLifecyclePolicy include lastEvaluatedAt (the epoch until the policy is first evaluated).
policy = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged after a day",
                                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
                                "action": {"type": "expire"}}]})
ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=policy)
got = ecr.get_lifecycle_policy(repositoryName=repo)
assert "lastEvaluatedAt" in got and got["lastEvaluatedAt"].timestamp() == 0, got
deleted = ecr.delete_lifecycle_policy(repositoryName=repo)
assert "lastEvaluatedAt" in deleted and deleted["lifecyclePolicyText"] == policy, deleted

# Enum violations, in the model's order.
expect_error("InvalidParameterException", loose.put_image_tag_mutability, repositoryName=repo, imageTagMutability="SOMETIMES",
             contains="Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'")
expect_error("InvalidParameterException", loose.put_registry_scanning_configuration, scanType="DEEP",
             contains="Invalid parameter at 'scanType' failed to satisfy constraint: 'Member must satisfy enum value set: [BASIC, ENHANCED]'")

# BatchGetRepositoryScanningConfiguration: a missing repository is a failure with the model's code.
scanning = ecr.batch_get_repository_scanning_configuration(repositoryNames=[repo, f"{PREFIX}/missing"])
assert [c["repositoryName"] for c in scanning["scanningConfigurations"]] == [repo], scanning
assert scanning["failures"] == [{"repositoryName": f"{PREFIX}/missing", "failureCode": "REPOSITORY_NOT_FOUND",
                                 "failureReason": f"The repository with name '{PREFIX}/missing' does not exist in the registry with id '{ACCOUNT}'"}], scanning

# PutImage of a manifest without mediaType: ECR does not infer it; imageManifestMediaType supplies it.
config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
config_digest = upload_layer(ecr, repo, config)
bare = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)}, "layers": []})
expect_error("InvalidParameterException", ecr.put_image, repositoryName=repo, imageManifest=bare, imageTag="bare",
             contains="Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'")
expect_error("InvalidParameterException", ecr.put_image, repositoryName=repo, imageManifest="{not json", imageTag="bare",
             contains="Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'")
put = ecr.put_image(repositoryName=repo, imageManifest=bare, imageTag="bare", imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")["image"]
assert put["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json" and put["imageId"]["imageDigest"] == sha256(bare.encode()), put
# A declared mediaType that disagrees with the parameter is still refused (with the reason).
expect_error("InvalidParameterException", ecr.put_image, repositoryName=repo, imageTag="mismatch",
             imageManifest=json.dumps({**json.loads(bare), "mediaType": "application/vnd.oci.image.manifest.v1+json"}),
             imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json", contains="does not match")

done("ecr_exact_answers")
