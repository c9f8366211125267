"""IAM and STS with boto3: a role assumed with a user's key, the temporary credentials used in headers
and in presigned STS URLs (GET /?Action=GetCallerIdentity…), and what a tampered URL gets.

Runs with the account's root key in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
"""
import json
import os
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config

from wharf_test import ENDPOINT, REGION, ACCOUNT, expect_error

NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/"}
CONFIG = Config(retries={"max_attempts": 1})
LAX = Config(retries={"max_attempts": 1}, parameter_validation=False)  # so that Wharf's own checks are reached


def session(key, secret, token=None):
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name=REGION)


def get(url):
    """GETs a presigned URL: (status, parsed XML)."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, ET.fromstring(response.read())
    except urllib.error.HTTPError as e:
        return e.code, ET.fromstring(e.read())


root = session(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
iam = root.client("iam", endpoint_url=ENDPOINT, config=CONFIG)
sts = root.client("sts", endpoint_url=ENDPOINT, config=CONFIG)

# A presigned GetCallerIdentity URL (GET, as `aws eks get-token` makes them) proves who holds the key.
url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
assert "X-Amz-Signature=" in url and "Action=GetCallerIdentity" in url, url
status, xml = get(url)
assert status == 200, (status, ET.tostring(xml))
assert xml.find(".//sts:Arn", NS).text == f"arn:aws:iam::{ACCOUNT}:root", ET.tostring(xml)
status, xml = get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))
assert status == 403 and xml.find(".//sts:Code", NS).text == "SignatureDoesNotMatch", (status, ET.tostring(xml))

# A user whom a role trusts, and the role.
iam.create_user(UserName="boto-user")
key = iam.create_access_key(UserName="boto-user")["AccessKey"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/boto-user"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="boto-role", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200)["Role"]
assert role["MaxSessionDuration"] == 7200, role
assert iam.get_role(RoleName="boto-role")["Role"]["AssumeRolePolicyDocument"] == trust  # decoded by botocore
iam.put_role_policy(RoleName="boto-role", PolicyName="repos", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:CreateRepository", "ecr:DescribeRepositories"], "Resource": "*"}]}))
expect_error("EntityAlreadyExists", iam.create_role, RoleName="boto-role", AssumeRolePolicyDocument=json.dumps(trust))
expect_error("ValidationError", root.client("iam", endpoint_url=ENDPOINT, config=LAX).create_role, RoleName="short", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=60)

user = session(key["AccessKeyId"], key["SecretAccessKey"])
user_sts = user.client("sts", endpoint_url=ENDPOINT, config=CONFIG)
lax_sts = user.client("sts", endpoint_url=ENDPOINT, config=LAX)
expect_error("ValidationError", lax_sts.assume_role, RoleArn=role["Arn"], RoleSessionName="x")  # too short a name
expect_error("ValidationError", lax_sts.assume_role, RoleArn=role["Arn"], RoleSessionName="boto", DurationSeconds=899)
assumed = user_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="boto", DurationSeconds=7200)
credentials = assumed["Credentials"]
assert credentials["AccessKeyId"].startswith("ASIA"), credentials
assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/boto-role/boto", assumed

temporary = session(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
ecr = temporary.client("ecr", endpoint_url=ENDPOINT, config=CONFIG)
ecr.create_repository(repositoryName="boto-role/app")
assert [r["repositoryName"] for r in ecr.describe_repositories(repositoryNames=["boto-role/app"])["repositories"]] == ["boto-role/app"]
expect_error("AccessDeniedException", ecr.delete_repository, repositoryName="boto-role/app",
             contains=f"User: arn:aws:sts::{ACCOUNT}:assumed-role/boto-role/boto is not authorized to perform: ecr:DeleteRepository")

# The session token travels in the presigned URL too (X-Amz-Security-Token), and is bound to its key.
url = temporary.client("sts", endpoint_url=ENDPOINT, config=CONFIG).generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
assert "X-Amz-Security-Token=" in url, url
status, xml = get(url)
assert status == 200, (status, ET.tostring(xml))
assert xml.find(".//sts:Arn", NS).text == f"arn:aws:sts::{ACCOUNT}:assumed-role/boto-role/boto", ET.tostring(xml)
assert xml.find(".//sts:UserId", NS).text == role["RoleId"] + ":boto", ET.tostring(xml)
other = session(key["AccessKeyId"], key["SecretAccessKey"], credentials["SessionToken"])
expect_error("InvalidClientTokenId", other.client("sts", endpoint_url=ENDPOINT, config=CONFIG).get_caller_identity)

# A request signed for another service is refused.
request = AWSRequest(method="POST", url=ENDPOINT + "/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
SigV4Auth(root.get_credentials(), "ecr", REGION).add_auth(request)
prepared = request.prepare()
try:
    urllib.request.urlopen(urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST"))
    raise AssertionError("a request signed for ecr was accepted by sts")
except urllib.error.HTTPError as e:
    body = e.read().decode()
    assert e.code == 403 and "Credential should be scoped to correct service: &apos;sts&apos;" in body or "correct service: 'sts'" in body, body
print("ok")
