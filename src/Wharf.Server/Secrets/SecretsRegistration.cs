using Microsoft.Extensions.DependencyInjection.Extensions;
using Wharf.Core.Secrets;
using Wharf.Server.ControlPlane;

namespace Wharf.Server.Secrets;

/// <summary>The Secrets Manager-compatible API on the AWS JSON endpoint, and the secret values pull-through cache rules read.</summary>
internal static class SecretsRegistration
{
    public static IServiceCollection AddSecrets(this IServiceCollection services)
    {
        services.TryAddSingleton<SecretService>();
        services.TryAddSingleton<ISecretValues, SecretValues>();
        services.TryAddSingleton<SecretsManagerOperations>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAwsJsonService, SecretsManagerOperations>(sp => sp.GetRequiredService<SecretsManagerOperations>()));
        return services;
    }
}
