using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Metadata;
using Wharf.Core.Repositories;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// ECR's repository creation templates (ECR-NOTES §7.4): the settings and policies repositories created
/// on push, by replication or through a pull-through cache start with. The prefix is answered as it was
/// given; <c>prod</c> and <c>prod/</c> name one template.
/// </summary>
internal sealed partial class EcrOperations
{
    private async Task<JsonObject> CreateRepositoryCreationTemplateAsync(EcrCall call) =>
        TemplateResult(call, await templates.CreateAsync(call.Caller, call.Registry, call.String("prefix")!, ReadTemplateInput(call), call.Aborted));

    private async Task<JsonObject> UpdateRepositoryCreationTemplateAsync(EcrCall call) =>
        TemplateResult(call, await templates.UpdateAsync(call.Caller, call.Registry, call.String("prefix")!, ReadTemplateInput(call), call.Aborted));

    private async Task<JsonObject> DeleteRepositoryCreationTemplateAsync(EcrCall call) =>
        TemplateResult(call, await templates.DeleteAsync(call.Caller, call.Registry, call.String("prefix")!, call.Aborted));

    private async Task<JsonObject> DescribeRepositoryCreationTemplatesAsync(EcrCall call)
    {
        // Keyset-paged by prefix; the token is bound to the prefixes asked for.
        var prefixes = call.Strings("prefixes");
        var filter = string.Join(",", prefixes.Select(CreationTemplate.KeyOf).Order(StringComparer.Ordinal));
        var limit = PageSize(call);
        var page = await templates.DescribeAsync(call.Caller, call.Registry, prefixes, await CursorAsync(call, filter), limit + 1, call.Aborted);
        var result = new JsonObject
        {
            ["registryId"] = call.Registry.Account.Value,
            ["repositoryCreationTemplates"] = Json.Array(page.Take(limit), TemplateShape),
        };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, filter, page[limit - 1].Key);
        }

        return result;
    }

    private static CreationTemplateInput ReadTemplateInput(EcrCall call)
    {
        var encryption = call.Get("encryptionConfiguration");
        var (mutability, exclusions) = call.Get("imageTagMutability") is not null || call.Get("imageTagMutabilityExclusionFilters") is not null
            ? RepositoryRequests.ReadMutability(call.Input, null)
            : ((TagMutability?)null, (IReadOnlyList<string>?)null);
        return new CreationTemplateInput(
            Description: call.String("description"),
            EncryptionType: encryption?.GetProperty("encryptionType").GetString(),
            KmsKey: encryption is { } e && e.TryGetProperty("kmsKey", out var key) && key.ValueKind == JsonValueKind.String ? key.GetString() : null,
            ResourceTags: call.Get("resourceTags") is { } tags
                ? tags.EnumerateArray().Select(t => new ResourceTag(t.GetProperty("Key").GetString()!, t.GetProperty("Value").GetString()!)).ToList()
                : null,
            Mutability: mutability,
            MutabilityExclusions: exclusions,
            RepositoryPolicy: call.String("repositoryPolicy"),
            LifecyclePolicy: call.String("lifecyclePolicy"),
            AppliedFor: call.Get("appliedFor") is not null ? call.Strings("appliedFor").Select(CreationPurposeNames.Parse).ToList() : null,
            CustomRoleArn: call.String("customRoleArn"));
    }

    private static JsonObject TemplateResult(EcrCall call, CreationTemplate template) => new()
    {
        ["registryId"] = call.Registry.Account.Value,
        ["repositoryCreationTemplate"] = TemplateShape(template),
    };

    private static JsonObject TemplateShape(CreationTemplate template)
    {
        var encryption = new JsonObject { ["encryptionType"] = template.EncryptionType };
        if (template.KmsKey is { } kmsKey)
        {
            encryption["kmsKey"] = kmsKey;
        }

        var shape = new JsonObject { ["prefix"] = template.Prefix };
        if (template.Description is { } description)
        {
            shape["description"] = description;
        }

        shape["encryptionConfiguration"] = encryption;
        shape["resourceTags"] = Json.Array(template.ResourceTags, t => new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value });
        shape["imageTagMutability"] = TagMutabilityNames.ToName(template.Mutability);
        if (template.MutabilityExclusions.Count > 0)
        {
            shape["imageTagMutabilityExclusionFilters"] = Json.Array(
                template.MutabilityExclusions,
                f => new JsonObject { ["filterType"] = "WILDCARD", ["filter"] = f });
        }

        if (template.RepositoryPolicy is { } policy)
        {
            shape["repositoryPolicy"] = policy;
        }

        if (template.LifecyclePolicy is { } lifecycle)
        {
            shape["lifecyclePolicy"] = lifecycle;
        }

        shape["appliedFor"] = Json.Array(template.AppliedFor, p => JsonValue.Create(CreationPurposeNames.ToName(p)));
        if (template.CustomRoleArn is { } role)
        {
            shape["customRoleArn"] = role;
        }

        shape["createdAt"] = Json.Time(template.CreatedAt);
        shape["updatedAt"] = Json.Time(template.UpdatedAt);
        return shape;
    }
}
