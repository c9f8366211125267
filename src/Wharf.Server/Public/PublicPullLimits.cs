using Wharf.Core.Security;

namespace Wharf.Server.Public;

/// <summary>
/// The public address's fair-use limits (ECR-NOTES §8): image pulls per source address (anonymous) or per
/// account (authenticated), and anonymous bytes per source address per month. The public /v2 asks it
/// before each manifest GET and blob GET and tells it the bytes each blob response sent. Refusals are
/// <c>TOOMANYREQUESTS</c> (429) with <c>Retry-After</c>.
/// </summary>
internal interface IPublicPullLimits
{
    /// <summary>Before an image pull (a manifest GET): throws <c>TooManyRequests</c> when the caller is over its rate.</summary>
    void CheckPull(HttpContext context, Caller caller);

    /// <summary>Before a blob GET: throws <c>PublicDataLimitExceeded</c> when an anonymous caller's address has used its month's bytes.</summary>
    ValueTask CheckDataAsync(HttpContext context, Caller caller, CancellationToken cancellationToken);

    /// <summary>After a blob response: the bytes it sent, counted against an anonymous caller's address.</summary>
    void CountBytes(HttpContext context, Caller caller, long bytes);
}

/// <summary>No limits: the fallback when public registries are off (<c>Public:Enabled</c> false), as nothing is served to limit.</summary>
internal sealed class NoPublicPullLimits : IPublicPullLimits
{
    public void CheckPull(HttpContext context, Caller caller)
    {
    }

    public ValueTask CheckDataAsync(HttpContext context, Caller caller, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public void CountBytes(HttpContext context, Caller caller, long bytes)
    {
    }
}
