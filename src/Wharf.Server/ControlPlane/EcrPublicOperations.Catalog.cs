using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Public;
using Wharf.Core.Security;

namespace Wharf.Server.ControlPlane;

internal sealed partial class EcrPublicOperations
{
    /// <summary>The path the gallery serves a logo under: <c>/logo/&lt;sha256 hex&gt;</c> on the public address.</summary>
    public const string LogoPathPrefix = "/logo/";

    /// <summary>
    /// ECR Public's <c>DescribeRegistries</c>: the caller's public registry, its aliases and whether it is
    /// verified. An account gets its public registry with its first public repository (that is when ECR
    /// Public draws the default alias) or its first <c>PutRegistryCatalogData</c>; until then the list is empty. There is at most one registry, so
    /// no page has a next one, and a <c>nextToken</c> (never issued) is refused.
    /// </summary>
    private async Task<JsonObject> DescribeRegistriesAsync(EcrPublicCall call)
    {
        // DescribeRegistries has no resource type in IAM: it is evaluated on "*".
        await repositories.AuthorizeAsync(call.Caller, EcrPublicActions.DescribeRegistries, "*", call.Aborted);
        if (call.String("nextToken") is not null)
        {
            await tokens.OpenAsync(Scope(call), call.String("nextToken")!, call.Aborted);
        }

        var registry = await registries.GetRegistryAsync(call.Caller.Account, call.Aborted);
        var list = new JsonArray();
        if (registry is not null)
        {
            list.Add((JsonNode)new JsonObject
            {
                ["registryId"] = registry.Account.Value,
                ["registryArn"] = call.Registry.PublicRegistryArn,
                ["registryUri"] = $"{PublicAuthority}/{registry.PrimaryAlias}",
                ["verified"] = registry.Verified,
                ["aliases"] = Json.Array(registry.Aliases, a => new JsonObject
                {
                    ["name"] = a.Name,
                    ["status"] = a.Status switch
                    {
                        RegistryAliasStatus.Active => "ACTIVE",
                        RegistryAliasStatus.Pending => "PENDING",
                        _ => "REJECTED",
                    },
                    ["primaryRegistryAlias"] = a.Primary,
                    ["defaultRegistryAlias"] = a.Default,
                }),
            });
        }

        return new JsonObject { ["registries"] = list };
    }

    /// <summary>The caller's registry display name (<c>registryCatalogData</c> is required: empty when none is set).</summary>
    private async Task<JsonObject> GetRegistryCatalogDataAsync(EcrPublicCall call) =>
        RegistryCatalogShape(await registries.GetDisplayNameAsync(call.Caller, call.Aborted));

    private async Task<JsonObject> PutRegistryCatalogDataAsync(EcrPublicCall call) =>
        RegistryCatalogShape(await registries.PutDisplayNameAsync(call.Caller, call.String("displayName"), call.Aborted));

    private async Task<JsonObject> GetRepositoryCatalogDataAsync(EcrPublicCall call) =>
        new() { ["catalogData"] = CatalogShape(call, await registries.GetCatalogAsync(call.Caller, call.Repository, call.Aborted)) };

    private async Task<JsonObject> PutRepositoryCatalogDataAsync(EcrPublicCall call)
    {
        var stored = await registries.PutCatalogAsync(call.Caller, call.Repository, ReadCatalog(call.Get("catalogData")!.Value), call.Aborted);
        return new JsonObject { ["catalogData"] = CatalogShape(call, stored) };
    }

    private static JsonObject RegistryCatalogShape(string? displayName)
    {
        var data = new JsonObject();
        if (displayName is not null)
        {
            data["displayName"] = displayName;
        }

        return new JsonObject { ["registryCatalogData"] = data };
    }

    /// <summary>
    /// <c>RepositoryCatalogDataInput</c> as given (the model has checked its lengths and the logo's size
    /// and base64; the service checks the logo is an image and keeps members not given as they were).
    /// </summary>
    private static CatalogInput ReadCatalog(JsonElement data)
    {
        static JsonElement? Member(JsonElement data, string name) =>
            data.TryGetProperty(name, out var value) && value.ValueKind is not JsonValueKind.Null ? value : null;

        static IReadOnlyList<string>? List(JsonElement data, string name) =>
            Member(data, name) is { } list ? [.. list.EnumerateArray().Select(e => e.GetString()!)] : null;

        return new CatalogInput(
            Member(data, "description")?.GetString(),
            List(data, "architectures"),
            List(data, "operatingSystems"),
            Member(data, "aboutText")?.GetString(),
            Member(data, "usageText")?.GetString(),
            Member(data, "logoImageBlob")?.GetBytesFromBase64());
    }

    /// <summary>
    /// ECR Public's <c>RepositoryCatalogData</c>: the logo as a URL on the public address, where the gallery
    /// serves it (<see cref="LogoPathPrefix"/>); Wharf has no marketplace, so nothing is certified.
    /// </summary>
    private JsonObject CatalogShape(EcrPublicCall call, RepositoryCatalog catalog)
    {
        var shape = new JsonObject();
        if (catalog.Description is not null)
        {
            shape["description"] = catalog.Description;
        }

        shape["architectures"] = Json.Array(catalog.Architectures, a => JsonValue.Create(a));
        shape["operatingSystems"] = Json.Array(catalog.OperatingSystems, o => JsonValue.Create(o));
        if (catalog.LogoSha256 is not null)
        {
            shape["logoUrl"] = $"{call.Context.Request.Scheme}://{PublicAuthority}{LogoPathPrefix}{catalog.LogoSha256}";
        }

        if (catalog.AboutText is not null)
        {
            shape["aboutText"] = catalog.AboutText;
        }

        if (catalog.UsageText is not null)
        {
            shape["usageText"] = catalog.UsageText;
        }

        shape["marketplaceCertified"] = false;
        return shape;
    }
}
