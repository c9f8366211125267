using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Server.ControlPlane;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Audit;

/// <summary>The audit trail: the recorder (an <see cref="IRequestObserver"/>), its batch writer, retention, and CloudTrail's <c>LookupEvents</c>.</summary>
internal static class AuditRegistration
{
    public static IServiceCollection AddAudit(this IServiceCollection services, WharfOptions options)
    {
        services.TryAddSingleton(new AuditSwitch(options.Audit.Enabled));
        services.TryAddSingleton<CloudTrailOperations>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAwsJsonService, CloudTrailOperations>(sp => sp.GetRequiredService<CloudTrailOperations>()));

        // Kept records are pruned and can be looked up whether or not new calls are recorded.
        services.AddSingleton<IBackgroundJob, AuditPruneJob>();
        if (options.Audit.Enabled)
        {
            services.TryAddSingleton<AuditRecorder>();
            services.TryAddSingleton<AuditFile>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IRequestObserver, AuditRecorder>(sp => sp.GetRequiredService<AuditRecorder>()));
            services.AddHostedService<AuditWriter>();
        }

        return services;
    }
}

/// <summary>Whether calls are recorded (<c>Audit:Enabled</c>): the API handlers gather a call's parameters only then.</summary>
internal sealed record AuditSwitch(bool Enabled);
