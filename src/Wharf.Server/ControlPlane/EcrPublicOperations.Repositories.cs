using System.Text;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrPublicOperations
{
    /// <summary>
    /// ECR Public's <c>GetAuthorizationToken</c>: one token for the caller, valid 12 hours (or to the end
    /// of its role session), for <c>podman login -u AWS</c> on the public address. It is bound to the
    /// public region, so a private registry's /v2 refuses it and a private token is refused here. AWS
    /// requires <c>ecr-public:GetAuthorizationToken</c> and <c>sts:GetServiceBearerToken</c> (its managed
    /// policies grant both), each on <c>*</c>.
    /// </summary>
    private async Task<JsonObject> GetAuthorizationTokenAsync(EcrPublicCall call)
    {
        await repositories.AuthorizeAsync(call.Caller, EcrPublicActions.GetAuthorizationToken, "*", call.Aborted);
        await repositories.AuthorizeAsync(call.Caller, EcrPublicActions.GetServiceBearerToken, "*", call.Aborted);
        var (password, expires) = await authTokens.IssueAsync(call.Caller, RegistryKey.PublicRegion, call.Aborted);
        return new JsonObject
        {
            ["authorizationData"] = new JsonObject
            {
                ["authorizationToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:" + password)),
                ["expiresAt"] = Json.Time(expires),
            },
        };
    }

    /// <summary>
    /// Creates a public repository in the caller's public registry, with its catalog data and resource
    /// tags in one transaction; the registry (and its default alias) is made with the first one.
    /// </summary>
    private async Task<JsonObject> CreateRepositoryAsync(EcrPublicCall call)
    {
        var name = call.Call.RepositoryName("repositoryName");
        var catalog = call.Get("catalogData") is { } data ? ReadCatalog(data) : null;
        var (repository, stored) = await registries.CreateRepositoryAsync(call.Caller, name, catalog, ReadTags(call), call.Aborted);
        var shape = await RepositoryShaperAsync(call, repository.Key.Registry.Account);
        return new JsonObject { ["repository"] = shape(repository), ["catalogData"] = CatalogShape(call, stored) };
    }

    private async Task<JsonObject> DescribeRepositoriesAsync(EcrPublicCall call)
    {
        var names = call.Call.Strings("repositoryNames");
        if (names.Count > 0)
        {
            RefusePagingWith(call, "repositoryNames");
            var parsed = names.Select((n, i) => RepositoryName.TryParse(n, out var name)
                ? name
                : throw EcrCall.Invalid($"repositoryNames.{i + 1}.member", $"must satisfy regular expression '{RepositoryName.PatternText}'")).ToList();
            var found = await repositories.DescribeAsync(call.Caller, call.Registry, parsed, call.Aborted);
            var shapeFound = await RepositoryShaperAsync(call, call.Registry.Account);
            return new JsonObject { ["repositories"] = Json.Array(found, shapeFound) };
        }

        var limit = PageSize(call);
        var after = await CursorAsync(call);
        var page = await repositories.ListAsync(call.Caller, call.Registry, after, limit + 1, call.Aborted);
        var shape = await RepositoryShaperAsync(call, call.Registry.Account);
        var result = new JsonObject { ["repositories"] = Json.Array(page.Take(limit), shape) };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, page[limit - 1].Key.Name.Value);
        }

        return result;
    }

    /// <summary>Deletes the repository (with <c>force</c>, its images too); its catalog data goes with it.</summary>
    private async Task<JsonObject> DeleteRepositoryAsync(EcrPublicCall call)
    {
        var deleted = await repositories.DeleteAsync(call.Caller, call.Repository, call.Call.Bool("force"), call.Aborted);
        var shape = await RepositoryShaperAsync(call, call.Registry.Account);
        return new JsonObject { ["repository"] = shape(deleted) };
    }

    // ECR Public's SetRepositoryPolicy has ECR's `force` (skip the lock-out check), which Wharf, as for ECR, does not need.
    private async Task<JsonObject> SetRepositoryPolicyAsync(EcrPublicCall call) =>
        PolicyShape(await repositories.SetPolicyAsync(call.Caller, call.Repository, call.String("policyText")!, call.Aborted));

    private async Task<JsonObject> GetRepositoryPolicyAsync(EcrPublicCall call) =>
        PolicyShape(await repositories.GetPolicyAsync(call.Caller, call.Repository, call.Aborted));

    private async Task<JsonObject> DeleteRepositoryPolicyAsync(EcrPublicCall call) =>
        PolicyShape(await repositories.DeletePolicyAsync(call.Caller, call.Repository, call.Aborted));

    private static JsonObject PolicyShape(Repository repository) => new()
    {
        ["registryId"] = repository.Key.Registry.Account.Value,
        ["repositoryName"] = repository.Key.Name.Value,
        ["policyText"] = repository.Policy,
    };

    /// <summary>
    /// ECR Public's <c>Repository</c> shape, for repositories of one registry: its URI is
    /// <c>&lt;public address&gt;/&lt;primary alias&gt;/&lt;name&gt;</c>, what podman pulls (as
    /// <c>public.ecr.aws/&lt;alias&gt;/&lt;name&gt;</c>). The registry is read once per call.
    /// </summary>
    private async Task<Func<Repository, JsonNode?>> RepositoryShaperAsync(EcrPublicCall call, AccountId account)
    {
        var registry = await registries.GetRegistryAsync(account, call.Aborted);

        // Every public repository's registry has an alias (made with the first repository); the account
        // id is only a fallback should a repository ever exist without one.
        var prefix = $"{PublicAuthority}/{registry?.PrimaryAlias ?? account.Value}";
        return repository => new JsonObject
        {
            ["repositoryArn"] = repository.Key.Arn,
            ["registryId"] = repository.Key.Registry.Account.Value,
            ["repositoryName"] = repository.Key.Name.Value,
            ["repositoryUri"] = $"{prefix}/{repository.Key.Name}",
            ["createdAt"] = Json.Time(repository.CreatedAt),
        };
    }
}
