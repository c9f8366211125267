using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Secrets;

public sealed partial class SecretService
{
    /// <summary>Secrets Manager's quota of tags on one secret.</summary>
    public const int MaxTags = 50;

    /// <summary>
    /// The secret <paramref name="secretId"/> names (name, full ARN or partial ARN) in the caller's registry, once
    /// the caller may perform <paramref name="action"/> on it. A secret past its recovery window is removed here and
    /// is not found. The caller is asked about the ARN named even when no secret has it, so a caller without
    /// access learns nothing of which secrets exist.
    /// </summary>
    private Task<SecretRecord> ResolveAsync(Caller caller, RegistryKey registry, string secretId, string action, CancellationToken cancellationToken) =>
        ResolveAsync(caller, registry, secretId, action, RequestTags.Setting([]), cancellationToken);

    private async Task<SecretRecord> ResolveAsync(Caller caller, RegistryKey registry, string secretId, string action, RequestTags tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var secret = await FindAsync(store.Secrets, registry, secretId, cancellationToken);
        if (secret is not null && IsPastRecovery(secret, time.GetUtcNow()))
        {
            await store.Secrets.DeleteAsync(secret.Id, cancellationToken);
            secret = null;
        }

        // Secrets of another account or region are not reachable through this API (there are no resource policies).
        if (secret is not null && secret.Registry != registry)
        {
            secret = null;
        }

        var arn = secret?.Arn ?? (secretId.StartsWith("arn:", StringComparison.Ordinal) ? secretId : SecretArns.Partial(registry, secretId));
        await authorizer.AuthorizeAsync(caller, action, arn, tags, cancellationToken);
        return secret ?? throw NotFoundError();
    }

    /// <summary>The secret a name, full ARN or partial ARN names (in any registry for an ARN), or null.</summary>
    internal static async Task<SecretRecord?> FindAsync(ISecretStore secrets, RegistryKey registry, string secretId, CancellationToken cancellationToken)
    {
        if (SecretArns.Parse(registry, secretId) is not { } named)
        {
            return null;
        }

        return named.IsArn
            ? await secrets.GetByArnAsync(secretId, cancellationToken) ?? await secrets.GetAsync(named.Registry, named.Resource, cancellationToken)
            : await secrets.GetAsync(registry, named.Resource, cancellationToken);
    }

    internal static bool IsPastRecovery(SecretRecord secret, DateTimeOffset now) => secret.DeletionDate is { } date && date <= now;

    private static void RefuseScheduled(SecretRecord secret)
    {
        if (secret.IsScheduledForDeletion)
        {
            throw new WharfException(WharfErrorCode.SecretsInvalidRequest, MarkedForDeletion);
        }
    }

    private static WharfException NotFoundError() => new(WharfErrorCode.SecretsResourceNotFound, NotFound);

    /// <summary>Secrets Manager's name rule: ASCII letters, digits and <c>/_+=.@-</c>.</summary>
    private static void CheckName(string name)
    {
        if (name.Length is 0 or > 512 || !name.All(c => char.IsAsciiLetterOrDigit(c) || "/_+=.@-".Contains(c, StringComparison.Ordinal)))
        {
            throw new WharfException(
                WharfErrorCode.InvalidParameter,
                "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
        }
    }

    private static void CheckTags(IReadOnlyList<ResourceTag> tags)
    {
        if (tags.Count > MaxTags)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, $"The request would exceed the maximum of {MaxTags} tags on the secret.");
        }

        if (tags.Any(t => t.Key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)))
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, "Tag keys starting with 'aws:' are reserved for AWS use.");
        }
    }

    /// <summary>The version id: the request's token (the AWS CLI and SDKs fill one in), or a new UUID.</summary>
    private static string VersionId(string? clientRequestToken) => clientRequestToken ?? Guid.NewGuid().ToString();

    /// <summary>Last-accessed dates are kept to the day, as Secrets Manager keeps them.</summary>
    private static DateTimeOffset Day(DateTimeOffset now) => new(now.UtcDateTime.Date, TimeSpan.Zero);

    private SecretVersion Seal(string arn, string versionId, SecretValue value, IReadOnlyList<string> stages, DateTimeOffset now) =>
        SecretSeal.Seal(box, arn, versionId, value, stages, now);

    private SecretValue Open(SecretRecord secret, SecretVersion version) =>
        SecretSeal.TryOpen(box, secret.Arn, version)
        ?? throw new WharfException(WharfErrorCode.SecretsDecryptionFailure, "Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
}
