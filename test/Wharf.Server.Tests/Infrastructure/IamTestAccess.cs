using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Wharf.Testing;

namespace Wharf.Server.Tests.Infrastructure;

/// <summary>What IAM-mode tests do to get callers: <c>wharf admin</c> beside the server, access keys as credential variables, /v2 clients logged in with a token.</summary>
internal static class IamTestAccess
{
    /// <summary><c>wharf admin …</c> against the server's data directory and metadata store.</summary>
    public static Task<ProcessResult> AdminAsync(WharfTestServer server, params string[] args) =>
        WharfCommand.RunAsync(["admin", .. args, .. server.StoreArguments], TimeSpan.FromMinutes(1));

    /// <summary>The key <c>wharf admin create-access-key</c> printed (<c>AWS_ACCESS_KEY_ID=…</c> lines), as credential variables.</summary>
    public static Dictionary<string, string> AdminKey(ProcessResult createAccessKey) =>
        createAccessKey.EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());

    /// <summary>The key <c>aws iam create-access-key</c> returned, as credential variables.</summary>
    public static Dictionary<string, string> CliKey(ProcessResult createAccessKey)
    {
        using var json = JsonDocument.Parse(createAccessKey.EnsureSuccess().StandardOutput);
        var key = json.RootElement.GetProperty("AccessKey");
        return new() { ["AWS_ACCESS_KEY_ID"] = key.GetProperty("AccessKeyId").GetString()!, ["AWS_SECRET_ACCESS_KEY"] = key.GetProperty("SecretAccessKey").GetString()! };
    }

    /// <summary>A /v2 client logged in as ECR's clients are: <c>get-login-password</c>, then Basic <c>AWS:&lt;password&gt;</c>.</summary>
    public static async Task<HttpClient> V2ClientAsync(WharfTestServer server, string region, Dictionary<string, string> credentials)
    {
        var password = (await AwsClients.CliAsync(server.BaseAddress, region, credentials, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)));
        return client;
    }
}
