using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Identity;

/// <summary>
/// <c>docker login</c> and <c>buildah login</c> with <c>aws ecr get-login-password</c>, as ECR's guide
/// has them: the token is accepted, a wrong one refused, and a token kept in a docker credential store
/// is what skopeo then pulls with. (No Docker engine runs here: <c>docker login</c> checks the
/// credentials against the registry itself; pushing with docker needs an engine.)
/// </summary>
public sealed class RegistryLoginTests
{
    private const string Region = "us-east-1";

    [Fact]
    public async Task Docker_login_keeps_the_token_in_a_credential_store_that_skopeo_pulls_with()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        var docker = Requires.Tool("docker");
        var aws = Requires.Tool("aws");
        await TestImages.BusyboxArchiveAsync();
        var tools = ContainerTools.Instance;
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "create-repository", "--repository-name", "login/app")).EnsureSuccess();

        // A docker credential helper backed by a file: docker login calls it to store the token.
        var bin = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "bin")).FullName;
        var store = Path.Combine(server.DataDirectory, "store.json");
        var helper = Path.Combine(bin, "docker-credential-wharftest");
        await File.WriteAllTextAsync(helper, $"#!/bin/sh\ncase \"$1\" in\n  store) cat > '{store}' ;;\n  get) cat '{store}' 2>/dev/null || {{ echo 'credentials not found in native keychain'; exit 1; }} ;;\n  erase) rm -f '{store}' ;;\n  list) echo '{{}}' ;;\nesac\n", TestContext.Current.CancellationToken);
        (await ProcessRunner.RunAsync("chmod", ["0700", helper], TimeSpan.FromSeconds(30))).EnsureSuccess();
        var config = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "docker")).FullName;
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), """{"credsStore":"wharftest"}""", TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string>(root)
        {
            ["DOCKER_CONFIG"] = config,
            ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["AWS_DEFAULT_REGION"] = Region,
        };

        var endpoint = server.BaseAddress.ToString().TrimEnd('/');
        var login = await ProcessRunner.RunAsync(
            "bash",
            ["-c", $"'{aws}' ecr get-login-password --endpoint-url {endpoint} --region {Region} | '{docker}' login --username AWS --password-stdin {server.HostAndPort}"],
            TimeSpan.FromMinutes(2),
            environment);
        login.EnsureSuccess();
        Assert.Contains("Login Succeeded", login.StandardOutput, StringComparison.Ordinal);
        var stored = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(store, TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("AWS", stored.GetProperty("Username").GetString());
        Assert.DoesNotContain("auth\":", await File.ReadAllTextAsync(Path.Combine(config, "config.json"), TestContext.Current.CancellationToken), StringComparison.Ordinal);

        // A wrong password is refused by the registry.
        var refused = await ProcessRunner.RunAsync(
            "bash",
            ["-c", $"echo not-a-token | '{docker}' login --username AWS --password-stdin {server.HostAndPort}"],
            TimeSpan.FromMinutes(2),
            new Dictionary<string, string>(environment) { ["DOCKER_CONFIG"] = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "docker-bad")).FullName });
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("401", refused.StandardError, StringComparison.Ordinal);

        // Push with the token from the store (buildah, logged in from the helper's secret), pull with skopeo reading the helper.
        var secret = stored.GetProperty("Secret").GetString()!;
        var authfile = Path.Combine(server.DataDirectory, "buildah-auth.json");
        var buildahLogin = await ProcessRunner.RunAsync(
            "bash",
            ["-c", $"'{aws}' ecr get-login-password --endpoint-url {endpoint} --region {Region} | '{Requires.Tool("buildah")}' login --authfile '{authfile}' --tls-verify=false --username AWS --password-stdin {server.HostAndPort}"],
            TimeSpan.FromMinutes(2),
            environment);
        buildahLogin.EnsureSuccess();
        (await tools.BuildahAsync("push", "--authfile", authfile, "--tls-verify=false", TestImages.BusyboxLocalName, $"docker://{server.HostAndPort}/login/app:1")).EnsureSuccess();
        var helpers = Path.Combine(server.DataDirectory, "helpers.json");
        await File.WriteAllTextAsync(helpers, "{\"credHelpers\":{\"" + server.HostAndPort + "\":\"wharftest\"}}", TestContext.Current.CancellationToken);
        var pulled = await tools.SkopeoAsync(
            new Dictionary<string, string> { ["PATH"] = environment["PATH"] },
            "inspect", "--tls-verify=false", "--authfile", helpers, "--format", "{{.Digest}}", $"docker://{server.HostAndPort}/login/app:1");
        pulled.EnsureSuccess();
        Assert.StartsWith("sha256:", pulled.StandardOutput.Trim(), StringComparison.Ordinal);
        using (var client = server.CreateClient())
        {
            client.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("AWS:" + secret)));
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/v2/login/app/tags/list", TestContext.Current.CancellationToken)).StatusCode);
        }

        // Erased from the store, the same pull is refused.
        File.Delete(store);
        var anonymous = await tools.SkopeoAsync(
            new Dictionary<string, string> { ["PATH"] = environment["PATH"] },
            "inspect", "--tls-verify=false", "--authfile", helpers, $"docker://{server.HostAndPort}/login/app:1");
        Assert.NotEqual(0, anonymous.ExitCode);
    }
}
