using System.Text;
using System.Text.Json.Nodes;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Robustness;

/// <summary>
/// A few thousand mutated requests, generated from a fixed seed, against every surface: /v2 (uploads,
/// manifests, tags, referrers, blobs), the ECR JSON API (targets, headers and bodies of its real
/// operations, signed, unsigned and in open mode so bodies reach the operations), the IAM/STS Query API,
/// and raw HTTP framing. Bad input must get a 4xx in the surface's shape: any 5xx other than Kestrel's
/// 505 for a bad HTTP version fails the test, and so does any unhandled exception in the server's log.
/// </summary>
public sealed class FuzzTests(FuzzServers servers) : IClassFixture<FuzzServers>
{
    private const int Parallelism = 4;
    private const string EcrTarget = "AmazonEC2ContainerRegistry_V20150921.";

    private static readonly string[] ManifestTypes =
    [
        Oci.ManifestType, Oci.IndexType, "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/json", "text/plain", "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
    ];

    private static readonly string[] QueryActions =
    [
        "CreateUser", "GetUser", "ListUsers", "DeleteUser", "CreateAccessKey", "ListAccessKeys", "DeleteAccessKey", "UpdateAccessKey",
        "PutUserPolicy", "DeleteUserPolicy", "AttachUserPolicy", "DetachUserPolicy", "CreateGroup", "GetGroup", "DeleteGroup",
        "AddUserToGroup", "RemoveUserFromGroup", "PutGroupPolicy", "DeleteGroupPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
        "CreateRole", "GetRole", "DeleteRole", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
        "AssumeRole", "GetCallerIdentity", "ListRoles", "GetPolicy", "CreateLoginProfile", "GetLoginProfile", "UpdateLoginProfile",
        "DeleteLoginProfile", "ChangePassword",
    ];

    private static readonly string[] ResourcePolicies =
    [
        """{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\ud800"},"Action":"ecr:*"}]}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","\udfff"]},"Action":"ecr:*","Resource":"*"}]}""",
        """{"Version":"2012-10-17","Statement":[{"Sid":7,"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}""",
        """{"Version":2012,"Statement":{"Effect":1,"Principal":{"\ud800":"x"},"Action":"ecr:*"}}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"1.2.3.4/99"},"DateGreaterThan":{"aws:CurrentTime":"\u0000"}}}]}""",
    ];

    private static readonly string[] IdentityPolicies =
    [
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:Describe*","Resource":"*"}]}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"\ud800"}]}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["\udc00"],"Resource":"*","Condition":{"StringLike":{"\ud800":"x"}}}]}""",
        """{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:123456789012:repository/${aws:username}/*"}]}""",
    ];

    private static readonly string[] TrustPolicies =
    [
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\ud800"},"Action":"sts:AssumeRole"}]}""",
        """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["\udfff"]},"Action":"sts:AssumeRole"}]}""",
    ];

    private static readonly string[] LifecyclePolicies =
    [
        """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}""",
        """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["\ud800*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}""",
        """{"rules":[{"rulePriority":"1","selection":{"tagStatus":7,"countType":null,"countNumber":99999999999999999999},"action":{"type":"\u0000"}}]}""",
    ];

    [Fact]
    public async Task V2_answers_mutated_uploads_manifests_tags_referrers_and_blobs_without_a_5xx()
    {
        await servers.ForgetPullThroughCacheRulesAsync();
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        var findings = new Findings("/v2");
        const int Count = 2500;
        await Parallel.ForAsync(0, Count, Options(), async (n, _) =>
        {
            var m = new Mutator(unchecked((FuzzServers.Seed * 31) + n));
            var iam = m.Chance(30);
            var server = iam ? servers.Iam : servers.Open;
            var (method, path, headers, body) = await V2RequestAsync(m, server, iam);
            if (iam)
            {
                headers.Add(("Authorization", m.Chance(90) ? servers.IamToken : m.Pick(new[] { "Basic " + Convert.ToBase64String(m.RandomBytes(40)), "Basic QVdTOg==", "Bearer " + Latin1(m.Weird()), "Basic" })));
            }

            var response = await findings.SendAsync(server, n, RawHttp.Build(method, path, server.BaseAddress, headers, body));
            if (!iam)
            {
                servers.Opened(response);
            }
        });
        findings.AssertNone(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)), Count);
    }

    [Fact]
    public async Task Ecr_json_api_answers_mutated_targets_headers_and_bodies_without_a_5xx()
    {
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        var findings = new Findings("ECR JSON API");
        var operations = ServiceModel.Ecr.OperationNames.Order(StringComparer.Ordinal).ToArray();
        const int Count = 2500;
        await Parallel.ForAsync(0, Count, Options(), async (n, _) =>
        {
            var m = new Mutator(unchecked((FuzzServers.Seed * 37) + n));
            var operation = m.Pick(operations);
            var body = Encoding.UTF8.GetBytes(EcrBody(m, operation));
            if (m.Chance(12))
            {
                body = m.MutateBytes(body);
            }

            var target = m.Chance(92) ? EcrTarget : m.Pick(new[] { string.Empty, "AmazonEC2ContainerRegistry_V20150921", "X.", EcrTarget + EcrTarget, Mutator.PercentEncode(m.Weird()) + "." });
            var contentType = m.Chance(92) ? "application/x-amz-json-1.1" : m.Pick(new[] { "application/json", "application/x-amz-json-1.0", "text/plain", "application/x-www-form-urlencoded", "application/x-amz-json-1.1; charset=\u00ff", string.Empty });
            var iam = m.Chance(50);
            var server = iam ? servers.Iam : servers.Open;
            byte[] request;
            if (!iam || m.Chance(70))
            {
                request = FuzzServers.EcrRequest(server, operation, body, iam ? servers.Root : null, target, contentType);
            }
            else
            {
                // A caller that is not who it claims: a broken signature, a foreign key, or garbage in the header.
                var headers = servers.Root.Sign(server.BaseAddress, "POST", "/", [("Content-Type", contentType), ("X-Amz-Target", target + operation)], body, m.Pick(new[] { "ecr", "iam", "s3" }), m.Pick(new[] { FuzzServers.Region, "eu-west-1", "\u00e9" }));
                var auth = headers.FindIndex(h => h.Name == "Authorization");
                headers[auth] = ("Authorization", Latin1(m.Random.Next(4) switch
                {
                    0 => headers[auth].Value[..^4] + "0000",
                    1 => headers[auth].Value.Replace(servers.Root.Id, "AKIAFUZZFUZZFUZZFUZZ", StringComparison.Ordinal),
                    2 => "AWS4-HMAC-SHA256 Credential=" + m.Weird() + ", SignedHeaders=host, Signature=" + m.Weird(),
                    _ => m.Weird(),
                }));
                if (m.Chance(30))
                {
                    headers.RemoveAll(h => h.Name == "X-Amz-Date");
                    headers.Add(("X-Amz-Date", Latin1(m.Pick(new[] { "20261205T000000Z", "2026", m.Weird(), "99999999T999999Z" }))));
                }

                request = RawHttp.Build("POST", "/", server.BaseAddress, headers, body);
            }

            await findings.SendAsync(server, n, request);
        });
        findings.AssertNone(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)), Count);
    }

    /// <summary>
    /// ECR Public's operations (<c>SpencerFrontendService</c>, signed for <c>ecr-public</c>) on the same endpoint:
    /// bodies built from its model, with aliases as registry ids, public ARNs and mutations, in both modes.
    /// </summary>
    [Fact]
    public async Task Ecr_public_json_api_answers_mutated_bodies_without_a_5xx()
    {
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        var findings = new Findings("ECR Public JSON API");
        var operations = ServiceModel.EcrPublic.OperationNames.Order(StringComparer.Ordinal).ToArray();
        const int Count = 800;
        await Parallel.ForAsync(0, Count, Options(), async (n, _) =>
        {
            var m = new Mutator(unchecked((FuzzServers.Seed * 43) + n));
            var operation = m.Pick(operations);
            var body = Encoding.UTF8.GetBytes(EcrBody(m, operation, ServiceModel.EcrPublic));
            if (m.Chance(12))
            {
                body = m.MutateBytes(body);
            }

            var iam = m.Chance(50);
            var server = iam ? servers.Iam : servers.Open;
            await findings.SendAsync(server, n, FuzzServers.EcrRequest(server, operation, body, iam ? servers.Root : null, "SpencerFrontendService.", service: "ecr-public"));
        });
        findings.AssertNone(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)), Count);
    }

    [Fact]
    public async Task Query_api_answers_mutated_actions_and_parameters_without_a_5xx()
    {
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        var findings = new Findings("IAM/STS Query API");
        const int Count = 1200;
        await Parallel.ForAsync(0, Count, Options(), async (n, _) =>
        {
            var m = new Mutator(unchecked((FuzzServers.Seed * 41) + n));
            var action = m.Chance(95) ? m.Pick(QueryActions) : m.Weird();
            var sts = action is "AssumeRole" or "GetCallerIdentity";
            var form = QueryForm(m, action, sts);
            var body = Encoding.UTF8.GetBytes(form);
            if (m.Chance(10))
            {
                body = m.MutateBytes(body);
            }

            List<(string Name, string Value)> headers = [("Content-Type", m.Chance(95) ? "application/x-www-form-urlencoded; charset=utf-8" : "application/x-www-form-urlencoded; charset=\u00ff")];
            var mode = m.Random.Next(100);
            if (mode < 15)
            {
                // Open mode: the parameters reach the operations without a signature.
                await findings.SendAsync(servers.Open, n, RawHttp.Build("POST", "/", servers.Open.BaseAddress, headers, body));
            }
            else if (mode < 55)
            {
                var signed = servers.Root.Sign(servers.Iam.BaseAddress, "POST", "/", headers, body, m.Chance(90) ? (sts ? "sts" : "iam") : "ecr", FuzzServers.Region);
                await findings.SendAsync(servers.Iam, n, RawHttp.Build("POST", "/", servers.Iam.BaseAddress, signed, body));
            }
            else if (mode < 70)
            {
                var auth = m.Random.Next(3) switch
                {
                    0 => $"AWS4-HMAC-SHA256 Credential={servers.Root.Id}/20261205/{FuzzServers.Region}/{(sts ? "sts" : "iam")}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
                    1 => "AWS4-HMAC-SHA256 Credential=" + Latin1(m.Weird()) + ", SignedHeaders=" + Latin1(m.Weird()) + ", Signature=" + Latin1(m.Weird()),
                    _ => Latin1(m.Weird()),
                };
                headers.Add(("Authorization", auth));
                headers.Add(("X-Amz-Date", m.Chance(50) ? DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture) : Latin1(m.Weird())));
                await findings.SendAsync(servers.Iam, n, RawHttp.Build("POST", "/", servers.Iam.BaseAddress, headers, body));
            }
            else
            {
                // A presigned URL (as STS clients make them) with its parameters mutated: they are echoed in errors.
                var now = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                var presign = new List<(string, string)>
                {
                    ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                    ("X-Amz-Credential", $"{servers.Root.Id}/{now[..8]}/{FuzzServers.Region}/sts/aws4_request"),
                    ("X-Amz-Date", now),
                    ("X-Amz-Expires", "60"),
                    ("X-Amz-SignedHeaders", "host"),
                    ("X-Amz-Signature", new string('0', 64)),
                };
                var query = form + "&" + string.Join("&", presign.Select(p => p.Item1 + "=" + (m.Chance(30) ? Mutator.PercentEncode(m.Weird()) : Uri.EscapeDataString(p.Item2))));
                var server = m.Chance(80) ? servers.Iam : servers.Open;
                await findings.SendAsync(server, n, RawHttp.Build("GET", "/?" + query, server.BaseAddress, [], []));
            }
        });
        findings.AssertNone(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)), Count);
    }

    [Fact]
    public async Task Raw_http_with_broken_framing_lengths_and_headers_gets_no_5xx()
    {
        var (openMark, iamMark) = (servers.OpenLogs.Entries.Count, servers.IamLogs.Entries.Count);
        var findings = new Findings("raw HTTP");
        const int Count = 600;
        await Parallel.ForAsync(0, Count, Options(), async (n, _) =>
        {
            var m = new Mutator(unchecked((FuzzServers.Seed * 43) + n));
            var server = m.Chance(70) ? servers.Open : servers.Iam;
            var iam = server == servers.Iam;
            var (method, target, headers) = m.Random.Next(6) switch
            {
                0 => ("POST", "/", new List<(string, string)> { ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", EcrTarget + "DescribeRepositories") }),
                1 => ("POST", "/", new List<(string, string)> { ("Content-Type", "application/x-www-form-urlencoded") }),
                2 => ("PATCH", await servers.UploadAsync(server, iam), new List<(string, string)> { ("Content-Type", "application/octet-stream") }),
                3 => ("PUT", $"/v2/{FuzzServers.Repository}/manifests/fuzz", new List<(string, string)> { ("Content-Type", Oci.ManifestType) }),
                4 => ("POST", $"/v2/{FuzzServers.Repository}/blobs/uploads/?digest=sha256:{new string('0', 64)}", new List<(string, string)>()),
                _ => ("PUT", FuzzServers.WithQuery(await servers.UploadAsync(server, iam), "digest=sha256:" + new string('0', 64)), new List<(string, string)>()),
            };
            if (iam && target.StartsWith("/v2/", StringComparison.Ordinal))
            {
                headers.Add(("Authorization", servers.IamToken));
            }

            var (request, halfClose) = RawRequest(m, server, method, target, headers);
            await findings.SendAsync(server, n, request, halfClose);
        });
        findings.AssertNone(FuzzServers.LoggedFaults(servers.OpenLogs, openMark).Concat(FuzzServers.LoggedFaults(servers.IamLogs, iamMark)), Count);
    }

    private static ParallelOptions Options() => new() { MaxDegreeOfParallelism = Parallelism, CancellationToken = TestContext.Current.CancellationToken };

    private static string Latin1(string text) => new(text.Select(c => c is '\r' or '\n' || c > '\u00ff' ? '?' : c).ToArray());

    private async Task<(string Method, string Path, List<(string Name, string Value)> Headers, byte[] Body)> V2RequestAsync(Mutator m, WharfTestServer server, bool iam)
    {
        var name = m.UrlPiece(m.Chance(85) ? FuzzServers.Repository : m.Pick(new[] { "fuzz/new", "Fuzz/App", "a", "fuzz//app" }));
        var reference = m.UrlPiece(m.Pick(new[] { "v1", "v1", servers.ManifestDigest, "latest", servers.BlobDigests[0], "sha256:" + new string('0', 64), "v" + m.Random.Next(5) }));
        var blob = m.UrlPiece(m.Pick([.. servers.BlobDigests, servers.ManifestDigest, "sha256:" + new string('0', 64), "sha512:" + new string('0', 128)]));
        List<(string, string)> headers = [];
        switch (m.Random.Next(12))
        {
            case 0:
            {
                var body = m.RandomBytes(m.Chance(50) ? 0 : 2048);
                var query = m.Random.Next(4) switch
                {
                    0 => "?digest=" + m.UrlPiece(Oci.Sha256(body)),
                    1 => $"?mount={blob}&from={m.UrlPiece(FuzzServers.Repository)}",
                    2 => "?" + m.UrlPiece("digest") + "=" + m.UrlPiece("x"),
                    _ => string.Empty,
                };
                return ("POST", $"/v2/{name}/blobs/uploads/{query}", headers, body);
            }

            case 1 or 2:
            {
                var body = m.RandomBytes(m.Chance(20) ? 0 : 4096);
                headers.Add(("Content-Type", Latin1(m.Maybe("application/octet-stream", 10))));
                if (m.Chance(60))
                {
                    headers.Add(("Content-Range", Latin1(m.Maybe(m.Pick(new[] { $"0-{body.Length - 1}", "0-0", "5-2", "-1-3", "0-99999999999999999999", "bytes=0-1", $"{body.Length}-{body.Length * 2}" }), 30))));
                }

                return ("PATCH", await UploadPathAsync(m, server, iam), headers, body);
            }

            case 3:
            {
                var body = m.RandomBytes(m.Chance(30) ? 0 : 1024);
                var digest = m.Pick(new[] { Oci.Sha256(body), servers.BlobDigests[0], "sha256:" + new string('0', 64) });
                var path = await UploadPathAsync(m, server, iam);
                return ("PUT", FuzzServers.WithQuery(path, "digest=" + m.UrlPiece(digest)), headers, body);
            }

            case 4:
                return (m.Pick(new[] { "GET", "DELETE", "HEAD" }), await UploadPathAsync(m, server, iam), headers, []);
            case 5 or 6:
            {
                var type = m.Chance(85) ? m.Pick(ManifestTypes) : Latin1(m.Weird());
                if (type.Length > 0)
                {
                    headers.Add(("Content-Type", type));
                }

                return ("PUT", $"/v2/{name}/manifests/{reference}", headers, ManifestBody(m));
            }

            case 7:
                if (m.Chance(50))
                {
                    headers.Add(("Accept", m.Chance(80) ? string.Join(", ", ManifestTypes.Take(1 + m.Random.Next(ManifestTypes.Length))) : Latin1(m.Weird())));
                }

                return (m.Pick(new[] { "GET", "HEAD", "DELETE" }), $"/v2/{name}/manifests/{reference}", headers, []);
            case 8:
                return ("GET", $"/v2/{name}/tags/list?n={m.UrlPiece(m.Pick(new[] { "1", "0", "-1", "100000", "99999999999" }))}&last={m.UrlPiece(m.Pick(new[] { "v1", "a", string.Empty }))}", headers, []);
            case 9:
                return ("GET", $"/v2/{name}/referrers/{blob}" + (m.Chance(50) ? "?artifactType=" + m.UrlPiece("application/vnd.example") : string.Empty), headers, []);
            case 10:
                if (m.Chance(40))
                {
                    headers.Add(("Range", Latin1(m.Maybe(m.Pick(new[] { "bytes=0-10", "bytes=5-", "bytes=-5", "bytes=10-5", "bytes=0-99999999999999999999", "bytes=0-1,3-4" }), 30))));
                }

                return (m.Pick(new[] { "GET", "HEAD", "DELETE" }), $"/v2/{name}/blobs/{blob}", headers, []);
            default:
                return ("GET", m.Pick(new[] { $"/v2/_catalog?n={m.UrlPiece("5")}&last={m.UrlPiece("a")}", "/v2/", $"/v2/{name}", $"/v2/{name}/{m.UrlPiece("x")}/{reference}", $"/v2/{name}/blobs/uploads/{m.UrlPiece("..")}" }), headers, []);
        }
    }

    private async Task<string> UploadPathAsync(Mutator m, WharfTestServer server, bool iam) =>
        m.Chance(85) ? await servers.UploadAsync(server, iam) : $"/v2/{FuzzServers.Repository}/blobs/uploads/{m.UrlPiece(Guid.NewGuid().ToString())}";

    /// <summary>The pushed image's manifest, an index of it or a referrer of it, with its JSON and then its bytes mutated.</summary>
    private byte[] ManifestBody(Mutator m)
    {
        var manifest = JsonNode.Parse(servers.Manifest)!;
        var descriptor = new JsonObject { ["mediaType"] = Oci.ManifestType, ["digest"] = servers.ManifestDigest, ["size"] = servers.Manifest.Length };
        JsonNode root = m.Random.Next(4) switch
        {
            0 => new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = Oci.IndexType, ["manifests"] = new JsonArray(descriptor) },
            1 => Referrer(manifest, descriptor),
            _ => manifest,
        };
        m.MutateTree(root, m.Random.Next(4));
        var bytes = Encoding.UTF8.GetBytes(Mutator.ToJson(root));
        return m.Chance(25) ? m.MutateBytes(bytes) : bytes;
    }

    private static JsonNode Referrer(JsonNode manifest, JsonObject subject)
    {
        manifest["subject"] = subject;
        manifest["artifactType"] = "application/vnd.example.sbom";
        return manifest;
    }

    /// <summary>A JSON body for <paramref name="operation"/> built from its input shape, with the registry's real names most of the time.</summary>
    private string EcrBody(Mutator m, string operation, ServiceModel? service = null)
    {
        service ??= ServiceModel.Ecr;
        Assert.True(service.TryGetOperation(operation, out var model));
        var body = model.InputShape is null ? new JsonObject() : Value(m, service, operation, "input", service.Shape(model.InputShape), 0) as JsonObject ?? [];
        if (m.Chance(25))
        {
            m.MutateTree(body, 1 + m.Random.Next(3));
        }

        if (m.Chance(5))
        {
            body["registryId"] = Mutator.String(m.Pick(new[] { "../../etc", "\ud800", "12345678901", m.Weird() }));
        }

        return Mutator.ToJson(body);
    }

    private JsonNode? Value(Mutator m, ServiceModel service, string operation, string member, ShapeModel shape, int depth)
    {
        switch (shape.Type)
        {
            case "structure":
                var structure = new JsonObject();
                if (depth > 4)
                {
                    return structure;
                }

                foreach (var (name, shapeName) in shape.Members)
                {
                    if (m.Chance(shape.Required.Contains(name) ? 95 : 55))
                    {
                        structure[name] = Value(m, service, operation, name, service.Shape(shapeName), depth + 1);
                    }
                }

                return structure;
            case "list":
                var list = new JsonArray();
                for (var i = 1 + m.Random.Next(3); i > 0 && depth <= 4; i--)
                {
                    list.Add(Value(m, service, operation, member, service.Shape(shape.Element!), depth + 1));
                }

                return list;
            case "map":
                var map = new JsonObject();
                for (var i = m.Random.Next(3); i > 0; i--)
                {
                    map["k" + i] = Value(m, service, operation, member, service.Shape(shape.Element!), depth + 1);
                }

                return map;
            case "boolean":
                return m.Chance(95) ? JsonValue.Create(m.Chance(50)) : m.WeirdJson();
            case "integer" or "long" or "double" or "timestamp":
                return m.Chance(90) ? JsonValue.Create(m.Pick(new long[] { 1, 2, 5, 0, -1, 100, 1000, int.MaxValue })) : m.WeirdJson();
            case "blob":
                return Convert.ToBase64String(m.RandomBytes(64));
            default:
                return m.Chance(8) ? m.WeirdJson() : Mutator.String(Text(m, service, operation, member, shape));
        }
    }

    private string Text(Mutator m, ServiceModel service, string operation, string member, ShapeModel shape)
    {
        string plausible = member switch
        {
            "repositoryName" or "repositoryNames" or "sourceRepositoryName" => operation is "DeleteRepository" or "BatchDeleteImage"
                ? m.Pick(new[] { "fuzz/scratch", "fuzz/ecr" })
                : m.Pick(new[] { FuzzServers.Repository, FuzzServers.Repository, "fuzz/ecr" }),
            "registryId" when service == ServiceModel.EcrPublic && m.Chance(20) => m.Pick(new[] { "nosuchalias", "x", "a.b-c_d" }),
            "registryId" or "registryIds" => m.Chance(90) ? "123456789012" : m.Pick(new[] { "210987654321", "../../etc" }),
            "imageTag" or "imageTags" or "filter" => m.Pick(new[] { "v1", "v2", "latest" }),
            "imageDigest" => m.Pick(new[] { servers.ManifestDigest, "sha256:" + new string('0', 64) }),
            "layerDigest" or "layerDigests" or "layerDigestList" => m.Pick(servers.BlobDigests),
            "imageManifest" => Encoding.UTF8.GetString(ManifestBody(m)),
            "imageManifestMediaType" or "mediaTypes" or "acceptedMediaTypes" => m.Pick(ManifestTypes),
            "policyText" => m.Pick(ResourcePolicies),
            "lifecyclePolicyText" => m.Pick(LifecyclePolicies),
            "resourceArn" when service == ServiceModel.EcrPublic => m.Chance(80) ? $"arn:aws:ecr-public::123456789012:repository/{FuzzServers.Repository}" : $"arn:aws:ecr-public::123456789012:registry/123456789012",
            "resourceArn" => $"arn:aws:ecr:{FuzzServers.Region}:123456789012:repository/{FuzzServers.Repository}",
            "uploadId" => Guid.NewGuid().ToString(),
            _ when shape.Enum is { Count: > 0 } values => m.Pick(values),
            _ => m.Pick(new[] { "ab", "fuzz", "1" }),
        };
        return m.Maybe(plausible, 12);
    }

    private static string QueryForm(Mutator m, string action, bool sts)
    {
        var parameters = new List<(string Name, string Value)>
        {
            ("Action", action),
            ("Version", sts ? "2011-06-15" : "2010-05-08"),
        };
        var names = new (string Name, Func<string> Plausible)[]
        {
            ("UserName", () => m.Pick(new[] { "fuzzuser", "fuzzuser2" })),
            ("GroupName", () => "fuzzgroup"),
            ("RoleName", () => "fuzzrole"),
            ("PolicyName", () => "p"),
            ("PolicyDocument", () => m.Pick(IdentityPolicies)),
            ("AssumeRolePolicyDocument", () => m.Pick(TrustPolicies)),
            ("PolicyArn", () => m.Pick(new[] { "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "arn:aws:iam::123456789012:policy/p" })),
            ("RoleArn", () => "arn:aws:iam::123456789012:role/fuzzrole"),
            ("RoleSessionName", () => "s"),
            ("DurationSeconds", () => m.Pick(new[] { "900", "3600", "0", "-5", "99999999999" })),
            ("MaxSessionDuration", () => "3600"),
            ("AccessKeyId", () => "AKIAFUZZFUZZFUZZFUZZ"),
            ("Status", () => m.Pick(new[] { "Active", "Inactive" })),
            ("Policy", () => m.Pick(IdentityPolicies)),
            ("Tags.member.1.Key", () => "k"),
        };
        foreach (var (name, plausible) in names)
        {
            if (m.Chance(45))
            {
                parameters.Add((name, m.Maybe(plausible(), 25)));
            }
        }

        return string.Join("&", parameters.Select(p => Mutator.PercentEncode(p.Name) + "=" + Mutator.PercentEncode(p.Value)));
    }

    /// <summary>A request with its framing broken: chunking, lengths, headers or the request line. Incomplete ones half-close.</summary>
    private static (byte[] Request, bool HalfClose) RawRequest(Mutator m, WharfTestServer server, string method, string target, List<(string Name, string Value)> headers)
    {
        var body = Encoding.UTF8.GetBytes("Action=GetCallerIdentity&Version=2011-06-15");
        switch (m.Random.Next(8))
        {
            case 0 or 1:
            {
                // Chunked bodies with a broken size line, chunk data or terminator.
                var size = m.Pick(new[] { "ffffffffffffffff", "10000000000000000", "fffffffffffffffff", "zz", "-1", "0x10", " 5", "5 ", "5;ext", "5;" + new string('e', 5000), "7fffffff", "80000000", string.Empty });
                var chunk = m.Pick(new[]
                {
                    $"{size}\r\nhello\r\n0\r\n\r\n",
                    "5\r\nhelloXX\r\n0\r\n\r\n",
                    "5\r\nhel",
                    "3\r\nhello\r\n0\r\n\r\n",
                    "5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
                    "5\nhello\n0\n\n",
                    $"{size}\r\n",
                });
                headers.Add(("Transfer-Encoding", m.Chance(85) ? "chunked" : m.Pick(new[] { "gzip, chunked", "chunked, chunked", "identity", "Chunked", "chunked;q=1" })));
                var incomplete = !chunk.EndsWith("\n\n", StringComparison.Ordinal);
                return (RawHttp.Build(method, target, server.BaseAddress, headers, Encoding.Latin1.GetBytes(chunk), contentLength: false), incomplete);
            }

            case 2:
                // A body shorter than its Content-Length, then the client stops sending.
                headers.Add(("Content-Length", m.Pick(new[] { "100", "65536", "2147483648", "99999999999" })));
                return (RawHttp.Build(method, target, server.BaseAddress, headers, body[..m.Random.Next(body.Length)], contentLength: false), true);
            case 3:
                headers.Add(("Content-Length", m.Pick(new[] { "-1", "abc", "1e3", "99999999999999999999999", "10, 20", " ", "0x10" })));
                return (RawHttp.Build(method, target, server.BaseAddress, headers, body, contentLength: false), false);
            case 4:
                headers.Add(("Transfer-Encoding", "chunked"));
                headers.Add(("Content-Length", "5"));
                return (RawHttp.Build(method, target, server.BaseAddress, headers, "5\r\nhello\r\n0\r\n\r\n"u8.ToArray(), contentLength: false), false);
            case 5:
                // Odd headers: no colon, folded, huge, control characters, non-ASCII bytes.
                headers.Add(m.Pick(new[]
                {
                    ("X-Odd", "a\u0000b"), ("X-Odd", "\u00ff\u00fe"), ("X-Odd\u0001", "x"), ("X-Odd", new string('a', 70_000)), (" X-Odd", "x"),
                    ("X-Odd", "a\r\n folded"), ("Content-Type", "application/x-amz-json-1.1\u0000"), ("X-Amz-Target", "\u00e9"), ("Expect", "100-continue"),
                    ("Expect", "bogus"), ("Host", "other"), ("X-Amz-Date", "\u0001"), ("Authorization", "AWS4-HMAC-SHA256 Credential=\u007f"),
                }));
                return (RawHttp.Build(method, target, server.BaseAddress, headers, body), false);
            case 6:
            {
                // A broken request line.
                var (badMethod, badTarget, version) = m.Pick(new[]
                {
                    (method, target, "HTTP/2.0"), (method, target, "HTTP/1.2"), (method, target, "HTTP/0.9"), (method, target, "HTTPS/1.1"),
                    (method.ToLowerInvariant(), target, "HTTP/1.1"), ("BREW", target, "HTTP/1.1"), (method, "*", "HTTP/1.1"),
                    (method, $"http://{server.HostAndPort}{target}", "HTTP/1.1"), (method, target + "\u0080", "HTTP/1.1"), (method, target + " x", "HTTP/1.1"),
                    (method, "/v2/" + new string('a', 20_000), "HTTP/1.1"), ("CONNECT", server.HostAndPort, "HTTP/1.1"), ("OPTIONS", target, "HTTP/1.1"),
                    ("TRACE", target, "HTTP/1.1"),
                });
                var bytes = RawHttp.Build(badMethod, badTarget, server.BaseAddress, headers, body);
                var text = Encoding.Latin1.GetString(bytes);
                var firstLine = text.IndexOf("\r\n", StringComparison.Ordinal);
                return (Encoding.Latin1.GetBytes(text[..firstLine].Replace("HTTP/1.1", version, StringComparison.Ordinal) + text[firstLine..]), false);
            }

            default:
                // Pipelined garbage after a complete request.
                return ([.. RawHttp.Build(method, target, server.BaseAddress, headers, body), .. m.RandomBytes(200)], false);
        }
    }
}
