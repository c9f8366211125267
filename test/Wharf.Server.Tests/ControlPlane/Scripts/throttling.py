"""Request rates (RequestLimitTests sets Limits:Read to 1/s with a burst of 3 and Limits:Token to 1/s
with a burst of 2): a burst past the caller's bucket answers ECR's ThrottlingException and STS's
Throttling, both HTTP 400; botocore's standard retry mode treats them as throttling and retries until
the bucket refills; the bucket refills within seconds."""
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import wharf_test as w


def burst(call, n):
    """Calls n times without retries; returns the error responses."""
    errors = []
    for _ in range(n):
        try:
            call()
        except ClientError as e:
            errors.append(e.response)
    return errors


ecr = w.client()  # max_attempts 1: no retries
# 20 calls: even on a loaded machine they take far less than the 17 s the bucket needs to let all through.
errors = burst(ecr.describe_repositories, 20)
assert 0 < len(errors) < 20, f"{len(errors)} of 20 calls throttled"
for e in errors:
    assert e["Error"]["Code"] == "ThrottlingException", e["Error"]
    assert e["Error"]["Message"] == "Rate exceeded", e["Error"]
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400, e["ResponseMetadata"]

# Another class has its own bucket: a write is not throttled by the reads' empty bucket.
ecr.create_repository(repositoryName=f"{w.PREFIX}/throttled")

# botocore's standard mode retries only what it classifies as transient or throttling: the calls succeed
# after retries.
retrying = boto3.client(
    "ecr",
    endpoint_url=w.ENDPOINT,
    region_name=w.REGION,
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    config=Config(retries={"max_attempts": 10, "mode": "standard"}),
)
attempts = sum(retrying.describe_repositories()["ResponseMetadata"]["RetryAttempts"] for _ in range(4))
assert attempts > 0, "no call was retried"

# The bucket refills: after a quiet spell, calls pass without retries.
time.sleep(3.5)
assert len(burst(ecr.describe_repositories, 3)) == 0, "the bucket did not refill"

sts = boto3.client(
    "sts",
    endpoint_url=w.ENDPOINT,
    region_name=w.REGION,
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    config=Config(retries={"max_attempts": 1}),
)
errors = burst(sts.get_caller_identity, 20)
assert 0 < len(errors) < 20, f"{len(errors)} of 20 calls throttled"
for e in errors:
    assert e["Error"]["Code"] == "Throttling", e["Error"]
    assert e["Error"]["Type"] == "Sender", e["Error"]
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400, e["ResponseMetadata"]

print("all checks passed")
