"""ListImageReferrers and the pull-time update exclusions through boto3, with their limits and errors."""
import json

from wharf_test import ACCOUNT, PREFIX, client, done, expect_error, push_image, sha256, upload_or_reuse

ecr = client()
loose = client(validate=False)
repo = f"{PREFIX}/signed"
ecr.create_repository(repositoryName=repo)

# --- ListImageReferrers ---
subject, subject_manifest, _ = push_image(ecr, repo, tag="v1")
empty = upload_or_reuse(ecr, repo, b"{}")


def referrer(artifact_type, note):
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": len(subject_manifest)},
        "annotations": {"note": note},
    }, separators=(",", ":"))
    digest = ecr.put_image(repositoryName=repo, imageManifest=manifest)["image"]["imageId"]["imageDigest"]
    return digest, len(manifest)


sig = referrer("application/vnd.dev.cosign.signature", "signed")
sbom = referrer("application/spdx+json", "sbom")
listed = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject})
assert "nextToken" not in listed, listed
expected = sorted([sig + ("application/vnd.dev.cosign.signature", "signed"), sbom + ("application/spdx+json", "sbom")])
assert [(r["digest"], r["size"], r["artifactType"], r["annotations"]["note"]) for r in listed["referrers"]] == expected, listed
assert all(r["mediaType"] == "application/vnd.oci.image.manifest.v1+json" and r["artifactStatus"] == "ACTIVE" for r in listed["referrers"]), listed

only = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, filter={"artifactTypes": ["application/spdx+json"]})
assert [r["digest"] for r in only["referrers"]] == [sbom[0]], only

first = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, maxResults=1)
assert len(first["referrers"]) == 1 and first["nextToken"], first
second = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, maxResults=1, nextToken=first["nextToken"])
assert "nextToken" not in second and [first["referrers"][0]["digest"], second["referrers"][0]["digest"]] == [e[0] for e in expected], second
expect_error("InvalidParameterException", ecr.list_image_referrers, repositoryName=repo, subjectId={"imageDigest": subject},
             filter={"artifactTypes": ["application/spdx+json"]}, nextToken=first["nextToken"])

# Archived referrers are listed only when the filter asks for them.
ecr.update_image_storage_class(repositoryName=repo, imageId={"imageDigest": sig[0]}, targetStorageClass="ARCHIVE")
active = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject})
assert [r["digest"] for r in active["referrers"]] == [sbom[0]], active
archived = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, filter={"artifactStatus": "ARCHIVED"})
assert [(r["digest"], r["artifactStatus"]) for r in archived["referrers"]] == [(sig[0], "ARCHIVED")], archived
anything = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, filter={"artifactStatus": "ANY"})
assert sorted(r["digest"] for r in anything["referrers"]) == sorted([sig[0], sbom[0]]), anything

# No referrers is an empty list; the errors of the model.
none = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": sha256(b"no such image")})
assert none["referrers"] == [], none
expect_error("RepositoryNotFoundException", ecr.list_image_referrers, repositoryName=f"{PREFIX}/missing", subjectId={"imageDigest": subject})
expect_error("InvalidParameterException", ecr.list_image_referrers, repositoryName=repo, subjectId={"imageDigest": "not-a-digest"})
expect_error("InvalidParameterException", loose.list_image_referrers, repositoryName=repo, subjectId={"imageDigest": subject}, maxResults=51,
             contains="Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 50'")
expect_error("InvalidParameterException", loose.list_image_referrers, repositoryName=repo, subjectId={"imageDigest": subject},
             filter={"artifactTypes": ["a", "b", "c", "d", "e", "f"]}, contains="filter.artifactTypes")
expect_error("InvalidParameterException", loose.list_image_referrers, repositoryName=repo, subjectId={"imageDigest": subject},
             filter={"artifactStatus": "GONE"}, contains="Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]")

# --- Pull-time update exclusions ---
assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []
scanner = f"arn:aws:iam::{ACCOUNT}:role/scanner"
registered = ecr.register_pull_time_update_exclusion(principalArn=scanner)
assert registered["principalArn"] == scanner and registered["createdAt"].year >= 2024, registered
expect_error("ExclusionAlreadyExistsException", ecr.register_pull_time_update_exclusion, principalArn=scanner)
expect_error("InvalidParameterException", loose.register_pull_time_update_exclusion, principalArn=f"arn:aws:iam::{ACCOUNT}:group/devs",
             contains="Invalid parameter at 'principalArn' failed to satisfy constraint: 'must satisfy regular expression")
users = [f"arn:aws:iam::{ACCOUNT}:user/path/u{i}" for i in range(99)]
for arn in users:
    ecr.register_pull_time_update_exclusion(principalArn=arn)
expect_error("LimitExceededException", ecr.register_pull_time_update_exclusion, principalArn=f"arn:aws:iam::{ACCOUNT}:user/one-too-many")

# Listed oldest first, 100 by default, paged with maxResults.
page = ecr.list_pull_time_update_exclusions()
assert page["pullTimeUpdateExclusions"] == [scanner] + users and "nextToken" not in page, page
seen, token = [], None
while True:
    kwargs = {"maxResults": 40} | ({"nextToken": token} if token else {})
    page = ecr.list_pull_time_update_exclusions(**kwargs)
    seen += page["pullTimeUpdateExclusions"]
    token = page.get("nextToken")
    if not token:
        break
assert seen == [scanner] + users, seen

assert ecr.deregister_pull_time_update_exclusion(principalArn=scanner)["principalArn"] == scanner
expect_error("ExclusionNotFoundException", ecr.deregister_pull_time_update_exclusion, principalArn=scanner)
for arn in users:
    ecr.deregister_pull_time_update_exclusion(principalArn=arn)
assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []

done("ecr_referrers_exclusions")
