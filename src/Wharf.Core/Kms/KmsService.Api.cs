using System.Security.Cryptography;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Kms;

/// <summary>A grant's request (<c>CreateGrant</c>).</summary>
public sealed record KmsGrantRequest(
    string GranteePrincipal,
    string? RetiringPrincipal,
    IReadOnlyList<string> Operations,
    IReadOnlyDictionary<string, string>? ContextSubset,
    IReadOnlyDictionary<string, string>? ContextEquals,
    string? Name);

/// <summary>The operations of the <c>TrentService</c> API, each authorised as KMS authorises it.</summary>
public sealed partial class KmsService
{
    /// <summary>Creates a customer managed key (the default key policy when none is given).</summary>
    public async Task<KmsKeyRecord> CreateKeyAsync(Caller caller, RegistryKey registry, string? description, string? policy, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "kms:CreateKey", "*", RequestTags.Setting(tags), cancellationToken);
        if (policy is not null)
        {
            ValidatePolicy(policy);
        }

        var (key, material) = NewKey(registry.Account, registry.Region, description, policy ?? DefaultPolicy(registry.Account), awsManaged: false, tags, time.GetUtcNow());
        await store.Kms.CreateKeyAsync(key, material, null, cancellationToken);
        return key;
    }

    /// <summary>The key <paramref name="keyId"/> names, authorised for <paramref name="action"/> (the <c>aws/ecr</c> alias makes its key on first use).</summary>
    public async Task<KmsKeyRecord> KeyForAsync(Caller caller, RegistryKey registry, string keyId, string action, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? context = null)
    {
        var key = await ResolveAsync(registry.Account, registry.Region, keyId, cancellationToken);
        await AuthorizeAsync(caller, key, action, null, context, cancellationToken);
        return key;
    }

    public async Task<IReadOnlyList<KmsKeyRecord>> ListKeysAsync(Caller caller, RegistryKey registry, string? after, int limit, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, "kms:ListKeys", "*", cancellationToken);
        return await store.Kms.ListKeysAsync(registry.Account, registry.Region, after, limit, cancellationToken);
    }

    public async Task<IReadOnlyList<KmsAlias>> ListAliasesAsync(Caller caller, RegistryKey registry, string? keyId, string? after, int limit, CancellationToken cancellationToken)
    {
        string? keyArn = null;
        if (keyId is not null)
        {
            keyArn = (await KeyForAsync(caller, registry, keyId, "kms:ListAliases", cancellationToken)).Arn;
        }
        else
        {
            await authorizer.AuthorizeAsync(caller, "kms:ListAliases", "*", cancellationToken);
        }

        return await store.Kms.ListAliasesAsync(registry.Account, registry.Region, keyArn, after, limit, cancellationToken);
    }

    public async Task CreateAliasAsync(Caller caller, RegistryKey registry, string aliasName, string targetKeyId, CancellationToken cancellationToken)
    {
        CheckAliasName(aliasName);
        var key = await KeyForAsync(caller, registry, targetKeyId, "kms:CreateAlias", cancellationToken);
        CheckAliasTarget(registry, key);
        var now = time.GetUtcNow();
        var alias = new KmsAlias(registry.Account, registry.Region, aliasName, key.Arn, now, now);
        if (!await store.Kms.CreateAliasAsync(alias, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.KmsAlreadyExists, $"An alias with the name {alias.Arn} already exists");
        }
    }

    public async Task UpdateAliasAsync(Caller caller, RegistryKey registry, string aliasName, string targetKeyId, CancellationToken cancellationToken)
    {
        CheckAliasName(aliasName);
        var current = await store.Kms.GetAliasAsync(registry.Account, registry.Region, aliasName, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.KmsNotFound, $"Alias arn:aws:kms:{registry.Region}:{registry.Account}:{aliasName} is not found.");
        var key = await KeyForAsync(caller, registry, targetKeyId, "kms:UpdateAlias", cancellationToken);
        CheckAliasTarget(registry, key);
        if (!await store.Kms.UpdateAliasAsync(current with { KeyArn = key.Arn, UpdatedAt = time.GetUtcNow() }, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.KmsNotFound, $"Alias {current.Arn} is not found.");
        }
    }

    public async Task DeleteAliasAsync(Caller caller, RegistryKey registry, string aliasName, CancellationToken cancellationToken)
    {
        CheckAliasName(aliasName);
        var alias = await store.Kms.GetAliasAsync(registry.Account, registry.Region, aliasName, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.KmsNotFound, $"Alias arn:aws:kms:{registry.Region}:{registry.Account}:{aliasName} is not found.");
        if (await store.Kms.GetKeyAsync(alias.KeyArn, cancellationToken) is { } key)
        {
            await AuthorizeAsync(caller, key, "kms:DeleteAlias", null, null, cancellationToken);
        }

        await store.Kms.DeleteAliasAsync(registry.Account, registry.Region, aliasName, cancellationToken);
    }

    /// <summary>Enables or disables a customer managed key (not one pending deletion).</summary>
    public async Task SetEnabledAsync(Caller caller, RegistryKey registry, string keyId, bool enabled, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, enabled ? "kms:EnableKey" : "kms:DisableKey", cancellationToken);
        if (key.State == KmsKeyState.PendingDeletion)
        {
            throw PendingDeletion(key);
        }

        await UpdateAsync(key with { State = enabled ? KmsKeyState.Enabled : KmsKeyState.Disabled }, cancellationToken);
    }

    /// <summary>Schedules the key's deletion after 7 to 30 days; its material is destroyed then.</summary>
    public async Task<KmsKeyRecord> ScheduleDeletionAsync(Caller caller, RegistryKey registry, string keyId, int? pendingWindowDays, CancellationToken cancellationToken)
    {
        var days = pendingWindowDays ?? DefaultPendingWindowDays;
        if (days is < 7 or > 30)
        {
            throw new WharfException(
                WharfErrorCode.Validation,
                days < 7
                    ? $"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7"
                    : $"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30");
        }

        var key = await ManageAsync(caller, registry, keyId, "kms:ScheduleKeyDeletion", cancellationToken);
        if (key.State == KmsKeyState.PendingDeletion)
        {
            throw PendingDeletion(key);
        }

        var scheduled = key with { State = KmsKeyState.PendingDeletion, DeletionDate = time.GetUtcNow().AddDays(days) };
        await UpdateAsync(scheduled, cancellationToken);
        return scheduled;
    }

    /// <summary>Cancels a scheduled deletion; the key is then disabled, as in KMS.</summary>
    public async Task<KmsKeyRecord> CancelDeletionAsync(Caller caller, RegistryKey registry, string keyId, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, "kms:CancelKeyDeletion", cancellationToken);
        if (key.State != KmsKeyState.PendingDeletion)
        {
            throw new WharfException(WharfErrorCode.KmsInvalidState, $"{key.Arn} is not pending deletion.");
        }

        var cancelled = key with { State = KmsKeyState.Disabled, DeletionDate = null };
        await UpdateAsync(cancelled, cancellationToken);
        return cancelled;
    }

    public async Task<(KmsKeyRecord Key, byte[] Plaintext, byte[] Ciphertext)> GenerateDataKeyAsync(
        Caller caller, RegistryKey registry, string keyId, int bytes, IReadOnlyDictionary<string, string>? context, bool withPlaintext, CancellationToken cancellationToken)
    {
        var key = Usable(await KeyForAsync(caller, registry, keyId, withPlaintext ? "kms:GenerateDataKey" : "kms:GenerateDataKeyWithoutPlaintext", cancellationToken, context));
        var plaintext = RandomNumberGenerator.GetBytes(bytes);
        return (key, plaintext, await SealAsync(key, plaintext, context, cancellationToken));
    }

    public async Task<(KmsKeyRecord Key, byte[] Ciphertext)> EncryptAsync(
        Caller caller, RegistryKey registry, string keyId, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        var key = Usable(await KeyForAsync(caller, registry, keyId, "kms:Encrypt", cancellationToken, context));
        return (key, await SealAsync(key, plaintext, context, cancellationToken));
    }

    /// <summary>Decrypts a blob: the blob names its key; a given <paramref name="keyId"/> must name the same key.</summary>
    public async Task<(KmsKeyRecord Key, byte[] Plaintext)> DecryptAsync(
        Caller caller, RegistryKey registry, ReadOnlyMemory<byte> blob, string? keyId, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        if (KmsCiphertext.TryReadHeader(blob.Span) is not { } header)
        {
            throw InvalidCiphertext();
        }

        if (keyId is not null)
        {
            var named = await ResolveAsync(registry.Account, registry.Region, keyId, cancellationToken, createManaged: false);
            if (named.Arn != header.KeyArn)
            {
                throw new WharfException(WharfErrorCode.KmsIncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.");
            }
        }

        // A blob naming a key that does not exist (deleted, or never made here) is an invalid ciphertext: nothing to learn from it.
        var key = await store.Kms.GetKeyAsync(header.KeyArn, cancellationToken) ?? throw InvalidCiphertext();
        await AuthorizeAsync(caller, key, "kms:Decrypt", null, context, cancellationToken);
        Usable(key);
        return (key, await OpenAsync(key, blob, header, context, cancellationToken));
    }

    public async Task<(KmsGrant Grant, string Token)> CreateGrantAsync(Caller caller, RegistryKey registry, string keyId, KmsGrantRequest request, CancellationToken cancellationToken)
    {
        var key = await KeyForAsync(caller, registry, keyId, "kms:CreateGrant", cancellationToken);
        if (key.State == KmsKeyState.PendingDeletion)
        {
            throw PendingDeletion(key);
        }

        if (request.Operations.Count == 0)
        {
            throw new WharfException(WharfErrorCode.Validation, "1 validation error detected: Value '[]' at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1");
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        var grant = new KmsGrant(
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), key.Arn, request.Name, request.GranteePrincipal, request.RetiringPrincipal,
            $"arn:aws:iam::{caller.Account}:root", request.Operations.Distinct(StringComparer.Ordinal).ToList(), request.ContextSubset, request.ContextEquals,
            TokenHash(token), time.GetUtcNow());
        await store.Kms.CreateGrantAsync(grant, cancellationToken);
        return (grant, token);
    }

    public async Task<(KmsKeyRecord Key, IReadOnlyList<KmsGrant> Grants)> ListGrantsAsync(Caller caller, RegistryKey registry, string keyId, CancellationToken cancellationToken)
    {
        var key = await KeyForAsync(caller, registry, keyId, "kms:ListGrants", cancellationToken);
        return (key, await store.Kms.ListGrantsAsync(key.Arn, cancellationToken));
    }

    /// <summary>
    /// Retires a grant, named by its token or by key and grant id: the grant's retiring principal or grantee (when it
    /// may retire), or whoever the key policy lets <c>kms:RetireGrant</c>.
    /// </summary>
    public async Task RetireGrantAsync(Caller caller, RegistryKey registry, string? token, string? keyId, string? grantId, CancellationToken cancellationToken)
    {
        KmsGrant grant;
        if (token is not null)
        {
            grant = await store.Kms.GetGrantByTokenAsync(TokenHash(token), cancellationToken)
                ?? throw new WharfException(WharfErrorCode.KmsInvalidGrantToken, "Grant token is invalid or has been retired.");
        }
        else if (keyId is not null && grantId is not null)
        {
            var key = await ResolveAsync(registry.Account, registry.Region, keyId, cancellationToken, createManaged: false);
            grant = (await store.Kms.ListGrantsAsync(key.Arn, cancellationToken)).FirstOrDefault(g => g.GrantId == grantId)
                ?? throw new WharfException(WharfErrorCode.KmsNotFound, $"Grant ID {grantId} not found");
        }
        else
        {
            throw new WharfException(WharfErrorCode.Validation, "Either GrantToken, or both KeyId and GrantId, must be specified.");
        }

        var self = caller.PrincipalArn == grant.RetiringPrincipal || caller.IdentityArn == grant.RetiringPrincipal
            || ((caller.PrincipalArn == grant.GranteePrincipal || caller.IdentityArn == grant.GranteePrincipal) && grant.Operations.Contains("RetireGrant"));
        if (!self && !caller.IsAnonymous)
        {
            var key = await store.Kms.GetKeyAsync(grant.KeyArn, cancellationToken) ?? throw KeyNotFound(grant.KeyArn);
            await AuthorizeAsync(caller, key, "kms:RetireGrant", null, null, cancellationToken);
        }
        else if (caller.IsAnonymous)
        {
            throw new WharfException(WharfErrorCode.Denied, $"Anonymous callers are not authorized to perform: kms:RetireGrant on resource: {grant.KeyArn}");
        }

        await store.Kms.DeleteGrantAsync(grant.KeyArn, grant.GrantId, cancellationToken);
    }

    public async Task RevokeGrantAsync(Caller caller, RegistryKey registry, string keyId, string grantId, CancellationToken cancellationToken)
    {
        var key = await KeyForAsync(caller, registry, keyId, "kms:RevokeGrant", cancellationToken);
        if (!await store.Kms.DeleteGrantAsync(key.Arn, grantId, cancellationToken))
        {
            throw new WharfException(WharfErrorCode.KmsNotFound, $"Grant ID {grantId} not found");
        }
    }

    public async Task PutKeyPolicyAsync(Caller caller, RegistryKey registry, string keyId, string policy, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, "kms:PutKeyPolicy", cancellationToken);
        ValidatePolicy(policy);
        await UpdateAsync(key with { Policy = policy }, cancellationToken);
    }

    /// <summary>Enables or disables automatic rotation (customer managed keys; AWS rotates its managed keys yearly).</summary>
    public async Task SetRotationAsync(Caller caller, RegistryKey registry, string keyId, bool enabled, int? periodDays, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, enabled ? "kms:EnableKeyRotation" : "kms:DisableKeyRotation", cancellationToken);
        if (key.State == KmsKeyState.PendingDeletion)
        {
            throw PendingDeletion(key);
        }

        if (key.State == KmsKeyState.Disabled)
        {
            throw new WharfException(WharfErrorCode.KmsDisabled, $"{key.Arn} is disabled.");
        }

        await UpdateAsync(key with { RotationEnabled = enabled, RotationPeriodDays = enabled ? periodDays ?? DefaultRotationPeriodDays : key.RotationPeriodDays }, cancellationToken);
    }

    /// <summary>Adds a material version now; earlier versions keep decrypting what they encrypted.</summary>
    public async Task<KmsKeyRecord> RotateNowAsync(Caller caller, RegistryKey registry, string keyId, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, "kms:RotateKeyOnDemand", cancellationToken);
        Usable(key);
        await RotateAsync(key, onDemand: true, cancellationToken);
        return key;
    }

    /// <summary>Adds the key's next material version (the rotation job and <see cref="RotateNowAsync"/>).</summary>
    public async Task RotateAsync(KmsKeyRecord key, bool onDemand, CancellationToken cancellationToken)
    {
        var next = key.CurrentVersion + 1;
        await store.Kms.RotateAsync(key.Arn, NewMaterial(key.Arn, next, time.GetUtcNow(), onDemand), cancellationToken);
    }

    /// <summary>Deletes the key and destroys its material (the deletion job, once the pending window has passed).</summary>
    public async Task<bool> DestroyAsync(KmsKeyRecord key, CancellationToken cancellationToken)
    {
        var deleted = await store.Kms.DeleteKeyAsync(key.Arn, cancellationToken);
        Forget(key.Arn);
        return deleted;
    }

    public async Task<KmsKeyRecord> UpdateDescriptionAsync(Caller caller, RegistryKey registry, string keyId, string description, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, "kms:UpdateKeyDescription", cancellationToken);
        var updated = key with { Description = description };
        await UpdateAsync(updated, cancellationToken);
        return updated;
    }

    public async Task TagAsync(Caller caller, RegistryKey registry, string keyId, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, "kms:TagResource", cancellationToken);
        var merged = key.Tags.Where(t => tags.All(n => n.Key != t.Key)).Concat(tags).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        if (merged.Count > 50)
        {
            throw new WharfException(WharfErrorCode.KmsLimitExceeded, "A KMS key can have up to 50 tags.");
        }

        await UpdateAsync(key with { Tags = merged }, cancellationToken);
    }

    public async Task UntagAsync(Caller caller, RegistryKey registry, string keyId, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var key = await ManageAsync(caller, registry, keyId, "kms:UntagResource", cancellationToken);
        await UpdateAsync(key with { Tags = key.Tags.Where(t => !keys.Contains(t.Key)).ToList() }, cancellationToken);
    }

    public async Task<IReadOnlyList<KmsMaterial>> ListRotationsAsync(Caller caller, RegistryKey registry, string keyId, CancellationToken cancellationToken)
    {
        var key = await KeyForAsync(caller, registry, keyId, "kms:ListKeyRotations", cancellationToken);
        return (await store.Kms.ListMaterialsAsync(key.Arn, cancellationToken)).Where(m => m.Version > 1).ToList();
    }

    /// <summary>The key's material versions' creation times (the first is the key's own; later ones are rotations).</summary>
    public Task<IReadOnlyList<KmsMaterial>> MaterialsAsync(KmsKeyRecord key, CancellationToken cancellationToken) => store.Kms.ListMaterialsAsync(key.Arn, cancellationToken);

    /// <summary>KMS's key policy checks: its size quota and the IAM policy grammar (every statement names a principal).</summary>
    public static void ValidatePolicy(string policy)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(policy) > MaxPolicyBytes)
        {
            throw new WharfException(WharfErrorCode.KmsLimitExceeded, $"The key policy is larger than the quota of {MaxPolicyBytes} bytes.");
        }

        try
        {
            Security.Policies.PolicyDocument.Parse(policy, isResourcePolicy: true);
        }
        catch (Security.Policies.PolicyFormatException e)
        {
            throw new WharfException(WharfErrorCode.KmsMalformedPolicyDocument, e.Message);
        }
    }

    // A change of the key itself: authorised by its key policy, and never of an AWS managed key (AWS manages those).
    private async Task<KmsKeyRecord> ManageAsync(Caller caller, RegistryKey registry, string keyId, string action, CancellationToken cancellationToken)
    {
        var key = await ResolveAsync(registry.Account, registry.Region, keyId, cancellationToken);
        await AuthorizeAsync(caller, key, action, null, null, cancellationToken);
        if (key.AwsManaged)
        {
            throw new WharfException(
                WharfErrorCode.Denied,
                $"User: {caller.PrincipalArn} is not authorized to perform: {action} on resource: {key.Arn} because {key.Arn} is an AWS managed key, which only AWS may change");
        }

        return key;
    }

    private async Task UpdateAsync(KmsKeyRecord key, CancellationToken cancellationToken)
    {
        if (!await store.Kms.UpdateKeyAsync(key, cancellationToken))
        {
            throw KeyNotFound(key.Arn);
        }
    }

    private static void CheckAliasName(string aliasName)
    {
        if (!aliasName.StartsWith("alias/", StringComparison.Ordinal) || aliasName.Length == "alias/".Length)
        {
            throw new WharfException(
                WharfErrorCode.Validation,
                "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
        }

        if (aliasName.StartsWith(ReservedAliasPrefix, StringComparison.Ordinal))
        {
            throw new WharfException(WharfErrorCode.KmsInvalidAliasName, $"Alias {aliasName} cannot begin with alias/aws/; that prefix is reserved for AWS managed keys.");
        }
    }

    private static void CheckAliasTarget(RegistryKey registry, KmsKeyRecord key)
    {
        if (key.Account != registry.Account || key.Region != registry.Region)
        {
            throw new WharfException(WharfErrorCode.KmsNotFound, $"Key '{key.Arn}' does not exist");
        }

        if (key.AwsManaged)
        {
            throw new WharfException(WharfErrorCode.UnsupportedOperation, $"{key.Arn} is an AWS managed key; an alias cannot name it.");
        }

        if (key.State == KmsKeyState.PendingDeletion)
        {
            throw PendingDeletion(key);
        }
    }

    private static string TokenHash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
}
