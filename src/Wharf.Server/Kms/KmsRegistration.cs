using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.Identity;
using Wharf.Core.Kms;
using Wharf.Core.Metadata;
using Wharf.Core.Security;
using Wharf.Server.ControlPlane;
using Wharf.Server.Jobs;

namespace Wharf.Server.Kms;

/// <summary>
/// The KMS-compatible key service: its API on the AWS JSON endpoint, the keys and data keys the registry uses
/// (<see cref="IKmsKeys"/>, <see cref="IKmsDataKeys"/>), and the job that deletes keys whose pending window has passed
/// and rotates keys with automatic rotation.
/// </summary>
internal static class KmsRegistration
{
    public static IServiceCollection AddKms(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => new KmsService(
            sp.GetRequiredService<IMetadataStore>(),
            new Lazy<SecretBox>(sp.GetRequiredService<SecretBox>),
            sp.GetRequiredService<IAccessAuthorizer>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IKmsKeys>(sp => sp.GetRequiredService<KmsService>());
        services.TryAddSingleton<IKmsDataKeys>(sp => sp.GetRequiredService<KmsService>());
        services.TryAddSingleton<KmsOperations>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAwsJsonService, KmsOperations>(sp => sp.GetRequiredService<KmsOperations>()));
        services.AddSingleton<IBackgroundJob, KmsKeyJob>();
        return services;
    }
}
