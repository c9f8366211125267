using Microsoft.Extensions.Options;
using Wharf.Core.Metadata;
using Wharf.Core.Storage;

namespace Wharf.Server.Hosting;

/// <summary>The host's own registrations: the backends the settings pick, and the per-caller limits.</summary>
internal static class HostingRegistration
{
    /// <summary>The blob and metadata stores <see cref="BackendFactory"/> picks, each constructed on first use.</summary>
    public static IServiceCollection AddBackends(this IServiceCollection services)
    {
        services.AddSingleton<IBlobStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WharfOptions>>().Value;
            return Telemetry.TelemetryRegistration.Instrument(BackendFactory.CreateBlobStore(options), options);
        });
        services.AddSingleton<IMetadataStore>(sp => BackendFactory.CreateMetadataStore(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        services.AddSingleton<Core.Encryption.IDataKeys>(sp => new Core.Encryption.DataKeys(
            new Lazy<Core.Identity.SecretBox>(sp.GetRequiredService<Core.Identity.SecretBox>), new Lazy<Core.Kms.IKmsDataKeys?>(sp.GetService<Core.Kms.IKmsDataKeys>)));
        services.AddSingleton<Core.Encryption.IBlobVault>(sp => new Core.Encryption.SealedBlobVault(
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<IMetadataStore>(),
            sp.GetRequiredService<Core.Encryption.IDataKeys>(),
            new Core.Encryption.BlobVaultSettings(sp.GetRequiredService<IOptions<WharfOptions>>().Value.Encryption.Enabled),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>The request rate limits and the upload-session limits, shared by both planes.</summary>
    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        services.AddSingleton<RequestLimits>();
        services.AddSingleton<UploadSessionLimits>();
        return services;
    }
}
