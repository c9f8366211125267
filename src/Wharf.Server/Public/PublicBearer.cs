using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Public;
using Wharf.Core.Security;
using Wharf.Server.Hosting;
using Wharf.Server.Identity;

namespace Wharf.Server.Public;

/// <summary>What reading a bearer token on the public address came to.</summary>
internal enum BearerStatus
{
    Valid,

    /// <summary>Not a token this Wharf issued (or for another region): 400, ECR Public's shape.</summary>
    Invalid,

    /// <summary>Past its expiry: 401 with the challenge again, so that the client fetches a fresh one.</summary>
    Expired,

    /// <summary>Its principal or access key is gone (deleted, re-created, deactivated): 401 with the challenge.</summary>
    Revoked,
}

/// <summary>
/// The public address's callers (ECR-NOTES §8): ECR Public's Bearer flow. The token realm hands out
/// bearer tokens — anonymous ones to anyone, a principal's to a client that logs in with
/// <c>Basic AWS:&lt;ecr-public password&gt;</c> — sealed with the <see cref="TokenPurpose.Bearer"/> keys, so
/// any node reads them and none is stored. On <c>/v2</c> a client presents one as <c>Bearer</c>, or (as ECR
/// Public accepts) the <c>ecr-public</c> password itself. Passwords of private regions never authenticate
/// here, nor ecr-public ones on the private side: <see cref="AuthTokens"/> are region-bound.
/// </summary>
internal sealed class PublicIdentity(TokenKeyRing keys, AuthTokens authTokens, IMetadataStore store, IPublicAddress address, IOptions<WharfOptions> options, TimeProvider time)
{
    /// <summary>How long a realm token lives: as ECR's passwords, 12 hours (a principal's no longer than the password it came from).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private const string AnonymousKind = "anonymous";
    private const string PrincipalKind = "principal";

    private bool Open => options.Value.Auth == AuthMode.Open;

    /// <summary>The caller of a public <c>/v2</c> request: a bearer token, or 401 with the challenge.</summary>
    public async ValueTask<Caller> ResolveAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            // No credentials, or Basic (ECR Public answers Basic with 400; a challenge lets a client recover).
            throw Challenge(context);
        }

        var (status, caller) = await ReadAsync(context, header[7..].Trim(), cancellationToken);
        return status switch
        {
            BearerStatus.Valid => caller!,
            BearerStatus.Invalid => throw new WharfException(WharfErrorCode.BearerTokenInvalid),
            _ => throw Challenge(context),
        };
    }

    /// <summary>Reads a bearer token: one the realm issued, or an ecr-public <c>GetAuthorizationToken</c> password.</summary>
    public async Task<(BearerStatus Status, Caller? Caller)> ReadAsync(HttpContext context, string token, CancellationToken cancellationToken)
    {
        if (token.Length == 0)
        {
            return (BearerStatus.Invalid, null);
        }

        if (await keys.OpenAsync(TokenPurpose.Bearer, token, string.Empty, cancellationToken) is { } fields)
        {
            return await ReadRealmTokenAsync(context, fields, cancellationToken);
        }

        var (status, password) = await authTokens.ReadAsync(token, cancellationToken);
        return status switch
        {
            AuthTokenStatus.Valid when password!.Region == RegistryKey.PublicRegion =>
                await StillIssuedAsync(password, cancellationToken) ? (BearerStatus.Valid, CallerOf(context, password)) : (BearerStatus.Revoked, null),
            AuthTokenStatus.Expired when password!.Region == RegistryKey.PublicRegion => (BearerStatus.Expired, null),
            _ => (BearerStatus.Invalid, null),
        };
    }

    private async Task<(BearerStatus Status, Caller? Caller)> ReadRealmTokenAsync(HttpContext context, string[] fields, CancellationToken cancellationToken)
    {
        switch (fields)
        {
            case [AnonymousKind, var expiresText] when TryUnix(expiresText, out var expires):
                return time.GetUtcNow() >= expires ? (BearerStatus.Expired, null) : (BearerStatus.Valid, Anonymous(context));
            case [PrincipalKind, var arn, var accountText, var expiresText, var principalId, var accessKeyId]
                when AccountId.TryParse(accountText, out var account) && TryUnix(expiresText, out var expires):
                var token = new AuthToken(arn, account, RegistryKey.PublicRegion, expires, principalId, accessKeyId);
                if (time.GetUtcNow() >= expires)
                {
                    return (BearerStatus.Expired, null);
                }

                return await StillIssuedAsync(token, cancellationToken) ? (BearerStatus.Valid, CallerOf(context, token)) : (BearerStatus.Revoked, null);
            default:
                return (BearerStatus.Invalid, null);
        }
    }

    /// <summary>A realm token for an anonymous caller.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> IssueAnonymousAsync(CancellationToken cancellationToken)
    {
        var expires = Truncate(time.GetUtcNow() + Lifetime);
        return (await keys.SealAsync(TokenPurpose.Bearer, string.Empty, [AnonymousKind, Unix(expires)], cancellationToken), expires);
    }

    /// <summary>A realm token for the principal an ecr-public password names; it ends no later than the password.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> IssueAsync(AuthToken password, CancellationToken cancellationToken)
    {
        var end = time.GetUtcNow() + Lifetime;
        var expires = Truncate(password.ExpiresAt < end ? password.ExpiresAt : end);
        string[] fields = [PrincipalKind, password.PrincipalArn, password.Account.Value, Unix(expires), password.PrincipalId, password.AccessKeyId];
        return (await keys.SealAsync(TokenPurpose.Bearer, string.Empty, fields, cancellationToken), expires);
    }

    /// <summary>
    /// The realm's login, <c>Authorization: Basic base64(AWS:&lt;password&gt;)</c>: the ecr-public password's
    /// principal, or null (a 401). In <c>--auth open</c> mode any other Basic login is the default
    /// account's root, as anyone is on the private side; callers with no login stay anonymous.
    /// </summary>
    public async Task<AuthToken?> LoginAsync(string basic, CancellationToken cancellationToken)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(basic.Trim()));
        }
        catch (FormatException)
        {
            return OpenRoot();
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && decoded[..colon] == "AWS")
        {
            var (status, password) = await authTokens.ReadAsync(decoded[(colon + 1)..], cancellationToken);
            if (status == AuthTokenStatus.Valid && password!.Region == RegistryKey.PublicRegion && await StillIssuedAsync(password, cancellationToken))
            {
                return password;
            }
        }

        return OpenRoot();
    }

    private AuthToken? OpenRoot()
    {
        if (!Open)
        {
            return null;
        }

        var account = AccountId.Parse(options.Value.Registry.DefaultAccount);
        return new AuthToken(Caller.Root(account).PrincipalArn, account, RegistryKey.PublicRegion, time.GetUtcNow() + Lifetime, string.Empty, string.Empty);
    }

    /// <summary>
    /// ECR Public's challenge: <c>Bearer realm="…/token/",service="&lt;authority&gt;",scope="aws"</c>. The realm is
    /// on the host the client wrote (it reached /v2 that way, so it reaches the realm the same way).
    /// </summary>
    public WharfException Challenge(HttpContext context) =>
        new(WharfErrorCode.Unauthorized, "Not Authorized")
        {
            Headers = new Dictionary<string, string>
            {
                ["WWW-Authenticate"] = $"Bearer realm=\"{context.Request.Scheme}://{context.Request.Host}/token/\",service=\"{address.Authority}\",scope=\"aws\"",
            },
        };

    /// <summary>Who an anonymous caller is: nobody, of the default account (the authorizer lets anonymous callers read public repositories only).</summary>
    public Caller Anonymous(HttpContext context) =>
        new(AccountId.Parse(options.Value.Registry.DefaultAccount), "anonymous", IsAnonymous: true)
        {
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            SecureTransport = context.Request.IsHttps,
        };

    private static Caller CallerOf(HttpContext context, AuthToken token) =>
        new(token.Account, token.PrincipalArn, IsAnonymous: false)
        {
            UserId = token.PrincipalId.Length == 0 ? null : token.PrincipalId,
            AccessKeyId = token.AccessKeyId.Length == 0 ? null : token.AccessKeyId,
            SourceIp = context.Connection.RemoteIpAddress?.ToString(),
            SecureTransport = context.Request.IsHttps,
        };

    // In open mode no principal is stored: everyone is root.
    private async Task<bool> StillIssuedAsync(AuthToken token, CancellationToken cancellationToken) =>
        Open || await TokenRequestIdentity.StillIssuedAsync(store, token, cancellationToken);

    private static DateTimeOffset Truncate(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    private static string Unix(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private static bool TryUnix(string text, out DateTimeOffset time)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < 253402300799)
        {
            time = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }

        time = default;
        return false;
    }
}
