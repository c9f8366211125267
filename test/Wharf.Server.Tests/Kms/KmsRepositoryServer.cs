using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Kms;

/// <summary>One IAM-mode server for the tests of repositories encrypted with KMS keys, with its root's credentials.</summary>
public sealed class KmsRepositoryServer : IAsyncLifetime
{
    public const string Region = "us-east-1";

    internal WharfTestServer Server { get; private set; } = null!;

    internal Dictionary<string, string> Root { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        Root = AwsClients.ReadCredentialsFile(Path.Combine(Server.DataDirectory, "root-credentials"));
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    /// <summary><c>aws …</c> as <paramref name="credentials"/> in <see cref="Region"/>.</summary>
    internal Task<ProcessResult> AwsAsync(Dictionary<string, string> credentials, params string[] args) =>
        AwsClients.CliAsync(Server.BaseAddress, Region, credentials, args);

    /// <summary>A successful <c>aws …</c>'s JSON output.</summary>
    internal async Task<JsonElement> JsonAsync(Dictionary<string, string> credentials, params string[] args)
    {
        var result = (await AwsAsync(credentials, args)).EnsureSuccess();
        using var document = JsonDocument.Parse(result.StandardOutput.Length == 0 ? "{}" : result.StandardOutput);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// A failing <c>aws …</c>: asserts the error type and, for ECR's <c>KmsException</c>, its <c>kmsError</c> member (read from
    /// the response body the CLI logs with <c>--debug</c>); returns the CLI's error line.
    /// </summary>
    internal async Task<string> ErrorAsync(Dictionary<string, string> credentials, string type, string? kmsError, params string[] args)
    {
        var result = await AwsAsync(credentials, [.. args, "--debug"]);
        Assert.NotEqual(0, result.ExitCode);
        var line = result.StandardError.Split('\n').LastOrDefault(l => l.Contains("An error occurred", StringComparison.Ordinal)) ?? result.StandardError;
        Assert.Contains($"({type})", line, StringComparison.Ordinal);
        if (kmsError is not null)
        {
            Assert.Contains($"\"kmsError\":\"{kmsError}\"", result.StandardError, StringComparison.Ordinal);
        }

        return line;
    }

    /// <summary>A new IAM user with <paramref name="managedPolicy"/> attached, and its access key.</summary>
    internal async Task<(string Arn, Dictionary<string, string> Key)> UserAsync(string name, string managedPolicy)
    {
        var user = await JsonAsync(Root, "iam", "create-user", "--user-name", name);
        (await AwsAsync(Root, "iam", "attach-user-policy", "--user-name", name, "--policy-arn", managedPolicy)).EnsureSuccess();
        return (user.GetProperty("User").GetProperty("Arn").GetString()!, IamTestAccess.CliKey(await AwsAsync(Root, "iam", "create-access-key", "--user-name", name)));
    }

    /// <summary>A new KMS key (optionally with <paramref name="policy"/>) and, when given, an alias of it; its ARN.</summary>
    internal async Task<string> CreateKeyAsync(string? alias = null, string? policy = null, string region = Region)
    {
        string[] args = policy is null ? ["kms", "create-key"] : ["kms", "create-key", "--policy", policy];
        var result = (await AwsClients.CliAsync(Server.BaseAddress, region, Root, args)).EnsureSuccess();
        using var document = JsonDocument.Parse(result.StandardOutput);
        var arn = document.RootElement.GetProperty("KeyMetadata").GetProperty("Arn").GetString()!;
        if (alias is not null)
        {
            (await AwsClients.CliAsync(Server.BaseAddress, region, Root, "kms", "create-alias", "--alias-name", alias, "--target-key-id", arn)).EnsureSuccess();
        }

        return arn;
    }

    /// <summary>A /v2 client logged in as <paramref name="credentials"/> (<c>get-login-password</c>).</summary>
    internal Task<HttpClient> V2Async(Dictionary<string, string> credentials) => IamTestAccess.V2ClientAsync(Server, Region, credentials);

    /// <summary>A repository's <c>encryptionConfiguration</c> as <c>DescribeRepositories</c> shows it.</summary>
    internal async Task<(string Type, string? Key)> EncryptionAsync(string repository)
    {
        var shown = (await JsonAsync(Root, "ecr", "describe-repositories", "--repository-names", repository)).GetProperty("repositories")[0].GetProperty("encryptionConfiguration");
        return (shown.GetProperty("encryptionType").GetString()!, shown.TryGetProperty("kmsKey", out var key) ? key.GetString() : null);
    }

    /// <summary>Pushes a small image of random layers over /v2; returns its manifest's layer digests.</summary>
    internal static async Task<string[]> PushAsync(HttpClient client, string repository, string tag)
    {
        var layers = new[] { Encoding.UTF8.GetBytes("layer of " + repository + " " + Guid.NewGuid()), Encoding.UTF8.GetBytes("second layer " + Guid.NewGuid()) };
        var pusher = new OciPusher(client);
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        await pusher.PushBlobMonolithicAsync(repository, config, Oci.Ct);
        foreach (var layer in layers)
        {
            await pusher.PushBlobMonolithicAsync(repository, layer, Oci.Ct);
        }

        await pusher.PushManifestAsync(repository, tag, config, layers, Oci.Ct);
        return [.. layers.Select(OciPusher.Sha256)];
    }

    /// <summary>A /v2 GET (manifest or blob): its status and, for an error, the first OCI error's code and <c>kmsError</c> detail.</summary>
    internal static async Task<(int Status, string? Code, string? KmsError)> GetAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciPusher.OciManifest));
        using var response = await client.SendAsync(request, Oci.Ct);
        var status = (int)response.StatusCode;
        if (status < 400)
        {
            return (status, null, null);
        }

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Oci.Ct));
        var error = body.RootElement.GetProperty("errors")[0];
        var kmsError = error.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("kmsError", out var name) ? name.GetString() : null;
        return (status, error.GetProperty("code").GetString(), kmsError);
    }
}
