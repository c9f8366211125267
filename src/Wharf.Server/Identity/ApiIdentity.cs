using System.Text.RegularExpressions;
using Wharf.Core.Errors;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Hosting;

namespace Wharf.Server.Identity;

/// <summary>
/// Who is calling the AWS API, in which region and for which service (from the SigV4 credential
/// scope; the service is null for an unsigned call in open mode).
/// </summary>
internal sealed record ApiIdentity(Caller Caller, string Region, string? Service)
{
    /// <summary>AWS's refusal of a request signed for another service than the endpoint's.</summary>
    public void RequireService(string service)
    {
        if (Service is not null && Service != service)
        {
            throw new WharfException(WharfErrorCode.InvalidSignature, $"Credential should be scoped to correct service: '{service}'.");
        }
    }
}

/// <summary>
/// The seam that turns a signed AWS API request into a caller and a region. <c>open</c> mode
/// registers <see cref="OpenApiIdentity"/>, which reads the credential scope without verifying the
/// signature; the identity work replaces the registration with SigV4 verification (hence the body).
/// </summary>
internal interface IApiIdentityResolver
{
    ValueTask<ApiIdentity> ResolveAsync(HttpContext context, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    /// <summary>
    /// What can be checked before a large body is read (the signature cannot, it covers the body):
    /// the request is signed, in time, by an active key or a live session. Throws as <see cref="ResolveAsync"/> would.
    /// </summary>
    ValueTask PrecheckAsync(HttpContext context, CancellationToken cancellationToken);
}

/// <summary>The parts of a SigV4 credential scope: <c>AKID/yyyymmdd/region/service/aws4_request</c>.</summary>
internal sealed partial record CredentialScope(string AccessKeyId, string Date, string Region, string Service)
{
    /// <summary>
    /// Reads the scope from the <c>Authorization</c> header or, for presigned requests, the
    /// <c>X-Amz-Credential</c> query parameter. Null when the request is unsigned; throws
    /// <c>IncompleteSignatureException</c> when the header is present but malformed.
    /// </summary>
    public static CredentialScope? FromRequest(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        string? credential;
        if (header.Length > 0)
        {
            if (!header.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal))
            {
                throw Incomplete("Authorization header requires the AWS4-HMAC-SHA256 scheme.");
            }

            var match = CredentialPart().Match(header);
            credential = match.Success ? match.Groups[1].Value : throw Incomplete("Authorization header requires a 'Credential' parameter.");
        }
        else
        {
            credential = request.Query["X-Amz-Credential"].ToString();
            if (credential.Length == 0)
            {
                return null;
            }
        }

        var parts = credential.Split('/');
        if (parts.Length != 5 || parts[4] != "aws4_request" || parts[0].Length == 0 || !RegionName().IsMatch(parts[2]) || parts[3].Length == 0)
        {
            throw Incomplete($"Credential should be scoped to a valid region, and to 'aws4_request': '{string.Join('/', parts.Skip(1))}'.");
        }

        return new CredentialScope(parts[0], parts[1], parts[2], parts[3]);
    }

    private static WharfException Incomplete(string message) => new(WharfErrorCode.IncompleteSignature, message);

    [GeneratedRegex(@"Credential=([^,\s]+)", RegexOptions.CultureInvariant)]
    private static partial Regex CredentialPart();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionName();
}

/// <summary>
/// <c>open</c> mode: every caller is the default account's root; the region is the credential
/// scope's, or the default region for an unsigned request. Signatures are not checked.
/// </summary>
internal sealed class OpenApiIdentity(Microsoft.Extensions.Options.IOptions<WharfOptions> options) : IApiIdentityResolver
{
    private readonly AccountId account = AccountId.Parse(options.Value.Registry.DefaultAccount);

    public ValueTask<ApiIdentity> ResolveAsync(HttpContext context, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var scope = CredentialScope.FromRequest(context.Request);
        return ValueTask.FromResult(new ApiIdentity(Caller.Root(account), scope?.Region ?? options.Value.Registry.DefaultRegion, scope?.Service));
    }

    public ValueTask PrecheckAsync(HttpContext context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
