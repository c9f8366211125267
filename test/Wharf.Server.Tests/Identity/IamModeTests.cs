using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Security;
using Wharf.Server.Tests.ControlPlane;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// IAM mode with real signers: the root key made on first start, SigV4 verified on every API call,
/// <c>get-login-password</c> into podman and skopeo, and /v2 closed to anyone without a token.
/// </summary>
public sealed class IamModeTests
{
    private const string Region = "us-east-1";

    private static readonly Dictionary<string, string?> Iam = new() { ["Auth"] = "Iam" };

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task First_start_prints_the_root_key_once_and_writes_it_owner_only()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wharf-iam-" + Guid.NewGuid().ToString("N"));
        try
        {
            string id;
            await using (var first = await WharfProcess.StartAsync(dir, new Dictionary<string, string> { ["WHARF__Auth"] = "Iam" }))
            {
                var credentials = Path.Combine(dir, "root-credentials");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentials));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "master.key")));
                var (keyId, secret) = ReadCredentials(credentials);
                id = keyId;
                Assert.Matches("^AKIA[A-Z2-7]{16}$", id);
                Assert.Contains(secret, first.StandardOutput, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, first.StandardError, StringComparison.Ordinal);
                var listed = await AwsClients.CliAsync(first.BaseAddress, Region, Credentials(keyId, secret), "ecr", "describe-repositories");
                listed.EnsureSuccess();
                await first.TerminateAsync(TimeSpan.FromSeconds(30));
            }

            await using (var second = await WharfProcess.StartAsync(dir, new Dictionary<string, string> { ["WHARF__Auth"] = "Iam" }))
            {
                Assert.DoesNotContain("AWS_SECRET_ACCESS_KEY", second.StandardOutput, StringComparison.Ordinal);
                Assert.Equal(id, ReadCredentials(Path.Combine(dir, "root-credentials")).Id);
            }

            // A database dump alone reveals no secret.
            var secretText = ReadCredentials(Path.Combine(dir, "root-credentials")).Secret;
            SqliteConnection.ClearAllPools();
            var dump = await File.ReadAllBytesAsync(Path.Combine(dir, "wharf.db"), Oci.Ct);
            Assert.Equal(-1, dump.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secretText)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Api_calls_are_verified_with_aws_errors_for_each_failure()
    {
        var time = new ShiftedClock();
        await using var server = await WharfTestServer.StartAsync(Iam, services: s => s.AddSingleton<TimeProvider>(time));
        var (id, secret) = ReadCredentials(Path.Combine(server.DataDirectory, "root-credentials"));

        (await AwsClients.CliAsync(server.BaseAddress, Region, Credentials(id, secret), "ecr", "create-repository", "--repository-name", "iam/app")).EnsureSuccess();

        await AssertCliErrorAsync(server, Credentials(id, secret + "x"), "InvalidSignatureException");
        await AssertCliErrorAsync(server, Credentials("AKIAAAAAAAAAAAAAAAAA", secret), "UnrecognizedClientException");
        var session = Credentials(id, secret);
        session["AWS_SESSION_TOKEN"] = "not-issued-by-wharf";
        await AssertCliErrorAsync(server, session, "UnrecognizedClientException");

        using var client = server.CreateClient();
        using var unsigned = EcrHttp.Request("DescribeRepositories", "{}");
        unsigned.Headers.Remove("Authorization");
        EcrHttp.AssertError(await EcrHttp.SendAsync(client, unsigned), "MissingAuthenticationTokenException", 403);

        // Fifteen minutes of skew are tolerated, not more.
        time.Advance(TimeSpan.FromMinutes(14));
        (await AwsClients.CliAsync(server.BaseAddress, Region, Credentials(id, secret), "ecr", "describe-repositories")).EnsureSuccess();
        time.Advance(TimeSpan.FromMinutes(2));
        var skewed = await AssertCliErrorAsync(server, Credentials(id, secret), "InvalidSignatureException");
        Assert.Contains("Signature expired", skewed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_login_password_logs_skopeo_and_podman_in_and_v2_is_closed_without_it()
    {
        await using var server = await WharfTestServer.StartAsync(Iam);
        var (id, secret) = ReadCredentials(Path.Combine(server.DataDirectory, "root-credentials"));
        var host = server.HostAndPort;
        using var client = server.CreateClient();

        // Anonymous: ECR's Basic challenge, on every route.
        foreach (var path in new[] { "/v2/", "/v2/_catalog", "/v2/iam/app/tags/list", "/v2/iam/app/manifests/1", $"/v2/iam/app/blobs/{Oci.Sha256([1])}" })
        {
            using var anonymous = await client.GetAsync(path, Oci.Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal($"Basic realm=\"https://{host}/\",service=\"ecr.amazonaws.com\"", anonymous.Headers.WwwAuthenticate.ToString());
        }

        using var anonymousPush = await client.PostAsync("/v2/iam/app/blobs/uploads/", null, Oci.Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousPush.StatusCode);

        // The getting-started flow, literally: get-login-password piped into a login.
        var authfile = Path.Combine(server.DataDirectory, "auth.json");
        var aws = Requires.Tool("aws");
        var skopeo = Requires.Tool("skopeo");
        var environment = Credentials(id, secret);
        var login = await ProcessRunner.RunAsync(
            "bash",
            ["-c", $"'{aws}' ecr get-login-password --endpoint-url {server.BaseAddress.ToString().TrimEnd('/')} --region {Region} | '{skopeo}' login --authfile '{authfile}' --tls-verify=false --username AWS --password-stdin {host}"],
            TimeSpan.FromMinutes(2),
            environment);
        login.EnsureSuccess();

        await TestImages.BusyboxArchiveAsync();
        var tools = ContainerTools.Instance;
        (await tools.PodmanAsync("push", "--tls-verify=false", "--authfile", authfile, TestImages.BusyboxLocalName, $"docker://{host}/iam/app:1")).EnsureSuccess();
        (await tools.PodmanAsync("pull", "--tls-verify=false", "--authfile", authfile, $"{host}/iam/app:1")).EnsureSuccess();
        var digest = (await tools.SkopeoAsync("inspect", "--tls-verify=false", "--authfile", authfile, "--format", "{{.Digest}}", $"docker://{host}/iam/app:1")).EnsureSuccess().StandardOutput.Trim();
        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);

        // Without the login, skopeo is refused.
        var refused = await tools.SkopeoAsync("inspect", "--tls-verify=false", "--no-creds", $"docker://{host}/iam/app:1");
        Assert.NotEqual(0, refused.ExitCode);
    }

    [Fact]
    public async Task Tokens_are_region_bound_and_expire_after_twelve_hours()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(Iam, services: s => s.AddSingleton<TimeProvider>(time));
        var (id, secret) = ReadCredentials(Path.Combine(server.DataDirectory, "root-credentials"));
        using var client = server.CreateClient();

        var token = await LoginPasswordAsync(server, id, secret, Region);
        Assert.Equal(HttpStatusCode.OK, (await GetWithTokenAsync(client, "/v2/", token)).StatusCode);

        var otherRegion = await LoginPasswordAsync(server, id, secret, "eu-west-1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithTokenAsync(client, "/v2/", otherRegion)).StatusCode);
        var forged = token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithTokenAsync(client, "/v2/", forged)).StatusCode);

        time.Advance(TimeSpan.FromHours(12) + TimeSpan.FromSeconds(1));
        using var expired = await GetWithTokenAsync(client, "/v2/", token);
        var (code, error) = await Oci.ErrorAsync(expired);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Equal("DENIED", code);
        Assert.Equal("Your authorization token has expired. Reauthenticate and try again.", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rotating_the_token_key_keeps_live_tokens_until_the_previous_keys_are_revoked(bool postgres)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(postgres, Iam, s => s.AddSingleton<TimeProvider>(time));
        var (id, secret) = ReadCredentials(Path.Combine(server.DataDirectory, "root-credentials"));
        using var client = server.CreateClient();
        static string KeyOf(string password) => TokenCodec.TryReadKeyId(password, out var keyId) ? TokenKeyRing.KeyName(TokenPurpose.Auth, keyId) : "none";
        Task<ProcessResult> AdminAsync(params string[] args) => IamTestAccess.AdminAsync(server, args);

        var first = await LoginPasswordAsync(server, id, secret, Region);
        Assert.Equal("auth-tokens-1", KeyOf(first));

        // Rotated beside the running server: it signs with the new key within a minute, and both verify.
        Assert.Equal("auth-tokens-2", (await AdminAsync("rotate-token-key", "--purpose", "auth")).EnsureSuccess().StandardOutput.Trim());
        time.Advance(TimeSpan.FromSeconds(61));
        var second = await LoginPasswordAsync(server, id, secret, Region);
        Assert.Equal("auth-tokens-2", KeyOf(second));
        Assert.Equal(HttpStatusCode.OK, (await GetWithTokenAsync(client, "/v2/", first)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetWithTokenAsync(client, "/v2/", second)).StatusCode);

        // A token naming a key that does not exist is no token.
        var raw = System.Buffers.Text.Base64Url.DecodeFromChars(second);
        raw[4] = 9;
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithTokenAsync(client, "/v2/", System.Buffers.Text.Base64Url.EncodeToString(raw))).StatusCode);

        // One key revoked: what it signed stops working, the rest goes on; the signing key cannot be revoked alone.
        var signing = await AdminAsync("revoke-token-key", "auth-tokens-2");
        Assert.Equal(1, signing.ExitCode);
        Assert.Contains("rotate-token-key --purpose auth --revoke-previous", signing.StandardError, StringComparison.Ordinal);
        Assert.Equal("revoked auth-tokens-1", (await AdminAsync("revoke-token-key", "auth-tokens-1")).EnsureSuccess().StandardOutput.Trim());
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithTokenAsync(client, "/v2/", first)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetWithTokenAsync(client, "/v2/", second)).StatusCode);

        // After a leak: rotating with --revoke-previous ends every token the previous keys signed, in all four families.
        var rotated = (await AdminAsync("rotate-token-key", "--revoke-previous")).EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["auth-tokens-3", "page-tokens-1", "download-tokens-1", "bearer-tokens-1"], rotated);
        Assert.Equal("auth-tokens-3 (signing)\npage-tokens-1 (signing)\ndownload-tokens-1 (signing)\nbearer-tokens-1 (signing)", (await AdminAsync("list-token-keys")).EnsureSuccess().StandardOutput.Trim());
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithTokenAsync(client, "/v2/", second)).StatusCode);
        var third = await LoginPasswordAsync(server, id, secret, Region);
        Assert.Equal("auth-tokens-3", KeyOf(third));
        Assert.Equal(HttpStatusCode.OK, (await GetWithTokenAsync(client, "/v2/", third)).StatusCode);
    }

    [Fact]
    public async Task Get_authorization_token_has_ecr_shape()
    {
        await using var server = await WharfTestServer.StartAsync(Iam);
        var (id, secret) = ReadCredentials(Path.Combine(server.DataDirectory, "root-credentials"));
        var result = (await AwsClients.CliAsync(server.BaseAddress, Region, Credentials(id, secret), "ecr", "get-authorization-token")).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        var data = Assert.Single(json.RootElement.GetProperty("authorizationData").EnumerateArray());
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(data.GetProperty("authorizationToken").GetString()!));
        Assert.StartsWith("AWS:", decoded, StringComparison.Ordinal);
        Assert.Equal($"http://{server.HostAndPort}", data.GetProperty("proxyEndpoint").GetString());
        var expiresAt = data.GetProperty("expiresAt");
        var expires = expiresAt.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(expiresAt.GetDouble() * 1000))
            : DateTimeOffset.Parse(expiresAt.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(11.9), TimeSpan.FromHours(12.1));
    }

    private static async Task<string> LoginPasswordAsync(WharfTestServer server, string id, string secret, string region) =>
        (await AwsClients.CliAsync(server.BaseAddress, region, Credentials(id, secret), "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();

    private static Task<HttpResponseMessage> GetWithTokenAsync(HttpClient client, string path, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)));
        return client.SendAsync(request, Oci.Ct);
    }

    private static async Task<string> AssertCliErrorAsync(WharfTestServer server, Dictionary<string, string> credentials, string code)
    {
        var result = await AwsClients.CliAsync(server.BaseAddress, Region, credentials, "ecr", "describe-repositories");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"({code})", result.StandardError, StringComparison.Ordinal);
        return result.StandardError;
    }

    private static Dictionary<string, string> Credentials(string id, string secret) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = id,
        ["AWS_SECRET_ACCESS_KEY"] = secret,
    };

    private static (string Id, string Secret) ReadCredentials(string path)
    {
        var credentials = AwsClients.ReadCredentialsFile(path);
        return (credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"]);
    }
}
