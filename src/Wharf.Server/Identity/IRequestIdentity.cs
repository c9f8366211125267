using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>Which registry a /v2 request is for, and who is calling.</summary>
internal sealed record RequestIdentity(RegistryKey Registry, Caller Caller);

/// <summary>
/// The one seam that turns an HTTP request into a registry and a caller. <c>open</c> mode registers
/// <see cref="OpenRequestIdentity"/>; the identity work replaces the registration (tokens, anonymous pulls).
/// </summary>
internal interface IRequestIdentityResolver
{
    ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken);
}
