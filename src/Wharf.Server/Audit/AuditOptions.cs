namespace Wharf.Server.Hosting;

/// <summary>The audit trail (<c>Audit:*</c>).</summary>
public sealed class AuditOptions
{
}
