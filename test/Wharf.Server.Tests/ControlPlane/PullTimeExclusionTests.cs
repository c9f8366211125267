using System.Text.Json;
using Wharf.Core.Images;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// ECR's pull-time update exclusions in IAM mode with the AWS CLI: an excluded user's pulls leave
/// <c>lastRecordedPullTime</c> alone, another user's move it, and deregistering ends the exclusion;
/// the three operations need their own IAM actions.
/// </summary>
public sealed class PullTimeExclusionTests
{
    private const string Region = "us-east-1";
    private const string Repo = "team/app";

    [Fact]
    public async Task Pulls_by_an_excluded_user_do_not_move_lastRecordedPullTime_until_the_exclusion_is_deregistered()
    {
        // The real clock: SigV4 compares the signing time with the server's.
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam", ["Images:PullTimeFlushInterval"] = "40.00:00:00" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        Task<ProcessResult> Aws(Dictionary<string, string> who, params string[] args) => AwsClients.CliAsync(server.BaseAddress, Region, who, args);
        (await Aws(root, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        using (var client = await IamTestAccess.V2ClientAsync(server, Region, root))
        {
            await Oci.PushImageAsync(client, Repo, "v1");
        }

        async Task<Dictionary<string, string>> UserAsync(string name)
        {
            (await Aws(root, "iam", "create-user", "--user-name", name)).EnsureSuccess();
            (await Aws(root, "iam", "attach-user-policy", "--user-name", name, "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
            return IamTestAccess.CliKey(await Aws(root, "iam", "create-access-key", "--user-name", name));
        }

        var scanner = await UserAsync("scanner");
        var dev = await UserAsync("dev");
        const string ScannerArn = "arn:aws:iam::123456789012:user/scanner";
        var recorder = server.GetService<PullRecorder>();

        async Task<double?> PullAsync(Dictionary<string, string> who)
        {
            (await Aws(who, "ecr", "batch-get-image", "--repository-name", Repo, "--image-ids", "imageTag=v1")).EnsureSuccess();
            await recorder.FlushAsync(TestContext.Current.CancellationToken);
            var detail = JsonDocument.Parse((await Aws(root, "ecr", "describe-images", "--repository-name", Repo)).EnsureSuccess().StandardOutput).RootElement.GetProperty("imageDetails")[0];
            return detail.TryGetProperty("lastRecordedPullTime", out var at) ? at.GetDouble() : null;
        }

        // Read-only users may not manage exclusions; the root may.
        Assert.Contains("(AccessDeniedException)", (await Aws(scanner, "ecr", "register-pull-time-update-exclusion", "--principal-arn", ScannerArn)).StandardError, StringComparison.Ordinal);
        var registered = JsonDocument.Parse((await Aws(root, "ecr", "register-pull-time-update-exclusion", "--principal-arn", ScannerArn)).EnsureSuccess().StandardOutput).RootElement;
        Assert.Equal(ScannerArn, registered.GetProperty("principalArn").GetString());
        Assert.Contains("(AccessDeniedException)", (await Aws(dev, "ecr", "list-pull-time-update-exclusions")).StandardError, StringComparison.Ordinal);

        // The excluded scanner's pull records nothing; the developer's does; the scanner's next pull does not move it.
        Assert.Null(await PullAsync(scanner));
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var devPull = await PullAsync(dev);
        Assert.InRange(devPull ?? 0, before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        Assert.Equal(devPull, await PullAsync(scanner));

        // Deregistered, the scanner's pulls count again.
        (await Aws(root, "ecr", "deregister-pull-time-update-exclusion", "--principal-arn", ScannerArn)).EnsureSuccess();
        var scannerPull = await PullAsync(scanner);
        Assert.True(scannerPull > devPull, $"{scannerPull} after {devPull}");
        Assert.Contains("(ExclusionNotFoundException)", (await Aws(root, "ecr", "deregister-pull-time-update-exclusion", "--principal-arn", ScannerArn)).StandardError, StringComparison.Ordinal);

        // Excluding a role excludes the pulls of its sessions.
        const string RoleArn = "arn:aws:iam::123456789012:role/replicator";
        (await Aws(root, "iam", "create-role", "--role-name", "replicator", "--assume-role-policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/dev"},"Action":"sts:AssumeRole"}]}""")).EnsureSuccess();
        (await Aws(root, "iam", "attach-role-policy", "--role-name", "replicator", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")).EnsureSuccess();
        (await Aws(root, "ecr", "register-pull-time-update-exclusion", "--principal-arn", RoleArn)).EnsureSuccess();
        var credentials = JsonDocument.Parse((await Aws(dev, "sts", "assume-role", "--role-arn", RoleArn, "--role-session-name", "sync")).EnsureSuccess().StandardOutput)
            .RootElement.GetProperty("Credentials");
        var session = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = credentials.GetProperty("AccessKeyId").GetString()!,
            ["AWS_SECRET_ACCESS_KEY"] = credentials.GetProperty("SecretAccessKey").GetString()!,
            ["AWS_SESSION_TOKEN"] = credentials.GetProperty("SessionToken").GetString()!,
        };
        Assert.Equal(scannerPull, await PullAsync(session));
    }
}
