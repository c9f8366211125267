using Wharf.Core.Primitives;

namespace Wharf.Core.Metadata;

/// <summary>The status of a registry alias (ECR Public's <c>RegistryAliasStatus</c>).</summary>
public enum RegistryAliasStatus
{
    Active,
    Pending,
    Rejected,
}

/// <summary>
/// A name a public registry answers to: <c>&lt;public address&gt;/&lt;alias&gt;/&lt;repository&gt;</c>. Unique across
/// accounts. Every registry has a default alias (made with its first public repository); a chosen one
/// becomes the primary, the one shown in repository URIs.
/// </summary>
public sealed record RegistryAlias(string Name, RegistryAliasStatus Status, bool Primary, bool Default);

/// <summary>
/// An account's public registry: its aliases, whether it is verified (set by the operator with
/// <c>wharf admin public-registry</c>; the gallery shows display names and logos only for verified
/// registries, as ECR Public), and its catalog display name (<c>PutRegistryCatalogData</c>), or null.
/// </summary>
public sealed record PublicRegistryRecord(AccountId Account, IReadOnlyList<RegistryAlias> Aliases, bool Verified, string? DisplayName, DateTimeOffset CreatedAt)
{
    /// <summary>The alias shown in URIs: the primary one, else the default.</summary>
    public string PrimaryAlias => (Aliases.FirstOrDefault(a => a.Primary) ?? Aliases.First(a => a.Default)).Name;
}

/// <summary>
/// A public repository's catalog data (<c>Put/GetRepositoryCatalogData</c>): what the gallery shows and
/// searches. Texts are stored as given; the gallery renders the Markdown safely. The logo is named by
/// the hex SHA-256 of its image (its bytes are kept with the catalog, served by the gallery by that name).
/// </summary>
public sealed record RepositoryCatalog(
    string? Description,
    IReadOnlyList<string> Architectures,
    IReadOnlyList<string> OperatingSystems,
    string? AboutText,
    string? UsageText,
    string? LogoSha256)
{
    public static readonly RepositoryCatalog Empty = new(null, [], [], null, null, null);
}

/// <summary>A logo image as stored: its bytes and the media type sniffed from them (PNG or JPEG; anything else, SVG included, is refused).</summary>
public sealed record CatalogLogo(string Sha256, string MediaType, byte[] Bytes);

/// <summary>One public repository as the gallery's search lists it.</summary>
public sealed record PublicRepositorySummary(
    AccountId Account,
    string Alias,
    RepositoryName Name,
    string? Description,
    IReadOnlyList<string> Architectures,
    IReadOnlyList<string> OperatingSystems,
    string? LogoSha256,
    DateTimeOffset CreatedAt);

/// <summary>
/// A gallery search: words matched against names and descriptions (each word a prefix of a word there),
/// optional badge and registry filters, and <c>After</c>, the cursor of the previous page (the store's own).
/// </summary>
public sealed record PublicSearch(IReadOnlyList<string> Words, string? Architecture, string? OperatingSystem, AccountId? Account, string? After, int Limit);

/// <summary>A page of a search and the cursor of the next, or null at the end.</summary>
public sealed record PublicSearchPage(IReadOnlyList<PublicRepositorySummary> Repositories, string? Next);

/// <summary>
/// Public registries, their aliases and catalog data, the gallery's search index and the anonymous data
/// counters (ECR-NOTES §8). Catalog rows and search terms go with their repository.
/// </summary>
public interface IPublicRegistryStore
{
    /// <summary>The account's public registry, or null when it has none yet.</summary>
    Task<PublicRegistryRecord?> GetRegistryAsync(AccountId account, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the account's public registry with <paramref name="defaultAlias"/> as its default (and
    /// primary) alias unless it has one; returns the registry as it is. Returns null, writing nothing,
    /// when the registry does not exist and <paramref name="defaultAlias"/> is another account's alias
    /// (the caller draws another).
    /// </summary>
    Task<PublicRegistryRecord?> EnsureRegistryAsync(AccountId account, string defaultAlias, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the account's registry the alias <paramref name="alias"/> (ACTIVE) and makes it the primary
    /// one; the registry must exist. False, writing nothing, when another account has the alias.
    /// </summary>
    Task<bool> SetPrimaryAliasAsync(AccountId account, string alias, CancellationToken cancellationToken);

    /// <summary>The account whose ACTIVE alias <paramref name="alias"/> is, or null.</summary>
    Task<AccountId?> ResolveAliasAsync(string alias, CancellationToken cancellationToken);

    /// <summary>Sets the registry's display name (null clears it). False when the registry does not exist.</summary>
    Task<bool> SetDisplayNameAsync(AccountId account, string? displayName, CancellationToken cancellationToken);

    /// <summary>Marks the registry verified or not. False when the registry does not exist.</summary>
    Task<bool> SetVerifiedAsync(AccountId account, bool verified, CancellationToken cancellationToken);

    /// <summary>The repository's catalog data, or null when none was ever put.</summary>
    Task<RepositoryCatalog?> GetCatalogAsync(long repositoryId, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the repository's catalog data and its search terms, in one transaction. The logo's bytes are
    /// kept with the catalog (so they go with it, and a replaced logo leaves nothing behind): <paramref name="logo"/>
    /// when given; else the current logo stays when <c>catalog.LogoSha256</c> names it, and there is none when
    /// that is null. False when the repository is gone.
    /// </summary>
    Task<bool> PutCatalogAsync(long repositoryId, RepositoryCatalog catalog, CatalogLogo? logo, IReadOnlyCollection<string> searchTerms, CancellationToken cancellationToken);

    /// <summary>A logo by its SHA-256 (hex), or null when no repository's catalog has it.</summary>
    Task<CatalogLogo?> GetLogoAsync(string sha256, CancellationToken cancellationToken);

    /// <summary>
    /// Public repositories (of accounts with a public registry) matching <paramref name="search"/>, ordered by
    /// name (then by id: names repeat across accounts), paged by cursor. Every word must prefix one of the
    /// repository's search terms (an index lookup, not a scan); the badge filters match exactly, ignoring case.
    /// A cursor the store did not write yields an empty page.
    /// </summary>
    Task<PublicSearchPage> SearchAsync(PublicSearch search, CancellationToken cancellationToken);

    /// <summary>Adds anonymous bytes served to each source in <paramref name="month"/> (<c>yyyy-MM</c>), one batch from one node.</summary>
    Task AddAnonymousBytesAsync(string month, IReadOnlyDictionary<string, long> bytesBySource, CancellationToken cancellationToken);

    /// <summary>The anonymous bytes served to <paramref name="source"/> in <paramref name="month"/> across all nodes (as flushed).</summary>
    Task<long> GetAnonymousBytesAsync(string month, string source, CancellationToken cancellationToken);

    /// <summary>Forgets the anonymous byte counts of months before <paramref name="month"/> (<c>yyyy-MM</c>); returns how many rows went.</summary>
    Task<int> DeleteAnonymousBytesBeforeAsync(string month, CancellationToken cancellationToken);
}
