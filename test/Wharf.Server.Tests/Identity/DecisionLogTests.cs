using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>Each authorisation decision is logged at debug level with the statement that decided it; no secret is ever logged.</summary>
public sealed class DecisionLogTests
{
    private const string Region = "us-east-1";

    [Fact]
    public async Task Decisions_are_logged_at_debug_with_their_statement_and_secrets_never_are()
    {
        var logs = new CapturedLogs();
        await using var server = await WharfTestServer.StartAsync(
            new Dictionary<string, string?> { ["Auth"] = "Iam", ["Logging:LogLevel:Default"] = "Debug" },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);

        (await Aws(root, "iam", "create-user", "--user-name", "logged")).EnsureSuccess();
        (await Aws(root, "iam", "put-user-policy", "--user-name", "logged", "--policy-name", "p", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Sid":"ListThem","Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}""")).EnsureSuccess();
        var user = IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", "logged"));
        var secret = user["AWS_SECRET_ACCESS_KEY"];
        (await Aws(user, "ecr", "describe-repositories")).EnsureSuccess();
        Assert.Contains("(AccessDeniedException)", (await Aws(user, "ecr", "create-repository", "--repository-name", "nope")).StandardError, StringComparison.Ordinal);
        var password = (await Aws(root, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();

        var decisions = logs.Entries.Where(e => e.EventId == 1300 && e.Level == LogLevel.Debug).Select(e => e.Message).ToList();
        Assert.Contains(decisions, m => m.StartsWith("Allow: arn:aws:iam::123456789012:user/logged ecr:DescribeRepositories", StringComparison.Ordinal) && m.EndsWith("statement ListThem", StringComparison.Ordinal));
        Assert.Contains(decisions, m => m.StartsWith("ImplicitDeny: arn:aws:iam::123456789012:user/logged ecr:CreateRepository", StringComparison.Ordinal));

        var everything = string.Join('\n', logs.Entries.Select(e => e.Message));
        Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(root["AWS_SECRET_ACCESS_KEY"], everything, StringComparison.Ordinal);
        Assert.DoesNotContain(password, everything, StringComparison.Ordinal);
    }
}
