using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Relational;

/// <summary>Public registries, aliases, catalog data, the gallery's search terms and anonymous data counters.</summary>
internal sealed class PublicRegistryStore(Database database) : IPublicRegistryStore
{
    private readonly Database database = database;

    public Task<PublicRegistryRecord?> GetRegistryAsync(AccountId account, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<PublicRegistryRecord?> EnsureRegistryAsync(AccountId account, string defaultAlias, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> SetPrimaryAliasAsync(AccountId account, string alias, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<AccountId?> ResolveAliasAsync(string alias, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> SetDisplayNameAsync(AccountId account, string? displayName, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> SetVerifiedAsync(AccountId account, bool verified, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<RepositoryCatalog?> GetCatalogAsync(long repositoryId, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<bool> PutCatalogAsync(long repositoryId, RepositoryCatalog catalog, CatalogLogo? logo, IReadOnlyCollection<string> searchTerms, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<CatalogLogo?> GetLogoAsync(string sha256, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<PublicSearchPage> SearchAsync(PublicSearch search, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task AddAnonymousBytesAsync(string month, IReadOnlyDictionary<string, long> bytesBySource, CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task<long> GetAnonymousBytesAsync(string month, string source, CancellationToken cancellationToken) => throw new NotImplementedException();
}
