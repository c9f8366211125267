using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrOperations
{
    private async Task<JsonObject> CreateRepositoryAsync(EcrCall call)
    {
        var key = call.Repository;
        var (settings, tags) = RepositoryRequests.ReadCreate(call.Input);
        var repository = await repositories.CreateAsync(call.Caller, key, settings, tags, call.Aborted);
        return new JsonObject { ["repository"] = RepositoryShape(call, repository) };
    }

    private async Task<JsonObject> DescribeRepositoriesAsync(EcrCall call)
    {
        var names = call.Strings("repositoryNames");
        if (names.Count > 0)
        {
            RefusePagingWith(call, "repositoryNames");
            var parsed = names.Select((n, i) => RepositoryName.TryParse(n, out var name)
                ? name
                : throw EcrCall.Invalid($"repositoryNames.{i + 1}.member", $"must satisfy regular expression '{RepositoryName.PatternText}'")).ToList();
            var found = await repositories.DescribeAsync(call.Caller, call.Registry, parsed, call.Aborted);
            return new JsonObject { ["repositories"] = Json.Array(found, r => RepositoryShape(call, r)) };
        }

        var limit = PageSize(call);
        var after = await CursorAsync(call, string.Empty);
        var page = await repositories.ListAsync(call.Caller, call.Registry, after, limit + 1, call.Aborted);
        var result = new JsonObject { ["repositories"] = Json.Array(page.Take(limit), r => RepositoryShape(call, r)) };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, string.Empty, page[limit - 1].Key.Name.Value);
        }

        return result;
    }

    private async Task<JsonObject> DeleteRepositoryAsync(EcrCall call)
    {
        var deleted = await repositories.DeleteAsync(call.Caller, call.Repository, call.Bool("force"), call.Aborted);
        return new JsonObject { ["repository"] = RepositoryShape(call, deleted) };
    }

    private async Task<JsonObject> PutImageTagMutabilityAsync(EcrCall call)
    {
        var (mutability, exclusions) = RepositoryRequests.ReadMutability(call.Input, null);
        var repository = await repositories.PutTagMutabilityAsync(call.Caller, call.Repository, mutability, exclusions, call.Aborted);
        var result = new JsonObject
        {
            ["registryId"] = repository.Key.Registry.Account.Value,
            ["repositoryName"] = repository.Key.Name.Value,
            ["imageTagMutability"] = TagMutabilityNames.ToName(repository.Settings.Mutability),
        };
        AddExclusions(result, repository.Settings);
        return result;
    }

    private async Task<JsonObject> PutImageScanningConfigurationAsync(EcrCall call)
    {
        var scanOnPush = call.Get("imageScanningConfiguration") is { } scanning
            && scanning.TryGetProperty("scanOnPush", out var flag) && flag.ValueKind == JsonValueKind.True;
        var repository = await repositories.PutScanOnPushAsync(call.Caller, call.Repository, scanOnPush, call.Aborted);
        return new JsonObject
        {
            ["registryId"] = repository.Key.Registry.Account.Value,
            ["repositoryName"] = repository.Key.Name.Value,
            ["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = repository.Settings.ScanOnPush },
        };
    }

    private async Task<JsonObject> DescribeRegistryAsync(EcrCall call)
    {
        // DescribeRegistry has no resource type: IAM evaluates it on "*".
        var configuration = await replication.DescribeAsync(call.Caller, call.Registry, call.Aborted);
        return new JsonObject
        {
            ["registryId"] = call.Registry.Account.Value,
            ["replicationConfiguration"] = Core.Replication.ReplicationConfigurationParser.ToWire(configuration),
        };
    }

    private async Task<JsonObject> SetRepositoryPolicyAsync(EcrCall call) =>
        PolicyShape(await repositories.SetPolicyAsync(call.Caller, call.Repository, call.String("policyText")!, call.Aborted));

    private async Task<JsonObject> GetRepositoryPolicyAsync(EcrCall call) =>
        PolicyShape(await repositories.GetPolicyAsync(call.Caller, call.Repository, call.Aborted));

    private async Task<JsonObject> DeleteRepositoryPolicyAsync(EcrCall call) =>
        PolicyShape(await repositories.DeletePolicyAsync(call.Caller, call.Repository, call.Aborted));

    private async Task<JsonObject> PutRegistryPolicyAsync(EcrCall call)
    {
        var text = call.String("policyText")!;
        await repositories.PutRegistryPolicyAsync(call.Caller, call.Registry, text, call.Aborted);
        return new JsonObject { ["registryId"] = call.Registry.Account.Value, ["policyText"] = text };
    }

    private async Task<JsonObject> GetRegistryPolicyAsync(EcrCall call) =>
        new() { ["registryId"] = call.Registry.Account.Value, ["policyText"] = await repositories.GetRegistryPolicyAsync(call.Caller, call.Registry, call.Aborted) };

    private async Task<JsonObject> DeleteRegistryPolicyAsync(EcrCall call) =>
        new() { ["registryId"] = call.Registry.Account.Value, ["policyText"] = await repositories.DeleteRegistryPolicyAsync(call.Caller, call.Registry, call.Aborted) };

    private async Task<JsonObject> GetAccountSettingAsync(EcrCall call)
    {
        var name = call.String("name")!;
        return new() { ["name"] = name, ["value"] = await repositories.GetAccountSettingAsync(call.Caller, call.Registry, name, call.Aborted) };
    }

    private async Task<JsonObject> PutAccountSettingAsync(EcrCall call)
    {
        var name = call.String("name")!;
        var value = call.String("value")!;
        await repositories.PutAccountSettingAsync(call.Caller, call.Registry, name, value, call.Aborted);
        return new() { ["name"] = name, ["value"] = value };
    }

    private static JsonObject PolicyShape(Repository repository) => new()
    {
        ["registryId"] = repository.Key.Registry.Account.Value,
        ["repositoryName"] = repository.Key.Name.Value,
        ["policyText"] = repository.Policy,
    };

    /// <summary>
    /// ECR's <c>GetAuthorizationToken</c>: one token for the caller in the request's region, valid 12 hours,
    /// for <c>docker login -u AWS</c> (a role session's token ends with the session). Only an identity
    /// policy can grant it (resource <c>*</c>).
    /// </summary>
    private async Task<JsonObject> GetAuthorizationTokenAsync(EcrCall call)
    {
        await repositories.AuthorizeAsync(call.Caller, EcrActions.GetAuthorizationToken, "*", call.Aborted);
        var (password, expires) = await authTokens.IssueAsync(call.Caller, call.Registry.Region, call.Aborted);
        var registry = new RegistryKey(call.Caller.Account, call.Registry.Region);
        return new JsonObject
        {
            ["authorizationData"] = new JsonArray(new JsonObject
            {
                ["authorizationToken"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("AWS:" + password)),
                ["expiresAt"] = Json.Time(expires),
                ["proxyEndpoint"] = $"{call.Context.Request.Scheme}://{RegistryHost(call, registry)}",
            }),
        };
    }

    private JsonObject RepositoryShape(EcrCall call, Repository repository)
    {
        var key = repository.Key;
        var shape = new JsonObject
        {
            ["repositoryArn"] = key.Arn,
            ["registryId"] = key.Registry.Account.Value,
            ["repositoryName"] = key.Name.Value,
            ["repositoryUri"] = $"{RegistryHost(call, key.Registry)}/{key.Name}",
            ["createdAt"] = Json.Time(repository.CreatedAt),
            ["imageTagMutability"] = TagMutabilityNames.ToName(repository.Settings.Mutability),
        };
        AddExclusions(shape, repository.Settings);
        shape["imageScanningConfiguration"] = new JsonObject { ["scanOnPush"] = repository.Settings.ScanOnPush };
        var encryption = new JsonObject { ["encryptionType"] = repository.Settings.EncryptionType };
        if ((repository.Settings.KmsKey ?? (repository.Settings.EncryptionType == "AES256" ? null : ManagedKmsKeyArn(key.Registry))) is { } kmsKey)
        {
            encryption["kmsKey"] = kmsKey;
        }

        shape["encryptionConfiguration"] = encryption;
        return shape;
    }

    /// <summary>
    /// ECR encrypts a KMS repository without a key with the registry's AWS managed key (alias
    /// <c>aws/ecr</c>) and reports that key's ARN. Wharf has no KMS: the key id is derived from the
    /// registry, so it is stable across calls and nodes, in the form ECR shows (<c>key/</c> and a UUID).
    /// </summary>
    private static string ManagedKmsKeyArn(RegistryKey registry)
    {
        var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"aws/ecr:{registry.Account}:{registry.Region}")));
        return $"arn:aws:kms:{registry.Region}:{registry.Account}:key/{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    private static void AddExclusions(JsonObject shape, RepositorySettings settings)
    {
        if (settings.MutabilityExclusions.Count > 0)
        {
            shape["imageTagMutabilityExclusionFilters"] = Json.Array(
                settings.MutabilityExclusions,
                f => new JsonObject { ["filterType"] = "WILDCARD", ["filter"] = f });
        }
    }

    private string RegistryHost(EcrCall call, RegistryKey registry) => addresses.Host(call.Context.Request, registry);
}
