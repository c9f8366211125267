using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Public;

/// <summary>
/// What a public repository's catalog data is set to (<c>RepositoryCatalogDataInput</c>): every member
/// optional; the logo as the image's bytes (≤ 512,000, PNG or JPEG).
/// </summary>
public sealed record CatalogInput(
    string? Description,
    IReadOnlyList<string>? Architectures,
    IReadOnlyList<string>? OperatingSystems,
    string? AboutText,
    string? UsageText,
    byte[]? Logo);

/// <summary>
/// Where public registries are reached, as clients write it: <c>Public:Host</c> when set, else the public
/// listener's address (the Server knows it once it listens).
/// </summary>
public interface IPublicAddress
{
    /// <summary><c>host[:port]</c>, as in <c>&lt;authority&gt;/&lt;alias&gt;/&lt;repository&gt;</c> (ECR Public's <c>public.ecr.aws</c>).</summary>
    string Authority { get; }
}

/// <summary>
/// ECR Public's registries and catalog data (ECR-NOTES §8): each account's public registry and its
/// aliases (a default one drawn with the first public repository; a chosen one unique across accounts),
/// catalog data of registries and repositories, and the gallery's reads. Repositories, images and
/// uploads of a public registry are the ordinary services' on <see cref="RegistryKey.Public"/>.
/// </summary>
public sealed class PublicRegistryService(IMetadataStore store, IAccessAuthorizer authorizer, TimeProvider time)
{
    /// <summary>ECR Public's limit on a logo image.</summary>
    public const int MaxLogoBytes = 512_000;

    private readonly IMetadataStore store = store;
    private readonly IAccessAuthorizer authorizer = authorizer;
    private readonly TimeProvider time = time;

    /// <summary>The account's public registry, made (with a fresh default alias) when it has none.</summary>
    public Task<PublicRegistryRecord> EnsureRegistryAsync(AccountId account, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The account's public registry, or null (no public repository was ever created).</summary>
    public Task<PublicRegistryRecord?> GetRegistryAsync(AccountId account, CancellationToken cancellationToken) =>
        store.Public.GetRegistryAsync(account, cancellationToken);

    /// <summary>The public registry an ACTIVE alias names, or null. Cached briefly (aliases change rarely).</summary>
    public ValueTask<RegistryKey?> ResolveAliasAsync(string alias, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The operator's <c>wharf admin public-registry --alias</c>: gives the registry a chosen alias as its primary one.</summary>
    public Task<PublicRegistryRecord> SetAliasAsync(AccountId account, string alias, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The operator's <c>wharf admin public-registry --verified</c>.</summary>
    public Task<PublicRegistryRecord> SetVerifiedAsync(AccountId account, bool verified, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Creates a public repository with its catalog data and resource tags (ECR Public's <c>CreateRepository</c>).</summary>
    public Task<(Repository Repository, RepositoryCatalog Catalog)> CreateRepositoryAsync(Caller caller, RepositoryName name, CatalogInput? catalog, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    public Task<RepositoryCatalog> GetCatalogAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    public Task<RepositoryCatalog> PutCatalogAsync(Caller caller, RepositoryKey key, CatalogInput catalog, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The caller's registry display name (<c>GetRegistryCatalogData</c>).</summary>
    public Task<string?> GetDisplayNameAsync(Caller caller, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    public Task<string?> PutDisplayNameAsync(Caller caller, string? displayName, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The gallery's search (public content: no caller).</summary>
    public Task<PublicSearchPage> SearchAsync(string? query, string? architecture, string? operatingSystem, AccountId? account, string? cursor, int limit, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>The words a repository is found by: its name's components and its description's words, lowercased.</summary>
    public static IReadOnlyCollection<string> SearchTerms(RepositoryName name, string? description) =>
        throw new NotImplementedException();
}
