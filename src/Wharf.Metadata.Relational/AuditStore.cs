using Wharf.Core.Audit;

namespace Wharf.Metadata.Relational;

/// <summary>The audit trail's table (migration 0019).</summary>
internal sealed class AuditStore(Database database) : IAuditStore
{
    private readonly Database database = database;
}
