using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// The access matrix, end to end with real clients: two accounts, principals with no policy, each ECR
/// managed policy, an inline allow on one repository, an explicit deny, a repository policy that names
/// users and account B — and for each, the API (AWS CLI) and /v2 (skopeo, logged in with
/// <c>get-login-password</c>) allowed or denied as AWS decides. Every cell is run; the failures are
/// reported together, as a table.
/// </summary>
public sealed class AccessMatrixTests
{
    private const string Region = "us-east-1";
    private const string A = "123456789012";
    private const string B = "222222222222";
    private const string Repo = "matrix/app";
    private const string RepoArn = $"arn:aws:ecr:{Region}:{A}:repository/{Repo}";
    private const string Managed = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistry";

    /// <summary>What each cell does.</summary>
    private enum Op
    {
        DescribeRepositories,
        DescribeImages,
        CreateRepository,
        BatchDeleteImage,
        GetLoginPassword,
        Pull,
        Push,
        Delete,
    }

    /// <summary>A principal of the matrix: its account, managed policies, inline policy, and the cells it is allowed.</summary>
    private sealed record Cell(string Name, string Account, string[] ManagedPolicies, string? Inline, Op[] Allowed);

    private const string Login = """{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}""";
    private const string PullActions = """["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:DescribeImages"]""";

    private static readonly Cell[] Cells =
    [
        // Account A: identity policies decide; a repository policy naming a user suffices on its own.
        new("a-none", A, [], null, []),
        new("a-full", A, [Managed + "FullAccess"], null, Enum.GetValues<Op>()),
        new("a-power", A, [Managed + "PowerUser"], null, [Op.DescribeRepositories, Op.DescribeImages, Op.GetLoginPassword, Op.Pull, Op.Push]),
        new("a-readonly", A, [Managed + "ReadOnly"], null, [Op.DescribeRepositories, Op.DescribeImages, Op.GetLoginPassword, Op.Pull]),
        new("a-pullonly", A, [Managed + "PullOnly"], null, [Op.GetLoginPassword, Op.Pull]),
        new("a-inline", A, [], $$"""{"Version":"2012-10-17","Statement":[{{Login}},{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:DescribeImages","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"{{RepoArn}}"}]}""",
            [Op.DescribeImages, Op.GetLoginPassword, Op.Pull, Op.Push]),
        new("a-denied", A, [Managed + "FullAccess"], $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ecr:BatchGetImage","ecr:BatchDeleteImage"],"Resource":"{{RepoArn}}"}]}""",
            [Op.DescribeRepositories, Op.DescribeImages, Op.CreateRepository, Op.GetLoginPassword, Op.Push]),
        new("a-named", A, [], $$"""{"Version":"2012-10-17","Statement":[{{Login}}]}""", [Op.DescribeImages, Op.GetLoginPassword, Op.Pull]),
        // Named in the repository policy, GetAuthorizationToken included, but no identity policy: the
        // API reads work, and no token (a repository policy cannot grant one), so no /v2.
        new("a-named-nologin", A, [], null, [Op.DescribeImages]),

        // Account B: the repository policy grants B's account read; B's identity policy must allow too.
        new("b-reader", B, [], $$"""{"Version":"2012-10-17","Statement":[{{Login}},{"Effect":"Allow","Action":{{PullActions}},"Resource":"*"}]}""",
            [Op.DescribeImages, Op.GetLoginPassword, Op.Pull]),
        new("b-full", B, [Managed + "FullAccess"], null, [Op.DescribeImages, Op.GetLoginPassword, Op.Pull]),
        new("b-none", B, [], null, []),
        // The repository policy denies this user explicitly: it wins over both allows.
        new("b-denied", B, [], $$"""{"Version":"2012-10-17","Statement":[{{Login}},{"Effect":"Allow","Action":{{PullActions}},"Resource":"*"}]}""",
            [Op.GetLoginPassword]),
    ];

    private static readonly string RepositoryPolicy = $$"""
        {"Version":"2012-10-17","Statement":[
          {"Sid":"account-b-reads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{B}}:root"},"Action":{{PullActions}}},
          {"Sid":"named-users","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::{{A}}:user/a-named","arn:aws:iam::{{A}}:user/a-named-nologin"]},"Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:DescribeImages"]},
          {"Sid":"deny-one","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::{{B}}:user/b-denied"},"Action":"ecr:*"}]}
        """;

    [Fact]
    public async Task Every_cell_of_the_matrix_is_allowed_or_denied_as_aws_decides()
    {
        // The AWS CLI signs with the machine's clock for the whole (long) matrix: the server's clock runs with it.
        var time = new ShiftedClock();
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" }, services: s => s.AddSingleton<TimeProvider>(time));
        var rootA = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        (await IamTestAccess.AdminAsync(server, "create-account", B)).EnsureSuccess();
        var rootB = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--account", B));
        var tools = ContainerTools.Instance;
        var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout"), "v1", [4096, 1000], 11, Oci.Ct);

        // The repository, its images (one to pull, one per cell to delete on each surface), its policy.
        (await Aws(server, rootA, "ecr", "create-repository", "--repository-name", Repo)).EnsureSuccess();
        var rootPassword = (await Aws(server, rootA, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        using (var root = server.CreateClient())
        {
            root.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + rootPassword)));
            await Oci.PushImageAsync(root, Repo, "v1");
            foreach (var cell in Cells)
            {
                await Oci.PushImageAsync(root, Repo, $"api-{cell.Name}");
                await Oci.PushImageAsync(root, Repo, $"v2-{cell.Name}");
            }
        }

        (await Aws(server, rootA, "ecr", "set-repository-policy", "--repository-name", Repo, "--policy-text", RepositoryPolicy)).EnsureSuccess();

        // The principals, made with the IAM API by each account's root.
        var keys = new Dictionary<string, Dictionary<string, string>>();
        foreach (var cell in Cells)
        {
            var root = cell.Account == A ? rootA : rootB;
            (await Aws(server, root, "iam", "create-user", "--user-name", cell.Name)).EnsureSuccess();
            foreach (var policy in cell.ManagedPolicies)
            {
                (await Aws(server, root, "iam", "attach-user-policy", "--user-name", cell.Name, "--policy-arn", policy)).EnsureSuccess();
            }

            if (cell.Inline is { } inline)
            {
                (await Aws(server, root, "iam", "put-user-policy", "--user-name", cell.Name, "--policy-name", "inline", "--policy-document", inline)).EnsureSuccess();
            }

            keys[cell.Name] = IamTestAccess.CliKey(await Aws(server, root, "iam", "create-access-key", "--user-name", cell.Name));
        }

        // Every cell, principals in parallel; each outcome compared with the table.
        var tokens = new Dictionary<string, string?>();
        var results = await Task.WhenAll(Cells.Select(async cell =>
        {
            var who = keys[cell.Name];
            var registry = cell.Account == A ? Array.Empty<string>() : ["--registry-id", A];
            var outcomes = new Dictionary<Op, ProcessResult>
            {
                [Op.DescribeRepositories] = await Aws(server, who, ["ecr", "describe-repositories", .. registry]),
                [Op.DescribeImages] = await Aws(server, who, ["ecr", "describe-images", "--repository-name", Repo, .. registry]),
                [Op.CreateRepository] = await Aws(server, who, ["ecr", "create-repository", "--repository-name", $"{cell.Name}/new", .. registry]),
                [Op.BatchDeleteImage] = await Aws(server, who, ["ecr", "batch-delete-image", "--repository-name", Repo, "--image-ids", $"imageTag=api-{cell.Name}", .. registry]),
                [Op.GetLoginPassword] = await Aws(server, who, "ecr", "get-login-password"),
            };

            // /v2 with the token when there is one, else with no credentials at all.
            var login = outcomes[Op.GetLoginPassword];
            string[] creds = login.ExitCode == 0 ? ["--creds", "AWS:" + login.StandardOutput.Trim()] : ["--no-creds"];
            var source = $"docker://{server.HostAndPort}/{Repo}";
            var pulled = Path.Combine(server.DataDirectory, "pulled-" + cell.Name);
            outcomes[Op.Pull] = await tools.SkopeoAsync(["copy", "--src-tls-verify=false", .. SrcCreds(creds), $"{source}:v1", $"oci:{pulled}:v1"]);
            outcomes[Op.Push] = await tools.SkopeoAsync(["copy", "--dest-tls-verify=false", .. DestCreds(creds), image.SkopeoReference, $"{source}:pushed-{cell.Name}"]);
            outcomes[Op.Delete] = await tools.SkopeoAsync(["delete", "--tls-verify=false", .. creds, $"{source}:v2-{cell.Name}"]);
            lock (tokens)
            {
                tokens[cell.Name] = login.ExitCode == 0 ? login.StandardOutput.Trim() : null;
            }

            return (cell, outcomes);
        }));

        var wrong = new List<string>();
        foreach (var (cell, outcomes) in results)
        {
            foreach (var (op, result) in outcomes)
            {
                var expected = cell.Allowed.Contains(op);
                var denied = result.ExitCode != 0 && Refusal(result.StandardError);
                if (expected ? result.ExitCode != 0 : !denied)
                {
                    wrong.Add($"{cell.Name,-16} {op,-20} expected {(expected ? "allowed" : "denied")}, got exit {result.ExitCode}: {Last(result.StandardError)}");
                }
            }
        }

        Assert.True(wrong.Count == 0, "cells that disagree with AWS's decision:\n" + string.Join('\n', wrong));

        // What the allowed cells did is there: pushes landed, deletes deleted.
        using (var listing = JsonDocument.Parse((await Aws(server, rootA, "ecr", "list-images", "--repository-name", Repo)).EnsureSuccess().StandardOutput))
        {
            var tags = listing.RootElement.GetProperty("imageIds").EnumerateArray().Where(i => i.TryGetProperty("imageTag", out _)).Select(i => i.GetProperty("imageTag").GetString()!).ToHashSet();
            foreach (var cell in Cells)
            {
                Assert.Equal(cell.Allowed.Contains(Op.Push), tags.Contains($"pushed-{cell.Name}"));
                Assert.Equal(!cell.Allowed.Contains(Op.Delete), tags.Contains($"v2-{cell.Name}"));
                Assert.Equal(!cell.Allowed.Contains(Op.BatchDeleteImage), tags.Contains($"api-{cell.Name}"));
            }
        }

        // A deleted key is refused at once; a token whose user is gone pulls nothing.
        (await Aws(server, rootA, "iam", "delete-access-key", "--user-name", "a-readonly", "--access-key-id", keys["a-readonly"]["AWS_ACCESS_KEY_ID"])).EnsureSuccess();
        Assert.Contains("(UnrecognizedClientException)", (await Aws(server, keys["a-readonly"], "ecr", "describe-repositories")).StandardError, StringComparison.Ordinal);
        (await Aws(server, rootA, "iam", "detach-user-policy", "--user-name", "a-readonly", "--policy-arn", Managed + "ReadOnly")).EnsureSuccess();
        (await Aws(server, rootA, "iam", "delete-user", "--user-name", "a-readonly")).EnsureSuccess();
        var orphan = await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", "AWS:" + tokens["a-readonly"], $"docker://{server.HostAndPort}/{Repo}:v1");
        Assert.True(orphan.ExitCode != 0 && Refusal(orphan.StandardError), orphan.StandardError);

        // A token for another region does not open this registry.
        var elsewhere = (await AwsClients.CliAsync(server.BaseAddress, "eu-west-1", rootA, "ecr", "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        var wrongRegion = await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", "AWS:" + elsewhere, $"docker://{server.HostAndPort}/{Repo}:v1");
        Assert.True(wrongRegion.ExitCode != 0 && Refusal(wrongRegion.StandardError), wrongRegion.StandardError);
        (await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", "AWS:" + rootPassword, $"docker://{server.HostAndPort}/{Repo}:v1")).EnsureSuccess();

        // Twelve hours later every token has expired.
        time.Advance(TimeSpan.FromHours(12) + TimeSpan.FromSeconds(1));
        var expired = await tools.SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", "AWS:" + rootPassword, $"docker://{server.HostAndPort}/{Repo}:v1");
        Assert.True(expired.ExitCode != 0 && Refusal(expired.StandardError), expired.StandardError);
    }

    // A refusal, as each client words it: AWS's access errors, or the registry's 401/403.
    private static bool Refusal(string stderr) =>
        new[] { "AccessDenied", "not authorized", "denied", "unauthorized", "authentication required", "401", "403" }
            .Any(s => stderr.Contains(s, StringComparison.OrdinalIgnoreCase));

    private static string[] SrcCreds(string[] creds) => creds[0] == "--no-creds" ? ["--src-no-creds"] : ["--src-creds", creds[1]];

    private static string[] DestCreds(string[] creds) => creds[0] == "--no-creds" ? ["--dest-no-creds"] : ["--dest-creds", creds[1]];

    private static string Last(string text) => text.Trim().Split('\n')[^1];

    private static Task<ProcessResult> Aws(WharfTestServer server, Dictionary<string, string> who, params string[] args) =>
        AwsClients.CliAsync(server.BaseAddress, Region, who, args);

}
