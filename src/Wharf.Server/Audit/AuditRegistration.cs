using Wharf.Server.Hosting;

namespace Wharf.Server.Audit;

/// <summary>The audit trail: the recorder (an <see cref="IRequestObserver"/>), its batch writer, retention, and CloudTrail's <c>LookupEvents</c>.</summary>
internal static class AuditRegistration
{
    public static IServiceCollection AddAudit(this IServiceCollection services, WharfOptions options) => services;
}
