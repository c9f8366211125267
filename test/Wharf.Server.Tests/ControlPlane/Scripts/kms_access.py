"""The KMS-compatible key service driven by boto3 in IAM mode (KmsAccessTests): rotation, hostile ciphertext blobs,
KMS's errors, key policies with IAM policies and grants, the aws/ecr managed key, and cross-account use. Prints ok."""
import os

import boto3
import botocore.exceptions

ENDPOINT = os.environ["WHARF_ENDPOINT"]
REGION = "us-east-1"
A = "123456789012"
B = os.environ["ACCOUNT_B"]


def session(key_id, secret):
    return boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION)


root = session(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
kms = root.client("kms", endpoint_url=ENDPOINT)
iam = root.client("iam", endpoint_url=ENDPOINT)


def error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"{call.__name__}: expected {code}, got {got}: {e.response['Error'].get('Message')}"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response["ResponseMetadata"]
        return e.response["Error"].get("Message", "")
    raise AssertionError(f"{call.__name__} succeeded; expected {code}")


# Rotation: a new material version encrypts; what the old one encrypted still decrypts.
key = kms.create_key(Description="rotating")["KeyMetadata"]
kid, arn = key["KeyId"], key["Arn"]
old = kms.encrypt(KeyId=kid, Plaintext=b"old build secret", EncryptionContext={"repo": "team/app"})["CiphertextBlob"]
kms.rotate_key_on_demand(KeyId=kid)
new = kms.encrypt(KeyId=kid, Plaintext=b"new build secret", EncryptionContext={"repo": "team/app"})["CiphertextBlob"]
assert len(kms.list_key_rotations(KeyId=kid)["Rotations"]) == 1
assert kms.decrypt(CiphertextBlob=old, EncryptionContext={"repo": "team/app"})["Plaintext"] == b"old build secret"
assert kms.decrypt(CiphertextBlob=new, EncryptionContext={"repo": "team/app"})["Plaintext"] == b"new build secret"

# Hostile blobs: truncated, altered, garbage, another key's, a key that does not exist, too large.
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=old[:20], EncryptionContext={"repo": "team/app"})
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=old[:-1] + bytes([old[-1] ^ 1]), EncryptionContext={"repo": "team/app"})
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"\x01" * 300)
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"\x00")
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=old)  # no context: it was bound to one
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=old.replace(kid.encode(), b"00000000-0000-0000-0000-000000000000"), EncryptionContext={"repo": "team/app"})
bumped = bytearray(old)
bumped[2 + bumped[1] + 3] = 9  # a material version the key never had
error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(bumped), EncryptionContext={"repo": "team/app"})
error("ValidationException", kms.decrypt, CiphertextBlob=b"\x01" * 7000)
other = kms.create_key()["KeyMetadata"]["KeyId"]
error("IncorrectKeyException", kms.decrypt, CiphertextBlob=new, KeyId=other, EncryptionContext={"repo": "team/app"})

# KMS's errors for bad requests.
error("NotFoundException", kms.describe_key, KeyId="11111111-2222-3333-4444-555555555555")
error("NotFoundException", kms.describe_key, KeyId="alias/none")
error("ValidationException", kms.schedule_key_deletion, KeyId=kid, PendingWindowInDays=31)
error("InvalidAliasNameException", kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=kid)
error("ValidationException", kms.create_alias, AliasName="mine", TargetKeyId=kid)
error("UnsupportedOperationException", kms.create_key, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
error("UnsupportedOperationException", kms.sign, KeyId=kid, Message=b"x", SigningAlgorithm="RSASSA_PSS_SHA_256")
error("ValidationException", kms.generate_data_key, KeyId=kid)
error("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=kid, PolicyName="default", Policy='{"Statement":[{"Effect":"Allow"}]}')
error("LimitExceededException", kms.put_key_policy, KeyId=kid, PolicyName="default",
      Policy='{"Version":"2012-10-17","Statement":[{"Sid":"' + "x" * 40000 + '","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}')
assert len(kms.generate_data_key_without_plaintext(KeyId=kid, NumberOfBytes=64)["CiphertextBlob"]) > 64

# A user: IAM must allow kms:Decrypt when the key policy is the default one (which delegates to IAM).
iam.create_user(UserName="reader")
created = iam.create_access_key(UserName="reader")["AccessKey"]
reader = session(created["AccessKeyId"], created["SecretAccessKey"]).client("kms", endpoint_url=ENDPOINT)
reader_arn = f"arn:aws:iam::{A}:user/reader"


def allow(*actions, resource=arn):
    iam.put_user_policy(UserName="reader", PolicyName="kms", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[' + ",".join(f'"{a}"' for a in actions) + f'],"Resource":"{resource}"}}]}}'))


allow("kms:Encrypt", "kms:DescribeKey")
message = error("AccessDeniedException", reader.decrypt, CiphertextBlob=new, EncryptionContext={"repo": "team/app"})
assert "kms:Decrypt" in message and reader_arn in message, message
allow("kms:Encrypt", "kms:Decrypt")
assert reader.decrypt(CiphertextBlob=new, EncryptionContext={"repo": "team/app"})["Plaintext"] == b"new build secret"

# kms:EncryptionContext condition keys in the IAM policy.
iam.put_user_policy(UserName="reader", PolicyName="kms", PolicyDocument=(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"' + arn + '",'
    '"Condition":{"StringEquals":{"kms:EncryptionContext:repo":"team/other"}}}]}'))
error("AccessDeniedException", reader.decrypt, CiphertextBlob=new, EncryptionContext={"repo": "team/app"})
allow("kms:Decrypt")

# A key policy that denies wins over the IAM allow.
deny = ('{"Version":"2012-10-17","Statement":['
        '{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::' + A + ':root"},"Action":"kms:*","Resource":"*"},'
        '{"Sid":"NoReader","Effect":"Deny","Principal":{"AWS":"' + reader_arn + '"},"Action":"kms:Decrypt","Resource":"*"}]}')
kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=deny)
error("AccessDeniedException", reader.decrypt, CiphertextBlob=new, EncryptionContext={"repo": "team/app"})

# A key policy that does not delegate to IAM: the IAM allow is not enough.
closed = kms.create_key(Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::' + A + ':user/admin"},"Action":"kms:*","Resource":"*"}]}')["KeyMetadata"]
allow("kms:*", resource="*")
error("AccessDeniedException", reader.encrypt, KeyId=closed["Arn"], Plaintext=b"x")

# A grant lets the grantee use a key no policy lets it use.
granted = kms.create_key()["KeyMetadata"]
blob = kms.encrypt(KeyId=granted["KeyId"], Plaintext=b"granted")["CiphertextBlob"]
iam.delete_user_policy(UserName="reader", PolicyName="kms")
error("AccessDeniedException", reader.decrypt, CiphertextBlob=blob)
grant = kms.create_grant(KeyId=granted["KeyId"], GranteePrincipal=reader_arn, Operations=["Decrypt"], RetiringPrincipal=reader_arn)
assert reader.decrypt(CiphertextBlob=blob)["Plaintext"] == b"granted"
error("AccessDeniedException", reader.encrypt, KeyId=granted["KeyId"], Plaintext=b"x")
reader.retire_grant(GrantToken=grant["GrantToken"])
error("InvalidGrantTokenException", kms.retire_grant, GrantToken=grant["GrantToken"])
error("AccessDeniedException", reader.decrypt, CiphertextBlob=blob)
second = kms.create_grant(KeyId=granted["KeyId"], GranteePrincipal=reader_arn, Operations=["Decrypt"])
kms.revoke_grant(KeyId=granted["KeyId"], GrantId=second["GrantId"])
error("NotFoundException", kms.revoke_grant, KeyId=granted["KeyId"], GrantId=second["GrantId"])

# The AWS managed aws/ecr key: made on first use, usable only through ECR, not changeable by anyone.
ecr = kms.describe_key(KeyId="alias/aws/ecr")["KeyMetadata"]
assert ecr["KeyManager"] == "AWS" and ecr["KeyState"] == "Enabled", ecr
assert kms.describe_key(KeyId="alias/aws/ecr")["KeyMetadata"]["KeyId"] == ecr["KeyId"]
error("AccessDeniedException", kms.disable_key, KeyId=ecr["KeyId"])
error("AccessDeniedException", kms.schedule_key_deletion, KeyId=ecr["KeyId"])
error("AccessDeniedException", kms.put_key_policy, KeyId=ecr["KeyId"], PolicyName="default", Policy=deny)
error("AccessDeniedException", kms.encrypt, KeyId="alias/aws/ecr", Plaintext=b"x")
assert "kms:ViaService" in kms.get_key_policy(KeyId=ecr["KeyId"], PolicyName="default")["Policy"]

# Cross-account: account B uses A's key where A's key policy names B, and not where it does not.
b = session(os.environ["B_ACCESS_KEY_ID"], os.environ["B_SECRET_ACCESS_KEY"]).client("kms", endpoint_url=ENDPOINT)
shared = kms.create_key(Policy=(
    '{"Version":"2012-10-17","Statement":['
    '{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::' + A + ':root"},"Action":"kms:*","Resource":"*"},'
    '{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::' + B + ':root"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}'))["KeyMetadata"]
shared_blob = b.encrypt(KeyId=shared["Arn"], Plaintext=b"across")["CiphertextBlob"]
assert kms.decrypt(CiphertextBlob=shared_blob)["Plaintext"] == b"across"
assert b.decrypt(CiphertextBlob=shared_blob)["Plaintext"] == b"across"
error("AccessDeniedException", b.decrypt, CiphertextBlob=blob)
error("AccessDeniedException", b.schedule_key_deletion, KeyId=shared["Arn"])

print("ok")
