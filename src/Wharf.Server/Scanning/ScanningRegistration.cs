using Wharf.Core.Encryption;
using Wharf.Core.Metadata;
using Wharf.Scanning.Layers;
using Wharf.Scanning.Registry;
using Wharf.Server.Hosting;
using Wharf.Server.Jobs;

namespace Wharf.Server.Scanning;

/// <summary>Scanning's services and jobs.</summary>
internal static class ScanningRegistration
{
    /// <summary>The scan job with its coordinator and scanner; the database download job only when <c>Scanning:DatabaseUrls</c> lists exports.</summary>
    public static IServiceCollection AddScanning(this IServiceCollection services, ScanningOptions scanning)
    {
        services.AddSingleton(sp => new ImageScanner(
            sp.GetRequiredService<IMetadataStore>(), sp.GetRequiredService<IBlobVault>(), sp.GetRequiredService<TimeProvider>(), LayerLimits.Default));
        services.AddSingleton<ScanCoordinator>();
        services.AddSingleton<IBackgroundJob, ScanJob>();
        if (scanning.DatabaseUrls.Count > 0)
        {
            services.AddHttpClient();
            services.AddSingleton<VulnerabilityDownloader>();
            services.AddSingleton<IBackgroundJob, VulnerabilityDownloadJob>();
        }

        return services;
    }
}
