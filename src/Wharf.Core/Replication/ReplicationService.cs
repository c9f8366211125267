using System.Runtime.CompilerServices;
using System.Text.Json;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Core.Replication;

/// <summary>What a backfill covers and how fast it goes.</summary>
/// <param name="Registry">The source registry.</param>
/// <param name="RepositoryPrefix">Only repositories whose names start with it (all when null).</param>
/// <param name="ImagesPerSecond">At most this many images armed per second (no limit when null).</param>
/// <param name="DryRun">List what would be armed, arming nothing and keeping no cursor.</param>
/// <param name="FromStart">Start from the first repository even when an earlier run left a cursor.</param>
public sealed record BackfillScope(RegistryKey Registry, string? RepositoryPrefix, double? ImagesPerSecond, bool DryRun, bool FromStart);

/// <summary>
/// Replication's surfaces beyond the queue itself: <c>DescribeImageReplicationStatus</c>, and backfill —
/// arming the images that already exist in repositories the configuration matches (ECR replicates only
/// what is pushed after it is configured; Wharf can copy the rest).
/// </summary>
public sealed class ReplicationService(IMetadataStore store, ImageService images, TimeProvider time)
{
    /// <summary>The registry setting where an unfinished backfill keeps its place (repository and digest last armed).</summary>
    public const string BackfillCursorSetting = "wharf:REPLICATION_BACKFILL_CURSOR";

    /// <summary>The registry setting that asks the replication job for a backfill (<c>PutReplicationConfiguration</c> with <c>wharfBackfill</c>).</summary>
    public const string BackfillRequestSetting = "wharf:REPLICATION_BACKFILL_REQUESTED";

    private const int Page = 100;

    /// <summary>ECR's <c>DescribeImageReplicationStatus</c>: the image's digest and one status per destination it was armed for.</summary>
    public async Task<(Digest Digest, IReadOnlyList<ReplicationRecord> Statuses)> GetStatusAsync(Caller caller, RepositoryKey key, ImageRef id, CancellationToken cancellationToken)
    {
        var manifest = await images.FindAsync(caller, key, EcrActions.DescribeImageReplicationStatus, id, cancellationToken);
        return (manifest.Digest, await store.Replications.ListForImageAsync(key, manifest.Digest, cancellationToken));
    }

    /// <summary>
    /// Arms (or, in a dry run, only lists) one row per image and destination of the repositories in
    /// <paramref name="scope"/> that the registry's configuration matches, repository by repository in
    /// name order and image by image in digest order, at the given rate. An unfinished run leaves a cursor
    /// in the registry's settings that the next run starts after; a finished one removes it. Arming is
    /// idempotent, so a rerun over armed images only re-arms them.
    /// </summary>
    public async IAsyncEnumerable<ReplicationRequest> BackfillAsync(BackfillScope scope, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var configuration = await ReplicationConfiguration.LoadAsync(store.Repositories, scope.Registry, cancellationToken);
        var prefix = scope.RepositoryPrefix ?? string.Empty;
        var cursor = scope.FromStart || scope.DryRun ? null : await ReadCursorAsync(scope.Registry, prefix, cancellationToken);
        var pace = new Pace(scope.ImagesPerSecond, time.GetUtcNow());
        string? after = null;
        if (cursor is not null && RepositoryName.TryParse(cursor.Repository, out var resumeName)
            && await store.Repositories.GetAsync(new RepositoryKey(scope.Registry, resumeName), cancellationToken) is { } resumed)
        {
            // The repository the last run stopped in goes on after its last image; the list goes on after it.
            await foreach (var request in BackfillRepositoryAsync(scope, configuration, resumed, Digest.TryParse(cursor.Digest, out var d) ? d : null, pace, cancellationToken))
            {
                yield return request;
            }

            after = cursor.Repository;
        }

        while (await store.Repositories.ListAsync(scope.Registry, after, Page, cancellationToken) is { Count: > 0 } repositories)
        {
            foreach (var repository in repositories.Where(r => r.Key.Name.Value.StartsWith(prefix, StringComparison.Ordinal)))
            {
                await foreach (var request in BackfillRepositoryAsync(scope, configuration, repository, null, pace, cancellationToken))
                {
                    yield return request;
                }
            }

            after = repositories[^1].Key.Name.Value;
        }

        if (!scope.DryRun)
        {
            await store.Repositories.ChangeRegistrySettingAsync<bool>(scope.Registry, BackfillCursorSetting, _ => (null, true), cancellationToken);
        }
    }

    /// <summary>Asks the replication job to backfill the whole registry (what its configuration matches) at its next run.</summary>
    public Task RequestBackfillAsync(RegistryKey registry, CancellationToken cancellationToken) =>
        store.Repositories.SetRegistrySettingAsync(registry, BackfillRequestSetting, time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture), cancellationToken);

    /// <summary>
    /// Runs the backfills asked for through the API, each to its end (an interrupted one goes on from its
    /// cursor at the next call), then clears the request; returns how many rows were armed.
    /// </summary>
    public async Task<int> RunRequestedBackfillsAsync(CancellationToken cancellationToken)
    {
        var armed = 0;
        foreach (var registry in await store.Repositories.ListConfiguredRegistriesAsync(cancellationToken))
        {
            if (!(await store.Repositories.GetRegistrySettingsAsync(registry, cancellationToken)).TryGetValue(BackfillRequestSetting, out var requested))
            {
                continue;
            }

            await foreach (var _ in BackfillAsync(new BackfillScope(registry, null, null, DryRun: false, FromStart: false), cancellationToken))
            {
                armed++;
            }

            // A request made again while this one ran stays for the next run.
            await store.Repositories.ChangeRegistrySettingAsync(registry, BackfillRequestSetting, current => (current == requested ? null : current, true), cancellationToken);
        }

        return armed;
    }

    private async IAsyncEnumerable<ReplicationRequest> BackfillRepositoryAsync(
        BackfillScope scope, ReplicationConfiguration configuration, Repository repository, Digest? last, Pace pace, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var name = repository.Key.Name.Value;
        if (!configuration.Rules.Any(r => r.MatchesRepository(name)))
        {
            yield break;
        }

        var children = await ChildrenOfIndexesAsync(repository.Id, cancellationToken);
        while (await store.Images.DescribeImagesAsync(repository.Id, TagStatus.Any, ImageStatusFilter.Active, last, Page, cancellationToken) is { Count: > 0 } page)
        {
            foreach (var image in page)
            {
                if (image.Tags.Count == 0 && children.Contains(image.Digest))
                {
                    continue; // copied with its index
                }

                foreach (var destination in configuration.DestinationsFor(name, image.Tags).Where(d => !ReplicationFeed.IsSource(d, scope.Registry)))
                {
                    await pace.WaitAsync(time, cancellationToken);
                    var request = new ReplicationRequest(scope.Registry, repository.Key.Name, image.Digest, destination, configuration.TagsFor(name, image.Tags, destination));
                    if (!scope.DryRun)
                    {
                        await store.Replications.EnqueueAsync(request, time.GetUtcNow(), cancellationToken);
                    }

                    yield return request;
                }
            }

            last = page[^1].Digest;
            if (!scope.DryRun)
            {
                await WriteCursorAsync(scope.Registry, new BackfillCursor(scope.RepositoryPrefix ?? string.Empty, name, last.Value.ToString()), cancellationToken);
            }
        }
    }

    private async Task<HashSet<Digest>> ChildrenOfIndexesAsync(long repositoryId, CancellationToken cancellationToken)
    {
        var children = new HashSet<Digest>();
        Digest? last = null;
        while (await store.Images.DescribeImagesAsync(repositoryId, TagStatus.Any, ImageStatusFilter.Any, last, Page, cancellationToken) is { Count: > 0 } page)
        {
            foreach (var index in page.Where(i => MediaTypes.IsIndex(i.MediaType)))
            {
                if (await store.Images.GetManifestAsync(repositoryId, index.Digest, cancellationToken) is { } manifest)
                {
                    children.UnionWith(ParsedManifest.Parse(manifest.Content, manifest.MediaType).Children);
                }
            }

            last = page[^1].Digest;
        }

        return children;
    }

    private async Task<BackfillCursor?> ReadCursorAsync(RegistryKey registry, string prefix, CancellationToken cancellationToken)
    {
        var text = (await store.Repositories.GetRegistrySettingsAsync(registry, cancellationToken)).GetValueOrDefault(BackfillCursorSetting);
        var cursor = text is null ? null : JsonSerializer.Deserialize(text, CoreJsonContext.Default.BackfillCursor);
        return cursor?.Prefix == prefix ? cursor : null; // a cursor of another scope is not this run's place
    }

    private Task WriteCursorAsync(RegistryKey registry, BackfillCursor cursor, CancellationToken cancellationToken) =>
        store.Repositories.SetRegistrySettingAsync(registry, BackfillCursorSetting, JsonSerializer.Serialize(cursor, CoreJsonContext.Default.BackfillCursor), cancellationToken);

    internal sealed record BackfillCursor(string Prefix, string Repository, string Digest);

    /// <summary>At most <c>rate</c> rows a second, counted from the start of the run.</summary>
    private sealed class Pace(double? rate, DateTimeOffset started)
    {
        private long count;

        public async Task WaitAsync(TimeProvider time, CancellationToken cancellationToken)
        {
            if (rate is { } perSecond && perSecond > 0)
            {
                var due = started + TimeSpan.FromSeconds(count / perSecond);
                var now = time.GetUtcNow();
                if (due > now)
                {
                    await Task.Delay(due - now, time, cancellationToken);
                }
            }

            count++;
        }
    }
}
