using System.Security.Cryptography;
using System.Text.Json;
using Wharf.Core.Identity;
using Wharf.Testing;

namespace Wharf.Core.Tests.Identity;

/// <summary>
/// The verifier against botocore's own signers (header and presigned): awkward paths, spaces, <c>~</c>,
/// unicode, repeated and empty query keys, runs of spaces in headers, session tokens. Each signed
/// request verifies; any change to it, or another secret, does not.
/// </summary>
public sealed class SigV4Tests
{
    [Fact]
    public async Task Requests_signed_by_botocore_verify_and_altered_ones_do_not()
    {
        var vectors = await VectorsAsync();
        Assert.True(vectors.Count >= 7);
        foreach (var vector in vectors)
        {
            var (request, claim, secret) = vector;
            Assert.True(SigV4.Verify(request, claim, secret), $"{request.Method} {request.RawPath}: {SigV4.CanonicalRequest(request, claim)}");
            Assert.False(SigV4.Verify(request, claim, secret + "x"));
            Assert.False(SigV4.Verify(request with { Method = request.Method == "GET" ? "POST" : "GET" }, claim, secret));
            Assert.False(SigV4.Verify(request with { RawPath = request.RawPath + "x" }, claim, secret));
            Assert.False(SigV4.Verify(request with { PayloadHash = SigV4.Hex(SHA256.HashData("tampered"u8)) }, claim, secret) && request.PayloadHash != SigV4.UnsignedPayload);
            Assert.False(SigV4.Verify(request with { Query = [.. request.Query, new("extra", "1")] }, claim, secret));
        }
    }

    [Fact]
    public async Task Presigned_and_session_token_claims_are_read()
    {
        var vectors = await VectorsAsync();
        Assert.Contains(vectors, v => v.Claim.Presigned && v.Claim.Expires == TimeSpan.FromMinutes(15));
        Assert.Contains(vectors, v => v.Claim.SessionToken == "session-token/with+odd=chars");
        Assert.All(vectors, v => Assert.Equal("us-west-2", v.Claim.Region));
    }

    [Theory]
    [InlineData("Basic abc")]
    [InlineData("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ecr, SignedHeaders=host, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ecr/aws4_request, SignedHeaders=x-amz-date, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20261124/US_EAST/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00, Signature=01")]
    public void Malformed_authorization_headers_are_format_errors(string header)
    {
        var request = new SigV4Request("POST", "/", [], name => name switch
        {
            "authorization" => header,
            "x-amz-date" => "20261124T120000Z",
            _ => null,
        }, SigV4.Hex(SHA256.HashData([])));
        Assert.Throws<SigV4FormatException>(() => SigV4.ReadClaim(request));
    }

    [Fact]
    public void An_unsigned_target_header_is_a_format_error()
    {
        string? Headers(string name, string signed) => name switch
        {
            "authorization" => $"AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ecr/aws4_request, SignedHeaders={signed}, Signature=00",
            "x-amz-date" => "20261124T120000Z",
            "x-amz-target" => "AmazonEC2ContainerRegistry_V20150921.BatchDeleteImage",
            _ => null,
        };
        var hash = SigV4.Hex(SHA256.HashData([]));
        Assert.Throws<SigV4FormatException>(() => SigV4.ReadClaim(new SigV4Request("POST", "/", [], n => Headers(n, "host;x-amz-date"), hash)));
        Assert.NotNull(SigV4.ReadClaim(new SigV4Request("POST", "/", [], n => Headers(n, "host;x-amz-date;x-amz-target"), hash)));
    }

    [Fact]
    public void A_declared_payload_hash_must_be_the_bodys()
    {
        var hash = SigV4.Hex(SHA256.HashData("body"u8));
        Assert.Null(SigV4.PayloadMismatch(null, hash));
        Assert.Null(SigV4.PayloadMismatch(hash, hash));
        Assert.Null(SigV4.PayloadMismatch(hash.ToUpperInvariant(), hash));
        Assert.NotNull(SigV4.PayloadMismatch(SigV4.Hex(SHA256.HashData("other"u8)), hash));
        Assert.NotNull(SigV4.PayloadMismatch(SigV4.UnsignedPayload, hash));
        Assert.NotNull(SigV4.PayloadMismatch("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", hash));
    }

    [Fact]
    public void Unsigned_request_has_no_claim() =>
        Assert.Null(SigV4.ReadClaim(new SigV4Request("GET", "/", [], _ => null, SigV4.Hex(SHA256.HashData([])))));

    [Fact]
    public void Query_parsing_treats_plus_as_space_and_keeps_repeated_keys() =>
        Assert.Equal(
            [new("a", "x y"), new("a", "1"), new("b", "c+d"), new("e", "")],
            SigV4.ParseQuery("a=x+y&a=1&b=c%2Bd&e"));

    private static async Task<List<(SigV4Request Request, SigV4Claim Claim, string Secret)>> VectorsAsync()
    {
        var python = Requires.Tool("python3");
        var script = Path.Combine(AppContext.BaseDirectory, "Identity", "sigv4_vectors.py");
        var result = (await ProcessRunner.RunAsync(python, [script], TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        var vectors = new List<(SigV4Request, SigV4Claim, string)>();
        foreach (var v in json.RootElement.EnumerateArray())
        {
            var headers = v.GetProperty("headers").EnumerateObject().ToDictionary(h => h.Name, h => h.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
            var body = Convert.FromBase64String(v.GetProperty("body").GetString()!);
            var request = new SigV4Request(
                v.GetProperty("method").GetString()!,
                v.GetProperty("path").GetString()!,
                SigV4.ParseQuery(v.GetProperty("query").GetString()!),
                name => headers.TryGetValue(name, out var value) ? value : null,
                SigV4.Hex(SHA256.HashData(body)));
            vectors.Add((request, SigV4.ReadClaim(request)!, v.GetProperty("secret").GetString()!));
        }

        return vectors;
    }
}
