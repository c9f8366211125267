using System.Net;
using System.Text.Json;
using Wharf.Server.Tests.DataPlane;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Testing;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>
/// ECR's repository creation templates through the AWS CLI, and what they do: a push with skopeo to a
/// missing repository creates it through the matching <c>CREATE_ON_PUSH</c> template with everything the
/// template carries, checked with the CLI; templates change nothing that exists; IAM guards them.
/// </summary>
public sealed class CreationTemplateTests
{
    private const string Region = "us-east-1";
    private const string Account = "123456789012";
    private const string RolePolicy = """{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}""";
    private const string KeepTwo = """{"rules":[{"rulePriority":1,"description":"keep two","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}""";
    private const string ExpireUntagged = """{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}""";

    [Fact]
    public async Task Cli_creates_describes_updates_and_deletes_templates_as_ecr()
    {
        await using var server = await WharfTestServer.StartAsync();
        var kmsKey = $"arn:aws:kms:{Region}:{Account}:key/0a1b2c3d-1111-2222-3333-444455556666";
        var created = await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", "prod",
            "--description", "production", "--applied-for", "CREATE_ON_PUSH", "REPLICATION",
            "--encryption-configuration", $$"""{"encryptionType":"KMS","kmsKey":"{{kmsKey}}"}""",
            "--resource-tags", "Key=team,Value=a", "Key=cost,Value=b",
            "--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest",
            "--repository-policy", RolePolicy, "--lifecycle-policy", KeepTwo,
            "--custom-role-arn", $"arn:aws:iam::{Account}:role/ecr-templates");
        Assert.Equal(Account, created.GetProperty("registryId").GetString());
        var template = created.GetProperty("repositoryCreationTemplate");
        Assert.Equal("prod", template.GetProperty("prefix").GetString());
        Assert.Equal("production", template.GetProperty("description").GetString());
        Assert.Equal(["CREATE_ON_PUSH", "REPLICATION"], Strings(template.GetProperty("appliedFor")));
        Assert.Equal(("KMS", kmsKey), (template.GetProperty("encryptionConfiguration").GetProperty("encryptionType").GetString(), template.GetProperty("encryptionConfiguration").GetProperty("kmsKey").GetString()));
        Assert.Equal(["cost=b", "team=a"], template.GetProperty("resourceTags").EnumerateArray().Select(t => $"{t.GetProperty("Key").GetString()}={t.GetProperty("Value").GetString()}"));
        Assert.Equal("IMMUTABLE_WITH_EXCLUSION", template.GetProperty("imageTagMutability").GetString());
        Assert.Equal("latest", Assert.Single(template.GetProperty("imageTagMutabilityExclusionFilters").EnumerateArray()).GetProperty("filter").GetString());
        Assert.Equal((RolePolicy, KeepTwo), (template.GetProperty("repositoryPolicy").GetString(), template.GetProperty("lifecyclePolicy").GetString()));
        Assert.Equal($"arn:aws:iam::{Account}:role/ecr-templates", template.GetProperty("customRoleArn").GetString());
        Assert.Equal(template.GetProperty("createdAt").GetDouble(), template.GetProperty("updatedAt").GetDouble());

        // A template without the optional members answers ECR's defaults: AES256, mutable, no tags.
        var root = (await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", "ROOT", "--applied-for", "PULL_THROUGH_CACHE"))
            .GetProperty("repositoryCreationTemplate");
        Assert.Equal("AES256", root.GetProperty("encryptionConfiguration").GetProperty("encryptionType").GetString());
        Assert.Equal("MUTABLE", root.GetProperty("imageTagMutability").GetString());
        Assert.Empty(root.GetProperty("resourceTags").EnumerateArray());
        Assert.False(root.TryGetProperty("lifecyclePolicy", out _));

        // prod/ is prod (the trailing slash is implied).
        await CliFailsAsync(server, "TemplateAlreadyExistsException", "CreateRepositoryCreationTemplate",
            "The repository creation template with prefix 'prod/' already exists in the registry with id '123456789012'",
            "ecr", "create-repository-creation-template", "--prefix", "prod/", "--applied-for", "REPLICATION");

        var all = await CliJsonAsync(server, "ecr", "describe-repository-creation-templates");
        Assert.Equal(Account, all.GetProperty("registryId").GetString());
        Assert.Equal(["ROOT", "prod"], Prefixes(all));
        Assert.Equal(["prod"], Prefixes(await CliJsonAsync(server, "ecr", "describe-repository-creation-templates", "--prefixes", "prod/", "missing")));
        Assert.Empty(Prefixes(await CliJsonAsync(server, "ecr", "describe-repository-creation-templates", "--prefixes", "missing")));

        // An update changes what it names and keeps the rest.
        var updated = (await CliJsonAsync(server, "ecr", "update-repository-creation-template", "--prefix", "prod",
            "--description", "changed", "--lifecycle-policy", ExpireUntagged, "--applied-for", "CREATE_ON_PUSH")).GetProperty("repositoryCreationTemplate");
        Assert.Equal(("changed", ExpireUntagged), (updated.GetProperty("description").GetString(), updated.GetProperty("lifecyclePolicy").GetString()));
        Assert.Equal(["CREATE_ON_PUSH"], Strings(updated.GetProperty("appliedFor")));
        Assert.Equal(("IMMUTABLE_WITH_EXCLUSION", RolePolicy), (updated.GetProperty("imageTagMutability").GetString(), updated.GetProperty("repositoryPolicy").GetString()));
        Assert.Equal(template.GetProperty("createdAt").GetDouble(), updated.GetProperty("createdAt").GetDouble());
        Assert.True(updated.GetProperty("updatedAt").GetDouble() >= updated.GetProperty("createdAt").GetDouble());
        var described = Assert.Single((await CliJsonAsync(server, "ecr", "describe-repository-creation-templates", "--prefixes", "prod"))
            .GetProperty("repositoryCreationTemplates").EnumerateArray());
        Assert.Equal("changed", described.GetProperty("description").GetString());

        await CliFailsAsync(server, "TemplateNotFoundException", "UpdateRepositoryCreationTemplate",
            "The repository creation template with prefix 'nope' does not exist in the registry with id '123456789012'",
            "ecr", "update-repository-creation-template", "--prefix", "nope", "--description", "x");
        await CliFailsAsync(server, "TemplateNotFoundException", "DeleteRepositoryCreationTemplate",
            "The repository creation template with prefix 'nope' does not exist",
            "ecr", "delete-repository-creation-template", "--prefix", "nope");

        var deleted = (await CliJsonAsync(server, "ecr", "delete-repository-creation-template", "--prefix", "prod")).GetProperty("repositoryCreationTemplate");
        Assert.Equal(("prod", "changed"), (deleted.GetProperty("prefix").GetString(), deleted.GetProperty("description").GetString()));
        Assert.Equal(["ROOT"], Prefixes(await CliJsonAsync(server, "ecr", "describe-repository-creation-templates")));
    }

    [Fact]
    public async Task Cli_gets_ecrs_validation_errors_for_what_a_template_carries()
    {
        await using var server = await WharfTestServer.StartAsync();
        string[] create = ["ecr", "create-repository-creation-template", "--applied-for", "REPLICATION"];
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'prefix' failed to satisfy constraint: 'must satisfy regular expression",
            [.. create, "--prefix", "Bad_Prefix"]);
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'appliedFor.1.member' failed to satisfy constraint: 'Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]'",
            "ecr", "create-repository-creation-template", "--prefix", "team", "--applied-for", "ON_PULL");
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ",
            [.. create, "--prefix", "team", "--lifecycle-policy", """{"rules":[]}"""]);
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided'",
            [.. create, "--prefix", "team", "--repository-policy", """{"Statement":[{"Effect":"Maybe"}]}"""]);
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to satisfy constraint: 'must satisfy regular expression",
            [.. create, "--prefix", "team", "--encryption-configuration", "encryptionType=KMS,kmsKey=alias/mine"]);
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'imageTagMutabilityExclusionFilters must be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION'",
            [.. create, "--prefix", "team", "--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION"]);
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'must be the ARN of an IAM role in the account of the registry (123456789012)'",
            [.. create, "--prefix", "team", "--custom-role-arn", "arn:aws:iam::999999999999:role/elsewhere"]);
        await CliFailsAsync(server, "InvalidParameterException", "CreateRepositoryCreationTemplate",
            "Invalid parameter at 'resourceTags' failed to satisfy constraint: 'Tag key 'aws:owner' is invalid: the aws: prefix is reserved for AWS use'",
            [.. create, "--prefix", "team", "--resource-tags", "Key=aws:owner,Value=x"]);

        // Nothing refused was stored.
        Assert.Empty(Prefixes(await CliJsonAsync(server, "ecr", "describe-repository-creation-templates")));
    }

    [Fact]
    public async Task Cli_pages_templates_in_prefix_order()
    {
        await using var server = await WharfTestServer.StartAsync();
        string[] prefixes = ["team-c", "ROOT", "team-a/x", "team-b", "team-a"];
        foreach (var prefix in prefixes)
        {
            await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", prefix, "--applied-for", "REPLICATION");
        }

        // --page-size makes the CLI follow nextToken one template at a time.
        var paged = await CliJsonAsync(server, "ecr", "describe-repository-creation-templates", "--page-size", "1");
        Assert.Equal(prefixes.Order(StringComparer.Ordinal), Prefixes(paged));

        var first = await CliJsonAsync(server, "ecr", "describe-repository-creation-templates", "--page-size", "2", "--max-items", "2");
        Assert.Equal(["ROOT", "team-a"], Prefixes(first));
        var rest = await CliJsonAsync(server, "ecr", "describe-repository-creation-templates", "--page-size", "2",
            "--starting-token", first.GetProperty("NextToken").GetString()!);
        Assert.Equal(["team-a/x", "team-b", "team-c"], Prefixes(rest));
    }

    [Fact]
    public async Task Skopeo_push_creates_the_repository_through_the_create_on_push_template_and_templates_change_nothing_that_exists()
    {
        // Registry:CreateOnPush=false is ECR's rule: only a CREATE_ON_PUSH template creates on push.
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Registry:CreateOnPush"] = "false" });
        await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", "ROOT", "--applied-for", "REPLICATION", "PULL_THROUGH_CACHE");
        await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", "apps", "--applied-for", "CREATE_ON_PUSH",
            "--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest",
            "--encryption-configuration", "encryptionType=KMS", "--resource-tags", "Key=team,Value=apps",
            "--repository-policy", RolePolicy, "--lifecycle-policy", KeepTwo);
        await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", "apps/legacy", "--applied-for", "CREATE_ON_PUSH");

        var tools = ContainerTools.Instance;
        var image = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout"), "v1", [2048, 512], 5, Oci.Ct);
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/apps/web:v1")).EnsureSuccess();

        var web = await RepositoryAsync(server, "apps/web");
        Assert.Equal("IMMUTABLE_WITH_EXCLUSION", web.GetProperty("imageTagMutability").GetString());
        Assert.Equal("latest", Assert.Single(web.GetProperty("imageTagMutabilityExclusionFilters").EnumerateArray()).GetProperty("filter").GetString());
        Assert.Equal("KMS", web.GetProperty("encryptionConfiguration").GetProperty("encryptionType").GetString());
        Assert.Equal(KeepTwo, (await CliJsonAsync(server, "ecr", "get-lifecycle-policy", "--repository-name", "apps/web")).GetProperty("lifecyclePolicyText").GetString());
        Assert.Equal(RolePolicy, (await CliJsonAsync(server, "ecr", "get-repository-policy", "--repository-name", "apps/web")).GetProperty("policyText").GetString());
        var tags = await CliJsonAsync(server, "ecr", "list-tags-for-resource", "--resource-arn", web.GetProperty("repositoryArn").GetString()!);
        Assert.Equal("team=apps", string.Join(",", tags.GetProperty("tags").EnumerateArray().Select(t => $"{t.GetProperty("Key").GetString()}={t.GetProperty("Value").GetString()}")));

        // The template's mutability is in force: v1 cannot be overwritten, latest can.
        var other = await OciLayout.WriteImageAsync(Path.Combine(server.DataDirectory, "layout2"), "v2", [1024], 6, Oci.Ct);
        var overwrite = await tools.SkopeoAsync("copy", "--dest-tls-verify=false", other.SkopeoReference, $"docker://{server.HostAndPort}/apps/web:v1");
        Assert.NotEqual(0, overwrite.ExitCode);
        Assert.Contains("cannot be overwritten because the repository is immutable", overwrite.StandardError, StringComparison.Ordinal);
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/apps/web:latest")).EnsureSuccess();
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", other.SkopeoReference, $"docker://{server.HostAndPort}/apps/web:latest")).EnsureSuccess();

        // The longer prefix wins: apps/legacy/* gets its own (default) settings and no policies.
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/apps/legacy/old:v1")).EnsureSuccess();
        Assert.Equal("MUTABLE", (await RepositoryAsync(server, "apps/legacy/old")).GetProperty("imageTagMutability").GetString());
        await CliFailsAsync(server, "LifecyclePolicyNotFoundException", "GetLifecyclePolicy", null, "ecr", "get-lifecycle-policy", "--repository-name", "apps/legacy/old");

        // No CREATE_ON_PUSH template covers other/web (ROOT is for replication and pull through cache only): NAME_UNKNOWN.
        var refused = await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/other/web:v1");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("The repository with name 'other/web' does not exist in the registry with id '123456789012'", refused.StandardError, StringComparison.Ordinal);
        using (var client = server.CreateClient())
        {
            using var upload = await client.PostAsync("/v2/other/web/blobs/uploads/", null, Oci.Ct);
            await Oci.AssertErrorAsync(upload, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        }

        // Changing the template later leaves apps/web as it was made; a new repository gets the change.
        await CliJsonAsync(server, "ecr", "update-repository-creation-template", "--prefix", "apps",
            "--image-tag-mutability", "MUTABLE", "--lifecycle-policy", ExpireUntagged, "--repository-policy", "", "--resource-tags", "Key=team,Value=changed");
        var unchanged = await RepositoryAsync(server, "apps/web");
        Assert.Equal("IMMUTABLE_WITH_EXCLUSION", unchanged.GetProperty("imageTagMutability").GetString());
        Assert.Equal(KeepTwo, (await CliJsonAsync(server, "ecr", "get-lifecycle-policy", "--repository-name", "apps/web")).GetProperty("lifecyclePolicyText").GetString());
        Assert.Equal(RolePolicy, (await CliJsonAsync(server, "ecr", "get-repository-policy", "--repository-name", "apps/web")).GetProperty("policyText").GetString());
        (await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/apps/api:v1")).EnsureSuccess();
        Assert.Equal("MUTABLE", (await RepositoryAsync(server, "apps/api")).GetProperty("imageTagMutability").GetString());
        Assert.Equal(ExpireUntagged, (await CliJsonAsync(server, "ecr", "get-lifecycle-policy", "--repository-name", "apps/api")).GetProperty("lifecyclePolicyText").GetString());
        await CliFailsAsync(server, "RepositoryPolicyNotFoundException", "GetRepositoryPolicy", null, "ecr", "get-repository-policy", "--repository-name", "apps/api");

        // Deleting it leaves them too; apps/* now falls back to nothing (ROOT is not for pushes): NAME_UNKNOWN.
        await CliJsonAsync(server, "ecr", "delete-repository-creation-template", "--prefix", "apps");
        Assert.Equal("IMMUTABLE_WITH_EXCLUSION", (await RepositoryAsync(server, "apps/web")).GetProperty("imageTagMutability").GetString());
        var gone = await tools.SkopeoAsync("copy", "--dest-tls-verify=false", image.SkopeoReference, $"docker://{server.HostAndPort}/apps/new:v1");
        Assert.NotEqual(0, gone.ExitCode);
    }

    [Fact]
    public async Task With_create_on_push_on_a_push_without_a_template_creates_with_ecrs_defaults()
    {
        await using var server = await WharfTestServer.StartAsync();
        await CliJsonAsync(server, "ecr", "create-repository-creation-template", "--prefix", "ROOT", "--applied-for", "REPLICATION",
            "--image-tag-mutability", "IMMUTABLE", "--lifecycle-policy", KeepTwo);
        using var client = server.CreateClient();
        await Oci.PushImageAsync(client, "plain/app", "v1");
        var repository = await RepositoryAsync(server, "plain/app");
        Assert.Equal("MUTABLE", repository.GetProperty("imageTagMutability").GetString());
        Assert.Equal("AES256", repository.GetProperty("encryptionConfiguration").GetProperty("encryptionType").GetString());
        await CliFailsAsync(server, "LifecyclePolicyNotFoundException", "GetLifecyclePolicy", null, "ecr", "get-lifecycle-policy", "--repository-name", "plain/app");
    }

    [Fact]
    public async Task Replication_creates_through_the_replication_template_once_however_many_callers_race()
    {
        // RepositoryCreator is what replication calls for a destination repository that is missing; here in
        // another region of the account, whose own templates apply (set there with the CLI).
        await using var server = await WharfTestServer.StartOnPostgresAsync();
        const string Destination = "eu-west-1";
        (await AwsClients.CliAsync(server.BaseAddress, Destination, "ecr", "create-repository-creation-template", "--prefix", "mirror",
            "--applied-for", "REPLICATION", "--image-tag-mutability", "IMMUTABLE", "--resource-tags", "Key=copy,Value=yes",
            "--repository-policy", RolePolicy, "--lifecycle-policy", KeepTwo)).EnsureSuccess();
        (await AwsClients.CliAsync(server.BaseAddress, Destination, "ecr", "create-repository-creation-template", "--prefix", "ROOT",
            "--applied-for", "CREATE_ON_PUSH", "--image-tag-mutability", "IMMUTABLE")).EnsureSuccess();
        var creator = server.GetService<Wharf.Core.Repositories.RepositoryCreator>();
        var registry = new Wharf.Core.Primitives.RegistryKey(Wharf.Core.Primitives.AccountId.Parse(Account), Destination);
        var key = new Wharf.Core.Primitives.RepositoryKey(registry, Wharf.Core.Primitives.RepositoryName.Parse("mirror/app"));

        var made = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => creator.GetOrCreateAsync(key, Wharf.Core.Repositories.CreationPurpose.Replication, Oci.Ct)));
        Assert.Single(made.Select(r => r.Id).Distinct());
        var repository = (await CliJsonInAsync(server, Destination, "ecr", "describe-repositories", "--repository-names", "mirror/app")).GetProperty("repositories")[0];
        Assert.Equal("IMMUTABLE", repository.GetProperty("imageTagMutability").GetString());
        Assert.Equal(KeepTwo, (await CliJsonInAsync(server, Destination, "ecr", "get-lifecycle-policy", "--repository-name", "mirror/app")).GetProperty("lifecyclePolicyText").GetString());
        Assert.Equal(RolePolicy, (await CliJsonInAsync(server, Destination, "ecr", "get-repository-policy", "--repository-name", "mirror/app")).GetProperty("policyText").GetString());
        var tags = (await CliJsonInAsync(server, Destination, "ecr", "list-tags-for-resource", "--resource-arn", repository.GetProperty("repositoryArn").GetString()!)).GetProperty("tags");
        Assert.Equal("copy=yes", string.Join(",", tags.EnumerateArray().Select(t => $"{t.GetProperty("Key").GetString()}={t.GetProperty("Value").GetString()}")));

        // Outside mirror/ no REPLICATION template applies (ROOT is for pushes only): ECR's defaults.
        var other = key with { Name = Wharf.Core.Primitives.RepositoryName.Parse("other/app") };
        Assert.Equal(Wharf.Core.Metadata.RepositorySettings.Default, (await creator.GetOrCreateAsync(other, Wharf.Core.Repositories.CreationPurpose.Replication, Oci.Ct)).Settings);

        // A repository that exists is returned as it is, whatever the template says now.
        (await AwsClients.CliAsync(server.BaseAddress, Destination, "ecr", "create-repository", "--repository-name", "mirror/existing")).EnsureSuccess();
        var existing = await creator.GetOrCreateAsync(key with { Name = Wharf.Core.Primitives.RepositoryName.Parse("mirror/existing") }, Wharf.Core.Repositories.CreationPurpose.Replication, Oci.Ct);
        Assert.Equal(Wharf.Core.Metadata.TagMutability.Mutable, existing.Settings.Mutability);
        Assert.Null(existing.Policy);

        // The default region has no templates at all.
        Assert.Empty(Prefixes(await CliJsonAsync(server, "ecr", "describe-repository-creation-templates")));
    }

    [Fact]
    public async Task Template_operations_need_their_iam_actions()
    {
        await using var server = await WharfTestServer.StartAsync(new Dictionary<string, string?> { ["Auth"] = "Iam" });
        var root = AwsClients.ReadCredentialsFile(Path.Combine(server.DataDirectory, "root-credentials"));
        (await IamTestAccess.AdminAsync(server, "create-user", "--account", Account, "pat")).EnsureSuccess();
        (await IamTestAccess.AdminAsync(server, "attach-user-policy", "--account", Account, "--user", "pat", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")).EnsureSuccess();
        var pat = IamTestAccess.AdminKey(await IamTestAccess.AdminAsync(server, "create-access-key", "--account", Account, "--user", "pat"));

        var denied = await AwsClients.CliAsync(server.BaseAddress, Region, pat, "ecr", "create-repository-creation-template", "--prefix", "team", "--applied-for", "CREATE_ON_PUSH");
        Assert.Contains("(AccessDeniedException)", denied.StandardError, StringComparison.Ordinal);
        Assert.Contains($"User: arn:aws:iam::{Account}:user/pat is not authorized to perform: ecr:CreateRepositoryCreationTemplate on resource: *", denied.StandardError, StringComparison.Ordinal);
        foreach (var (args, action) in new (string[], string)[]
        {
            (["describe-repository-creation-templates"], "ecr:DescribeRepositoryCreationTemplates"),
            (["update-repository-creation-template", "--prefix", "team", "--description", "x"], "ecr:UpdateRepositoryCreationTemplate"),
            (["delete-repository-creation-template", "--prefix", "team"], "ecr:DeleteRepositoryCreationTemplate"),
        })
        {
            var result = await AwsClients.CliAsync(server.BaseAddress, Region, pat, ["ecr", .. args]);
            Assert.Contains($"is not authorized to perform: {action} on resource: *", result.StandardError, StringComparison.Ordinal);
        }

        // The root may; a policy granting only Describe lets pat read but still not change.
        (await AwsClients.CliAsync(server.BaseAddress, Region, root, "ecr", "create-repository-creation-template", "--prefix", "team", "--applied-for", "CREATE_ON_PUSH")).EnsureSuccess();
        (await IamTestAccess.AdminAsync(server, "put-user-policy", "--account", Account, "--user", "pat", "--policy-name", "read-templates", "--policy-document",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositoryCreationTemplates","Resource":"*"}]}""")).EnsureSuccess();
        var read = (await AwsClients.CliAsync(server.BaseAddress, Region, pat, "ecr", "describe-repository-creation-templates")).EnsureSuccess();
        Assert.Equal(["team"], Prefixes(JsonDocument.Parse(read.StandardOutput).RootElement));
        var stillDenied = await AwsClients.CliAsync(server.BaseAddress, Region, pat, "ecr", "delete-repository-creation-template", "--prefix", "team");
        Assert.Contains("ecr:DeleteRepositoryCreationTemplate", stillDenied.StandardError, StringComparison.Ordinal);
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static string[] Prefixes(JsonElement describe) =>
        describe.GetProperty("repositoryCreationTemplates").EnumerateArray().Select(t => t.GetProperty("prefix").GetString()!).ToArray();

    private static async Task<JsonElement> RepositoryAsync(WharfTestServer server, string name) =>
        (await CliJsonAsync(server, "ecr", "describe-repositories", "--repository-names", name)).GetProperty("repositories")[0];

    private static Task<JsonElement> CliJsonAsync(WharfTestServer server, params string[] args) => CliJsonInAsync(server, Region, args);

    private static async Task<JsonElement> CliJsonInAsync(WharfTestServer server, string region, params string[] args)
    {
        var result = (await AwsClients.CliAsync(server.BaseAddress, region, args)).EnsureSuccess();
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.Clone();
    }

    /// <summary>Runs the CLI and asserts it failed with the AWS error <paramref name="type"/> (and a message containing <paramref name="message"/>).</summary>
    private static async Task CliFailsAsync(WharfTestServer server, string type, string operation, string? message, params string[] args)
    {
        var result = await AwsClients.CliAsync(server.BaseAddress, Region, args);
        Assert.Equal(255, result.ExitCode);
        Assert.Contains($"An error occurred ({type}) when calling the {operation} operation: {message}", result.StandardError, StringComparison.Ordinal);
    }
}
