using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Repositories;

/// <summary>
/// Authorises an operation on a repository and finds (or, for pushes, creates) the repository. For a repository
/// encrypted with a KMS key, the operations that read or write its content (<see cref="KeyUseOf"/>) also need the key
/// usable now and the caller allowed to use it (<see cref="RepositoryEncryption.CheckAsync"/>).
/// </summary>
public sealed class RepositoryResolver(IMetadataStore store, IAccessAuthorizer authorizer, DataPlaneSettings settings, TimeProvider time, RepositoryEncryption? encryption = null)
{
    private readonly RepositoryCreator creator = new(store, time, encryption);

    /// <summary>What <paramref name="action"/> does with a repository's content: pull, push, or neither (null).</summary>
    public static KeyUse? KeyUseOf(string action) => action switch
    {
        EcrActions.BatchGetImage or EcrActions.GetDownloadUrlForLayer => KeyUse.Pull,
        EcrActions.InitiateLayerUpload or EcrActions.UploadLayerPart or EcrActions.CompleteLayerUpload or EcrActions.PutImage => KeyUse.Push,
        _ => null,
    };

    /// <summary>The repository once its KMS key (if any) allows <paramref name="caller"/> to do <paramref name="action"/>.</summary>
    private ValueTask<Repository> CheckKeyAsync(Caller caller, Repository repository, string action, CancellationToken cancellationToken) =>
        NeedsKeyCheck(repository, action)
            ? new ValueTask<Repository>(encryption!.CheckAsync(caller, repository, KeyUseOf(action)!.Value, cancellationToken))
            : ValueTask.FromResult(repository);

    /// <summary>
    /// Authorises <paramref name="action"/> only, for a write that finds the repository itself (inside its transaction,
    /// with its first statements) and uses it as found only where <see cref="NeedsKeyCheck"/> says no check is due.
    /// </summary>
    public ValueTask AuthorizeAsync(Caller caller, RepositoryKey key, string action, CancellationToken cancellationToken) =>
        authorizer.AuthorizeAsync(caller, action, key.Arn, RequestTags.Setting([]), cancellationToken);

    /// <summary>True when <paramref name="repository"/>'s KMS key must be checked before <paramref name="action"/> uses it (what <see cref="GetAsync(Caller, RepositoryKey, string, CancellationToken)"/> does).</summary>
    public bool NeedsKeyCheck(Repository repository, string action) =>
        encryption is not null && RepositoryEncryption.IsKms(repository.Settings) && KeyUseOf(action) is not null;

    /// <summary>Authorises <paramref name="action"/> and returns the repository, or throws <c>NAME_UNKNOWN</c>.</summary>
    public Task<Repository> GetAsync(Caller caller, RepositoryKey key, string action, CancellationToken cancellationToken) =>
        GetAsync(caller, key, action, RequestTags.Setting([]), cancellationToken);

    /// <summary>As above, for a request that sets or names tags.</summary>
    public async Task<Repository> GetAsync(Caller caller, RepositoryKey key, string action, RequestTags tags, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, action, key.Arn, tags, cancellationToken);
        var repository = await store.Repositories.GetAsync(key, cancellationToken) ?? throw NameUnknown(key);
        return await CheckKeyAsync(caller, repository, action, cancellationToken);
    }

    /// <summary>Authorises <paramref name="action"/> and returns the repository, or null when it does not exist.</summary>
    public async Task<Repository?> FindAsync(Caller caller, RepositoryKey key, string action, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, action, key.Arn, RequestTags.Setting([]), cancellationToken);
        return await store.Repositories.GetAsync(key, cancellationToken) is { } repository ? await CheckKeyAsync(caller, repository, action, cancellationToken) : null;
    }

    /// <summary>
    /// As <see cref="FindAsync(Caller, RepositoryKey, string, CancellationToken)"/>, with what the request reads of the
    /// repository found by the same store call (<paramref name="read"/>: one round trip on a networked database); null
    /// when the repository does not exist. The repository's KMS key is checked as there, before anything read is used.
    /// </summary>
    public async Task<(Repository Repository, T? Item)?> FindAsync<T>(
        Caller caller,
        RepositoryKey key,
        string action,
        Func<RepositoryKey, CancellationToken, Task<(Repository Repository, T? Item)?>> read,
        CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        await authorizer.AuthorizeAsync(caller, action, key.Arn, RequestTags.Setting([]), cancellationToken);
        return await read(key, cancellationToken) is { } found ? (await CheckKeyAsync(caller, found.Repository, action, cancellationToken), found.Item) : null;
    }

    /// <summary>
    /// Authorises <paramref name="action"/> and returns the repository, creating it when it is missing and
    /// the caller may <c>ecr:CreateRepository</c>: through the registry's <c>CREATE_ON_PUSH</c> creation
    /// template when one matches, else — with <c>Registry:CreateOnPush</c> on — with ECR's defaults;
    /// otherwise throws <c>NAME_UNKNOWN</c>.
    /// </summary>
    /// <remarks>
    /// ECR creates on push only through a template. Wharf's embedded default stays friendlier (any push
    /// creates); with <c>Registry:CreateOnPush=false</c> it behaves as ECR.
    /// </remarks>
    public async Task<Repository> GetForPushAsync(Caller caller, RepositoryKey key, string action, CancellationToken cancellationToken)
    {
        await authorizer.AuthorizeAsync(caller, action, key.Arn, cancellationToken);
        var repository = await store.Repositories.GetAsync(key, cancellationToken);
        if (repository is not null)
        {
            return await CheckKeyAsync(caller, repository, action, cancellationToken);
        }

        // A public repository is made only by ECR Public's CreateRepository, which gives its registry an
        // alias and catalog data (as ECR Public, where a push never creates one); creation templates are private.
        if (key.Registry.IsPublic)
        {
            throw NameUnknown(key);
        }

        var template = await creator.FindTemplateAsync(key, CreationPurpose.CreateOnPush, cancellationToken);
        if (template is null && !settings.CreateOnPush)
        {
            throw NameUnknown(key);
        }

        // Creating on push is creating: it needs ecr:CreateRepository too, as ECR's CREATE_ON_PUSH templates do.
        await authorizer.AuthorizeAsync(caller, EcrActions.CreateRepository, key.Arn, cancellationToken);
        return await CheckKeyAsync(caller, await creator.CreateAsync(key, template, cancellationToken), action, cancellationToken);
    }

    /// <summary>Asks the authorizer only (for operations on the registry rather than a repository).</summary>
    public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken) =>
        authorizer.AuthorizeAsync(caller, action, resourceArn, cancellationToken);

    /// <summary>As above, naming the registry acted on, whose registry policy applies.</summary>
    public ValueTask AuthorizeAsync(Caller caller, RegistryKey registry, string action, string resourceArn, CancellationToken cancellationToken) =>
        authorizer.AuthorizeAsync(caller, registry, action, resourceArn, cancellationToken);

    /// <summary>ECR's wording (ECR-NOTES, common errors).</summary>
    public static WharfException NameUnknown(RepositoryKey key) =>
        new(WharfErrorCode.NameUnknown, $"The repository with name '{key.Name}' does not exist in the registry with id '{key.Registry.Account}'");
}
