using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// Deletes console sessions past their idle or absolute timeout. They sign nobody in already (the
/// session check refuses them); this keeps the table to live sessions. Runs every quarter idle timeout,
/// between one minute and an hour.
/// </summary>
internal sealed class ConsoleSessionPruneJob(IMetadataStore store, TimeProvider time, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "console-session-prune";

    public string Name => JobName;

    public TimeSpan Interval => TimeSpan.FromTicks(Math.Clamp(options.Value.Console.IdleTimeout.Ticks / 4, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour));

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var console = options.Value.Console;
        var deleted = await store.Logins.DeleteExpiredSessionsAsync(now - console.IdleTimeout, now - console.AbsoluteTimeout, cancellationToken);
        return deleted == 0 ? string.Empty : $"{deleted} expired console sessions deleted";
    }
}
