using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Repositories;
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
public sealed partial class PublicRegistryService(IMetadataStore store, IAccessAuthorizer authorizer, TimeProvider time)
{
    /// <summary>ECR Public's limit on a logo image.</summary>
    public const int MaxLogoBytes = 512_000;

    /// <summary>The most words of a search query that count (the rest are ignored).</summary>
    public const int MaxQueryWords = 8;

    /// <summary>The longest term stored or word searched: longer ones are cut (a cut word still prefixes the cut term).</summary>
    public const int MaxTermLength = 64;

    /// <summary>The most search terms a repository has (its name's first, then its description's, in order).</summary>
    public const int MaxTerms = 200;

    /// <summary>The most repositories a page of the search holds.</summary>
    public const int MaxSearchLimit = 100;

    /// <summary>How long a resolved alias is trusted: an alias changes rarely, and a pull asks for it on every request.</summary>
    internal static readonly TimeSpan AliasCacheTime = TimeSpan.FromSeconds(10);

    /// <summary>How long an unknown alias stays unknown (short: a new registry's alias should work soon).</summary>
    internal static readonly TimeSpan NegativeAliasCacheTime = TimeSpan.FromSeconds(2);

    /// <summary>The cache is emptied when it grows past this (anyone can send aliases; memory stays bounded).</summary>
    private const int MaxCachedAliases = 10_000;

    /// <summary>
    /// The public address's own paths (the registry API, its token realm, the gallery's logos): an alias
    /// with one of these names would have pages nobody could reach. Drawn aliases (8 characters) never are.
    /// </summary>
    public static readonly IReadOnlySet<string> ReservedAliases = new HashSet<string>(["v2", "token", "logo"], StringComparer.Ordinal);

    private const int AliasDraws = 16;
    private const string AliasFirst = "abcdefghijklmnopqrstuvwxyz";
    private const string AliasRest = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly IMetadataStore store = store;
    private readonly IAccessAuthorizer authorizer = authorizer;
    private readonly TimeProvider time = time;
    private readonly ConcurrentDictionary<string, (RegistryKey? Registry, DateTimeOffset Until)> aliases = new(StringComparer.Ordinal);

    /// <summary>The account's public registry, made (with a fresh default alias) when it has none.</summary>
    public async Task<PublicRegistryRecord> EnsureRegistryAsync(AccountId account, CancellationToken cancellationToken)
    {
        if (await store.Public.GetRegistryAsync(account, cancellationToken) is { } existing)
        {
            return existing;
        }

        // 36^7 * 26 names: a collision is rare, two in a row rarer still; the bound only stops a broken store looping.
        for (var draw = 0; draw < AliasDraws; draw++)
        {
            if (await store.Public.EnsureRegistryAsync(account, DrawAlias(), time.GetUtcNow(), cancellationToken) is { } registry)
            {
                // A pull that came too early must not keep this node from seeing the new alias.
                foreach (var alias in registry.Aliases)
                {
                    aliases.TryRemove(alias.Name, out _);
                }

                return registry;
            }
        }

        throw new InvalidOperationException($"No free default alias for account {account} after {AliasDraws} draws.");
    }

    /// <summary>The account's public registry, or null (no public repository was ever created).</summary>
    public Task<PublicRegistryRecord?> GetRegistryAsync(AccountId account, CancellationToken cancellationToken) =>
        store.Public.GetRegistryAsync(account, cancellationToken);

    /// <summary>
    /// The public registry an ACTIVE alias names, or null. Cached briefly (aliases change rarely): a changed alias
    /// reaches other nodes within <see cref="AliasCacheTime"/>. A string that is no alias is null without a lookup.
    /// </summary>
    public async ValueTask<RegistryKey?> ResolveAliasAsync(string alias, CancellationToken cancellationToken)
    {
        if (!IsAlias(alias))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (aliases.TryGetValue(alias, out var cached) && cached.Until > now)
        {
            return cached.Registry;
        }

        var account = await store.Public.ResolveAliasAsync(alias, cancellationToken);
        RegistryKey? registry = account is { } a ? RegistryKey.Public(a) : null;
        if (aliases.Count >= MaxCachedAliases)
        {
            aliases.Clear();
        }

        aliases[alias] = (registry, now + (registry is null ? NegativeAliasCacheTime : AliasCacheTime));
        return registry;
    }

    /// <summary>
    /// The operator's <c>wharf admin public-registry --alias</c>: gives the registry (made when missing) a chosen
    /// alias as its primary one. The default alias stays (and keeps working for pulls); a previously chosen one is
    /// released. Another account's alias is refused with <see cref="WharfErrorCode.RegistryAliasTaken"/>.
    /// </summary>
    public async Task<PublicRegistryRecord> SetAliasAsync(AccountId account, string alias, CancellationToken cancellationToken)
    {
        if (!IsAlias(alias))
        {
            throw WharfException.InvalidParameter(
                "alias",
                "Member must have length between 2 and 50 and satisfy regular expression pattern: [a-z][a-z0-9]+(?:[._-][a-z0-9]+)*");
        }

        if (ReservedAliases.Contains(alias))
        {
            throw WharfException.InvalidParameter("alias", $"'{alias}' names a path of the public address (/{alias}/…) and cannot be a registry alias");
        }

        // Refused before a registry is made for it; the store decides again, atomically, should another account take it meanwhile.
        if (await store.Public.ResolveAliasAsync(alias, cancellationToken) is { } owner && owner != account)
        {
            throw AliasTaken(alias);
        }

        var before = await EnsureRegistryAsync(account, cancellationToken);
        if (!await store.Public.SetPrimaryAliasAsync(account, alias, cancellationToken))
        {
            throw AliasTaken(alias);
        }

        // This node forgets at once what it knew of the aliases involved; others within AliasCacheTime.
        aliases.TryRemove(alias, out _);
        foreach (var old in before.Aliases)
        {
            aliases.TryRemove(old.Name, out _);
        }

        return await store.Public.GetRegistryAsync(account, cancellationToken)
            ?? throw new InvalidOperationException($"The public registry of account {account} vanished.");
    }

    /// <summary>The operator's <c>wharf admin public-registry --verified</c> (the registry is made when missing).</summary>
    public async Task<PublicRegistryRecord> SetVerifiedAsync(AccountId account, bool verified, CancellationToken cancellationToken)
    {
        var registry = await EnsureRegistryAsync(account, cancellationToken);
        await store.Public.SetVerifiedAsync(account, verified, cancellationToken);
        return registry with { Verified = verified };
    }

    /// <summary>
    /// Creates a public repository with its catalog data and resource tags (ECR Public's <c>CreateRepository</c>):
    /// the caller's public registry is made first when it has none (its default alias comes with the first public
    /// repository, as in ECR Public), then the repository, its tags and its catalog in one transaction.
    /// </summary>
    public async Task<(Repository Repository, RepositoryCatalog Catalog)> CreateRepositoryAsync(Caller caller, RepositoryName name, CatalogInput? catalog, IReadOnlyList<ResourceTag> tags, CancellationToken cancellationToken)
    {
        var key = new RepositoryKey(RegistryKey.Public(caller.Account), name);
        await authorizer.AuthorizeAsync(caller, EcrActions.CreateRepository, key.Arn, RequestTags.Setting(tags), cancellationToken);
        RepositoryService.CheckTags(tags);
        if (tags.Select(t => t.Key).Distinct(StringComparer.Ordinal).Count() > RepositoryService.MaxResourceTags)
        {
            throw RepositoryService.TooManyTags();
        }

        var (stored, logo) = catalog is null ? (RepositoryCatalog.Empty, null) : ToCatalog(catalog, null);
        await EnsureRegistryAsync(caller.Account, cancellationToken);
        var creation = new RepositoryCreation(RepositorySettings.Default, tags)
        {
            // Without catalog data the store still indexes the name, so the repository is found from the start.
            PublicCatalog = catalog is null ? null : (stored, logo, SearchTerms(name, stored.Description)),
        };
        var repository = await store.Repositories.CreateAsync(key, creation, time.GetUtcNow(), cancellationToken)
            ?? throw new WharfException(
                WharfErrorCode.RepositoryAlreadyExists,
                $"The repository with name '{name}' already exists in the registry with id '{caller.Account}'");
        return (repository, stored);
    }

    /// <summary>
    /// The repository's catalog data (<c>GetRepositoryCatalogData</c>). A repository never given any answers an empty
    /// catalog rather than <c>RepositoryCatalogDataNotFoundException</c>: ECR Public's CLI examples show a new
    /// repository's <c>catalogData</c> as <c>{}</c>, and every public repository is one that could be given some.
    /// </summary>
    public async Task<RepositoryCatalog> GetCatalogAsync(Caller caller, RepositoryKey key, CancellationToken cancellationToken)
    {
        var repository = await GetRepositoryAsync(caller, key, EcrPublicActions.GetRepositoryCatalogData, cancellationToken);
        return await store.Public.GetCatalogAsync(repository.Id, cancellationToken) ?? RepositoryCatalog.Empty;
    }

    /// <summary>
    /// Sets the repository's catalog data (<c>PutRepositoryCatalogData</c>, "creates or updates"): the input replaces
    /// the whole catalog (a member left out is cleared, as a form posted whole), but for the logo: left out, the
    /// current one stays (a client need not send the image again to change a text); an empty one removes it.
    /// </summary>
    public async Task<RepositoryCatalog> PutCatalogAsync(Caller caller, RepositoryKey key, CatalogInput catalog, CancellationToken cancellationToken)
    {
        var repository = await GetRepositoryAsync(caller, key, EcrPublicActions.PutRepositoryCatalogData, cancellationToken);
        var current = catalog.Logo is null ? (await store.Public.GetCatalogAsync(repository.Id, cancellationToken))?.LogoSha256 : null;
        var (stored, logo) = ToCatalog(catalog, current);
        return await store.Public.PutCatalogAsync(repository.Id, stored, logo, SearchTerms(key.Name, stored.Description), cancellationToken)
            ? stored
            : throw RepositoryResolver.NameUnknown(key);
    }

    /// <summary>The caller's registry display name (<c>GetRegistryCatalogData</c>); null when it has none (or no registry yet).</summary>
    public async Task<string?> GetDisplayNameAsync(Caller caller, CancellationToken cancellationToken)
    {
        var registry = RegistryKey.Public(caller.Account);
        await authorizer.AuthorizeAsync(caller, registry, EcrPublicActions.GetRegistryCatalogData, registry.PublicRegistryArn, cancellationToken);
        return (await store.Public.GetRegistryAsync(caller.Account, cancellationToken))?.DisplayName;
    }

    /// <summary>Sets the caller's registry display name (<c>PutRegistryCatalogData</c>; made when missing); null or empty clears it.</summary>
    public async Task<string?> PutDisplayNameAsync(Caller caller, string? displayName, CancellationToken cancellationToken)
    {
        var registry = RegistryKey.Public(caller.Account);
        await authorizer.AuthorizeAsync(caller, registry, EcrPublicActions.PutRegistryCatalogData, registry.PublicRegistryArn, cancellationToken);
        var name = string.IsNullOrEmpty(displayName) ? null : displayName;
        await EnsureRegistryAsync(caller.Account, cancellationToken);
        await store.Public.SetDisplayNameAsync(caller.Account, name, cancellationToken);
        return name;
    }

    /// <summary>
    /// The gallery's search (public content: no caller). Every word of <paramref name="query"/> must prefix a word of a
    /// repository's name or description; an empty query lists every public repository. Pages hold 1 to
    /// <see cref="MaxSearchLimit"/> repositories; <paramref name="cursor"/> is the previous page's <c>Next</c>.
    /// </summary>
    public Task<PublicSearchPage> SearchAsync(string? query, string? architecture, string? operatingSystem, AccountId? account, string? cursor, int limit, CancellationToken cancellationToken)
    {
        // Badges are at most 50 characters (the model's bound): a longer filter matches nothing, without a lookup.
        if (architecture is { Length: > 50 } || operatingSystem is { Length: > 50 })
        {
            return Task.FromResult(new PublicSearchPage([], null));
        }

        return store.Public.SearchAsync(
            new PublicSearch(QueryWords(query), NullIfEmpty(architecture), NullIfEmpty(operatingSystem), account, NullIfEmpty(cursor), Math.Clamp(limit, 1, MaxSearchLimit)),
            cancellationToken);
    }

    /// <summary>
    /// The words a repository is found by: its whole name and its name's components (split on <c>/ . _ -</c>), then its
    /// description's words (split on anything but letters and digits), lowercased, each at most
    /// <see cref="MaxTermLength"/> characters, without repeats, at most <see cref="MaxTerms"/>.
    /// </summary>
    public static IReadOnlyCollection<string> SearchTerms(RepositoryName name, string? description)
    {
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string term)
        {
            term = Cut(term.ToLowerInvariant());
            if (term.Length > 0 && terms.Count < MaxTerms && seen.Add(term))
            {
                terms.Add(term);
            }
        }

        Add(name.Value);
        foreach (var component in name.Value.Split(['/', '.', '_', '-'], StringSplitOptions.RemoveEmptyEntries))
        {
            Add(component);
        }

        foreach (var word in Words(description ?? ""))
        {
            Add(word);
        }

        return terms;
    }

    /// <summary>A search query's words: lowercased, split on anything but letters and digits, the first <see cref="MaxQueryWords"/>, each cut to <see cref="MaxTermLength"/>.</summary>
    public static IReadOnlyList<string> QueryWords(string? query) =>
        Words(query ?? "").Select(w => Cut(w.ToLowerInvariant())).Distinct(StringComparer.Ordinal).Take(MaxQueryWords).ToList();

    /// <summary>A default alias as ECR Public draws one: a lowercase letter and seven lowercase letters or digits, from a cryptographic generator.</summary>
    public static string DrawAlias() =>
        RandomNumberGenerator.GetString(AliasFirst, 1) + RandomNumberGenerator.GetString(AliasRest, 7);

    /// <summary>Whether <paramref name="alias"/> is a registry alias by ECR Public's rule (<c>RegistryAliasName</c>: 2 to 50 characters of the pattern).</summary>
    public static bool IsAlias(string? alias) => alias is { Length: >= 2 and <= 50 } && AliasPattern().IsMatch(alias);

    [GeneratedRegex("^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex AliasPattern();

    private async Task<Repository> GetRepositoryAsync(Caller caller, RepositoryKey key, string action, CancellationToken cancellationToken)
    {
        if (!key.Registry.IsPublic)
        {
            throw new ArgumentException($"{key} is not a public repository.", nameof(key));
        }

        await authorizer.AuthorizeAsync(caller, action, key.Arn, cancellationToken);
        return await store.Repositories.GetAsync(key, cancellationToken) ?? throw RepositoryResolver.NameUnknown(key);
    }

    /// <summary>The catalog to store for <paramref name="input"/>, and its new logo; <paramref name="currentLogo"/> stays when the input has none.</summary>
    private static (RepositoryCatalog Catalog, CatalogLogo? Logo) ToCatalog(CatalogInput input, string? currentLogo)
    {
        CatalogLogo? logo = null;
        var logoSha256 = currentLogo;
        if (input.Logo is { Length: 0 })
        {
            logoSha256 = null;
        }
        else if (input.Logo is { } bytes)
        {
            logo = ReadLogo(bytes);
            logoSha256 = logo.Sha256;
        }

        var catalog = new RepositoryCatalog(
            NullIfEmpty(input.Description),
            input.Architectures ?? [],
            input.OperatingSystems ?? [],
            NullIfEmpty(input.AboutText),
            NullIfEmpty(input.UsageText),
            logoSha256);
        return (catalog, logo);
    }

    /// <summary>A logo as stored: at most <see cref="MaxLogoBytes"/>, and a PNG or JPEG by its first bytes (the gallery serves it with that type).</summary>
    internal static CatalogLogo ReadLogo(byte[] bytes)
    {
        if (bytes.Length > MaxLogoBytes)
        {
            throw WharfException.InvalidParameter("catalogData.logoImageBlob", $"The logo image is {bytes.Length} bytes; it must be at most {MaxLogoBytes} bytes");
        }

        ReadOnlySpan<byte> png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        ReadOnlySpan<byte> jpeg = [0xFF, 0xD8, 0xFF];
        var mediaType = bytes.AsSpan().StartsWith(png) ? "image/png"
            : bytes.AsSpan().StartsWith(jpeg) ? "image/jpeg"
            : throw WharfException.InvalidParameter("catalogData.logoImageBlob", "The logo image must be a PNG or JPEG image");
        return new CatalogLogo(Convert.ToHexStringLower(SHA256.HashData(bytes)), mediaType, bytes);
    }

    private static WharfException AliasTaken(string alias) =>
        new(WharfErrorCode.RegistryAliasTaken, $"The registry alias '{alias}' is already in use by another registry.");

    private static IEnumerable<string> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                yield return text[start..i];
                start = -1;
            }
        }
    }

    private static string Cut(string term) => term.Length <= MaxTermLength ? term : term[..MaxTermLength];

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
