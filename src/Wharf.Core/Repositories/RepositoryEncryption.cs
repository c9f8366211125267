using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wharf.Core.Errors;
using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Repositories;

/// <summary>What a request does with a repository's content, and so what it needs of the repository's KMS key.</summary>
public enum KeyUse
{
    /// <summary>A pull: KMS's <c>Decrypt</c>.</summary>
    Pull,

    /// <summary>A push: KMS's <c>GenerateDataKey</c>.</summary>
    Push,
}

/// <summary>
/// Repositories encrypted with a KMS key (<c>KMS</c>, <c>KMS_DSSE</c>), as ECR keeps them: the key is resolved and
/// checked when the repository is created (it exists, is enabled, is in the repository's region, the caller may use it
/// through ECR) and stored as its ARN; every pull and push of such a repository asks the key service again whether
/// the key is usable now and whether the caller may use it, so disabling the key stops them at the next request and
/// enabling it restores them. Failures are ECR's <c>KmsException</c> with <c>kmsError</c> set to KMS's error name.
/// Repositories encrypted with <c>AES256</c> cost nothing here.
/// </summary>
public sealed partial class RepositoryEncryption(IKmsKeys keys, IMetadataStore store, ILogger<RepositoryEncryption>? logger = null)
{
    private readonly ILogger logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <summary>The <c>kms:ViaService</c> value of ECR's calls in <paramref name="region"/>.</summary>
    public static string ViaService(string region) => $"ecr.{region}.amazonaws.com";

    /// <summary>Whether <paramref name="settings"/> are a KMS type.</summary>
    public static bool IsKms(RepositorySettings settings) => settings.EncryptionType is "KMS" or "KMS_DSSE";

    /// <summary>Whether <paramref name="value"/> is a KMS key ARN (not an alias ARN, id or alias name).</summary>
    public static bool IsKeyArn(string? value) =>
        value is not null && value.StartsWith("arn:", StringComparison.Ordinal) && value.Split(':', 6) is [_, _, "kms", _, _, var resource]
        && resource.StartsWith("key/", StringComparison.Ordinal);

    /// <summary>
    /// The settings a repository named <paramref name="key"/> is created with: for a KMS type, the named key (id, key
    /// ARN, alias name or alias ARN; none: the account's <c>aws/ecr</c> key, created on first use) checked as ECR does
    /// and stored as its ARN. <paramref name="caller"/> is who creates it (null when the registry creates it itself,
    /// for replication: only the key's state and region are checked then).
    /// </summary>
    public async Task<RepositorySettings> ResolveAsync(Caller? caller, RepositoryKey key, RepositorySettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!IsKms(settings))
        {
            return settings;
        }

        var named = string.IsNullOrEmpty(settings.KmsKey) ? null : settings.KmsKey;
        var info = await keys.FindAsync(key.Registry.Account, key.Registry.Region, named, cancellationToken)
            ?? throw KmsFailure("NotFoundException", $"The KMS key '{named}' does not exist or is not visible to account {key.Registry.Account} in region {key.Registry.Region}");
        if (!string.Equals(info.Region, key.Registry.Region, StringComparison.Ordinal))
        {
            throw WharfException.InvalidParameter(
                "encryptionConfiguration.kmsKey",
                $"The KMS key must be in the same region as the repository ({key.Registry.Region}); {info.Arn} is in {info.Region}");
        }

        ThrowIfUnusable(info);
        if (caller is not null)
        {
            // ECR describes the key and creates its grants on the creator's behalf.
            foreach (var action in (string[])["kms:DescribeKey", "kms:CreateGrant"])
            {
                if (!await keys.IsAllowedAsync(caller, info.Arn, action, ViaService(key.Registry.Region), cancellationToken))
                {
                    throw NotAuthorized(caller, action, info.Arn);
                }
            }
        }

        return settings with { KmsKey = info.Arn };
    }

    /// <summary>
    /// Throws ECR's <c>KmsException</c> unless <paramref name="caller"/> may <paramref name="use"/> the content of
    /// <paramref name="repository"/> now: its key exists, is enabled, and the key service allows the caller the KMS
    /// action through ECR. Returns the repository, whose KMS key is an ARN afterwards (a row from before KMS keys
    /// existed gets its key resolved and stored here, once).
    /// </summary>
    public async Task<Repository> CheckAsync(Caller caller, Repository repository, KeyUse use, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (!IsKms(repository.Settings))
        {
            return repository;
        }

        var registry = repository.Key.Registry;
        if (!IsKeyArn(repository.Settings.KmsKey))
        {
            repository = await ResolveStoredAsync(repository, cancellationToken);
        }

        var arn = repository.Settings.KmsKey!;

        // Asked on every request, never remembered: a disabled key must refuse the very next pull.
        var info = await keys.FindAsync(registry.Account, registry.Region, arn, cancellationToken)
            ?? throw KmsFailure("NotFoundException", $"The KMS key {arn} of repository '{repository.Key.Name}' does not exist; content encrypted under a deleted key cannot be recovered");
        if (info.State == KmsKeyState.PendingDeletion)
        {
            LogPendingDeletion(logger, info.Arn, repository.Key);
        }

        ThrowIfUnusable(info);
        var action = use == KeyUse.Pull ? "kms:Decrypt" : "kms:GenerateDataKey";
        if (!await keys.IsAllowedAsync(caller, info.Arn, action, ViaService(registry.Region), cancellationToken))
        {
            throw NotAuthorized(caller, action, info.Arn);
        }

        return repository;
    }

    /// <summary>
    /// A repository created before the key service existed stored its key as it was named (or none): resolve it the
    /// way creation now does and keep the ARN, so its scope is fixed from here on. The row's other settings are kept.
    /// </summary>
    private async Task<Repository> ResolveStoredAsync(Repository repository, CancellationToken cancellationToken)
    {
        var registry = repository.Key.Registry;
        var named = string.IsNullOrEmpty(repository.Settings.KmsKey) ? null : repository.Settings.KmsKey;
        var info = await keys.FindAsync(registry.Account, registry.Region, named, cancellationToken)
            ?? throw KmsFailure("NotFoundException", $"The KMS key '{named}' of repository '{repository.Key.Name}' does not exist; create it (or an alias of that name) with the KMS API");
        var settings = repository.Settings with { KmsKey = info.Arn };
        if (await store.Repositories.GetAsync(repository.Key, cancellationToken) is { } current && current.Id == repository.Id)
        {
            settings = current.Settings with { KmsKey = info.Arn };
            await store.Repositories.UpdateSettingsAsync(repository.Id, settings, cancellationToken);
            LogResolved(logger, repository.Key, named ?? "aws/ecr", info.Arn);
        }

        return repository with { Settings = settings };
    }

    private static void ThrowIfUnusable(KmsKeyInfo info)
    {
        switch (info.State)
        {
            case KmsKeyState.Disabled:
                throw KmsFailure("DisabledException", $"{info.Arn} is disabled.");
            case KmsKeyState.PendingDeletion:
                throw KmsFailure("KMSInvalidStateException", $"{info.Arn} is pending deletion.");
        }
    }

    private static WharfException NotAuthorized(Caller caller, string action, string arn) =>
        KmsFailure("AccessDeniedException", $"User: {caller.PrincipalArn} is not authorized to perform: {action} on resource: {arn} via {action["kms:".Length..]} through Amazon ECR");

    /// <summary>ECR's <c>KmsException</c> with KMS's error name as <c>kmsError</c> (also in the OCI error's detail on /v2).</summary>
    public static WharfException KmsFailure(string kmsError, string message) =>
        new(WharfErrorCode.KmsException, $"KMS error ({kmsError}): {message}", new JsonObject { ["kmsError"] = kmsError });

    /// <summary>The <c>kmsError</c> of a <see cref="WharfErrorCode.KmsException"/>.</summary>
    public static string? KmsErrorOf(WharfException exception) =>
        exception?.Detail is JsonObject detail && detail["kmsError"] is JsonValue value && value.TryGetValue<string>(out var name) ? name : null;

    [LoggerMessage(EventId = 3150, Level = LogLevel.Warning, Message = "The KMS key {KeyArn} of repository {Repository} is pending deletion: its pulls and pushes are refused, and once it is deleted the repository's content cannot be recovered. Cancel the deletion (CancelKeyDeletion) to keep it")]
    private static partial void LogPendingDeletion(ILogger logger, string keyArn, RepositoryKey repository);

    [LoggerMessage(EventId = 3151, Level = LogLevel.Information, Message = "Repository {Repository}, created before KMS keys existed, names KMS key {Named}: resolved to {KeyArn} and stored")]
    private static partial void LogResolved(ILogger logger, RepositoryKey repository, string named, string keyArn);
}
