using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wharf.Core.Errors;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Repositories;
using Wharf.Core.Security;

namespace Wharf.Core.PullThroughCache;

/// <summary>
/// Pulls through the cache (ECR-NOTES §7.3): what a pull of a repository a rule covers does when the
/// repository, the tag or the digest is not stored, or when a cached tag is due for revalidation.
/// <list type="bullet">
/// <item>The manifest (an index with every child) is fetched upstream once per node however many clients
/// ask (single flight per repository and reference), and served at once from an in-memory pending entry.</item>
/// <item>A background import (<see cref="PullThroughImport"/>) stores every blob through
/// <see cref="UpstreamBlobFetcher"/> (joining the fetches clients started) then writes the children and the
/// manifest under its tag through <see cref="ManifestWriter"/>, as a <c>PUSH</c>: from then on it is an
/// ordinary image, and the pending entry goes.</item>
/// <item>A tag is revalidated (a HEAD upstream) at most once per <see cref="PullThroughCacheSettings.TagFreshness"/>,
/// recorded in the metadata store so every node sees it; a digest that is stored is never asked upstream.</item>
/// </list>
/// Nothing in memory is needed for correctness: another node fetches upstream itself, and an import a dying
/// node left half done is done again by the next pull (blobs are content addressed, manifest writes idempotent).
/// </summary>
public sealed partial class PullThroughCacheService(
    IMetadataStore store,
    IAccessAuthorizer authorizer,
    RepositoryCreator creator,
    IUpstreamRegistries upstreams,
    UpstreamBlobFetcher fetcher,
    ManifestWriter writer,
    PullThroughCacheSettings settings,
    TimeProvider time,
    ILogger<PullThroughCacheService> logger) : IDisposable
{
    /// <summary>How long this node trusts the rules it read for a registry on the hit path (a miss always reads them).</summary>
    internal static readonly TimeSpan RulesLifetime = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<RegistryKey, (PullThroughCacheRules Rules, DateTimeOffset ReadAt)> rules = new();
    private readonly ConcurrentDictionary<(RepositoryKey Key, string Reference), Task<ManifestRecord>> flights = new();
    private readonly ConcurrentDictionary<(RepositoryKey Key, Digest Digest), ManifestRecord> pendingManifests = new();
    private readonly ConcurrentDictionary<(RepositoryKey Key, string Tag), Digest> pendingTags = new();
    private readonly CancellationTokenSource stopping = new();

    /// <summary>
    /// The manifest a pull of <paramref name="reference"/> gets, given what the store has:
    /// <paramref name="repository"/> (null: missing) and <paramref name="cached"/> (null: not stored; else a tag's
    /// stored manifest). Null when no rule covers the repository and nothing is cached: the caller answers as
    /// it would have. The caller has been authorised for <c>ecr:BatchGetImage</c>.
    /// </summary>
    /// <exception cref="WharfException">
    /// <c>NAME_UNKNOWN</c> without <c>ecr:CreateRepository</c> for a missing repository, <c>MANIFEST_UNKNOWN</c>
    /// ("Requested image not found") without <c>ecr:BatchImportUpstreamImage</c> or when the upstream has no such
    /// image, the <c>Upstream*</c> codes when the upstream fails, and the secret's codes when it cannot be read.
    /// </exception>
    public async Task<ManifestRecord?> PullAsync(Caller caller, RepositoryKey key, Repository? repository, Reference reference, ManifestRecord? cached, CancellationToken cancellationToken)
    {
        if ((await RulesAsync(key.Registry, fresh: cached is null, cancellationToken)).Match(key.Name) is not var (rule, upstreamRepository))
        {
            return cached;
        }

        // A stored manifest is a hit even when its tag is revalidated (a HEAD upstream); a missing one is fetched.
        Telemetry.WharfInstrumentation.PullThroughCache(hit: cached is not null);
        if (cached is not null)
        {
            return await RevalidateAsync(caller, key, repository!, reference.Tag!.Value, cached, rule, upstreamRepository, cancellationToken);
        }

        if (repository is null)
        {
            await AuthorizeOrThrowAsync(caller, EcrActions.CreateRepository, key, RepositoryResolver.NameUnknown(key), cancellationToken);
        }

        await AuthorizeOrThrowAsync(caller, EcrActions.BatchImportUpstreamImage, key, ImageNotFound(), cancellationToken);
        if (Pending(key, reference) is { } pending)
        {
            return pending;
        }

        return await FetchAsync(key, reference, rule, upstreamRepository, cancellationToken);
    }

    /// <summary>The rule that covers the repository, from this node's recent reading of the registry's rules (<paramref name="fresh"/>: read now).</summary>
    internal async Task<(PullThroughCacheRule Rule, string UpstreamRepository)?> MatchAsync(RepositoryKey key, bool fresh, CancellationToken cancellationToken) =>
        (await RulesAsync(key.Registry, fresh, cancellationToken)).Match(key.Name);

    /// <summary>Stops the imports under way (host shutdown); what they did not finish the next pull does again.</summary>
    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
    }

    private async Task<ManifestRecord> RevalidateAsync(
        Caller caller,
        RepositoryKey key,
        Repository repository,
        string tag,
        ManifestRecord cached,
        PullThroughCacheRule rule,
        string upstreamRepository,
        CancellationToken cancellationToken)
    {
        var reference = Reference.Of(Tag.Parse(tag));
        if (Pending(key, reference) is { } importing)
        {
            return importing;
        }

        var now = time.GetUtcNow();
        var validation = await store.PullThroughCache.GetTagValidationAsync(repository.Id, tag, cancellationToken);
        if (validation is not null && now - validation.ValidatedAt < settings.TagFreshness)
        {
            return cached;
        }

        Digest current;
        try
        {
            var upstream = await upstreams.ConnectAsync(key.Registry, rule, cancellationToken);
            current = await upstream.HeadManifestAsync(upstreamRepository, tag, cancellationToken);
        }
        catch (Exception e) when (e is UpstreamException or WharfException && !cancellationToken.IsCancellationRequested)
        {
            // ECR: an upstream that cannot answer leaves the last cached image served.
            LogServedStale(logger, key.ToString(), tag, e.Message);
            return cached;
        }

        if (current == cached.Digest)
        {
            await store.PullThroughCache.SetTagValidationAsync(repository.Id, tag, current, now, cancellationToken);
            return cached;
        }

        // Moved upstream: importing the new image is an import, which the caller may not be allowed.
        if (!await MayAsync(caller, EcrActions.BatchImportUpstreamImage, key, cancellationToken))
        {
            return cached;
        }

        try
        {
            return await FetchAsync(key, reference, rule, upstreamRepository, cancellationToken);
        }
        catch (WharfException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogServedStale(logger, key.ToString(), tag, e.Message);
            return cached;
        }
    }

    private ManifestRecord? Pending(RepositoryKey key, Reference reference)
    {
        var digest = reference.IsDigest ? reference.Digest.Value
            : pendingTags.TryGetValue((key, reference.Tag!.Value), out var tagged) ? tagged
            : (Digest?)null;
        return digest is { } d && pendingManifests.TryGetValue((key, d), out var record) ? record : null;
    }

    /// <summary>Joins (or starts) this node's fetch of the reference; the fetch itself runs to its end whoever waits.</summary>
    private async Task<ManifestRecord> FetchAsync(RepositoryKey key, Reference reference, PullThroughCacheRule rule, string upstreamRepository, CancellationToken cancellationToken)
    {
        var flightKey = (key, reference.ToString());
        TaskCompletionSource<ManifestRecord>? started = null;
        var flight = flights.GetOrAdd(flightKey, _ => (started = new TaskCompletionSource<ManifestRecord>(TaskCreationOptions.RunContinuationsAsynchronously)).Task);
        if (started is not null && ReferenceEquals(flight, started.Task))
        {
            _ = Task.Run(
                async () =>
                {
                    try
                    {
                        started.TrySetResult(await FetchUpstreamAsync(key, reference, rule, upstreamRepository, stopping.Token));
                    }
                    catch (Exception e)
                    {
                        started.TrySetException(e);
                    }
                    finally
                    {
                        flights.TryRemove(new KeyValuePair<(RepositoryKey, string), Task<ManifestRecord>>(flightKey, started.Task));
                    }
                },
                CancellationToken.None);
        }

        return await flight.WaitAsync(cancellationToken);
    }

    private async Task<ManifestRecord> FetchUpstreamAsync(RepositoryKey key, Reference reference, PullThroughCacheRule rule, string upstreamRepository, CancellationToken cancellationToken)
    {
        var upstream = await ConnectAsync(key, rule, cancellationToken);
        var top = await GetManifestAsync(upstream, upstreamRepository, reference.ToString(), cancellationToken);
        var parsed = Parse(top);

        // ECR caches an index with all its children: they are fetched now, so that the client's next
        // request (one of them, by digest) is answered from here.
        var existing = await store.Repositories.GetAsync(key, cancellationToken);
        var children = new List<UpstreamManifest>();
        foreach (var child in parsed.Children.Distinct())
        {
            if (existing is not null && await store.Images.GetManifestAsync(existing.Id, child, cancellationToken) is { Archived: false })
            {
                continue;
            }

            var fetched = await GetManifestAsync(upstream, upstreamRepository, child.ToString(), cancellationToken);
            if (Parse(fetched).Children.Count > 0)
            {
                throw new WharfException(WharfErrorCode.UpstreamUnavailable, $"the upstream's index {top.Digest} lists another index, {child}, which Wharf does not cache");
            }

            children.Add(fetched);
        }

        var repository = existing ?? await creator.GetOrCreateAsync(key, CreationPurpose.PullThroughCache, cancellationToken);
        var now = time.GetUtcNow();
        var import = new PullThroughImport(
            repository,
            key,
            reference.IsDigest ? null : reference.Tag!.Value,
            top,
            children,
            upstream,
            upstreamRepository);
        foreach (var manifest in children.Append(top))
        {
            pendingManifests[(key, manifest.Digest)] = Record(repository, manifest, now);
        }

        if (import.Tag is { } tag)
        {
            pendingTags[(key, tag)] = top.Digest;
        }

        _ = Task.Run(() => ImportAsync(import, stopping.Token), CancellationToken.None);
        return pendingManifests[(key, top.Digest)];
    }

    /// <summary>Stores the blobs, then the children, then the manifest under its tag; the pending entries go whatever happens.</summary>
    private async Task ImportAsync(PullThroughImport import, CancellationToken cancellationToken)
    {
        var key = import.Key;
        var (repositoryName, referenceName) = (key.ToString(), import.Tag ?? import.Manifest.Digest.ToString());
        try
        {
            var blobs = import.Children.Append(import.Manifest).SelectMany(m => Parse(m).Blobs).Distinct().ToList();
            await Parallel.ForEachAsync(
                blobs,
                new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
                async (digest, ct) => await fetcher.EnsureAsync(
                    import.Repository,
                    digest,
                    c => import.Upstream.OpenBlobAsync(import.UpstreamRepository, digest, c),
                    ct));

            foreach (var child in import.Children)
            {
                await writer.WriteImportedAsync(import.Repository, key, null, child.Digest, child.MediaType, child.Content, cancellationToken);
            }

            await writer.WriteImportedAsync(import.Repository, key, import.Tag, import.Manifest.Digest, import.Manifest.MediaType, import.Manifest.Content, cancellationToken);
            if (import.Tag is { } tag)
            {
                await store.PullThroughCache.SetTagValidationAsync(import.Repository.Id, tag, import.Manifest.Digest, time.GetUtcNow(), cancellationToken);
            }

            LogImported(logger, repositoryName, referenceName, blobs.Count);
        }
        catch (Exception e)
        {
            LogImportFailed(logger, repositoryName, referenceName, e.Message);
        }
        finally
        {
            if (import.Tag is { } tag)
            {
                pendingTags.TryRemove(new KeyValuePair<(RepositoryKey, string), Digest>((key, tag), import.Manifest.Digest));
            }

            foreach (var manifest in import.Children.Append(import.Manifest))
            {
                pendingManifests.TryRemove((key, manifest.Digest), out _);
            }
        }
    }

    /// <summary>The rule's upstream; a secret that cannot be read, or a role that cannot be assumed, is the pull's error and says so.</summary>
    internal async Task<IUpstreamRegistry> ConnectAsync(RepositoryKey key, PullThroughCacheRule rule, CancellationToken cancellationToken)
    {
        try
        {
            return await upstreams.ConnectAsync(key.Registry, rule, cancellationToken);
        }
        catch (WharfException e) when (e.Code is WharfErrorCode.SecretNotFound or WharfErrorCode.UnableToAccessSecret or WharfErrorCode.UnableToDecryptSecretValue)
        {
            throw new WharfException(e.Code, $"the pull through cache rule's secret {rule.CredentialArn} cannot be read: {e.Message}");
        }
        catch (UpstreamException e)
        {
            throw Refusal(e);
        }
    }

    private static async Task<UpstreamManifest> GetManifestAsync(IUpstreamRegistry upstream, string repository, string reference, CancellationToken cancellationToken)
    {
        try
        {
            return await upstream.GetManifestAsync(repository, reference, cancellationToken);
        }
        catch (UpstreamException e)
        {
            throw Refusal(e);
        }
    }

    /// <summary>An upstream's failure as the pull's error: not found is ECR's "Requested image not found"; the others say why.</summary>
    internal static WharfException Refusal(UpstreamException e) => e.Failure switch
    {
        UpstreamFailure.NotFound => ImageNotFound(),
        UpstreamFailure.TooManyRequests => new WharfException(WharfErrorCode.UpstreamTooManyRequests, $"{ErrorCatalogue.Describe(WharfErrorCode.UpstreamTooManyRequests).DefaultMessage} {e.Message}"),
        UpstreamFailure.AccessDenied => new WharfException(WharfErrorCode.UpstreamAccessDenied, $"{ErrorCatalogue.Describe(WharfErrorCode.UpstreamAccessDenied).DefaultMessage} {e.Message}"),
        _ => new WharfException(WharfErrorCode.UpstreamUnavailable, $"{ErrorCatalogue.Describe(WharfErrorCode.UpstreamUnavailable).DefaultMessage} {e.Message}"),
    };

    private static ParsedManifest Parse(UpstreamManifest manifest)
    {
        try
        {
            return ParsedManifest.Parse(manifest.Content, manifest.MediaType);
        }
        catch (WharfException e)
        {
            throw new WharfException(WharfErrorCode.UpstreamUnavailable, $"the upstream's manifest {manifest.Digest} cannot be cached: {e.Message}");
        }
    }

    private static ManifestRecord Record(Repository repository, UpstreamManifest manifest, DateTimeOffset now)
    {
        var parsed = Parse(manifest);
        return new ManifestRecord(repository.Id, manifest.Digest, parsed.MediaType, parsed.ArtifactType, parsed.Subject, manifest.Content.ToArray(), parsed.AnnotationsJson, now);
    }

    /// <summary>ECR's answer to a pull through the cache that cannot import the image.</summary>
    internal static WharfException ImageNotFound() => new(WharfErrorCode.ManifestUnknown, "Requested image not found");

    private async ValueTask<PullThroughCacheRules> RulesAsync(RegistryKey registry, bool fresh, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!fresh && rules.TryGetValue(registry, out var known) && now - known.ReadAt < RulesLifetime && now >= known.ReadAt)
        {
            return known.Rules;
        }

        var read = await PullThroughCacheRules.LoadAsync(store.Repositories, registry, cancellationToken);
        rules[registry] = (read, now);
        return read;
    }

    private async Task AuthorizeOrThrowAsync(Caller caller, string action, RepositoryKey key, WharfException refusal, CancellationToken cancellationToken)
    {
        if (!await MayAsync(caller, action, key, cancellationToken))
        {
            throw refusal;
        }
    }

    private async Task<bool> MayAsync(Caller caller, string action, RepositoryKey key, CancellationToken cancellationToken)
    {
        try
        {
            await authorizer.AuthorizeAsync(caller, action, key.Arn, cancellationToken);
            return true;
        }
        catch (WharfException e) when (e.Code == WharfErrorCode.Denied)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 1610, Level = LogLevel.Information, Message = "Pull through cache: {Repository}:{Reference} imported from its upstream ({Blobs} blobs)")]
    private static partial void LogImported(ILogger logger, string repository, string reference, int blobs);

    [LoggerMessage(EventId = 1611, Level = LogLevel.Warning, Message = "Pull through cache: importing {Repository}:{Reference} failed, the next pull tries again: {Reason}")]
    private static partial void LogImportFailed(ILogger logger, string repository, string reference, string reason);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Warning, Message = "Pull through cache: {Repository}:{Tag} served from the cache, the upstream could not be asked: {Reason}")]
    private static partial void LogServedStale(ILogger logger, string repository, string tag, string reason);
}

/// <summary>One image being imported: what was fetched, and from where its blobs come.</summary>
internal sealed record PullThroughImport(
    Repository Repository,
    RepositoryKey Key,
    string? Tag,
    UpstreamManifest Manifest,
    IReadOnlyList<UpstreamManifest> Children,
    IUpstreamRegistry Upstream,
    string UpstreamRepository);
