using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Security;

namespace Wharf.Server.Identity;

/// <summary>
/// IAM mode: verifies the request's SigV4 signature (header or presigned query) against the access
/// key's secret, unsealed with the master key, and makes its principal the caller. AWS's error shapes
/// for each failure; clock skew of 15 minutes.
/// </summary>
internal sealed class SigV4ApiIdentity(IMetadataStore store, SecretBox secrets, TimeProvider time) : IApiIdentityResolver
{
    public async ValueTask<ApiIdentity> ResolveAsync(HttpContext context, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var request = ToSigV4Request(context, body.Span);
        SigV4Claim? claim;
        try
        {
            claim = SigV4.ReadClaim(request);
        }
        catch (SigV4FormatException e)
        {
            throw new WharfException(WharfErrorCode.IncompleteSignature, e.Message);
        }

        if (claim is null)
        {
            throw new WharfException(WharfErrorCode.MissingAuthenticationToken);
        }

        // Temporary credentials first: an expired session says so whatever the request's clock.
        var now = time.GetUtcNow();
        var session = claim.SessionToken is null ? ((RoleSession Session, string Secret)?)null : OpenSession(claim, now);
        if (claim.Presigned ? now > claim.RequestTime + claim.Expires!.Value || claim.RequestTime - now > SigV4.MaxSkew : (now - claim.RequestTime).Duration() > SigV4.MaxSkew)
        {
            throw new WharfException(
                WharfErrorCode.InvalidSignature,
                $"Signature expired: {claim.RequestTime.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} is now earlier than {(now - SigV4.MaxSkew).UtcDateTime:yyyyMMdd'T'HHmmss'Z'} ({now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} - 15 min.)");
        }

        var caller = session is { } temporary
            ? Temporary(request, claim, temporary.Session, temporary.Secret)
            : await PermanentAsync(request, claim, cancellationToken);
        return new ApiIdentity(
            caller with
            {
                SourceIp = context.Connection.RemoteIpAddress?.ToString(),
                SecureTransport = context.Request.IsHttps,
            },
            claim.Region,
            claim.Service);
    }

    // An access key from the store: active, its secret unsealed with the master key, its principal alive.
    private async Task<Caller> PermanentAsync(SigV4Request request, SigV4Claim claim, CancellationToken cancellationToken)
    {
        var key = await store.Identities.GetAccessKeyAsync(claim.AccessKeyId, cancellationToken);
        if (key is null || !key.Active)
        {
            throw new WharfException(WharfErrorCode.UnrecognizedClient);
        }

        string secret;
        try
        {
            secret = AccessKeys.Unseal(key, secrets);
        }
        catch (CryptographicException)
        {
            // A key sealed under another master key (a wrong key file): unusable, never a 500.
            throw new WharfException(WharfErrorCode.UnrecognizedClient);
        }

        if (!SigV4.Verify(request, claim, secret))
        {
            throw new WharfException(WharfErrorCode.InvalidSignature);
        }

        var principal = await store.Identities.GetPrincipalAsync(key.PrincipalArn, cancellationToken)
            ?? throw new WharfException(WharfErrorCode.UnrecognizedClient);
        return new Caller(principal.Account, principal.Arn, IsAnonymous: false) { UserId = principal.UniqueId };
    }

    // Temporary credentials: the session token holds the session and its secret, sealed to the key id.
    private (RoleSession Session, string Secret) OpenSession(SigV4Claim claim, DateTimeOffset now)
    {
        if (SessionCredentials.Open(claim.AccessKeyId, claim.SessionToken!, secrets) is not { } opened)
        {
            throw new WharfException(WharfErrorCode.UnrecognizedClient);
        }

        return now >= opened.Session.ExpiresAt
            ? throw new WharfException(WharfErrorCode.TokenExpired, "The security token included in the request is expired")
            : opened;
    }

    private static Caller Temporary(SigV4Request request, SigV4Claim claim, RoleSession session, string secret)
    {
        if (!SigV4.Verify(request, claim, secret))
        {
            throw new WharfException(WharfErrorCode.InvalidSignature);
        }

        return new Caller(session.Account, session.Arn, IsAnonymous: false) { UserId = session.UserId, CredentialsExpireAt = session.ExpiresAt };
    }

    /// <summary>The request as SigV4 sees it: raw path and query as sent, headers, the body's hash.</summary>
    public static SigV4Request ToSigV4Request(HttpContext context, ReadOnlySpan<byte> body)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var question = raw.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? raw : raw[..question];
        var query = question < 0 ? [] : SigV4.ParseQuery(raw[(question + 1)..]);
        var headers = context.Request.Headers;
        var payload = headers["x-amz-content-sha256"].ToString() is { Length: > 0 } declared ? declared : SigV4.Hex(SHA256.HashData(body));
        return new SigV4Request(
            context.Request.Method,
            path,
            query,
            name => headers.TryGetValue(name, out var values) ? string.Join(',', values.Select(v => v?.Trim())) : null,
            payload);
    }
}
