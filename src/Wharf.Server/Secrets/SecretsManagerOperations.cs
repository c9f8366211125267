using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Secrets;
using Wharf.Server.ControlPlane;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;

namespace Wharf.Server.Secrets;

/// <summary>
/// The Secrets Manager operations Wharf implements (AWS JSON 1.1, <c>X-Amz-Target: secretsmanager.*</c>, SigV4
/// service <c>secretsmanager</c>), over <see cref="SecretService"/>. Every other operation of the model answers
/// <c>UnsupportedOperationException</c> naming it (docs/secrets-manager.md). Values are never logged.
/// </summary>
internal sealed partial class SecretsManagerOperations(SecretService secrets, PageTokens tokens) : IAwsJsonService
{
    /// <summary>The page size of <c>ListSecrets</c> when <c>MaxResults</c> is absent.</summary>
    public const int DefaultPageSize = 100;

    private static readonly FrozenDictionary<string, Func<SecretsManagerOperations, EcrCall, Task<JsonObject>>> Table =
        new Dictionary<string, Func<SecretsManagerOperations, EcrCall, Task<JsonObject>>>
        {
            ["CreateSecret"] = (o, c) => o.CreateSecretAsync(c),
            ["GetSecretValue"] = (o, c) => o.GetSecretValueAsync(c),
            ["PutSecretValue"] = (o, c) => o.PutSecretValueAsync(c),
            ["UpdateSecret"] = (o, c) => o.UpdateSecretAsync(c),
            ["DescribeSecret"] = (o, c) => o.DescribeSecretAsync(c),
            ["ListSecrets"] = (o, c) => o.ListSecretsAsync(c),
            ["DeleteSecret"] = (o, c) => o.DeleteSecretAsync(c),
            ["RestoreSecret"] = (o, c) => o.RestoreSecretAsync(c),
            ["TagResource"] = (o, c) => o.TagResourceAsync(c),
            ["UntagResource"] = (o, c) => o.UntagResourceAsync(c),
            ["BatchGetSecretValue"] = (o, c) => o.BatchGetSecretValueAsync(c),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    public ServiceModel Model => ServiceModel.SecretsManager;

    /// <summary>The operations implemented (docs/secrets-manager.md lists them).</summary>
    public static IReadOnlyCollection<string> Implemented => Table.Keys;

    public RequestClass Classify(string operation) =>
        operation is "GetSecretValue" or "BatchGetSecretValue" or "DescribeSecret" or "ListSecrets" ? RequestClass.Read : RequestClass.Write;

    public Task<JsonObject> InvokeAsync(EcrCall call) =>
        Table.TryGetValue(call.Operation, out var operation)
            ? operation(this, call)
            : throw new WharfException(
                WharfErrorCode.UnsupportedOperation,
                $"Wharf does not implement the Secrets Manager operation {call.Operation}; docs/secrets-manager.md lists what it implements.");

    private async Task<JsonObject> CreateSecretAsync(EcrCall call)
    {
        if (call.Get("AddReplicaRegions") is not null)
        {
            throw new WharfException(WharfErrorCode.SecretsInvalidRequest, "Wharf does not replicate secrets to other regions.");
        }

        var input = new SecretCreation(call.String("Name")!, call.String("ClientRequestToken"), call.String("Description"), call.String("KmsKeyId"), Tags(call), Value(call, required: false));
        var (secret, versionId) = await secrets.CreateAsync(call.Caller, call.Registry, input, call.Aborted);
        var result = new JsonObject { ["ARN"] = secret.Arn, ["Name"] = secret.Name };
        if (versionId is not null)
        {
            result["VersionId"] = versionId;
        }

        return result;
    }

    private async Task<JsonObject> GetSecretValueAsync(EcrCall call)
    {
        var read = await secrets.GetValueAsync(call.Caller, call.Registry, call.String("SecretId")!, call.String("VersionId"), call.String("VersionStage"), call.Aborted);
        return ValueEntry(read);
    }

    private async Task<JsonObject> PutSecretValueAsync(EcrCall call)
    {
        var (secret, version) = await secrets.PutValueAsync(
            call.Caller, call.Registry, call.String("SecretId")!, call.String("ClientRequestToken"), Value(call, required: true)!, call.Strings("VersionStages"), call.Aborted);
        return new JsonObject
        {
            ["ARN"] = secret.Arn,
            ["Name"] = secret.Name,
            ["VersionId"] = version.VersionId,
            ["VersionStages"] = Json.Array(version.Stages, s => s),
        };
    }

    private async Task<JsonObject> UpdateSecretAsync(EcrCall call)
    {
        var (secret, versionId) = await secrets.UpdateAsync(
            call.Caller, call.Registry, call.String("SecretId")!, call.String("ClientRequestToken"), call.String("Description"), call.String("KmsKeyId"), Value(call, required: false), call.Aborted);
        var result = new JsonObject { ["ARN"] = secret.Arn, ["Name"] = secret.Name };
        if (versionId is not null)
        {
            result["VersionId"] = versionId;
        }

        return result;
    }

    private async Task<JsonObject> DescribeSecretAsync(EcrCall call)
    {
        var description = await secrets.DescribeAsync(call.Caller, call.Registry, call.String("SecretId")!, call.Aborted);
        var result = Entry(description, "VersionIdsToStages");
        return result;
    }

    private async Task<JsonObject> DeleteSecretAsync(EcrCall call)
    {
        var (secret, deletion) = await secrets.DeleteAsync(
            call.Caller, call.Registry, call.String("SecretId")!, call.Long("RecoveryWindowInDays"), call.Bool("ForceDeleteWithoutRecovery"), call.Aborted);
        return new JsonObject { ["ARN"] = secret.Arn, ["Name"] = secret.Name, ["DeletionDate"] = Json.Time(deletion) };
    }

    private async Task<JsonObject> RestoreSecretAsync(EcrCall call)
    {
        var secret = await secrets.RestoreAsync(call.Caller, call.Registry, call.String("SecretId")!, call.Aborted);
        return new JsonObject { ["ARN"] = secret.Arn, ["Name"] = secret.Name };
    }

    private async Task<JsonObject> TagResourceAsync(EcrCall call)
    {
        await secrets.TagAsync(call.Caller, call.Registry, call.String("SecretId")!, Tags(call), call.Aborted);
        return [];
    }

    private async Task<JsonObject> UntagResourceAsync(EcrCall call)
    {
        await secrets.UntagAsync(call.Caller, call.Registry, call.String("SecretId")!, call.Strings("TagKeys"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> ListSecretsAsync(EcrCall call)
    {
        var query = Query(call);
        var scope = Scope(call, query);
        var offset = await OffsetAsync(call, scope);
        var (page, more) = await secrets.ListAsync(call.Caller, call.Registry, query, offset, (int)(call.Long("MaxResults") ?? DefaultPageSize), call.Aborted);
        var result = new JsonObject { ["SecretList"] = Json.Array(page, d => Entry(d, "SecretVersionsToStages")) };
        if (more)
        {
            result["NextToken"] = await tokens.SealAsync(scope, (offset + page.Count).ToString(CultureInfo.InvariantCulture), call.Aborted);
        }

        return result;
    }

    /// <summary>The value of <c>SecretString</c> or <c>SecretBinary</c> (never both; one required when <paramref name="required"/>).</summary>
    private static SecretValue? Value(EcrCall call, bool required)
    {
        var text = call.String("SecretString");
        var binary = call.Get("SecretBinary")?.GetBytesFromBase64();
        if (text is not null && binary is not null)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.");
        }

        return text is not null ? new SecretValue(text, null)
            : binary is not null ? new SecretValue(null, binary)
            : required ? throw new WharfException(WharfErrorCode.InvalidParameter, "You must provide either SecretString or SecretBinary.")
            : null;
    }

    private static List<ResourceTag> Tags(EcrCall call) =>
        call.Get("Tags") is { } list
            ? list.EnumerateArray().Select(t => new ResourceTag(Member(t, "Key") ?? string.Empty, Member(t, "Value") ?? string.Empty)).ToList()
            : [];

    private static string? Member(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static JsonObject ValueEntry(SecretRead read)
    {
        var result = new JsonObject { ["ARN"] = read.Secret.Arn, ["Name"] = read.Secret.Name, ["VersionId"] = read.Version.VersionId };
        if (read.Value.Text is { } text)
        {
            result["SecretString"] = text;
        }
        else
        {
            result["SecretBinary"] = Convert.ToBase64String(read.Value.Binary!);
        }

        result["VersionStages"] = Json.Array(read.Version.Stages, s => s);
        result["CreatedDate"] = Json.Time(read.Version.CreatedAt);
        return result;
    }

    /// <summary>A secret as <c>DescribeSecret</c> and <c>ListSecrets</c> report it; only staged versions are listed, as in Secrets Manager.</summary>
    private static JsonObject Entry(SecretDescription description, string versionsMember)
    {
        var secret = description.Secret;
        var result = new JsonObject { ["ARN"] = secret.Arn, ["Name"] = secret.Name };
        if (secret.Description is { } text)
        {
            result["Description"] = text;
        }

        if (secret.KmsKeyId is { Length: > 0 } kms)
        {
            result["KmsKeyId"] = kms;
        }

        result["LastChangedDate"] = Json.Time(secret.ChangedAt);
        if (secret.AccessedAt is { } accessed)
        {
            result["LastAccessedDate"] = Json.Time(accessed);
        }

        if (secret.DeletedAt is { } deleted)
        {
            result["DeletedDate"] = Json.Time(deleted);
        }

        if (secret.Tags.Count > 0)
        {
            result["Tags"] = Json.Array(secret.Tags, t => new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value });
        }

        var staged = new JsonObject();
        foreach (var version in description.Versions.Where(v => v.Stages.Count > 0))
        {
            staged[version.VersionId] = Json.Array(version.Stages, s => s);
        }

        result[versionsMember] = staged;
        result["CreatedDate"] = Json.Time(secret.CreatedAt);
        return result;
    }
}
