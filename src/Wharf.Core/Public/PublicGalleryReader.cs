using System.Collections.Concurrent;
using System.Text.Json;
using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Public;

/// <summary>A public repository as its gallery page shows it: its registry (with the alias the page shows, the primary one), the repository and its catalog data.</summary>
public sealed record GalleryRepository(PublicRegistryRecord Registry, string Alias, Repository Repository, RepositoryCatalog Catalog);

/// <summary>
/// One tag of a public repository: the image it names, its size, when it was pushed and the platforms it
/// runs on: <c>os/architecture[/variant]</c> of an image's config, or of each child of an index
/// (attestations left out); empty when unknown.
/// </summary>
public sealed record GalleryTag(string Tag, Digest Digest, string MediaType, long Size, DateTimeOffset PushedAt, IReadOnlyList<string> Platforms);

/// <summary>A page of tags (by name, ordinal) and the tag to continue after, or null at the end.</summary>
public sealed record GalleryTagPage(IReadOnlyList<GalleryTag> Tags, string? Next);

/// <summary>
/// What the gallery reads: public content, for anyone. Every read names a registry by alias and builds
/// its key with <see cref="RegistryKey.Public"/>, so no argument can reach a private repository. Reads go
/// to the stores directly: the gallery shows what ECR Public's gallery shows everyone (tags with sizes,
/// push times and platforms), which the API's <c>DescribeImages</c> would refuse an anonymous caller.
/// </summary>
public sealed class PublicGalleryReader(IMetadataStore store, IBlobVault vault, PublicRegistryService registries)
{
    /// <summary>An image config is read for its platform only up to this size (configs are small; one with a long history is a few hundred KB).</summary>
    public const int MaxConfigBytes = 1 << 20;

    /// <summary>An index's children read for platforms: beyond this many the rest are left out (the page shows a summary).</summary>
    public const int MaxPlatforms = 64;

    private const int MaxCachedPlatforms = 20_000;

    // A config's platform never changes (it is named by its digest, whatever key it is sealed under): cached, bounded by clearing when full.
    private readonly ConcurrentDictionary<Digest, string?> configPlatforms = new();

    /// <summary>The public registry an ACTIVE alias names, with the alias's record, or null.</summary>
    public async Task<PublicRegistryRecord?> GetRegistryAsync(string alias, CancellationToken cancellationToken)
    {
        var key = await registries.ResolveAliasAsync(alias, cancellationToken);
        return key is { } registry && registry.IsPublic ? await store.Public.GetRegistryAsync(registry.Account, cancellationToken) : null;
    }

    /// <summary>The account's public registry (for the verified flag and display name of search results), or null.</summary>
    public Task<PublicRegistryRecord?> GetRegistryAsync(AccountId account, CancellationToken cancellationToken) =>
        store.Public.GetRegistryAsync(account, cancellationToken);

    /// <summary>The repository <paramref name="name"/> of the registry <paramref name="alias"/> names, with its catalog; null when either is unknown.</summary>
    public async Task<GalleryRepository?> GetRepositoryAsync(string alias, RepositoryName name, CancellationToken cancellationToken)
    {
        var registry = await GetRegistryAsync(alias, cancellationToken);
        if (registry is null)
        {
            return null;
        }

        var repository = await store.Repositories.GetAsync(new RepositoryKey(RegistryKey.Public(registry.Account), name), cancellationToken);
        if (repository is null || !repository.Key.Registry.IsPublic)
        {
            return null;
        }

        var catalog = await store.Public.GetCatalogAsync(repository.Id, cancellationToken) ?? RepositoryCatalog.Empty;
        return new GalleryRepository(registry, registry.PrimaryAlias, repository, catalog);
    }

    /// <summary>The gallery's search across every public registry (or one, with <paramref name="account"/>).</summary>
    public Task<PublicSearchPage> SearchAsync(string? query, string? architecture, string? operatingSystem, AccountId? account, string? after, int limit, CancellationToken cancellationToken) =>
        registries.SearchAsync(query, architecture, operatingSystem, account, after, limit, cancellationToken);

    /// <summary>A logo by the hex SHA-256 of its image, or null.</summary>
    public Task<CatalogLogo?> GetLogoAsync(string sha256, CancellationToken cancellationToken) =>
        store.Public.GetLogoAsync(sha256, cancellationToken);

    /// <summary>The public repository's tags after <paramref name="after"/>, at most <paramref name="limit"/>, with what the tags table shows.</summary>
    public async Task<GalleryTagPage> ListTagsAsync(Repository repository, string? after, int limit, CancellationToken cancellationToken)
    {
        if (!repository.Key.Registry.IsPublic)
        {
            throw new ArgumentException("the gallery reads public repositories only", nameof(repository));
        }

        var names = await store.Images.ListTagsAsync(repository.Id, after, limit + 1, cancellationToken);
        var next = names.Count > limit ? names[limit - 1] : null;
        var manifests = new List<(string Tag, ManifestRecord Manifest)>();
        foreach (var tag in names.Take(limit))
        {
            // A tag moved or deleted between the two reads is left out of the page.
            if (await store.Images.GetManifestByTagAsync(repository.Id, tag, cancellationToken) is { } manifest)
            {
                manifests.Add((tag, manifest));
            }
        }

        var summaries = (await store.Images.GetImagesAsync(repository.Id, manifests.Select(m => m.Manifest.Digest).Distinct().ToList(), cancellationToken))
            .ToDictionary(s => s.Digest);
        var tags = new List<GalleryTag>(manifests.Count);
        foreach (var (tag, manifest) in manifests)
        {
            var size = summaries.TryGetValue(manifest.Digest, out var summary) ? summary.Size : manifest.Size;
            var platforms = await PlatformsAsync(BlobScope.Of(repository.Settings), manifest, cancellationToken);
            tags.Add(new GalleryTag(tag, manifest.Digest, manifest.MediaType, size, manifest.PushedAt, platforms));
        }

        return new GalleryTagPage(tags, next);
    }

    /// <summary>Whether the public repository has the tag (the pull command names <c>latest</c> when it exists).</summary>
    public async Task<bool> HasTagAsync(Repository repository, string tag, CancellationToken cancellationToken) =>
        repository.Key.Registry.IsPublic && await store.Images.GetManifestByTagAsync(repository.Id, tag, cancellationToken) is not null;

    private async Task<IReadOnlyList<string>> PlatformsAsync(BlobScope scope, ManifestRecord manifest, CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(manifest.Content, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (MediaTypes.IsIndex(manifest.MediaType))
            {
                var platforms = new List<string>();
                if (root.TryGetProperty("manifests", out var children) && children.ValueKind == JsonValueKind.Array)
                {
                    foreach (var child in children.EnumerateArray())
                    {
                        if (child.ValueKind == JsonValueKind.Object && child.TryGetProperty("platform", out var platform) && Platform(platform) is { } text
                            && !platforms.Contains(text) && platforms.Count < MaxPlatforms)
                        {
                            platforms.Add(text);
                        }
                    }
                }

                return platforms;
            }

            if (root.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object
                && config.TryGetProperty("mediaType", out var configType) && MediaTypes.IsImageConfig(configType.GetString())
                && config.TryGetProperty("digest", out var digestElement) && Digest.TryParse(digestElement.GetString(), out var configDigest))
            {
                return await ConfigPlatformAsync(scope, configDigest, cancellationToken) is { } one ? [one] : [];
            }
        }
        catch (JsonException)
        {
            // Stored manifests were validated on push; a config that is not JSON has no platform to show.
        }

        return [];
    }

    private async Task<string?> ConfigPlatformAsync(BlobScope scope, Digest digest, CancellationToken cancellationToken)
    {
        if (configPlatforms.TryGetValue(digest, out var cached))
        {
            return cached;
        }

        string? platform = null;
        await using (var stream = await vault.OpenReadAsync(scope, digest, 0, MaxConfigBytes + 1, cancellationToken))
        {
            if (stream is null)
            {
                return null;
            }

            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            if (buffer.Length <= MaxConfigBytes)
            {
                try
                {
                    using var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), new JsonDocumentOptions { MaxDepth = 64 });
                    platform = document.RootElement.ValueKind == JsonValueKind.Object ? Platform(document.RootElement) : null;
                }
                catch (JsonException)
                {
                    platform = null;
                }
            }
        }

        if (configPlatforms.Count >= MaxCachedPlatforms)
        {
            configPlatforms.Clear();
        }

        configPlatforms[digest] = platform;
        return platform;
    }

    /// <summary><c>os/architecture[/variant]</c> of an OCI platform object (a config or an index entry's <c>platform</c>); null for <c>unknown</c> (attestations).</summary>
    private static string? Platform(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("os", out var os) || os.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("architecture", out var arch) || arch.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var o = os.GetString()!;
        var a = arch.GetString()!;
        if (o.Length is 0 or > 32 || a.Length is 0 or > 32 || o == "unknown" || a == "unknown")
        {
            return null;
        }

        return element.TryGetProperty("variant", out var variant) && variant.ValueKind == JsonValueKind.String && variant.GetString() is { Length: > 0 and <= 16 } v
            ? $"{o}/{a}/{v}"
            : $"{o}/{a}";
    }
}
