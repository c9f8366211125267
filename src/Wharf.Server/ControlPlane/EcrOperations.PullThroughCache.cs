using System.Text.Json.Nodes;
using Wharf.Core.PullThroughCache;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// ECR's pull-through cache rules (ECR-NOTES §7.1–7.2). Each answer carries the members of its output shape
/// only; the prefix is answered as it was given (<c>hub</c> and <c>hub/</c> name one rule).
/// </summary>
internal sealed partial class EcrOperations
{
    private async Task<JsonObject> CreatePullThroughCacheRuleAsync(EcrCall call)
    {
        var input = new PullThroughCacheRuleInput(
            call.String("ecrRepositoryPrefix")!,
            call.String("upstreamRegistryUrl")!,
            call.String("upstreamRegistry"),
            call.String("credentialArn"),
            call.String("customRoleArn"),
            call.String("upstreamRepositoryPrefix"));
        return RuleShape(call, await pullThroughCacheRules.CreateAsync(call.Caller, call.Registry, input, call.Aborted), RuleMembers.Created);
    }

    private async Task<JsonObject> UpdatePullThroughCacheRuleAsync(EcrCall call) =>
        RuleShape(
            call,
            await pullThroughCacheRules.UpdateAsync(call.Caller, call.Registry, call.String("ecrRepositoryPrefix")!, call.String("credentialArn"), call.String("customRoleArn"), call.Aborted),
            RuleMembers.Updated);

    private async Task<JsonObject> DeletePullThroughCacheRuleAsync(EcrCall call) =>
        RuleShape(call, await pullThroughCacheRules.DeleteAsync(call.Caller, call.Registry, call.String("ecrRepositoryPrefix")!, call.Aborted), RuleMembers.Deleted);

    private async Task<JsonObject> ValidatePullThroughCacheRuleAsync(EcrCall call)
    {
        var validation = await pullThroughCacheRules.ValidateAsync(call.Caller, call.Registry, call.String("ecrRepositoryPrefix")!, call.Aborted);
        var result = RuleShape(call, validation.Rule, RuleMembers.Validated);
        result["isValid"] = validation.IsValid;
        if (validation.Failure is { } failure)
        {
            result["failure"] = failure;
        }

        return result;
    }

    private async Task<JsonObject> DescribePullThroughCacheRulesAsync(EcrCall call)
    {
        // Keyset-paged by prefix; the token is bound to the prefixes asked for.
        var prefixes = call.Strings("ecrRepositoryPrefixes");
        var filter = string.Join(",", prefixes.Select(PullThroughCacheRule.KeyOf).Order(StringComparer.Ordinal));
        var limit = PageSize(call);
        var page = await pullThroughCacheRules.DescribeAsync(call.Caller, call.Registry, prefixes, await CursorAsync(call, filter), limit + 1, call.Aborted);
        var result = new JsonObject { ["pullThroughCacheRules"] = Json.Array(page.Take(limit), r => RuleShape(call, r, RuleMembers.Described)) };
        if (page.Count > limit)
        {
            result["nextToken"] = await NextTokenAsync(call, filter, page[limit - 1].Key);
        }

        return result;
    }

    private static JsonObject RuleShape(EcrCall call, PullThroughCacheRule rule, RuleMembers members)
    {
        var shape = new JsonObject { ["ecrRepositoryPrefix"] = rule.EcrRepositoryPrefix, ["registryId"] = call.Registry.Account.Value };
        if (members != RuleMembers.Updated)
        {
            shape["upstreamRegistryUrl"] = rule.UpstreamRegistryUrl;
        }

        if (members is RuleMembers.Created or RuleMembers.Described or RuleMembers.Deleted)
        {
            shape["createdAt"] = Json.Time(rule.CreatedAt);
        }

        if (members is RuleMembers.Updated or RuleMembers.Described)
        {
            shape["updatedAt"] = Json.Time(rule.UpdatedAt);
        }

        if (members is RuleMembers.Created or RuleMembers.Described && rule.UpstreamRegistry is { } upstream)
        {
            shape["upstreamRegistry"] = upstream;
        }

        if (rule.CredentialArn is { } credential)
        {
            shape["credentialArn"] = credential;
        }

        if (rule.CustomRoleArn is { } role)
        {
            shape["customRoleArn"] = role;
        }

        shape["upstreamRepositoryPrefix"] = rule.UpstreamRepositoryPrefix;
        return shape;
    }

    /// <summary>Which output shape of the model an answer is: each has its own members.</summary>
    private enum RuleMembers
    {
        Created,
        Described,
        Updated,
        Deleted,
        Validated,
    }
}
