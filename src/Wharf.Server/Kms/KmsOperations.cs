using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Server.ControlPlane;
using Wharf.Server.ControlPlane.Model;
using Wharf.Server.Hosting;

namespace Wharf.Server.Kms;

/// <summary>
/// The KMS-compatible key service's API (AWS JSON 1.1, <c>X-Amz-Target: TrentService.*</c>, SigV4 service <c>kms</c>), over
/// <see cref="KmsService"/>: symmetric keys, aliases, data keys, encryption, grants, key policies and rotation. Every other
/// operation of the model answers <c>UnsupportedOperationException</c> (docs/ecr-api.md, "KMS").
/// </summary>
internal sealed partial class KmsOperations(KmsService kms) : IAwsJsonService
{
    private const int DefaultLimit = 100;

    private static readonly FrozenDictionary<string, Func<KmsOperations, EcrCall, Task<JsonObject>>> Table =
        new Dictionary<string, Func<KmsOperations, EcrCall, Task<JsonObject>>>
        {
            ["CreateKey"] = (o, c) => o.CreateKeyAsync(c),
            ["DescribeKey"] = (o, c) => o.DescribeKeyAsync(c),
            ["ListKeys"] = (o, c) => o.ListKeysAsync(c),
            ["CreateAlias"] = (o, c) => o.CreateAliasAsync(c),
            ["UpdateAlias"] = (o, c) => o.UpdateAliasAsync(c),
            ["DeleteAlias"] = (o, c) => o.DeleteAliasAsync(c),
            ["ListAliases"] = (o, c) => o.ListAliasesAsync(c),
            ["EnableKey"] = (o, c) => o.SetEnabledAsync(c, enabled: true),
            ["DisableKey"] = (o, c) => o.SetEnabledAsync(c, enabled: false),
            ["ScheduleKeyDeletion"] = (o, c) => o.ScheduleKeyDeletionAsync(c),
            ["CancelKeyDeletion"] = (o, c) => o.CancelKeyDeletionAsync(c),
            ["GenerateDataKey"] = (o, c) => o.GenerateDataKeyAsync(c, withPlaintext: true),
            ["GenerateDataKeyWithoutPlaintext"] = (o, c) => o.GenerateDataKeyAsync(c, withPlaintext: false),
            ["Encrypt"] = (o, c) => o.EncryptAsync(c),
            ["Decrypt"] = (o, c) => o.DecryptAsync(c),
            ["GenerateRandom"] = (o, c) => GenerateRandomAsync(c),
            ["CreateGrant"] = (o, c) => o.CreateGrantAsync(c),
            ["ListGrants"] = (o, c) => o.ListGrantsAsync(c),
            ["RetireGrant"] = (o, c) => o.RetireGrantAsync(c),
            ["RevokeGrant"] = (o, c) => o.RevokeGrantAsync(c),
            ["GetKeyPolicy"] = (o, c) => o.GetKeyPolicyAsync(c),
            ["PutKeyPolicy"] = (o, c) => o.PutKeyPolicyAsync(c),
            ["ListKeyPolicies"] = (o, c) => o.ListKeyPoliciesAsync(c),
            ["EnableKeyRotation"] = (o, c) => o.SetRotationAsync(c, enabled: true),
            ["DisableKeyRotation"] = (o, c) => o.SetRotationAsync(c, enabled: false),
            ["GetKeyRotationStatus"] = (o, c) => o.GetKeyRotationStatusAsync(c),
            ["RotateKeyOnDemand"] = (o, c) => o.RotateKeyOnDemandAsync(c),
            ["ListKeyRotations"] = (o, c) => o.ListKeyRotationsAsync(c),
            ["UpdateKeyDescription"] = (o, c) => o.UpdateKeyDescriptionAsync(c),
            ["TagResource"] = (o, c) => o.TagResourceAsync(c),
            ["UntagResource"] = (o, c) => o.UntagResourceAsync(c),
            ["ListResourceTags"] = (o, c) => o.ListResourceTagsAsync(c),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    public ServiceModel Model => ServiceModel.Kms;

    /// <summary>The operations implemented (docs/ecr-api.md, "KMS"); the model's others answer <c>UnsupportedOperationException</c>.</summary>
    public static IReadOnlyCollection<string> Implemented => Table.Keys;

    public RequestClass Classify(string operation) =>
        operation.StartsWith("Describe", StringComparison.Ordinal) || operation.StartsWith("List", StringComparison.Ordinal) || operation.StartsWith("Get", StringComparison.Ordinal)
        || operation is "Decrypt" or "Encrypt" or "GenerateDataKey" or "GenerateDataKeyWithoutPlaintext" or "GenerateRandom"
            ? RequestClass.Read
            : RequestClass.Write;

    public Task<JsonObject> InvokeAsync(EcrCall call) =>
        Table.TryGetValue(call.Operation, out var handler)
            ? handler(this, call)
            : throw new WharfException(
                WharfErrorCode.UnsupportedOperation,
                $"Wharf does not implement the KMS operation {call.Operation}; it keeps symmetric SYMMETRIC_DEFAULT keys only (docs/ecr-api.md, \"KMS\").");

    private async Task<JsonObject> CreateKeyAsync(EcrCall call)
    {
        // Wharf's keys are symmetric AES-256-GCM keys of KMS's own origin, in one region.
        foreach (var (member, allowed) in new[] { ("KeySpec", "SYMMETRIC_DEFAULT"), ("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT"), ("KeyUsage", "ENCRYPT_DECRYPT"), ("Origin", "AWS_KMS") })
        {
            if (call.String(member) is { } given && given != allowed)
            {
                throw new WharfException(
                    WharfErrorCode.UnsupportedOperation,
                    $"{member} {given} is not supported: Wharf's key service makes {allowed} keys only.");
            }
        }

        if (call.Bool("MultiRegion") || call.String("CustomKeyStoreId") is not null || call.String("XksKeyId") is not null)
        {
            throw new WharfException(WharfErrorCode.UnsupportedOperation, "Multi-Region keys and custom key stores are not supported: Wharf's keys live in one region of its own store.");
        }

        var key = await kms.CreateKeyAsync(call.Caller, call.Registry, call.String("Description"), call.String("Policy"), Tags(call, "Tags"), call.Aborted);
        return new JsonObject { ["KeyMetadata"] = Metadata(key) };
    }

    private async Task<JsonObject> DescribeKeyAsync(EcrCall call)
    {
        var key = await kms.KeyForAsync(call.Caller, call.Registry, call.String("KeyId")!, "kms:DescribeKey", call.Aborted);
        return new JsonObject { ["KeyMetadata"] = Metadata(key) };
    }

    private async Task<JsonObject> ListKeysAsync(EcrCall call)
    {
        var limit = Limit(call);
        var after = call.String("Marker");
        if (after is not null && !Guid.TryParseExact(after, "D", out _))
        {
            throw InvalidMarker();
        }

        var keys = await kms.ListKeysAsync(call.Caller, call.Registry, after, limit + 1, call.Aborted);
        var page = keys.Take(limit).ToList();
        var result = new JsonObject
        {
            ["Keys"] = Json.Array(page, k => new JsonObject { ["KeyId"] = k.KeyId, ["KeyArn"] = k.Arn }),
            ["Truncated"] = keys.Count > limit,
        };
        if (keys.Count > limit)
        {
            result["NextMarker"] = page[^1].KeyId;
        }

        return result;
    }

    private async Task<JsonObject> CreateAliasAsync(EcrCall call)
    {
        await kms.CreateAliasAsync(call.Caller, call.Registry, call.String("AliasName")!, call.String("TargetKeyId")!, call.Aborted);
        return [];
    }

    private async Task<JsonObject> UpdateAliasAsync(EcrCall call)
    {
        await kms.UpdateAliasAsync(call.Caller, call.Registry, call.String("AliasName")!, call.String("TargetKeyId")!, call.Aborted);
        return [];
    }

    private async Task<JsonObject> DeleteAliasAsync(EcrCall call)
    {
        await kms.DeleteAliasAsync(call.Caller, call.Registry, call.String("AliasName")!, call.Aborted);
        return [];
    }

    private async Task<JsonObject> ListAliasesAsync(EcrCall call)
    {
        var limit = Limit(call);
        var after = call.String("Marker");
        if (after is not null && !after.StartsWith("alias/", StringComparison.Ordinal))
        {
            throw InvalidMarker();
        }

        var aliases = await kms.ListAliasesAsync(call.Caller, call.Registry, call.String("KeyId"), after, limit + 1, call.Aborted);
        var page = aliases.Take(limit).ToList();
        var result = new JsonObject
        {
            ["Aliases"] = Json.Array(page, a => new JsonObject
            {
                ["AliasName"] = a.Name,
                ["AliasArn"] = a.Arn,
                ["TargetKeyId"] = a.KeyArn[(a.KeyArn.LastIndexOf('/') + 1)..],
                ["CreationDate"] = Json.Time(a.CreatedAt),
                ["LastUpdatedDate"] = Json.Time(a.UpdatedAt),
            }),
            ["Truncated"] = aliases.Count > limit,
        };
        if (aliases.Count > limit)
        {
            result["NextMarker"] = page[^1].Name;
        }

        return result;
    }

    private async Task<JsonObject> SetEnabledAsync(EcrCall call, bool enabled)
    {
        await kms.SetEnabledAsync(call.Caller, call.Registry, call.String("KeyId")!, enabled, call.Aborted);
        return [];
    }

    private async Task<JsonObject> ScheduleKeyDeletionAsync(EcrCall call)
    {
        var days = (int?)call.Long("PendingWindowInDays");
        var key = await kms.ScheduleDeletionAsync(call.Caller, call.Registry, call.String("KeyId")!, days, call.Aborted);
        return new JsonObject
        {
            ["KeyId"] = key.Arn,
            ["DeletionDate"] = Json.Time(key.DeletionDate!.Value),
            ["KeyState"] = key.State.ToString(),
            ["PendingWindowInDays"] = days ?? KmsService.DefaultPendingWindowDays,
        };
    }

    private async Task<JsonObject> CancelKeyDeletionAsync(EcrCall call)
    {
        var key = await kms.CancelDeletionAsync(call.Caller, call.Registry, call.String("KeyId")!, call.Aborted);
        return new JsonObject { ["KeyId"] = key.Arn };
    }

    private async Task<JsonObject> GenerateDataKeyAsync(EcrCall call, bool withPlaintext)
    {
        var bytes = (call.Long("NumberOfBytes"), call.String("KeySpec")) switch
        {
            ({ } n, null) => (int)n,
            (null, "AES_256") => 32,
            (null, "AES_128") => 16,
            (null, null) => throw new WharfException(WharfErrorCode.Validation, "Please specify either number of bytes or key spec."),
            _ => throw new WharfException(WharfErrorCode.Validation, "Please specify either number of bytes or key spec, not both."),
        };
        var (key, plaintext, ciphertext) = await kms.GenerateDataKeyAsync(call.Caller, call.Registry, call.String("KeyId")!, bytes, Context(call), withPlaintext, call.Aborted);
        var result = new JsonObject { ["CiphertextBlob"] = Convert.ToBase64String(ciphertext) };
        if (withPlaintext)
        {
            result["Plaintext"] = Convert.ToBase64String(plaintext);
        }

        System.Security.Cryptography.CryptographicOperations.ZeroMemory(plaintext);
        result["KeyId"] = key.Arn;
        result["KeyMaterialId"] = MaterialId(key.CurrentVersion);
        return result;
    }

    private async Task<JsonObject> EncryptAsync(EcrCall call)
    {
        CheckAlgorithm(call);
        var (key, ciphertext) = await kms.EncryptAsync(call.Caller, call.Registry, call.String("KeyId")!, Blob(call, "Plaintext"), Context(call), call.Aborted);
        return new JsonObject { ["CiphertextBlob"] = Convert.ToBase64String(ciphertext), ["KeyId"] = key.Arn, ["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT" };
    }

    private async Task<JsonObject> DecryptAsync(EcrCall call)
    {
        CheckAlgorithm(call);
        var (key, plaintext) = await kms.DecryptAsync(call.Caller, call.Registry, Blob(call, "CiphertextBlob"), call.String("KeyId"), Context(call), call.Aborted);
        var result = new JsonObject { ["KeyId"] = key.Arn, ["Plaintext"] = Convert.ToBase64String(plaintext), ["EncryptionAlgorithm"] = "SYMMETRIC_DEFAULT" };
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(plaintext);
        return result;
    }

    private static Task<JsonObject> GenerateRandomAsync(EcrCall call)
    {
        // Needs no key: KMS authorises it by IAM alone, and Wharf's open randomness reveals nothing of anyone's.
        var n = (int?)call.Long("NumberOfBytes") ?? throw new WharfException(WharfErrorCode.Validation, "NumberOfBytes is required.");
        return Task.FromResult(new JsonObject { ["Plaintext"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(n)) });
    }

    private async Task<JsonObject> CreateGrantAsync(EcrCall call)
    {
        IReadOnlyDictionary<string, string>? subset = null, equals = null;
        if (call.Get("Constraints") is { } constraints)
        {
            subset = Map(constraints, "EncryptionContextSubset");
            equals = Map(constraints, "EncryptionContextEquals");
        }

        var request = new KmsGrantRequest(call.String("GranteePrincipal")!, call.String("RetiringPrincipal"), call.Strings("Operations"), subset, equals, call.String("Name"));
        var (grant, token) = await kms.CreateGrantAsync(call.Caller, call.Registry, call.String("KeyId")!, request, call.Aborted);
        return new JsonObject { ["GrantToken"] = token, ["GrantId"] = grant.GrantId };
    }

    private async Task<JsonObject> ListGrantsAsync(EcrCall call)
    {
        var (key, grants) = await kms.ListGrantsAsync(call.Caller, call.Registry, call.String("KeyId")!, call.Aborted);
        var limit = Limit(call);
        var filtered = grants.Where(g => (call.String("GrantId") is not { } id || g.GrantId == id) && (call.String("GranteePrincipal") is not { } grantee || g.GranteePrincipal == grantee));
        if (call.String("Marker") is { } marker)
        {
            filtered = filtered.SkipWhile(g => g.GrantId != marker).Skip(1);
        }

        var list = filtered.Take(limit + 1).ToList();
        var page = list.Take(limit).ToList();
        var result = new JsonObject
        {
            ["Grants"] = Json.Array(page, g => Grant(key, g)),
            ["Truncated"] = list.Count > limit,
        };
        if (list.Count > limit)
        {
            result["NextMarker"] = page[^1].GrantId;
        }

        return result;
    }

    private async Task<JsonObject> RetireGrantAsync(EcrCall call)
    {
        await kms.RetireGrantAsync(call.Caller, call.Registry, call.String("GrantToken"), call.String("KeyId"), call.String("GrantId"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> RevokeGrantAsync(EcrCall call)
    {
        await kms.RevokeGrantAsync(call.Caller, call.Registry, call.String("KeyId")!, call.String("GrantId")!, call.Aborted);
        return [];
    }

    private async Task<JsonObject> GetKeyPolicyAsync(EcrCall call)
    {
        CheckPolicyName(call);
        var key = await kms.KeyForAsync(call.Caller, call.Registry, call.String("KeyId")!, "kms:GetKeyPolicy", call.Aborted);
        return new JsonObject { ["Policy"] = key.Policy, ["PolicyName"] = "default" };
    }

    private async Task<JsonObject> PutKeyPolicyAsync(EcrCall call)
    {
        CheckPolicyName(call);
        await kms.PutKeyPolicyAsync(call.Caller, call.Registry, call.String("KeyId")!, call.String("Policy")!, call.Aborted);
        return [];
    }

    private async Task<JsonObject> ListKeyPoliciesAsync(EcrCall call)
    {
        await kms.KeyForAsync(call.Caller, call.Registry, call.String("KeyId")!, "kms:ListKeyPolicies", call.Aborted);
        return new JsonObject { ["PolicyNames"] = new JsonArray("default"), ["Truncated"] = false };
    }

    private async Task<JsonObject> SetRotationAsync(EcrCall call, bool enabled)
    {
        await kms.SetRotationAsync(call.Caller, call.Registry, call.String("KeyId")!, enabled, (int?)call.Long("RotationPeriodInDays"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> GetKeyRotationStatusAsync(EcrCall call)
    {
        var key = await kms.KeyForAsync(call.Caller, call.Registry, call.String("KeyId")!, "kms:GetKeyRotationStatus", call.Aborted);
        var result = new JsonObject { ["KeyRotationEnabled"] = key.RotationEnabled, ["KeyId"] = key.Arn };
        if (key.RotationEnabled)
        {
            var materials = await kms.MaterialsAsync(key, call.Aborted);
            var last = materials.Count == 0 ? key.CreatedAt : materials.Max(m => m.CreatedAt);
            result["RotationPeriodInDays"] = key.RotationPeriodDays;
            result["NextRotationDate"] = Json.Time(last.AddDays(key.RotationPeriodDays));
        }

        return result;
    }

    private async Task<JsonObject> RotateKeyOnDemandAsync(EcrCall call)
    {
        var key = await kms.RotateNowAsync(call.Caller, call.Registry, call.String("KeyId")!, call.Aborted);
        return new JsonObject { ["KeyId"] = key.Arn };
    }

    private async Task<JsonObject> ListKeyRotationsAsync(EcrCall call)
    {
        var key = await kms.KeyForAsync(call.Caller, call.Registry, call.String("KeyId")!, "kms:ListKeyRotations", call.Aborted);
        var rotations = (await kms.MaterialsAsync(key, call.Aborted)).Where(m => m.Version > 1).ToList();
        return new JsonObject
        {
            ["Rotations"] = Json.Array(rotations, m => new JsonObject
            {
                ["KeyId"] = key.Arn,
                ["KeyMaterialId"] = MaterialId(m.Version),
                ["RotationDate"] = Json.Time(m.CreatedAt),
                ["RotationType"] = m.OnDemand ? "ON_DEMAND" : "AUTOMATIC",
            }),
            ["Truncated"] = false,
        };
    }

    private async Task<JsonObject> UpdateKeyDescriptionAsync(EcrCall call)
    {
        await kms.UpdateDescriptionAsync(call.Caller, call.Registry, call.String("KeyId")!, call.String("Description")!, call.Aborted);
        return [];
    }

    private async Task<JsonObject> TagResourceAsync(EcrCall call)
    {
        await kms.TagAsync(call.Caller, call.Registry, call.String("KeyId")!, Tags(call, "Tags"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> UntagResourceAsync(EcrCall call)
    {
        await kms.UntagAsync(call.Caller, call.Registry, call.String("KeyId")!, call.Strings("TagKeys"), call.Aborted);
        return [];
    }

    private async Task<JsonObject> ListResourceTagsAsync(EcrCall call)
    {
        var key = await kms.KeyForAsync(call.Caller, call.Registry, call.String("KeyId")!, "kms:ListResourceTags", call.Aborted);
        return new JsonObject
        {
            ["Tags"] = Json.Array(key.Tags, t => new JsonObject { ["TagKey"] = t.Key, ["TagValue"] = t.Value }),
            ["Truncated"] = false,
        };
    }

    private static JsonObject Metadata(KmsKeyRecord key)
    {
        var result = new JsonObject
        {
            ["AWSAccountId"] = key.Account.Value,
            ["KeyId"] = key.KeyId,
            ["Arn"] = key.Arn,
            ["CreationDate"] = Json.Time(key.CreatedAt),
            ["Enabled"] = key.State == KmsKeyState.Enabled,
            ["Description"] = key.Description ?? string.Empty,
            ["KeyUsage"] = "ENCRYPT_DECRYPT",
            ["KeyState"] = key.State.ToString(),
        };
        if (key.DeletionDate is { } deletion)
        {
            result["DeletionDate"] = Json.Time(deletion);
        }

        result["Origin"] = "AWS_KMS";
        result["KeyManager"] = key.AwsManaged ? "AWS" : "CUSTOMER";
        result["CustomerMasterKeySpec"] = "SYMMETRIC_DEFAULT";
        result["KeySpec"] = "SYMMETRIC_DEFAULT";
        result["EncryptionAlgorithms"] = new JsonArray("SYMMETRIC_DEFAULT");
        result["MultiRegion"] = false;
        result["CurrentKeyMaterialId"] = MaterialId(key.CurrentVersion);
        return result;
    }

    private static JsonObject Grant(KmsKeyRecord key, KmsGrant grant)
    {
        var result = new JsonObject
        {
            ["KeyId"] = key.Arn,
            ["GrantId"] = grant.GrantId,
            ["CreationDate"] = Json.Time(grant.CreatedAt),
            ["GranteePrincipal"] = grant.GranteePrincipal,
            ["IssuingAccount"] = grant.IssuingAccount,
            ["Operations"] = Json.Array(grant.Operations, o => o),
        };
        if (grant.Name is not null)
        {
            result["Name"] = grant.Name;
        }

        if (grant.RetiringPrincipal is not null)
        {
            result["RetiringPrincipal"] = grant.RetiringPrincipal;
        }

        if (grant.ContextSubset is not null || grant.ContextEquals is not null)
        {
            var constraints = new JsonObject();
            if (grant.ContextSubset is { } subset)
            {
                constraints["EncryptionContextSubset"] = Object(subset);
            }

            if (grant.ContextEquals is { } equals)
            {
                constraints["EncryptionContextEquals"] = Object(equals);
            }

            result["Constraints"] = constraints;
        }

        return result;
    }

    private static JsonObject Object(IReadOnlyDictionary<string, string> map)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map)
        {
            result[key] = value;
        }

        return result;
    }

    // A material version as KMS names key material: 64 hex digits.
    private static string MaterialId(int version) => version.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);

    private static int Limit(EcrCall call) => (int?)call.Long("Limit") ?? DefaultLimit;

    private static WharfException InvalidMarker() => new(WharfErrorCode.KmsInvalidMarker, "Invalid marker: pass the NextMarker of the previous page.");

    private static byte[] Blob(EcrCall call, string member) => Convert.FromBase64String(call.String(member)!);

    private static void CheckAlgorithm(EcrCall call)
    {
        if (call.String("EncryptionAlgorithm") is { } algorithm && algorithm != "SYMMETRIC_DEFAULT")
        {
            throw new WharfException(WharfErrorCode.KmsInvalidKeyUsage, $"The encryption algorithm {algorithm} is not valid for a SYMMETRIC_DEFAULT key.");
        }
    }

    private static void CheckPolicyName(EcrCall call)
    {
        if (call.String("PolicyName") is { } name && name != "default")
        {
            throw new WharfException(WharfErrorCode.KmsNotFound, $"Key policy '{name}' does not exist: a key has one policy, named default.");
        }
    }

    private static Dictionary<string, string>? Context(EcrCall call) => call.Get("EncryptionContext") is { } context ? ReadMap(context) : null;

    private static Dictionary<string, string>? Map(JsonElement parent, string member) =>
        parent.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.Object ? ReadMap(value) : null;

    private static Dictionary<string, string> ReadMap(JsonElement map)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in map.EnumerateObject())
        {
            if (!result.TryAdd(pair.Name, pair.Value.GetString() ?? string.Empty))
            {
                throw new WharfException(WharfErrorCode.Validation, $"The encryption context names '{pair.Name}' twice.");
            }
        }

        return result;
    }

    private static List<ResourceTag> Tags(EcrCall call, string member) =>
        call.Get(member) is { } list
            ? list.EnumerateArray().Select(t => new ResourceTag(t.GetProperty("TagKey").GetString()!, t.GetProperty("TagValue").GetString()!)).ToList()
            : [];
}
