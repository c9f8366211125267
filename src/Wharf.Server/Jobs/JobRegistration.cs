using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.Encryption;
using Wharf.Core.GarbageCollection;
using Wharf.Core.Lifecycle;
using Wharf.Core.Metadata;
using Wharf.Core.Storage;
using Wharf.Core.Uploads;
using Wharf.Server.Hosting;

namespace Wharf.Server.Jobs;

/// <summary>
/// The areas whose server side is a job (upload expiry, lifecycle, garbage collection, event pruning), and the
/// scheduler that runs every registered <see cref="IBackgroundJob"/>.
/// </summary>
internal static class JobRegistration
{
    /// <summary>The janitor of expired upload sessions and its job.</summary>
    public static IServiceCollection AddUploadExpiry(this IServiceCollection services)
    {
        services.AddSingleton<UploadJanitor>();
        services.AddSingleton<IBackgroundJob, UploadExpiryJob>();
        return services;
    }

    /// <summary>The job that applies every repository's lifecycle policy.</summary>
    public static IServiceCollection AddLifecycle(this IServiceCollection services)
    {
        services.TryAddSingleton<LifecycleService>();
        services.AddSingleton<IBackgroundJob, LifecycleJob>();
        return services;
    }

    /// <summary>The collector and the store checker (<c>wharf gc</c>, <c>wharf check</c>); the online job only when <c>Gc:Enabled</c>.</summary>
    public static IServiceCollection AddGarbageCollection(this IServiceCollection services, GcOptions gc)
    {
        services.AddSingleton(sp => new GarbageCollector(
            sp.GetRequiredService<IMetadataStore>(), sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<IBlobVault>(), sp.GetRequiredService<TimeProvider>(), gc.GraceWindow));
        services.AddSingleton<StoreChecker>();
        if (gc.Enabled)
        {
            services.AddSingleton<IBackgroundJob, GarbageCollectionJob>();
        }

        return services;
    }

    /// <summary>
    /// The migrator that seals an install's plaintext blobs (<c>wharf encrypt</c>), and its job while sealing is on and
    /// <c>Encryption:Migration:Enabled</c>.
    /// </summary>
    public static IServiceCollection AddEncryptionMigration(this IServiceCollection services, WharfOptions options)
    {
        services.AddSingleton<EncryptionMigrator>();
        if (options.Encryption.Enabled && options.Encryption.Migration.Enabled)
        {
            services.AddSingleton<IBackgroundJob, EncryptionJob>();
        }

        return services;
    }

    /// <summary>The job that prunes the event log (<c>Events:Retention</c>).</summary>
    public static IServiceCollection AddEventPruning(this IServiceCollection services)
    {
        services.AddSingleton<IBackgroundJob, EventPruneJob>();
        return services;
    }

    /// <summary>
    /// The background services: the pull-time flusher, then the scheduler (hosted services stop in
    /// reverse order, so the jobs stop before the last flush). Register after every job.
    /// </summary>
    public static IServiceCollection AddJobs(this IServiceCollection services)
    {
        services.AddHostedService<PullTimeFlusher>();
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        return services;
    }
}
