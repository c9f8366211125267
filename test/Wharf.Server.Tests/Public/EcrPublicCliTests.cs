using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.Public;

/// <summary>One IAM-mode server the ECR Public CLI tests share, and its root's credentials.</summary>
public sealed class EcrPublicCliServer : IAsyncLifetime
{
    internal WharfTestServer Server { get; private set; } = null!;

    internal Dictionary<string, string> Root { get; private set; } = null!;

    /// <summary>Files the CLI reads (<c>fileb://</c>, <c>file://</c>).</summary>
    internal string Files { get; } = Directory.CreateTempSubdirectory("wharf-ecr-public-").FullName;

    public async ValueTask InitializeAsync()
    {
        Server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        Root = AwsClients.ReadCredentialsFile(Path.Combine(Server.DataDirectory, "root-credentials"));
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Files, recursive: true);
    }
}

/// <summary>
/// <c>aws ecr-public … --endpoint-url</c> in IAM mode: every operation of ECR Public with its main errors,
/// ECR's API blind to public repositories, and the permissions ECR Public's managed policies give.
/// </summary>
public sealed class EcrPublicCliTests(EcrPublicCliServer fixture) : IClassFixture<EcrPublicCliServer>
{
    // ECR Public lives in us-east-1; any region works (the registry is not regional).
    private const string Region = "us-east-1";
    private const string Account = "123456789012";

    private WharfTestServer Server => fixture.Server;

    [Fact]
    public async Task Every_operation_works_with_the_aws_cli()
    {
        var root = fixture.Root;

        // GetAuthorizationToken, and get-login-password on top of it. The password is the public
        // registries' only: the private /v2 refuses it.
        var token = (await JsonAsync(root, "get-authorization-token")).GetProperty("authorizationData");
        Assert.StartsWith("AWS:", Encoding.UTF8.GetString(Convert.FromBase64String(token.GetProperty("authorizationToken").GetString()!)), StringComparison.Ordinal);
        Assert.True(token.GetProperty("expiresAt").GetDouble() > DateTimeOffset.UtcNow.AddHours(11).ToUnixTimeSeconds());
        var password = (await RunAsync(root, "get-login-password")).EnsureSuccess().StandardOutput.Trim();
        Assert.False(string.IsNullOrEmpty(password));
        using (var privateV2 = Server.CreateClient())
        {
            privateV2.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)));
            var v2 = await privateV2.GetAsync(new Uri("/v2/", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.NotEqual(HttpStatusCode.OK, v2.StatusCode);
        }

        // CreateRepository with catalog data and tags; the registry and its default alias come with it.
        var catalog = Path.Combine(fixture.Files, "catalog.json");
        await File.WriteAllTextAsync(catalog, """{"description":"CLI app","architectures":["x86-64"],"operatingSystems":["Linux"],"aboutText":"# CLI","usageText":"run"}""", TestContext.Current.CancellationToken);
        var created = await JsonAsync(root, "create-repository", "--repository-name", "cli/app", "--catalog-data", "file://" + catalog, "--tags", "Key=team,Value=blue");
        var repository = created.GetProperty("repository");
        Assert.Equal($"arn:aws:ecr-public::{Account}:repository/cli/app", repository.GetProperty("repositoryArn").GetString());
        Assert.Equal("CLI app", created.GetProperty("catalogData").GetProperty("description").GetString());
        Assert.False(created.GetProperty("catalogData").GetProperty("marketplaceCertified").GetBoolean());
        var registry = Assert.Single((await JsonAsync(root, "describe-registries")).GetProperty("registries").EnumerateArray());
        var alias = Assert.Single(registry.GetProperty("aliases").EnumerateArray()).GetProperty("name").GetString()!;
        Assert.Equal($"{Server.PublicHostAndPort}/{alias}", registry.GetProperty("registryUri").GetString());
        Assert.Equal($"{Server.PublicHostAndPort}/{alias}/cli/app", repository.GetProperty("repositoryUri").GetString());
        await ErrorAsync("RepositoryAlreadyExistsException", root, "create-repository", "--repository-name", "cli/app");
        var tooMany = Enumerable.Range(0, 51).Select(i => $"Key=k{i},Value=v").ToArray();
        await ErrorAsync("TooManyTagsException", root, ["create-repository", "--repository-name", "cli/tagged", "--tags", .. tooMany]);

        // DescribeRepositories, in another region too: public registries are not regional.
        var described = await JsonAsync(root, "describe-repositories");
        Assert.Contains("cli/app", described.GetProperty("repositories").EnumerateArray().Select(r => r.GetProperty("repositoryName").GetString()!));
        var elsewhere = (await AwsClients.CliAsync(Server.BaseAddress, "ap-southeast-2", root, "ecr-public", "describe-repositories", "--repository-names", "cli/app")).EnsureSuccess();
        Assert.Contains("cli/app", elsewhere.StandardOutput, StringComparison.Ordinal);
        var missing = await ErrorAsync("RepositoryNotFoundException", root, "describe-repositories", "--repository-names", "cli/none");
        Assert.Contains($"The repository with name 'cli/none' does not exist in the registry with id '{Account}'", missing, StringComparison.Ordinal);

        // Catalog data of the repository and the registry. A logo that is not a PNG or JPEG is refused.
        var put = await JsonAsync(root, "put-repository-catalog-data", "--repository-name", "cli/app", "--catalog-data", "description=Changed,operatingSystems=Linux");
        Assert.Equal("Changed", put.GetProperty("catalogData").GetProperty("description").GetString());
        Assert.Equal("Changed", (await JsonAsync(root, "get-repository-catalog-data", "--repository-name", "cli/app")).GetProperty("catalogData").GetProperty("description").GetString());
        var badLogo = Path.Combine(fixture.Files, "bad-logo.json");
        await File.WriteAllTextAsync(badLogo, """{"logoImageBlob":"GIF89a, not a PNG"}""", TestContext.Current.CancellationToken);
        Assert.Contains("PNG or JPEG", await ErrorAsync("InvalidParameterException", root, "put-repository-catalog-data", "--repository-name", "cli/app", "--catalog-data", "file://" + badLogo), StringComparison.Ordinal);
        await ErrorAsync("RepositoryNotFoundException", root, "get-repository-catalog-data", "--repository-name", "cli/none");
        Assert.Equal("Example", (await JsonAsync(root, "put-registry-catalog-data", "--display-name", "Example")).GetProperty("registryCatalogData").GetProperty("displayName").GetString());
        Assert.Equal("Example", (await JsonAsync(root, "get-registry-catalog-data")).GetProperty("registryCatalogData").GetProperty("displayName").GetString());

        // The layer-upload API and PutImage, addressing the registry by its alias.
        // 1.5 MiB in one part: a body past the small cap, read only after the signing key is checked.
        var layer = RandomNumberGenerator.GetBytes(1536 * 1024);
        var layerDigest = Sha256(layer);
        var config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""u8.ToArray();
        foreach (var blob in new[] { layer, config })
        {
            var file = Path.Combine(fixture.Files, Sha256(blob)[7..]);
            await File.WriteAllBytesAsync(file, blob, TestContext.Current.CancellationToken);
            var uploadId = (await JsonAsync(root, "initiate-layer-upload", "--registry-id", alias, "--repository-name", "cli/app")).GetProperty("uploadId").GetString()!;
            var part = await JsonAsync(root, "upload-layer-part", "--registry-id", alias, "--repository-name", "cli/app", "--upload-id", uploadId,
                "--part-first-byte", "0", "--part-last-byte", (blob.Length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "--layer-part-blob", "fileb://" + file);
            Assert.Equal(blob.Length - 1, part.GetProperty("lastByteReceived").GetInt64());
            Assert.Equal(Sha256(blob), (await JsonAsync(root, "complete-layer-upload", "--registry-id", alias, "--repository-name", "cli/app", "--upload-id", uploadId, "--layer-digests", Sha256(blob)))
                .GetProperty("layerDigest").GetString());
        }

        var available = Assert.Single((await JsonAsync(root, "batch-check-layer-availability", "--repository-name", "cli/app", "--layer-digests", layerDigest)).GetProperty("layers").EnumerateArray());
        Assert.Equal("AVAILABLE", available.GetProperty("layerAvailability").GetString());
        await ErrorAsync("RegistryNotFoundException", root, "initiate-layer-upload", "--registry-id", "nosuchalias", "--repository-name", "cli/app");
        await ErrorAsync("RepositoryNotFoundException", root, "initiate-layer-upload", "--repository-name", "cli/never-created");

        var manifest = $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha256(config)}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{layerDigest}}","size":{{layer.Length}}}]}""";
        var manifestFile = Path.Combine(fixture.Files, "manifest.json");
        await File.WriteAllTextAsync(manifestFile, manifest, TestContext.Current.CancellationToken);
        var image = (await JsonAsync(root, "put-image", "--registry-id", alias, "--repository-name", "cli/app", "--image-tag", "v1", "--image-manifest", "file://" + manifestFile)).GetProperty("image");
        var digest = Sha256(Encoding.UTF8.GetBytes(manifest));
        Assert.Equal(digest, image.GetProperty("imageId").GetProperty("imageDigest").GetString());
        await ErrorAsync("RegistryNotFoundException", root, "put-image", "--registry-id", "nosuchalias", "--repository-name", "cli/app", "--image-manifest", "file://" + manifestFile);

        var detail = Assert.Single((await JsonAsync(root, "describe-images", "--repository-name", "cli/app")).GetProperty("imageDetails").EnumerateArray());
        Assert.Equal(digest, detail.GetProperty("imageDigest").GetString());
        Assert.Equal(config.Length + layer.Length, detail.GetProperty("imageSizeInBytes").GetInt64());
        Assert.False(detail.TryGetProperty("imageScanStatus", out _));
        var tag = Assert.Single((await JsonAsync(root, "describe-image-tags", "--repository-name", "cli/app")).GetProperty("imageTagDetails").EnumerateArray());
        Assert.Equal("v1", tag.GetProperty("imageTag").GetString());
        Assert.Equal(digest, tag.GetProperty("imageDetail").GetProperty("imageDigest").GetString());

        // Repository policies and resource tags.
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{Account}}:root"},"Action":"ecr-public:DescribeImages"}]}""";
        await ErrorAsync("RepositoryPolicyNotFoundException", root, "get-repository-policy", "--repository-name", "cli/app");
        await JsonAsync(root, "set-repository-policy", "--repository-name", "cli/app", "--policy-text", policy);
        Assert.Contains("ecr-public:DescribeImages", (await JsonAsync(root, "get-repository-policy", "--repository-name", "cli/app")).GetProperty("policyText").GetString(), StringComparison.Ordinal);
        await JsonAsync(root, "delete-repository-policy", "--repository-name", "cli/app");
        var arn = repository.GetProperty("repositoryArn").GetString()!;
        (await RunAsync(root, "tag-resource", "--resource-arn", arn, "--tags", "Key=stage,Value=prod")).EnsureSuccess();
        (await RunAsync(root, "untag-resource", "--resource-arn", arn, "--tag-keys", "team")).EnsureSuccess();
        var tags = (await JsonAsync(root, "list-tags-for-resource", "--resource-arn", arn)).GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("Key").GetString()!).ToArray();
        Assert.Equal(["stage"], tags);
        await ErrorAsync("InvalidParameterException", root, "list-tags-for-resource", "--resource-arn", $"arn:aws:ecr:{Region}:{Account}:repository/cli/app");

        // ECR's API does not see the public repository, and will not tag it.
        (await AwsClients.CliAsync(Server.BaseAddress, Region, root, "ecr", "create-repository", "--repository-name", "cli/private")).EnsureSuccess();
        var privateList = (await AwsClients.CliAsync(Server.BaseAddress, Region, root, "ecr", "describe-repositories")).EnsureSuccess().StandardOutput;
        Assert.Contains("cli/private", privateList, StringComparison.Ordinal);
        Assert.DoesNotContain("cli/app", privateList, StringComparison.Ordinal);
        var refused = await AwsClients.CliAsync(Server.BaseAddress, Region, root, "ecr", "tag-resource", "--resource-arn", arn, "--tags", "Key=a,Value=b");
        Assert.Contains("(InvalidParameterException)", refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("cli/private", (await JsonAsync(root, "describe-repositories")).ToString(), StringComparison.Ordinal);

        // BatchDeleteImage, then DeleteRepository (refused while not empty unless forced).
        (await RunAsync(root, "put-image", "--repository-name", "cli/app", "--image-tag", "v2", "--image-manifest", "file://" + manifestFile)).EnsureSuccess();
        var deleted = await JsonAsync(root, "batch-delete-image", "--repository-name", "cli/app", "--image-ids", "imageTag=v2", "imageTag=nope");
        Assert.Equal("v2", Assert.Single(deleted.GetProperty("imageIds").EnumerateArray()).GetProperty("imageTag").GetString());
        Assert.Equal("ImageNotFound", Assert.Single(deleted.GetProperty("failures").EnumerateArray()).GetProperty("failureCode").GetString());
        await ErrorAsync("RepositoryNotEmptyException", root, "delete-repository", "--repository-name", "cli/app");
        Assert.Equal("cli/app", (await JsonAsync(root, "delete-repository", "--repository-name", "cli/app", "--force")).GetProperty("repository").GetProperty("repositoryName").GetString());
        await ErrorAsync("RepositoryNotFoundException", root, "delete-repository", "--repository-name", "cli/app");

        // The operator's chosen alias becomes the primary one (URIs show it); both it and the default address the registry.
        (await IamTestAccess.AdminAsync(Server, "public-registry", "--account", Account, "--alias", "cli-corp")).EnsureSuccess();
        var renamed = (await JsonAsync(root, "create-repository", "--repository-name", "cli/renamed")).GetProperty("repository");
        Assert.Equal($"{Server.PublicHostAndPort}/cli-corp/cli/renamed", renamed.GetProperty("repositoryUri").GetString());
        var aliases = Assert.Single((await JsonAsync(root, "describe-registries")).GetProperty("registries").EnumerateArray()).GetProperty("aliases").EnumerateArray()
            .ToDictionary(a => a.GetProperty("name").GetString()!, a => (Primary: a.GetProperty("primaryRegistryAlias").GetBoolean(), Default: a.GetProperty("defaultRegistryAlias").GetBoolean()));
        Assert.Equal((true, false), aliases["cli-corp"]);
        Assert.Equal((false, true), aliases[alias]);
        foreach (var name in new[] { "cli-corp", alias })
        {
            await JsonAsync(root, "initiate-layer-upload", "--registry-id", name, "--repository-name", "cli/renamed");
        }
    }

    [Fact]
    public async Task Iam_users_need_ecr_public_permissions_and_read_only_describes_but_does_not_create()
    {
        var root = fixture.Root;
        await JsonAsync(root, "create-repository", "--repository-name", "iam/app");

        var nobody = await UserAsync("public-nobody");
        Assert.Contains("ecr-public:DescribeRepositories", await ErrorAsync("AccessDeniedException", nobody, "describe-repositories"), StringComparison.Ordinal);
        Assert.Contains("ecr-public:GetAuthorizationToken", await ErrorAsync("AccessDeniedException", nobody, "get-login-password"), StringComparison.Ordinal);

        // ECR's full access is not ECR Public's.
        var ecrAdmin = await UserAsync("public-ecr-admin", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess");
        Assert.Contains("ecr-public:CreateRepository", await ErrorAsync("AccessDeniedException", ecrAdmin, "create-repository", "--repository-name", "iam/ecr-admin"), StringComparison.Ordinal);

        // ECR Public's token needs sts:GetServiceBearerToken too, as in AWS.
        var tokenOnly = await UserAsync("public-token-only");
        (await IamAsync("put-user-policy", "--user-name", "public-token-only", "--policy-name", "token", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr-public:GetAuthorizationToken","Resource":"*"}]}""")).EnsureSuccess();
        Assert.Contains("sts:GetServiceBearerToken", await ErrorAsync("AccessDeniedException", tokenOnly, "get-authorization-token"), StringComparison.Ordinal);

        var reader = await UserAsync("public-reader", "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly");
        Assert.Contains("iam/app", (await JsonAsync(reader, "describe-repositories")).ToString(), StringComparison.Ordinal);
        Assert.NotEmpty((await RunAsync(reader, "get-login-password")).EnsureSuccess().StandardOutput.Trim());
        await JsonAsync(reader, "describe-image-tags", "--repository-name", "iam/app");
        await JsonAsync(reader, "get-repository-catalog-data", "--repository-name", "iam/app");
        Assert.Contains("ecr-public:CreateRepository", await ErrorAsync("AccessDeniedException", reader, "create-repository", "--repository-name", "iam/reader"), StringComparison.Ordinal);
        await ErrorAsync("AccessDeniedException", reader, "put-repository-catalog-data", "--repository-name", "iam/app", "--catalog-data", "description=x");
        await ErrorAsync("AccessDeniedException", reader, "initiate-layer-upload", "--repository-name", "iam/app");
        await ErrorAsync("AccessDeniedException", reader, "delete-repository", "--repository-name", "iam/app");

        var pusher = await UserAsync("public-pusher", "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicPowerUser");
        Assert.Equal(36, (await JsonAsync(pusher, "initiate-layer-upload", "--repository-name", "iam/app")).GetProperty("uploadId").GetString()!.Length);
        await ErrorAsync("AccessDeniedException", pusher, "delete-repository", "--repository-name", "iam/app");

        var admin = await UserAsync("public-admin", "arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicFullAccess");
        await JsonAsync(admin, "create-repository", "--repository-name", "iam/admin");
        await JsonAsync(admin, "delete-repository", "--repository-name", "iam/admin");
    }

    private Task<ProcessResult> IamAsync(params string[] args) => AwsClients.CliAsync(Server.BaseAddress, Region, fixture.Root, ["iam", .. args]);

    /// <summary>An IAM user with an access key, and the managed policies given attached.</summary>
    private async Task<Dictionary<string, string>> UserAsync(string name, params string[] policies)
    {
        (await IamAsync("create-user", "--user-name", name)).EnsureSuccess();
        foreach (var policy in policies)
        {
            (await IamAsync("attach-user-policy", "--user-name", name, "--policy-arn", policy)).EnsureSuccess();
        }

        return IamTestAccess.CliKey(await IamAsync("create-access-key", "--user-name", name));
    }

    private Task<ProcessResult> RunAsync(Dictionary<string, string> credentials, params string[] args) =>
        AwsClients.CliAsync(Server.BaseAddress, Region, credentials, ["ecr-public", .. args]);

    private async Task<JsonElement> JsonAsync(Dictionary<string, string> credentials, params string[] args)
    {
        var result = (await RunAsync(credentials, args)).EnsureSuccess();
        using var document = JsonDocument.Parse(result.StandardOutput.Length == 0 ? "{}" : result.StandardOutput);
        return document.RootElement.Clone();
    }

    /// <summary>The command failed with <paramref name="errorType"/>; its message.</summary>
    private async Task<string> ErrorAsync(string errorType, Dictionary<string, string> credentials, params string[] args)
    {
        var result = await RunAsync(credentials, args);
        Assert.True(result.ExitCode != 0, $"{string.Join(' ', args)} succeeded: {result.StandardOutput}");
        Assert.Contains($"({errorType})", result.StandardError, StringComparison.Ordinal);
        return result.StandardError;
    }

    private static string Sha256(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
