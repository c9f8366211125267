using System.Security.Cryptography;
using System.Text;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>
/// IAM mode on /v2: HTTP Basic with user <c>AWS</c> and a <c>GetAuthorizationToken</c> password, as ECR.
/// No or a bad token is 401 with ECR's Basic challenge; an expired one 403 <c>DENIED</c>. Tokens are
/// region-bound: a token for another region than the registry's does not authenticate. A token is
/// also bound to what issued it, checked on every request: the principal's unique id (a user deleted
/// and created again under the same name does not revive it), the access key that signed
/// <c>GetAuthorizationToken</c> (deactivated or deleted, its tokens end), and for a role session the
/// role's unique id (the session's own end is the token's expiry).
/// A password that passed these checks is remembered, keyed by the SHA-256 of the header that carried it, while the
/// store's authorization generation is unchanged (any identity, key or signing key write, by any process or node,
/// changes it) and never past the token's own expiry (docs/identity.md "Caches and their bounds"). The generation
/// goes on with the caller to the request's authorization. It is read at most every <see cref="GenerationMaxAge"/>
/// and again after any write of this process: a change made through this node applies to its next request, one
/// made by another node or process within <see cref="GenerationMaxAge"/>.
/// </summary>
internal sealed class TokenRequestIdentity(RegistryHostMatcher hosts, AuthTokens tokens, IMetadataStore store, TimeProvider time) : IRequestIdentityResolver
{
    /// <summary>
    /// How old a reading of the authorization generation may be when a /v2 request uses it: the bound within which
    /// another node's or process's change applies here. Reading it costs a statement per request otherwise (a fifth
    /// of IAM mode's extra CPU per manifest GET; bench/RESULTS.md, "Small requests, session 35").
    /// </summary>
    internal static readonly TimeSpan GenerationMaxAge = TimeSpan.FromMilliseconds(50);

    private readonly AuthorizationCache<string, AuthToken> verified = new(StringComparer.Ordinal);

    public async ValueTask<RequestIdentity> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var registry = hosts.Match(context.Request.Host.Host);
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            throw Challenge(context);
        }

        // Read before the checks it guards, so what they read is at least as new as it.
        var generation = await store.Identities.GetRecentAuthorizationGenerationAsync(GenerationMaxAge, cancellationToken);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(header)));
        if (verified.TryGet(key, generation, out var hit) && time.GetUtcNow() < hit.ExpiresAt && hit.Region == registry.Region)
        {
            return IdentityOf(context, registry, hit, generation);
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

        if (status != AuthTokenStatus.Valid || token!.Region != registry.Region || !await StillIssuedAsync(store, token, cancellationToken))
        {
            throw Challenge(context);
        }

        verified.Set(key, generation, token);
        return IdentityOf(context, registry, token, generation);
    }

    private static RequestIdentity IdentityOf(HttpContext context, RegistryKey registry, AuthToken token, long generation) =>
        new(registry, new Caller(token.Account, token.PrincipalArn, IsAnonymous: false)
        {
            UserId = token.PrincipalId,
            AccessKeyId = token.AccessKeyId,
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            SecureTransport = context.Request.IsHttps,
            AuthorizationGeneration = generation,
        });

    /// <summary>Whether the principal and key the token was issued to are still the ones that exist (also the public address's check).</summary>
    internal static async Task<bool> StillIssuedAsync(IMetadataStore store, AuthToken token, CancellationToken cancellationToken)
    {
        var identityArn = RoleSession.IdentityArnOf(token.PrincipalArn);
        if (identityArn != token.PrincipalArn)
        {
            // A role session: its id is "<role id>:<session>"; its ASIA key is not stored.
            var colon = token.PrincipalId.IndexOf(':', StringComparison.Ordinal);
            return colon > 0
                && await store.Identities.GetPrincipalAsync(identityArn, cancellationToken) is { } role
                && role.UniqueId == token.PrincipalId[..colon];
        }

        return await store.Identities.GetPrincipalAsync(token.PrincipalArn, cancellationToken) is { } principal
            && principal.UniqueId == token.PrincipalId
            && await store.Identities.GetAccessKeyAsync(token.AccessKeyId, cancellationToken) is { Active: true } key
            && key.PrincipalArn == token.PrincipalArn;
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
