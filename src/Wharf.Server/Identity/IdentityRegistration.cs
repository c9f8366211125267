using Microsoft.Extensions.Options;
using Wharf.Core.Security;
using Wharf.Server.Hosting;

namespace Wharf.Server.Identity;

/// <summary>Who a caller is and what it may do, by <see cref="AuthMode"/>.</summary>
internal static class IdentityRegistration
{
    /// <summary>
    /// IAM mode: policies decide, callers sign (SigV4) or present a registry token, and the first start
    /// creates the root key. Open mode: everyone may do everything. Register before the planes: they only
    /// add their open identity resolvers when none is registered.
    /// </summary>
    public static IServiceCollection AddIdentity(this IServiceCollection services, AuthMode mode)
    {
        // Resolved on first use: in open mode only the IAM API needs it.
        services.AddSingleton(sp => MasterKey.LoadOrCreate(sp.GetRequiredService<IOptions<WharfOptions>>().Value));
        if (mode == AuthMode.Iam)
        {
            services.AddSingleton<IAccessAuthorizer, PolicyAuthorizer>();
            services.AddSingleton<IApiIdentityResolver, SigV4ApiIdentity>();
            services.AddSingleton<IRequestIdentityResolver, TokenRequestIdentity>();
            services.AddSingleton<IdentityBootstrap>();
        }
        else
        {
            services.AddSingleton<IAccessAuthorizer, OpenAccessAuthorizer>();
        }

        return services;
    }
}
