using System.Text.Json;
using Wharf.Core.Metadata;
using Wharf.Server.ControlPlane.Model;

namespace Wharf.Server.ControlPlane;

/// <summary>
/// How a <c>CreateRepository</c> (or <c>PutImageTagMutability</c>) input becomes settings and resource tags,
/// with the checks the model cannot express. The API and the console's create form both read their input
/// here, after <see cref="Validate"/>, so a setting the API refuses the console refuses with the same message.
/// </summary>
internal static class RepositoryRequests
{
    /// <summary>Checks <paramref name="input"/> against the ECR model's input shape of <paramref name="operation"/>, throwing what the API answers.</summary>
    public static void Validate(string operation, JsonElement input)
    {
        var model = ServiceModel.Ecr;
        if (!model.TryGetOperation(operation, out var shape))
        {
            throw new InvalidOperationException($"ECR's model has no operation {operation}");
        }

        ModelValidator.ThrowIfInvalid(model, shape, input);
    }

    /// <summary>The settings and resource tags of a validated <c>CreateRepository</c> input.</summary>
    public static (RepositorySettings Settings, List<ResourceTag> Tags) ReadCreate(JsonElement input)
    {
        var (mutability, exclusions) = ReadMutability(input, RepositorySettings.Default.Mutability);
        var encryption = Get(input, "encryptionConfiguration");
        var encryptionType = encryption?.GetProperty("encryptionType").GetString() ?? "AES256";
        var kmsKey = encryption is { } e && e.TryGetProperty("kmsKey", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        if (kmsKey is not null && encryptionType == "AES256")
        {
            throw EcrCall.Invalid("encryptionConfiguration.kmsKey", "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE");
        }

        var scanOnPush = Get(input, "imageScanningConfiguration") is { } scanning
            && scanning.TryGetProperty("scanOnPush", out var flag) && flag.ValueKind == JsonValueKind.True;
        return (new RepositorySettings(mutability, exclusions, scanOnPush, encryptionType, kmsKey), ReadResourceTags(input));
    }

    /// <summary>
    /// <c>imageTagMutability</c> with its exclusion filters: the <c>*_WITH_EXCLUSION</c> modes need at
    /// least one filter, and the others take none.
    /// </summary>
    public static (TagMutability Mutability, IReadOnlyList<string> Exclusions) ReadMutability(JsonElement input, TagMutability? fallback)
    {
        var mutability = Get(input, "imageTagMutability")?.GetString() is { } name ? TagMutabilityNames.Parse(name) : fallback ?? TagMutability.Mutable;
        var exclusions = Get(input, "imageTagMutabilityExclusionFilters") is { } filters
            ? filters.EnumerateArray().Select(f => f.GetProperty("filter").GetString()!).ToList()
            : [];
        var withExclusion = mutability is TagMutability.ImmutableWithExclusion or TagMutability.MutableWithExclusion;
        if (withExclusion && exclusions.Count == 0)
        {
            throw EcrCall.Invalid("imageTagMutabilityExclusionFilters", $"imageTagMutabilityExclusionFilters must be specified when imageTagMutability is {TagMutabilityNames.ToName(mutability)}");
        }

        if (!withExclusion && exclusions.Count > 0)
        {
            throw EcrCall.Invalid("imageTagMutabilityExclusionFilters", $"imageTagMutabilityExclusionFilters can only be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION");
        }

        return (mutability, exclusions);
    }

    public static List<ResourceTag> ReadResourceTags(JsonElement input) =>
        Get(input, "tags") is { } tags
            ? tags.EnumerateArray().Select(t => new ResourceTag(t.GetProperty("Key").GetString()!, t.GetProperty("Value").GetString()!)).ToList()
            : [];

    private static JsonElement? Get(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined ? value : null;
}
