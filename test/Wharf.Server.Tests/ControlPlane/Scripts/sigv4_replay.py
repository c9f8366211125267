"""A signature binds the body: botocore-signed requests replayed with another body, UNSIGNED-PAYLOAD,
an unsigned X-Amz-Target, each refused; the same requests sent as signed are accepted.

Runs with the account's root key in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
"""
import hashlib
import json
import os
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config

from wharf_test import ENDPOINT, REGION, ACCOUNT, push_image

CONFIG = Config(retries={"max_attempts": 1})
FORM = "application/x-www-form-urlencoded; charset=utf-8"
JSON = "application/x-amz-json-1.1"
ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921."


class UnsignedPayloadAuth(SigV4Auth):
    """Signs as S3 may: the payload hash is UNSIGNED-PAYLOAD (declared in a signed header)."""

    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def sign(credentials, service, body, headers, auth=SigV4Auth):
    request = AWSRequest(method="POST", url=ENDPOINT + "/", data=body, headers=dict(headers))
    auth(credentials, service, REGION).add_auth(request)
    prepared = request.prepare()
    return dict(prepared.headers), prepared.body


def send(headers, body):
    """POSTs raw bytes with the given headers: (status, body text)."""
    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    try:
        with urllib.request.urlopen(urllib.request.Request(ENDPOINT + "/", data=body, headers=headers, method="POST")) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def refused(status, text, code):
    assert status in (400, 403) and code in text, (status, text)


root = boto3.session.Session(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region_name=REGION)
iam = root.client("iam", endpoint_url=ENDPOINT, config=CONFIG)
ecr = root.client("ecr", endpoint_url=ENDPOINT, config=CONFIG)

# A pull-only user, and a role that trusts it (the user could assume it, had it the right to).
iam.create_user(UserName="puller")
iam.attach_user_policy(UserName="puller", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")
key = iam.create_access_key(UserName="puller")["AccessKey"]
role = iam.create_role(RoleName="admin-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/puller"}, "Action": "sts:AssumeRole"}]}))["Role"]
puller = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION).get_credentials()

# 1. The puller's signed GetCallerIdentity is accepted as sent ...
identity_body = b"Action=GetCallerIdentity&Version=2011-06-15"
headers, body = sign(puller, "sts", identity_body, {"Content-Type": FORM})
status, text = send(headers, body)
assert status == 200 and f"arn:aws:iam::{ACCOUNT}:user/puller" in text, (status, text)
# ... and replayed with an AssumeRole body it is refused, with or without a declared hash of the old body.
assume_body = f"Action=AssumeRole&Version=2011-06-15&RoleArn={role['Arn']}&RoleSessionName=stolen".encode()
refused(*send(headers, assume_body), "SignatureDoesNotMatch")
declared = dict(headers, **{"X-Amz-Content-SHA256": hashlib.sha256(identity_body).hexdigest()})
status, text = send(declared, assume_body)
refused(status, text, "SignatureDoesNotMatch")
assert "AccessKeyId" not in text and "SessionToken" not in text, text

# 2. A signed BatchDeleteImage of a missing tag, replayed with another image's tag, deletes nothing.
ecr.create_repository(repositoryName="replay/app")
digest, _, _ = push_image(ecr, "replay/app", tag="keep")
rootc = root.get_credentials()
missing = json.dumps({"repositoryName": "replay/app", "imageIds": [{"imageTag": "missing"}]}).encode()
target = {"Content-Type": JSON, "X-Amz-Target": ECR_TARGET + "BatchDeleteImage"}
headers, body = sign(rootc, "ecr", missing, target)
other = json.dumps({"repositoryName": "replay/app", "imageIds": [{"imageTag": "keep"}]}).encode()
refused(*send(headers, other), "InvalidSignatureException")
refused(*send(dict(headers, **{"X-Amz-Content-SHA256": hashlib.sha256(missing).hexdigest()}), other), "InvalidSignatureException")
images = ecr.describe_images(repositoryName="replay/app")["imageDetails"]
assert [i["imageDigest"] for i in images] == [digest] and images[0]["imageTags"] == ["keep"], images
status, text = send(headers, body)  # the request as signed: accepted, the tag is not found
assert status == 200 and json.loads(text)["failures"][0]["failureCode"] == "ImageNotFound", (status, text)
# The right hash declared beside the body is fine (some SDKs send it).
headers, body = sign(rootc, "ecr", missing, dict(target, **{"X-Amz-Content-SHA256": hashlib.sha256(missing).hexdigest()}))
status, text = send(headers, body)
assert status == 200, (status, text)

# 3. An X-Amz-Target left out of the signature cannot turn a signed read into a delete.
describe = json.dumps({"repositoryName": "replay/app", "imageIds": [{"imageTag": "keep"}]}).encode()
headers, body = sign(rootc, "ecr", describe, {"Content-Type": JSON})
refused(*send(dict(headers, **{"X-Amz-Target": ECR_TARGET + "BatchDeleteImage"}), body), "IncompleteSignatureException")
assert [i["imageDigest"] for i in ecr.describe_images(repositoryName="replay/app")["imageDetails"]] == [digest]

# 4. UNSIGNED-PAYLOAD (and streaming payloads) are S3's; ECR, IAM and STS sign the body.
unsigned = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
headers, body = sign(rootc, "ecr", b"{}", dict(unsigned, **{"Content-Type": JSON, "X-Amz-Target": ECR_TARGET + "DescribeRepositories"}), UnsignedPayloadAuth)
refused(*send(headers, body), "InvalidSignatureException")
headers, body = sign(rootc, "iam", b"Action=ListUsers&Version=2010-05-08", dict(unsigned, **{"Content-Type": FORM}), UnsignedPayloadAuth)
refused(*send(headers, body), "SignatureDoesNotMatch")
headers, body = sign(puller, "sts", identity_body, dict(unsigned, **{"Content-Type": FORM}), UnsignedPayloadAuth)
refused(*send(headers, body), "SignatureDoesNotMatch")
headers, body = sign(rootc, "ecr", b"{}", {"Content-Type": JSON, "X-Amz-Target": ECR_TARGET + "DescribeRepositories",
                                           "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, UnsignedPayloadAuth)
refused(*send(headers, body), "InvalidSignatureException")
print("ok")
