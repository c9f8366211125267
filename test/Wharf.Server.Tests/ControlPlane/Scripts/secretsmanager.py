"""The Secrets Manager-compatible API through boto3: create, read by name / ARN / partial ARN, stages,
update, describe, list with filters and paging (boto3's paginator), tags, delete and restore, force delete,
batch reads, and Secrets Manager's errors. Prints "ok" when every check holds."""
import base64
import uuid

import boto3
from botocore.config import Config

from wharf_test import ENDPOINT, REGION, expect_error

PREFIX = "boto-" + uuid.uuid4().hex[:8]

sm = boto3.client(
    "secretsmanager",
    endpoint_url=ENDPOINT,
    region_name=REGION,
    config=Config(retries={"max_attempts": 1}),
)

created = sm.create_secret(Name=f"{PREFIX}/hub", SecretString='{"username":"u","accessToken":"t1"}',
                           Description="Docker Hub", Tags=[{"Key": "team", "Value": "red"}])
arn = created["ARN"]
assert arn.startswith(f"arn:aws:secretsmanager:{REGION}:") and arn.split(":secret:")[1][:-7] == f"{PREFIX}/hub", arn
first = created["VersionId"]
for secret_id in (f"{PREFIX}/hub", arn, arn[:-7]):
    value = sm.get_secret_value(SecretId=secret_id)
    assert value["SecretString"] == '{"username":"u","accessToken":"t1"}', value
    assert value["VersionStages"] == ["AWSCURRENT"], value
    assert value["CreatedDate"].year >= 2024, value

second = sm.put_secret_value(SecretId=arn, SecretString="t2")["VersionId"]
assert sm.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["VersionId"] == first
assert sm.get_secret_value(SecretId=arn)["VersionId"] == second

binary = sm.create_secret(Name=f"{PREFIX}/bin", SecretBinary=b"\x00\x01\xff")
assert sm.get_secret_value(SecretId=binary["ARN"])["SecretBinary"] == b"\x00\x01\xff"

sm.update_secret(SecretId=arn, Description="Docker Hub token")
described = sm.describe_secret(SecretId=arn)
assert described["Description"] == "Docker Hub token", described
assert described["VersionIdsToStages"] == {second: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}, described
assert described["Tags"] == [{"Key": "team", "Value": "red"}], described
assert "LastAccessedDate" in described and "CreatedDate" in described and "LastChangedDate" in described, described

sm.tag_resource(SecretId=arn, Tags=[{"Key": "tier", "Value": "gold"}])
sm.untag_resource(SecretId=arn, TagKeys=["team"])
assert sm.describe_secret(SecretId=arn)["Tags"] == [{"Key": "tier", "Value": "gold"}]

for i in range(5):
    sm.create_secret(Name=f"{PREFIX}/many/{i}", SecretString=str(i))
pages = list(sm.get_paginator("list_secrets").paginate(
    Filters=[{"Key": "name", "Values": [f"{PREFIX}/many/"]}], SortBy="name", SortOrder="desc", PaginationConfig={"PageSize": 2}))
assert [len(p["SecretList"]) for p in pages] == [2, 2, 1], pages
names = [s["Name"] for p in pages for s in p["SecretList"]]
assert names == [f"{PREFIX}/many/{i}" for i in (4, 3, 2, 1, 0)], names
listed = sm.list_secrets(Filters=[{"Key": "tag-key", "Values": ["tier"]}, {"Key": "name", "Values": [PREFIX]}])["SecretList"]
assert [s["Name"] for s in listed] == [f"{PREFIX}/hub"], listed

batch = sm.batch_get_secret_value(SecretIdList=[arn, f"{PREFIX}/many/0", f"{PREFIX}/missing"])
assert sorted(v["SecretString"] for v in batch["SecretValues"]) == ["0", "t2"], batch
assert [(e["SecretId"], e["ErrorCode"]) for e in batch["Errors"]] == [(f"{PREFIX}/missing", "ResourceNotFoundException")], batch

deleted = sm.delete_secret(SecretId=arn, RecoveryWindowInDays=10)
assert (deleted["DeletionDate"] - sm.describe_secret(SecretId=arn)["DeletedDate"]).days == 10, deleted
expect_error("InvalidRequestException", sm.get_secret_value, SecretId=arn,
             contains="You can't perform this operation on the secret because it was marked for deletion.")
expect_error("InvalidRequestException", sm.create_secret, Name=f"{PREFIX}/hub", SecretString="x",
             contains="already scheduled for deletion")
sm.restore_secret(SecretId=arn)
assert sm.get_secret_value(SecretId=arn)["SecretString"] == "t2"
sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=arn, contains="can't find the specified secret")

expect_error("ResourceExistsException", sm.create_secret, Name=f"{PREFIX}/bin", SecretString="x")
expect_error("InvalidParameterException", sm.delete_secret, SecretId=f"{PREFIX}/bin", RecoveryWindowInDays=3)
expect_error("UnsupportedOperationException", sm.get_random_password)
print("ok")
