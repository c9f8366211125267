using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Secrets;

/// <summary>A secret's value: <c>SecretString</c> or <c>SecretBinary</c>, never both.</summary>
public sealed record SecretValue(string? Text, byte[]? Binary)
{
    /// <summary>Never the value: a value that reaches a log or a message shows only its kind.</summary>
    public override string ToString() => Text is not null ? "SecretString (hidden)" : "SecretBinary (hidden)";

    internal byte[] Bytes() => Text is not null ? Encoding.UTF8.GetBytes(Text) : Binary!;

    internal static SecretValue From(byte[] plain, bool binary) => binary ? new(null, plain) : new(Encoding.UTF8.GetString(plain), null);
}

/// <summary>The members of <c>CreateSecret</c> past the model's checks.</summary>
public sealed record SecretCreation(string Name, string? ClientRequestToken, string? Description, string? KmsKeyId, IReadOnlyList<ResourceTag> Tags, SecretValue? Value);

/// <summary>A secret's value as read: the secret, the version and the opened value.</summary>
public sealed record SecretRead(SecretRecord Secret, SecretVersion Version, SecretValue Value);

/// <summary>A secret with its versions (what <c>DescribeSecret</c> and <c>ListSecrets</c> report).</summary>
public sealed record SecretDescription(SecretRecord Secret, IReadOnlyList<SecretVersion> Versions);

/// <summary>
/// The Secrets Manager-compatible application service every surface calls: each operation authorised with
/// <see cref="IAccessAuthorizer"/> (the <c>secretsmanager:*</c> action on the secret's ARN), values sealed with the
/// master key and bound to the secret's ARN and the version id, Secrets Manager's errors and messages.
/// </summary>
public sealed partial class SecretService(IMetadataStore store, IAccessAuthorizer authorizer, SecretBox box, TimeProvider time)
{
    /// <summary>Secrets Manager's message for an operation on a secret waiting out its recovery window.</summary>
    public const string MarkedForDeletion = "You can't perform this operation on the secret because it was marked for deletion.";

    private const string NotFound = "Secrets Manager can't find the specified secret.";

    public async Task<(SecretRecord Secret, string? VersionId)> CreateAsync(Caller caller, RegistryKey registry, SecretCreation input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(input);
        CheckName(input.Name);
        var now = time.GetUtcNow();
        var arn = SecretArns.New(registry, input.Name);
        await authorizer.AuthorizeAsync(caller, SecretsManagerActions.CreateSecret, arn, RequestTags.Setting(input.Tags), cancellationToken);
        CheckTags(input.Tags);
        var secret = new SecretRecord(0, registry, input.Name, arn, input.Description, input.KmsKeyId, input.Tags, now, now, null, null, null);
        var version = input.Value is { } value ? Seal(arn, VersionId(input.ClientRequestToken), value, [SecretStages.Current], now) : null;
        for (var attempt = 0; ; attempt++)
        {
            if (await store.Secrets.CreateAsync(secret, version, cancellationToken))
            {
                return (secret, version?.VersionId);
            }

            var existing = await store.Secrets.GetAsync(registry, input.Name, cancellationToken);
            if (existing is not null && IsPastRecovery(existing, now) && attempt == 0)
            {
                await store.Secrets.DeleteAsync(existing.Id, cancellationToken);
                continue;
            }

            if (existing is { IsScheduledForDeletion: true })
            {
                throw new WharfException(WharfErrorCode.SecretsInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.");
            }

            // A retry of the same request (same token, same value) is answered as the first was.
            if (existing is not null && version is not null && await SameVersionAsync(existing, version.VersionId, input.Value!, cancellationToken))
            {
                return (existing, version.VersionId);
            }

            throw new WharfException(WharfErrorCode.SecretsResourceExists, $"The operation failed because the secret {input.Name} already exists.");
        }
    }

    /// <summary><c>GetSecretValue</c>: the version named by id or stage (<c>AWSCURRENT</c> when neither), opened.</summary>
    public async Task<SecretRead> GetValueAsync(Caller caller, RegistryKey registry, string secretId, string? versionId, string? stage, CancellationToken cancellationToken)
    {
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.GetSecretValue, cancellationToken);
        RefuseScheduled(secret);
        var versions = await store.Secrets.ListVersionsAsync(secret.Id, cancellationToken);
        var version = Pick(versions, versionId, stage);
        var value = Open(secret, version);
        var today = Day(time.GetUtcNow());
        if (secret.AccessedAt is not { } accessed || accessed < today)
        {
            await store.Secrets.RecordAccessAsync(secret.Id, today, cancellationToken);
        }

        return new SecretRead(secret, version, value);
    }

    /// <summary><c>PutSecretValue</c>: a new version with <paramref name="stages"/> (<c>AWSCURRENT</c> when none).</summary>
    public async Task<(SecretRecord Secret, SecretVersion Version)> PutValueAsync(
        Caller caller, RegistryKey registry, string secretId, string? clientRequestToken, SecretValue value, IReadOnlyList<string>? stages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.PutSecretValue, cancellationToken);
        RefuseScheduled(secret);
        return await AddVersionAsync(secret, clientRequestToken, value, stages is { Count: > 0 } ? stages.Distinct(StringComparer.Ordinal).ToList() : [SecretStages.Current], null, cancellationToken);
    }

    /// <summary><c>UpdateSecret</c>: the description and key id when given, and a new current version when a value is given.</summary>
    public async Task<(SecretRecord Secret, string? VersionId)> UpdateAsync(
        Caller caller, RegistryKey registry, string secretId, string? clientRequestToken, string? description, string? kmsKeyId, SecretValue? value, CancellationToken cancellationToken)
    {
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.UpdateSecret, cancellationToken);
        RefuseScheduled(secret);
        if (value is not null)
        {
            var (updated, version) = await AddVersionAsync(
                secret, clientRequestToken, value, [SecretStages.Current], s => s with { Description = description ?? s.Description, KmsKeyId = kmsKeyId ?? s.KmsKeyId }, cancellationToken);
            return (updated, version.VersionId);
        }

        var now = time.GetUtcNow();
        var changed = await store.Secrets.ChangeAsync(
            secret.Id,
            (current, _) =>
            {
                var next = current with { Description = description ?? current.Description, KmsKeyId = kmsKeyId ?? current.KmsKeyId, ChangedAt = now };
                return new SecretChange<SecretRecord>(current.IsScheduledForDeletion ? null : next, null, next);
            },
            cancellationToken) ?? throw NotFoundError();
        return (changed.Result, null);
    }

    /// <summary><c>DescribeSecret</c>: the secret (also while scheduled for deletion) with its versions.</summary>
    public async Task<SecretDescription> DescribeAsync(Caller caller, RegistryKey registry, string secretId, CancellationToken cancellationToken)
    {
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.DescribeSecret, cancellationToken);
        return new SecretDescription(secret, await store.Secrets.ListVersionsAsync(secret.Id, cancellationToken));
    }

    /// <summary>
    /// <c>DeleteSecret</c>: schedules the deletion after a recovery window of 7 to 30 days (30 when not given), or
    /// deletes at once with <paramref name="force"/>. Returns the secret and its deletion date.
    /// </summary>
    public async Task<(SecretRecord Secret, DateTimeOffset DeletionDate)> DeleteAsync(
        Caller caller, RegistryKey registry, string secretId, long? recoveryWindowInDays, bool force, CancellationToken cancellationToken)
    {
        if (force && recoveryWindowInDays is not null)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
        }

        if (recoveryWindowInDays is < 7 or > 30)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
        }

        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.DeleteSecret, cancellationToken);
        var now = time.GetUtcNow();
        if (force)
        {
            await store.Secrets.DeleteAsync(secret.Id, cancellationToken);
            return (secret, now);
        }

        var deletion = now.AddDays(recoveryWindowInDays ?? 30);
        var changed = await store.Secrets.ChangeAsync(
            secret.Id,
            (current, _) => current.IsScheduledForDeletion
                ? new SecretChange<SecretRecord?>(null, null, null)
                : new SecretChange<SecretRecord?>(current with { DeletedAt = now, DeletionDate = deletion }, null, current),
            cancellationToken) ?? throw NotFoundError();
        return changed.Result is null
            ? throw new WharfException(WharfErrorCode.SecretsInvalidRequest, MarkedForDeletion)
            : (secret, deletion);
    }

    /// <summary><c>RestoreSecret</c>: cancels a scheduled deletion (a secret not scheduled is left as it is).</summary>
    public async Task<SecretRecord> RestoreAsync(Caller caller, RegistryKey registry, string secretId, CancellationToken cancellationToken)
    {
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.RestoreSecret, cancellationToken);
        var changed = await store.Secrets.ChangeAsync(
            secret.Id,
            (current, _) => new SecretChange<bool>(current.IsScheduledForDeletion ? current with { DeletedAt = null, DeletionDate = null } : null, null, true),
            cancellationToken);
        return changed is null ? throw NotFoundError() : secret;
    }

    /// <summary><c>TagResource</c>: adds or overwrites tags, up to Secrets Manager's 50.</summary>
    public async Task TagAsync(Caller caller, RegistryKey registry, string secretId, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.TagResource, RequestTags.Setting(tags), cancellationToken);
        RefuseScheduled(secret);
        CheckTags(tags);
        await ChangeTagsAsync(secret, current => [.. current.Where(t => !tags.Any(n => n.Key == t.Key)), .. tags.GroupBy(t => t.Key, StringComparer.Ordinal).Select(g => g.Last())], cancellationToken);
    }

    /// <summary><c>UntagResource</c>: removes the tags with these keys (absent keys are ignored).</summary>
    public async Task UntagAsync(Caller caller, RegistryKey registry, string secretId, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var secret = await ResolveAsync(caller, registry, secretId, SecretsManagerActions.UntagResource, RequestTags.Naming(keys), cancellationToken);
        RefuseScheduled(secret);
        await ChangeTagsAsync(secret, current => current.Where(t => !keys.Contains(t.Key, StringComparer.Ordinal)).ToList(), cancellationToken);
    }

    private async Task ChangeTagsAsync(SecretRecord secret, Func<IReadOnlyList<ResourceTag>, IReadOnlyList<ResourceTag>> change, CancellationToken cancellationToken)
    {
        var outcome = await store.Secrets.ChangeAsync(
            secret.Id,
            (current, _) =>
            {
                var tags = change(current.Tags);
                return tags.Count > MaxTags
                    ? new SecretChange<bool>(null, null, false)
                    : new SecretChange<bool>(current with { Tags = tags }, null, true);
            },
            cancellationToken) ?? throw NotFoundError();
        if (!outcome.Result)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, $"The request would exceed the maximum of {MaxTags} tags on the secret.");
        }
    }

    private async Task<(SecretRecord Secret, SecretVersion Version)> AddVersionAsync(
        SecretRecord secret, string? clientRequestToken, SecretValue value, IReadOnlyList<string> stages, Func<SecretRecord, SecretRecord>? alter, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var added = Seal(secret.Arn, VersionId(clientRequestToken), value, stages, now);
        var outcome = await store.Secrets.ChangeAsync(
            secret.Id,
            (current, versions) =>
            {
                if (current.IsScheduledForDeletion)
                {
                    return new SecretChange<(SecretRecord, SecretVersion)?>(null, null, null);
                }

                // The same token again: the same value is the retry of a request that was applied; another is refused.
                if (versions.FirstOrDefault(v => v.VersionId == added.VersionId) is { } existing)
                {
                    return SameValue(current, existing, value)
                        ? new SecretChange<(SecretRecord, SecretVersion)?>(null, null, (current, existing))
                        : throw new WharfException(WharfErrorCode.SecretsResourceExists, "You can't modify an existing version, you can only create a new version.");
                }

                var next = (alter?.Invoke(current) ?? current) with { ChangedAt = now };
                return new SecretChange<(SecretRecord, SecretVersion)?>(next, SecretStages.Add(versions, added), (next, added));
            },
            cancellationToken) ?? throw NotFoundError();
        return outcome.Result ?? throw new WharfException(WharfErrorCode.SecretsInvalidRequest, MarkedForDeletion);
    }

    private async Task<bool> SameVersionAsync(SecretRecord secret, string versionId, SecretValue value, CancellationToken cancellationToken) =>
        (await store.Secrets.ListVersionsAsync(secret.Id, cancellationToken)).FirstOrDefault(v => v.VersionId == versionId) is { } existing
        && SameValue(secret, existing, value);

    private bool SameValue(SecretRecord secret, SecretVersion version, SecretValue value)
    {
        if (version.IsBinary != value.Text is null)
        {
            return false;
        }

        var opened = Open(secret, version);
        return CryptographicOperations.FixedTimeEquals(opened.Bytes(), value.Bytes());
    }

    private static SecretVersion Pick(IReadOnlyList<SecretVersion> versions, string? versionId, string? stage)
    {
        var version = versionId is not null
            ? versions.FirstOrDefault(v => v.VersionId == versionId)
            : versions.FirstOrDefault(v => v.Stages.Contains(stage ?? SecretStages.Current, StringComparer.Ordinal));
        if (version is null)
        {
            throw new WharfException(
                WharfErrorCode.SecretsResourceNotFound,
                versionId is not null
                    ? $"Secrets Manager can't find the specified secret value for VersionId: {versionId}"
                    : $"Secrets Manager can't find the specified secret value for staging label: {stage ?? SecretStages.Current}");
        }

        if (versionId is not null && stage is not null && !version.Stages.Contains(stage, StringComparer.Ordinal))
        {
            throw new WharfException(WharfErrorCode.SecretsInvalidRequest, $"You provided a VersionStage that is not associated to the provided VersionId.");
        }

        return version;
    }
}
