using System.Text.Json;
using Wharf.Core.Events;
using Wharf.Core.Images;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;

namespace Wharf.Core.Replication;

/// <summary>
/// Replication's consumer of the event log (its own cursor, <see cref="Consumer"/>): each push, and each
/// restore from the archive, of a repository the source registry's configuration matches arms one row per
/// destination (ECR-NOTES §6). Deletes and archivals are not replicated, and neither are copies, which
/// are recorded as <c>ECR Replication Action</c>s (so nothing chains). A child manifest pushed just before
/// the index that lists it (as clients push a multi-platform image) is left to the index, which copies
/// its children first; one pushed on its own is replicated as any image, which is harmless when an index
/// later lists it. The configuration applies as it is when the event is read.
/// </summary>
public sealed class ReplicationFeed(IMetadataStore store, TimeProvider time)
{
    /// <summary>The consumer's name in the event log.</summary>
    public const string Consumer = "replication";

    private const int Batch = 500;

    /// <summary>Reads the events after the cursor and arms their rows; returns how many rows were armed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var armed = 0;
        var position = await store.Events.GetCursorAsync(Consumer, cancellationToken);
        var configurations = new Dictionary<RegistryKey, ReplicationConfiguration>();
        while (true)
        {
            var events = await store.Events.ListAsync(position, Batch, time.GetUtcNow(), cancellationToken);
            if (events.Count == 0)
            {
                return armed;
            }

            var actions = events.Where(e => e.Type == EcrEvents.ImageAction).Select(e => Parse(e.Payload)).OfType<ImageAction>().ToList();

            // Which indexes of the batch list which children is read only once an untagged image has somewhere to go:
            // a registry that replicates nothing reads no manifest for its pushes.
            HashSet<(RepositoryKey, Digest)>? listedByIndexes = null;
            foreach (var action in actions)
            {
                if (!configurations.TryGetValue(action.Key.Registry, out var configuration))
                {
                    configuration = await ReplicationConfiguration.LoadAsync(store.Repositories, action.Key.Registry, cancellationToken);
                    configurations[action.Key.Registry] = configuration;
                }

                var destinations = configuration.DestinationsFor(action.Key.Name.Value, action.Tags).Where(d => !IsSource(d, action.Key.Registry)).ToList();
                if (destinations.Count == 0
                    || (action.Tags.Count == 0 && (listedByIndexes ??= await ChildrenOfIndexesAsync(actions, cancellationToken)).Contains((action.Key, action.Digest))))
                {
                    continue;
                }

                foreach (var destination in destinations)
                {
                    var tags = configuration.TagsFor(action.Key.Name.Value, action.Tags, destination);
                    await store.Replications.EnqueueAsync(new ReplicationRequest(action.Key.Registry, action.Key.Name, action.Digest, destination, tags), time.GetUtcNow(), cancellationToken);
                    armed++;
                }
            }

            position = events[^1].Id;
            await store.Events.AdvanceCursorAsync(Consumer, position, cancellationToken);
            if (events.Count < Batch)
            {
                return armed;
            }
        }
    }

    /// <summary>True when <paramref name="destination"/> is the source registry itself (nothing to copy).</summary>
    public static bool IsSource(ReplicationDestination destination, RegistryKey source) =>
        destination.Region == source.Region && destination.RegistryId == source.Account.Value;

    // The children of the indexes pushed in this batch: their own untagged pushes go with the index.
    private async Task<HashSet<(RepositoryKey, Digest)>> ChildrenOfIndexesAsync(List<ImageAction> actions, CancellationToken cancellationToken)
    {
        var children = new HashSet<(RepositoryKey, Digest)>();
        foreach (var action in actions)
        {
            if (await store.Repositories.GetAsync(action.Key, cancellationToken) is not { } repository
                || await store.Images.GetManifestAsync(repository.Id, action.Digest, cancellationToken) is not { } manifest
                || !MediaTypes.IsIndex(manifest.MediaType))
            {
                continue;
            }

            foreach (var child in ParsedManifest.Parse(manifest.Content, manifest.MediaType).Children)
            {
                children.Add((action.Key, child));
            }
        }

        return children;
    }

    /// <summary>A push, or a restore from the archive (<c>UPDATE_STORAGE_CLASS</c> to <c>STANDARD</c>); null for any other event.</summary>
    private static ImageAction? Parse(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (!root.TryGetProperty("detail", out var detail) || !detail.TryGetProperty("action-type", out var type))
        {
            return null;
        }

        var replicated = type.GetString() switch
        {
            "PUSH" => true,
            "UPDATE_STORAGE_CLASS" => detail.TryGetProperty("target-storage-class", out var target) && target.GetString() == "STANDARD",
            _ => false,
        };
        if (!replicated
            || !AccountId.TryParse(root.GetProperty("account").GetString(), out var account)
            || !RepositoryName.TryParse(detail.GetProperty("repository-name").GetString(), out var name)
            || !Digest.TryParse(detail.GetProperty("image-digest").GetString(), out var digest))
        {
            return null;
        }

        IReadOnlyList<string> tags = detail.TryGetProperty("image-tags", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(t => t.GetString()!).ToList()
            : detail.TryGetProperty("image-tag", out var tag) ? [tag.GetString()!] : [];
        return new ImageAction(new RepositoryKey(new RegistryKey(account, root.GetProperty("region").GetString()!), name), digest, tags);
    }

    private sealed record ImageAction(RepositoryKey Key, Digest Digest, IReadOnlyList<string> Tags);
}
