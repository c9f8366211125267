using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>
/// The event log's pruning on <c>Events:PruneInterval</c>: events older than <c>Events:Retention</c>
/// that every consumer has passed are deleted. A consumer still short of such events keeps them, and
/// is named in a warning at each run until it catches up, so a stalled consumer is seen, not skipped.
/// </summary>
internal sealed partial class EventPruneJob(IMetadataStore store, TimeProvider time, IOptions<WharfOptions> options, ILogger<EventPruneJob> logger) : IBackgroundJob
{
    public const string JobName = "event-prune";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Events.PruneInterval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var retention = options.Value.Events.Retention;
        var result = await store.Events.PruneAsync(time.GetUtcNow() - retention, cancellationToken);
        foreach (var lagging in result.Lagging)
        {
            LogConsumerLagging(logger, lagging.Consumer, lagging.Position, retention);
        }

        return result.Deleted == 0 && result.Lagging.Count == 0 ? string.Empty
            : $"{result.Deleted} events pruned; {result.Lagging.Count} consumers behind the retention";
    }

    [LoggerMessage(
        EventId = WharfEventId.EventConsumerLagging,
        Level = LogLevel.Warning,
        Message = "Event consumer {Consumer} is at position {Position}, behind events older than the retention ({Retention}); they are kept until it passes them")]
    private static partial void LogConsumerLagging(ILogger logger, string consumer, long position, TimeSpan retention);
}
