"""Signs awkward requests with botocore's own SigV4 signers and prints them as JSON test vectors.

Each vector is what a server receives (method, raw path, raw query, headers, body) plus the secret;
the C# test checks Wharf's verifier accepts each one, and rejects it once altered.
"""
import base64
import json
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
creds = Credentials("AKIDEXAMPLE", SECRET)
tokened = Credentials("ASIAEXAMPLE", SECRET, "session-token/with+odd=chars")

cases = [
    ("ecr", "POST", "http://127.0.0.1:5000/", None, b'{"repositoryName":"team/app"}',
     {"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "Content-Type": "application/x-amz-json-1.1"}, creds, False),
    ("iam", "POST", "http://127.0.0.1:5000/", None, b"Action=ListUsers&Version=2010-05-08",
     {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, creds, False),
    ("sts", "GET", "http://127.0.0.1:5000/", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")], b"", {}, creds, False),
    ("ecr", "GET", "http://127.0.0.1:5000/a%20path/with~tilde/", [("b", "2"), ("a", "x y"), ("a", "1"), ("uni", "\u00e9\u6f22"), ("tilde", "~-_."), ("empty", "")], b"",
     {"X-Custom": "  spaced    out   value  "}, creds, False),
    ("ecr", "POST", "http://127.0.0.1:5000/", None, b"{}", {"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.ListImages"}, tokened, False),
    ("ecr-public", "POST", "http://127.0.0.1:5000/", None, b"{}",
     {"X-Amz-Target": "SpencerFrontendService.GetAuthorizationToken", "Content-Type": "application/x-amz-json-1.1"}, tokened, False),
    ("sts", "GET", "http://127.0.0.1:5000/", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")], b"", {}, creds, True),
    ("sts", "GET", "http://127.0.0.1:5000/", [("Action", "GetCallerIdentity"), ("Version", "2011-06-15"), ("odd", "a b+c/d")], b"", {}, tokened, True),
]

vectors = []
for service, method, url, params, body, headers, credentials, presign in cases:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers), params=params or {})
    if presign:
        SigV4QueryAuth(credentials, service, "us-west-2", expires=900).add_auth(request)
    else:
        SigV4Auth(credentials, service, "us-west-2").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    vectors.append({
        "service": service,
        "presigned": presign,
        "method": prepared.method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": {k: v for k, v in prepared.headers.items()} | {"host": parts.netloc},
        "body": base64.b64encode(prepared.body or b"").decode() if isinstance(prepared.body or b"", bytes) else base64.b64encode(prepared.body.encode()).decode(),
        "secret": SECRET,
    })

print(json.dumps(vectors))
