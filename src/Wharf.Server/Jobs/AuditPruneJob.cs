using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>The audit trail's retention: on <c>Audit:PruneInterval</c>, records older than <c>Audit:Retention</c> are deleted.</summary>
internal sealed class AuditPruneJob(IMetadataStore store, TimeProvider time, IOptions<WharfOptions> options) : IBackgroundJob
{
    public const string JobName = "audit-prune";

    public string Name => JobName;

    public TimeSpan Interval => options.Value.Audit.PruneInterval;

    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var deleted = await store.Audit.PruneAsync(time.GetUtcNow() - options.Value.Audit.Retention, cancellationToken);
        return deleted == 0 ? string.Empty : $"{deleted} audit records older than {options.Value.Audit.Retention} pruned";
    }
}
