"""What ends a /v2 password (GetAuthorizationToken): its key deactivated or deleted, its user deleted
(a new user of the same name does not revive it), its role deleted and created again; what does not:
another key of the same user going away.

Runs with the account's root key in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
"""
import json
import os
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

from wharf_test import ENDPOINT, REGION, ACCOUNT, expect_error

CONFIG = Config(retries={"max_attempts": 1})
PULL = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"


def session(key, secret, token=None):
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name=REGION)


def password(s):
    data = s.client("ecr", endpoint_url=ENDPOINT, config=CONFIG).get_authorization_token()["authorizationData"][0]
    return data["authorizationToken"]


def v2(token):
    """GET /v2/ with the Basic token: the status."""
    request = urllib.request.Request(ENDPOINT + "/v2/", headers={"Authorization": "Basic " + token})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


root = session(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
iam = root.client("iam", endpoint_url=ENDPOINT, config=CONFIG)


def user_with_keys(name, count):
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=PULL)
    return [iam.create_access_key(UserName=name)["AccessKey"] for _ in range(count)]


# Two keys, a password from each.
first, second = user_with_keys("tok", 2)
t1 = password(session(first["AccessKeyId"], first["SecretAccessKey"]))
t2 = password(session(second["AccessKeyId"], second["SecretAccessKey"]))
assert v2(t1) == 200 and v2(t2) == 200
assert v2(password(root)) == 200

# Deactivating a key ends its passwords (and only its); activating it again brings them back.
iam.update_access_key(UserName="tok", AccessKeyId=first["AccessKeyId"], Status="Inactive")
assert v2(t1) == 401 and v2(t2) == 200
iam.update_access_key(UserName="tok", AccessKeyId=first["AccessKeyId"], Status="Active")
assert v2(t1) == 200
# Deleting it ends them for good.
iam.delete_access_key(UserName="tok", AccessKeyId=first["AccessKeyId"])
assert v2(t1) == 401 and v2(t2) == 200

# The user deleted and created again under the same name: the old passwords stay dead.
iam.delete_access_key(UserName="tok", AccessKeyId=second["AccessKeyId"])
iam.detach_user_policy(UserName="tok", PolicyArn=PULL)
iam.delete_user(UserName="tok")
(third,) = user_with_keys("tok", 1)
t3 = password(session(third["AccessKeyId"], third["SecretAccessKey"]))
assert v2(t3) == 200 and v2(t1) == 401 and v2(t2) == 401

# A role session's password: the role deleted and created again under the same name ends it (and the session).
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/tok"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="puller", AssumeRolePolicyDocument=trust)["Role"]
iam.attach_role_policy(RoleName="puller", PolicyArn=PULL)
credentials = session(third["AccessKeyId"], third["SecretAccessKey"]).client("sts", endpoint_url=ENDPOINT, config=CONFIG).assume_role(RoleArn=role["Arn"], RoleSessionName="ci")["Credentials"]
temporary = session(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
t4 = password(temporary)
assert v2(t4) == 200
iam.detach_role_policy(RoleName="puller", PolicyArn=PULL)
iam.delete_role(RoleName="puller")
assert v2(t4) == 401
role = iam.create_role(RoleName="puller", AssumeRolePolicyDocument=trust)["Role"]
iam.attach_role_policy(RoleName="puller", PolicyArn=PULL)
assert v2(t4) == 401
expect_error("UnrecognizedClientException", temporary.client("ecr", endpoint_url=ENDPOINT, config=CONFIG).get_authorization_token)

print("ok")
