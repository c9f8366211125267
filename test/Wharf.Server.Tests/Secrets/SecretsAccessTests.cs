using System.Text;
using Microsoft.Data.Sqlite;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Secrets;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;
using static Wharf.Server.Tests.Secrets.SecretsCli;

namespace Wharf.Server.Tests.Secrets;

/// <summary>
/// Who may read a secret and what a stolen database shows: IAM identity policies govern the <c>secretsmanager:*</c>
/// actions on secret ARNs, values are sealed at rest, and <see cref="ISecretValues"/> (what pull-through cache rules
/// read) answers ECR's secret errors.
/// </summary>
public sealed class SecretsAccessTests
{
    [Fact]
    public async Task Ecr_read_only_is_denied_and_a_policy_on_one_secret_arn_grants_that_one_only()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        var allowed = (await JsonAsync(RunAsync(server, root, "create-secret", "--name", "ecr-pullthroughcache/hub", "--secret-string", "hub-token"))).GetProperty("ARN").GetString()!;
        await JsonAsync(RunAsync(server, root, "create-secret", "--name", "ecr-pullthroughcache/quay", "--secret-string", "quay-token"));

        Task<ProcessResult> Iam(params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, root, ["iam", .. args]);
        async Task<Dictionary<string, string>> UserAsync(string name)
        {
            (await Iam("create-user", "--user-name", name)).EnsureSuccess();
            return IamTestAccess.CliKey(await Iam("create-access-key", "--user-name", name));
        }

        var reader = await UserAsync("ecr-reader");
        (await Iam("attach-user-policy", "--user-name", "ecr-reader", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        var denied = await ErrorAsync(RunAsync(server, reader, "get-secret-value", "--secret-id", "ecr-pullthroughcache/hub"), "AccessDeniedException");
        Assert.Contains("secretsmanager:GetSecretValue", denied, StringComparison.Ordinal);
        Assert.DoesNotContain("hub-token", denied, StringComparison.Ordinal);
        await ErrorAsync(RunAsync(server, reader, "list-secrets"), "AccessDeniedException");

        // A missing secret is denied alike: a caller without access learns nothing of which names exist.
        await ErrorAsync(RunAsync(server, reader, "get-secret-value", "--secret-id", "no/such"), "AccessDeniedException");

        var one = await UserAsync("one-secret");
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"{{allowed}}"}]}""";
        (await Iam("put-user-policy", "--user-name", "one-secret", "--policy-name", "hub", "--policy-document", policy)).EnsureSuccess();
        Assert.Equal("hub-token", (await JsonAsync(RunAsync(server, one, "get-secret-value", "--secret-id", allowed))).GetProperty("SecretString").GetString());
        Assert.Equal("hub-token", (await JsonAsync(RunAsync(server, one, "get-secret-value", "--secret-id", "ecr-pullthroughcache/hub"))).GetProperty("SecretString").GetString());
        await ErrorAsync(RunAsync(server, one, "get-secret-value", "--secret-id", "ecr-pullthroughcache/quay"), "AccessDeniedException");
        await ErrorAsync(RunAsync(server, one, "put-secret-value", "--secret-id", allowed, "--secret-string", "x"), "AccessDeniedException");
        await ErrorAsync(RunAsync(server, one, "describe-secret", "--secret-id", allowed), "AccessDeniedException");
    }

    [Fact]
    public async Task A_value_is_sealed_in_the_database_file()
    {
        var value = "plain-" + Guid.NewGuid().ToString("N");
        string dataDirectory;
        await using (var server = await WharfTestServer.StartAsync())
        {
            dataDirectory = server.DataDirectory;
            await JsonAsync(RunAsync(server, "create-secret", "--name", "sealed", "--secret-string", value));
            await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", "sealed", "--secret-string", value + "-2"));
            Assert.Equal(value + "-2", (await JsonAsync(RunAsync(server, "get-secret-value", "--secret-id", "sealed"))).GetProperty("SecretString").GetString());
            SqliteConnection.ClearAllPools();
            var needle = Encoding.UTF8.GetBytes(value);
            foreach (var file in Directory.GetFiles(dataDirectory, "wharf.db*"))
            {
                Assert.Equal(-1, (await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken)).AsSpan().IndexOf(needle));
            }
        }
    }

    [Fact]
    public async Task Secret_values_answer_ecr_s_secret_errors_for_other_registries_missing_and_scheduled_secrets()
    {
        await using var server = await WharfTestServer.StartAsync();
        var values = server.GetService<ISecretValues>();
        var registry = new RegistryKey(AccountId.Parse("123456789012"), Region);
        var arn = (await JsonAsync(RunAsync(server, "create-secret", "--name", "ecr-pullthroughcache/hub", "--secret-string", """{"username":"u","accessToken":"t"}"""))).GetProperty("ARN").GetString()!;
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal("""{"username":"u","accessToken":"t"}""", await values.GetCurrentStringAsync(registry, arn, ct));
        Assert.Equal("""{"username":"u","accessToken":"t"}""", await values.GetCurrentStringAsync(registry, arn[..^7], ct));
        await JsonAsync(RunAsync(server, "put-secret-value", "--secret-id", arn, "--secret-string", "rotated"));
        Assert.Equal("rotated", await values.GetCurrentStringAsync(registry, arn, ct));

        async Task<WharfErrorCode> FailureAsync(RegistryKey at, string secretArn) =>
            (await Assert.ThrowsAsync<WharfException>(() => values.GetCurrentStringAsync(at, secretArn, ct))).Code;

        Assert.Equal(WharfErrorCode.UnableToAccessSecret, await FailureAsync(registry with { Region = "eu-west-1" }, arn));
        Assert.Equal(WharfErrorCode.UnableToAccessSecret, await FailureAsync(new RegistryKey(AccountId.Parse("210987654321"), Region), arn));
        Assert.Equal(WharfErrorCode.SecretNotFound, await FailureAsync(registry, arn.Replace("hub", "quay", StringComparison.Ordinal)));
        Assert.Equal(WharfErrorCode.SecretNotFound, await FailureAsync(registry, "not-an-arn"));

        await JsonAsync(RunAsync(server, "create-secret", "--name", "ecr-pullthroughcache/bin", "--secret-binary", "AAEC"));
        Assert.Equal(WharfErrorCode.UnableToAccessSecret, await FailureAsync(registry, $"arn:aws:secretsmanager:{Region}:123456789012:secret:ecr-pullthroughcache/bin"));

        await JsonAsync(RunAsync(server, "delete-secret", "--secret-id", arn));
        Assert.Equal(WharfErrorCode.SecretNotFound, await FailureAsync(registry, arn));
    }
}
