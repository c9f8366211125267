using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Secrets;

/// <summary><c>aws secretsmanager …</c> against a test server, and what its answers say.</summary>
internal static class SecretsCli
{
    public const string Region = "us-east-1";

    public static Task<ProcessResult> RunAsync(WharfTestServer server, params string[] args) =>
        AwsClients.CliAsync(server.BaseAddress, Region, ["secretsmanager", .. args]);

    public static Task<ProcessResult> RunAsync(WharfTestServer server, IDictionary<string, string> credentials, params string[] args) =>
        AwsClients.CliAsync(server.BaseAddress, Region, credentials, ["secretsmanager", .. args]);

    /// <summary>The command's JSON answer (it must have succeeded).</summary>
    public static async Task<JsonElement> JsonAsync(Task<ProcessResult> run)
    {
        var result = (await run).EnsureSuccess();
        using var document = JsonDocument.Parse(result.StandardOutput.Length == 0 ? "{}" : result.StandardOutput);
        return document.RootElement.Clone();
    }

    /// <summary>The command failed with <paramref name="errorType"/>; its message.</summary>
    public static async Task<string> ErrorAsync(Task<ProcessResult> run, string errorType)
    {
        var result = await run;
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"({errorType})", result.StandardError, StringComparison.Ordinal);
        return result.StandardError;
    }
}
