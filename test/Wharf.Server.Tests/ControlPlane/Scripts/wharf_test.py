"""Shared helpers for the boto3 scripts the C# tests run against a live Wharf.

Each script asserts what it checks and exits non-zero on the first failure (the C# test shows the
output). Settings come from the environment: WHARF_ENDPOINT, AWS_DEFAULT_REGION, WHARF_PREFIX (a
unique repository-name prefix, so that scripts can share one server).
"""
import base64
import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["WHARF_ENDPOINT"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
PREFIX = os.environ.get("WHARF_PREFIX", "t")
ACCOUNT = os.environ.get("WHARF_ACCOUNT", "123456789012")


def client(validate=True, service="ecr"):
    """An ECR (or ECR Public) client; validate=False turns off botocore's own parameter checks so Wharf's are reached."""
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
    )


def expect_error(code, fn, *args, contains=None, **kwargs):
    """Calls fn and asserts it fails with AWS error `code` (and a message containing `contains`)."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        error = e.response["Error"]
        assert error["Code"] == code, f"expected {code}, got {error['Code']}: {error.get('Message')}"
        if contains is not None:
            assert contains in error.get("Message", ""), f"message {error.get('Message')!r} lacks {contains!r}"
        assert e.response["ResponseMetadata"].get("RequestId"), "error response lacks x-amzn-RequestId"
        return e.response
    raise AssertionError(f"expected {code}, but the call succeeded")


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_layer(ecr, repo, data, part_size=None):
    """Uploads bytes with the layer-upload API (in parts when part_size is given); returns the digest."""
    upload = ecr.initiate_layer_upload(repositoryName=repo)
    upload_id = upload["uploadId"]
    size = part_size or max(len(data), 1)
    offset = 0
    while offset < len(data):
        part = data[offset:offset + size]
        r = ecr.upload_layer_part(repositoryName=repo, uploadId=upload_id, partFirstByte=offset,
                                  partLastByte=offset + len(part) - 1, layerPartBlob=part)
        assert r["lastByteReceived"] == offset + len(part) - 1, r
        offset += len(part)
    digest = sha256(data)
    done = ecr.complete_layer_upload(repositoryName=repo, uploadId=upload_id, layerDigests=[digest])
    assert done["layerDigest"] == digest, done
    return digest


def image_manifest(config_digest, config_size, layers, annotation=None):
    """An OCI image manifest (bytes) for a config and (digest, size) layers."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s} for d, s in layers],
    }
    if annotation is not None:
        manifest["annotations"] = {"test": annotation}
    return json.dumps(manifest, separators=(",", ":")).encode()


def push_image(ecr, repo, tag=None, annotation=None, layer=b"layer-bytes"):
    """Uploads a config and one layer through the API and puts an image; returns (digest, manifest bytes, size)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = upload_or_reuse(ecr, repo, config)
    layer_digest = upload_or_reuse(ecr, repo, layer)
    manifest = image_manifest(config_digest, len(config), [(layer_digest, len(layer))], annotation)
    kwargs = {"repositoryName": repo, "imageManifest": manifest.decode()}
    if tag is not None:
        kwargs["imageTag"] = tag
    r = ecr.put_image(**kwargs)
    return r["image"]["imageId"]["imageDigest"], manifest, len(config) + len(layer)


def upload_or_reuse(ecr, repo, data):
    digest = sha256(data)
    available = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest])["layers"]
    if available and available[0]["layerAvailability"] == "AVAILABLE":
        return digest
    return upload_layer(ecr, repo, data)


def done(name):
    print(f"{name}: all checks passed")
    sys.exit(0)
