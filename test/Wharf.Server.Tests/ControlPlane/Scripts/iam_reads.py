"""The IAM reads infrastructure-as-code tools make after every write, with boto3 (its paginators follow
Marker/IsTruncated), customer managed policies with their versions, tags on users and roles, and
DeleteUser's conflicts. A customer managed policy attached to a user must take effect in ECR.

Runs with the account's root key in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
"""
import json
import os

import boto3
from botocore.config import Config

from wharf_test import ENDPOINT, REGION, ACCOUNT, expect_error

CONFIG = Config(retries={"max_attempts": 1})
root = boto3.session.Session(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region_name=REGION)
iam = root.client("iam", endpoint_url=ENDPOINT, config=CONFIG)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def paginate(operation, key, **kwargs):
    """Every item, one per page, through boto3's paginator (MaxItems=1 forces a Marker per page)."""
    pages = list(iam.get_paginator(operation).paginate(PaginationConfig={"PageSize": 1}, **kwargs))
    return pages, [item for page in pages for item in page[key]]


# Users, groups, roles to read back.
for name in ["carol", "alice", "bob"]:
    iam.create_user(UserName=name)
for name in ["ops", "devs"]:
    iam.create_group(GroupName=name)
iam.add_user_to_group(GroupName="ops", UserName="alice")
iam.add_user_to_group(GroupName="devs", UserName="alice")
trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
for name in ["builder", "auditor"]:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)

pages, groups = paginate("list_groups", "Groups")
assert [g["GroupName"] for g in groups] == ["devs", "ops"], groups
assert len(pages) == 2 and pages[0]["IsTruncated"] and not pages[1]["IsTruncated"], pages
assert all(g["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/{g['GroupName']}" and g["GroupId"].startswith("AGPA") for g in groups), groups
assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == ["devs", "ops"]
assert iam.list_groups_for_user(UserName="bob")["Groups"] == []
expect_error("NoSuchEntity", iam.list_groups_for_user, UserName="nobody")
_, users = paginate("list_users", "Users")
assert [u["UserName"] for u in users] == ["alice", "bob", "carol"], users

pages, roles = paginate("list_roles", "Roles")
assert [r["RoleName"] for r in roles] == ["auditor", "builder"] and len(pages) == 2, roles
assert roles[1]["AssumeRolePolicyDocument"] == json.loads(trust), roles[1]  # decoded from IAM's URL encoding
first = iam.list_roles(MaxItems=1)
assert first["IsTruncated"] and first["Marker"], first
assert [r["RoleName"] for r in iam.list_roles(Marker=first["Marker"])["Roles"]] == ["builder"]
expect_error("InvalidInput", iam.list_roles, Marker="no-such-marker")

# UpdateAssumeRolePolicy replaces the trust policy; a malformed one is refused.
narrower = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}, "Action": "sts:AssumeRole"})
iam.update_assume_role_policy(RoleName="builder", PolicyDocument=narrower)
assert iam.get_role(RoleName="builder")["Role"]["AssumeRolePolicyDocument"] == json.loads(narrower)
expect_error("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="builder", PolicyDocument='{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}')
expect_error("NoSuchEntity", iam.update_assume_role_policy, RoleName="nobody", PolicyDocument=narrower)

# Inline policies of users, groups and roles: listed by name and read back as written.
inline = doc(allow("ecr:DescribeRepositories"))
for kind, owner in [("user", "bob"), ("group", "ops"), ("role", "builder")]:
    title = kind.capitalize()
    getattr(iam, f"put_{kind}_policy")(**{f"{title}Name": owner, "PolicyName": "b-list", "PolicyDocument": inline})
    getattr(iam, f"put_{kind}_policy")(**{f"{title}Name": owner, "PolicyName": "a-more", "PolicyDocument": inline})
    pages = list(iam.get_paginator(f"list_{kind}_policies").paginate(**{f"{title}Name": owner}, PaginationConfig={"PageSize": 1}))
    assert [n for p in pages for n in p["PolicyNames"]] == ["a-more", "b-list"], pages
    got = getattr(iam, f"get_{kind}_policy")(**{f"{title}Name": owner, "PolicyName": "b-list"})
    assert got[f"{title}Name"] == owner and got["PolicyName"] == "b-list" and got["PolicyDocument"] == json.loads(inline), got
    expect_error("NoSuchEntity", getattr(iam, f"get_{kind}_policy"), **{f"{title}Name": owner, "PolicyName": "none"}, contains=f"The {kind} policy with name none cannot be found.")
    expect_error("NoSuchEntity", getattr(iam, f"list_{kind}_policies"), **{f"{title}Name": "nobody"})

# Customer managed policies: create, read, version, attach, delete.
pull = doc(allow("ecr:DescribeRepositories"))
created = iam.create_policy(PolicyName="lister", PolicyDocument=pull, Description="lists repositories")["Policy"]
arn = f"arn:aws:iam::{ACCOUNT}:policy/lister"
assert created["Arn"] == arn and created["DefaultVersionId"] == "v1" and created["AttachmentCount"] == 0 and created["PolicyId"].startswith("ANPA"), created
assert created["IsAttachable"] and created["Description"] == "lists repositories", created
expect_error("EntityAlreadyExists", iam.create_policy, PolicyName="lister", PolicyDocument=pull)
expect_error("MalformedPolicyDocument", iam.create_policy, PolicyName="bad", PolicyDocument='{"Statement":[{"Effect":"Maybe"}]}')
assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"] == "lister"
expect_error("NoSuchEntity", iam.get_policy, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none")
expect_error("InvalidInput", iam.get_policy, PolicyArn=f"arn:aws:iam::{ACCOUNT}:user/alice")
version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
assert version["Document"] == json.loads(pull) and version["IsDefaultVersion"], version
expect_error("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v9")

# ... AWS managed ones are listed and readable too.
read_only = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
aws_version = iam.get_policy_version(PolicyArn=read_only, VersionId="v1")["PolicyVersion"]
assert "ecr:BatchGetImage" in aws_version["Document"]["Statement"][0]["Action"], aws_version
local = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
assert local == ["lister"], local
_, everything = paginate("list_policies", "Policies")
assert "lister" in [p["PolicyName"] for p in everything] and "AmazonEC2ContainerRegistryReadOnly" in [p["PolicyName"] for p in everything], everything
assert iam.list_policies(OnlyAttached=True)["Policies"] == []

# Attached to a user, it takes effect in ECR at once; its default version decides.
key = iam.create_access_key(UserName="carol")["AccessKey"]
carol = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)
ecr = carol.client("ecr", endpoint_url=ENDPOINT, config=CONFIG)
expect_error("AccessDeniedException", ecr.describe_repositories)
iam.attach_user_policy(UserName="carol", PolicyArn=arn)
ecr.describe_repositories()
assert iam.list_attached_user_policies(UserName="carol")["AttachedPolicies"] == [{"PolicyName": "lister", "PolicyArn": arn}]
assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
assert [p["PolicyName"] for p in iam.list_policies(OnlyAttached=True, Scope="Local")["Policies"]] == ["lister"]
expect_error("NoSuchEntity", iam.attach_user_policy, UserName="carol", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none")
expect_error("NoSuchEntity", iam.attach_user_policy, UserName="carol", PolicyArn="arn:aws:iam::999999999999:policy/lister")

# A new version that is not the default changes nothing; made the default, it does.
deny = doc({"Effect": "Deny", "Action": "ecr:DescribeRepositories", "Resource": "*"})
v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=deny)["PolicyVersion"]
assert v2["VersionId"] == "v2" and not v2["IsDefaultVersion"], v2
ecr.describe_repositories()
v3 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=deny, SetAsDefault=True)["PolicyVersion"]
assert v3["VersionId"] == "v3" and v3["IsDefaultVersion"], v3
expect_error("AccessDeniedException", ecr.describe_repositories)
assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
iam.create_policy_version(PolicyArn=arn, PolicyDocument=pull)
iam.create_policy_version(PolicyArn=arn, PolicyDocument=pull)
expect_error("LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=pull, contains="up to 5 versions")
_, versions = paginate("list_policy_versions", "Versions", PolicyArn=arn)
assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [("v5", False), ("v4", False), ("v3", True), ("v2", False), ("v1", False)], versions
expect_error("DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v3")
iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
ecr.describe_repositories()

# Attached to a group or a role, it is listed there too.
iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
iam.attach_role_policy(RoleName="builder", PolicyArn=arn)
iam.attach_role_policy(RoleName="builder", PolicyArn=read_only)
assert iam.list_attached_group_policies(GroupName="ops")["AttachedPolicies"] == [{"PolicyName": "lister", "PolicyArn": arn}]
pages = list(iam.get_paginator("list_attached_role_policies").paginate(RoleName="builder", PaginationConfig={"PageSize": 1}))
assert sorted(p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]) == sorted([arn, read_only]) and len(pages) == 2, pages
expect_error("NoSuchEntity", iam.list_attached_role_policies, RoleName="nobody")

# DeletePolicy: not while attached, not with other versions; then gone.
expect_error("DeleteConflict", iam.delete_policy, PolicyArn=arn, contains="attached")
for detach, who in [(iam.detach_user_policy, {"UserName": "carol"}), (iam.detach_group_policy, {"GroupName": "ops"}), (iam.detach_role_policy, {"RoleName": "builder"})]:
    detach(PolicyArn=arn, **who)
expect_error("DeleteConflict", iam.delete_policy, PolicyArn=arn, contains="more than one version")
for v in ["v2", "v3", "v4", "v5"]:
    iam.delete_policy_version(PolicyArn=arn, VersionId=v)
iam.delete_policy(PolicyArn=arn)
expect_error("NoSuchEntity", iam.get_policy, PolicyArn=arn)
expect_error("AccessDeniedException", ecr.describe_repositories)

# Tags on users and roles.
iam.tag_user(UserName="bob", Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "dev"}])
iam.tag_user(UserName="bob", Tags=[{"Key": "team", "Value": "b"}])
assert iam.list_user_tags(UserName="bob")["Tags"] == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}]
iam.untag_user(UserName="bob", TagKeys=["env"])
assert iam.list_user_tags(UserName="bob")["Tags"] == [{"Key": "team", "Value": "b"}]
iam.tag_role(RoleName="builder", Tags=[{"Key": "owner", "Value": "ci"}])
assert iam.list_role_tags(RoleName="builder")["Tags"] == [{"Key": "owner", "Value": "ci"}]
iam.untag_role(RoleName="builder", TagKeys=["owner"])
assert iam.list_role_tags(RoleName="builder")["Tags"] == []
expect_error("NoSuchEntity", iam.tag_user, UserName="nobody", Tags=[{"Key": "k", "Value": "v"}])
expect_error("LimitExceeded", iam.tag_user, UserName="bob", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])

# DeleteUser: IAM wants the user out of its groups, without keys and policies, first.
expect_error("DeleteConflict", iam.delete_user, UserName="alice", contains="must remove users from group first")
iam.remove_user_from_group(GroupName="ops", UserName="alice")
iam.remove_user_from_group(GroupName="devs", UserName="alice")
iam.delete_user(UserName="alice")
expect_error("DeleteConflict", iam.delete_user, UserName="carol", contains="must delete access keys first")
iam.delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
iam.delete_user(UserName="carol")
expect_error("DeleteConflict", iam.delete_user, UserName="bob", contains="must delete policies first")

print("ok")
