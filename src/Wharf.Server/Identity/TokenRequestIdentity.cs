using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>
/// IAM mode on /v2: HTTP Basic with user <c>AWS</c> and a <c>GetAuthorizationToken</c> password, as ECR.
/// No or a bad token is 401 with ECR's Basic challenge; an expired one 403 <c>DENIED</c>. Tokens are
/// region-bound: a token for another region than the registry's does not authenticate.
/// </summary>
internal sealed class TokenRequestIdentity(RegistryHostMatcher hosts, AuthTokens tokens) : IRequestIdentityResolver
{
    public async ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var registry = hosts.Match(context.Request.Host.Host);
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            throw Challenge(context);
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            throw Challenge(context);
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || decoded[..colon] != "AWS")
        {
            throw Challenge(context);
        }

        var (status, token) = await tokens.ReadAsync(decoded[(colon + 1)..], cancellationToken);
        if (status == AuthTokenStatus.Expired)
        {
            throw new WharfException(WharfErrorCode.TokenExpired);
        }

        if (status != AuthTokenStatus.Valid || token!.Region != registry.Region)
        {
            throw Challenge(context);
        }

        return new RequestIdentity(registry, new Caller(token.Account, token.PrincipalArn, IsAnonymous: false)
        {
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            SecureTransport = context.Request.IsHttps,
        });
    }

    /// <summary>ECR's challenge: Basic, with the registry's URL as the realm.</summary>
    public static WharfException Challenge(HttpContext context) =>
        new(WharfErrorCode.Unauthorized, "Not Authorized")
        {
            Headers = new Dictionary<string, string>
            {
                ["WWW-Authenticate"] = $"Basic realm=\"https://{context.Request.Host}/\",service=\"ecr.amazonaws.com\"",
            },
        };
}
