using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Wharf.Core.Identity;

/// <summary>
/// A request as SigV4 sees it: method, the path as sent (still percent-encoded), the query's
/// parameters (decoded), the headers and the payload hash.
/// </summary>
/// <param name="Method">HTTP method.</param>
/// <param name="RawPath">The path exactly as sent, e.g. <c>/</c>.</param>
/// <param name="Query">Query parameters, decoded, in any order (repeated keys allowed).</param>
/// <param name="Headers">Header lookup by name (case-insensitive); multiple values joined with <c>,</c>.</param>
/// <param name="PayloadHash">Lowercase hex SHA-256 of the body the server received (never a value the client declared).</param>
public sealed record SigV4Request(
    string Method,
    string RawPath,
    IReadOnlyList<KeyValuePair<string, string>> Query,
    Func<string, string?> Headers,
    string PayloadHash);

/// <summary>What a request claims: the credential scope, signed headers, signature and time.</summary>
/// <param name="AccessKeyId">The key id.</param>
/// <param name="Date">The scope date, <c>yyyyMMdd</c>.</param>
/// <param name="Region">The scope region.</param>
/// <param name="Service">The scope service (<c>ecr</c>, <c>iam</c>, …).</param>
/// <param name="SignedHeaders">Lowercase header names, sorted, as the request lists them.</param>
/// <param name="Signature">Lowercase hex signature.</param>
/// <param name="RequestTime">From <c>X-Amz-Date</c>.</param>
/// <param name="SessionToken">The <c>X-Amz-Security-Token</c>, if any.</param>
/// <param name="Presigned">True for query-string authentication.</param>
/// <param name="Expires">For presigned requests, <c>X-Amz-Expires</c>.</param>
public sealed record SigV4Claim(
    string AccessKeyId,
    string Date,
    string Region,
    string Service,
    IReadOnlyList<string> SignedHeaders,
    string Signature,
    DateTimeOffset RequestTime,
    string? SessionToken,
    bool Presigned,
    TimeSpan? Expires)
{
    public string Scope => $"{Date}/{Region}/{Service}/aws4_request";
}

/// <summary>Why a claim could not be read (AWS's <c>IncompleteSignatureException</c> and friends).</summary>
public sealed class SigV4FormatException(string message) : Exception(message);

/// <summary>
/// AWS Signature Version 4, exactly as AWS builds it (the SigV4 documentation and botocore's signer
/// are the reference): canonical request, string to sign, signing key, signature. Pure functions; the
/// comparison of signatures is constant-time.
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";

    /// <summary>The largest clock difference AWS accepts between a request's time and the server's.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Reads the claim from the <c>Authorization</c> header or the presigned query. Null when the request
    /// carries neither; throws <see cref="SigV4FormatException"/> when it carries a malformed one.
    /// </summary>
    public static SigV4Claim? ReadClaim(SigV4Request request)
    {
        var authorization = request.Headers("authorization");
        if (!string.IsNullOrEmpty(authorization))
        {
            if (!authorization.StartsWith(Algorithm + " ", StringComparison.Ordinal))
            {
                throw new SigV4FormatException($"Authorization header requires the {Algorithm} scheme.");
            }

            var parts = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var part in authorization[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // A repeated parameter would make the claim ambiguous (which one was verified?).
                if (part.Split('=', 2) is [var name, var value] && !parts.TryAdd(name, value))
                {
                    throw new SigV4FormatException($"Authorization header has the '{name}' parameter more than once.");
                }
            }

            var credential = Required(parts, "Credential", "Authorization header requires a 'Credential' parameter.");
            var signedHeaders = Required(parts, "SignedHeaders", "Authorization header requires a 'SignedHeaders' parameter.");
            var signature = Required(parts, "Signature", "Authorization header requires a 'Signature' parameter.");
            var date = request.Headers("x-amz-date") ?? throw new SigV4FormatException("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
            return Checked(request, Build(credential, signedHeaders, signature, date, request.Headers("x-amz-security-token"), presigned: false, expires: null));
        }

        string? Query(string name)
        {
            var values = request.Query.Where(q => q.Key == name).Select(q => q.Value).Take(2).ToList();
            return values.Count switch
            {
                0 => null,
                1 => values[0],
                _ => throw new SigV4FormatException($"The presigned query has the '{name}' parameter more than once."),
            };
        }

        if (Query("X-Amz-Algorithm") is not { } algorithm)
        {
            return null;
        }

        if (algorithm != Algorithm)
        {
            throw new SigV4FormatException($"X-Amz-Algorithm must be {Algorithm}.");
        }

        var expiresText = Query("X-Amz-Expires") ?? throw new SigV4FormatException("Presigned requests require X-Amz-Expires.");
        if (!int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 604800)
        {
            throw new SigV4FormatException("X-Amz-Expires must be between 1 and 604800 seconds.");
        }

        return Checked(request, Build(
            Query("X-Amz-Credential") ?? throw new SigV4FormatException("Presigned requests require X-Amz-Credential."),
            Query("X-Amz-SignedHeaders") ?? throw new SigV4FormatException("Presigned requests require X-Amz-SignedHeaders."),
            Query("X-Amz-Signature") ?? throw new SigV4FormatException("Presigned requests require X-Amz-Signature."),
            Query("X-Amz-Date") ?? throw new SigV4FormatException("Presigned requests require X-Amz-Date."),
            Query("X-Amz-Security-Token"),
            presigned: true,
            TimeSpan.FromSeconds(seconds)));
    }

    /// <summary>
    /// Why a declared <c>x-amz-content-sha256</c> cannot stand, or null when it is absent or is the
    /// hash of the body received. The services Wharf speaks (ECR's JSON API, IAM, STS) sign the body
    /// itself: unlike S3 they take no <c>UNSIGNED-PAYLOAD</c> and no <c>STREAMING-…</c> chunk
    /// signatures, so either is refused as a signature that does not cover the request.
    /// </summary>
    public static string? PayloadMismatch(string? declared, string actualHash)
    {
        if (string.IsNullOrEmpty(declared) || string.Equals(declared, actualHash, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return declared == UnsignedPayload || declared.StartsWith("STREAMING-", StringComparison.Ordinal)
            ? $"The request signature we calculated does not match the signature you provided: this service signs the payload, so x-amz-content-sha256 cannot be '{declared}'."
            : "The request signature we calculated does not match the signature you provided: x-amz-content-sha256 is not the SHA-256 of the request body.";
    }

    /// <summary>The canonical request (SigV4 step 1).</summary>
    public static string CanonicalRequest(SigV4Request request, SigV4Claim claim)
    {
        var builder = new StringBuilder();
        builder.Append(request.Method).Append('\n');
        builder.Append(CanonicalPath(request.RawPath)).Append('\n');
        builder.Append(CanonicalQuery(request.Query, claim.Presigned)).Append('\n');
        foreach (var name in claim.SignedHeaders)
        {
            builder.Append(name).Append(':').Append(CanonicalHeaderValue(request.Headers(name) ?? string.Empty)).Append('\n');
        }

        builder.Append('\n').Append(string.Join(';', claim.SignedHeaders)).Append('\n');

        // Always the hash of the body received: botocore presigns non-S3 requests over it too, and no
        // service Wharf speaks takes UNSIGNED-PAYLOAD (see PayloadMismatch).
        builder.Append(request.PayloadHash);
        return builder.ToString();
    }

    /// <summary>The signature the holder of <paramref name="secret"/> would compute for the request.</summary>
    public static string Sign(SigV4Request request, SigV4Claim claim, string secret)
    {
        var canonical = CanonicalRequest(request, claim);
        var stringToSign = $"{Algorithm}\n{claim.RequestTime.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}\n{claim.Scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), claim.Date);
        key = Hmac(key, claim.Region);
        key = Hmac(key, claim.Service);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    /// <summary>Verifies the signature in constant time.</summary>
    public static bool Verify(SigV4Request request, SigV4Claim claim, string secret)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(request, claim, secret));
        var actual = Encoding.ASCII.GetBytes(claim.Signature);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (upper-case), UTF-8.</summary>
    public static string UriEncode(string value, bool keepSlash = false)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.' or '~' || (keepSlash && c == '/'))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>
    /// Splits a raw query string (without <c>?</c>) into decoded pairs, in order, repeated keys kept.
    /// <c>+</c> is a space, as in every form-encoded query AWS SDKs send (a literal plus arrives as <c>%2B</c>).
    /// </summary>
    public static List<KeyValuePair<string, string>> ParseQuery(string rawQuery)
    {
        var query = new List<KeyValuePair<string, string>>();
        foreach (var pair in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : pair[(equals + 1)..];
            query.Add(new(Unescape(name), Unescape(value)));
        }

        return query;
    }

    private static string Unescape(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return value;
        }
    }

    // Services other than S3 sign the normalised path encoded once more (botocore: quote(path, safe='/~')).
    private static string CanonicalPath(string rawPath)
    {
        if (string.IsNullOrEmpty(rawPath))
        {
            return "/";
        }

        var segments = new List<string>();
        foreach (var segment in rawPath.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(segment);
        }

        var normalised = "/" + string.Join('/', segments) + (rawPath.EndsWith('/') && segments.Count > 0 ? "/" : string.Empty);
        return UriEncode(normalised, keepSlash: true);
    }

    private static string CanonicalQuery(IReadOnlyList<KeyValuePair<string, string>> query, bool presigned) =>
        string.Join('&', query
            .Where(q => !(presigned && q.Key == "X-Amz-Signature"))
            .Select(q => (Key: UriEncode(q.Key), Value: UriEncode(q.Value)))
            .OrderBy(q => q.Key, StringComparer.Ordinal)
            .ThenBy(q => q.Value, StringComparer.Ordinal)
            .Select(q => q.Key + "=" + q.Value));

    // Trim and collapse runs of spaces, as AWS does.
    private static string CanonicalHeaderValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.Trim())
        {
            if (c == ' ')
            {
                space = true;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    // Headers that change what a request does must be covered by the signature: X-Amz-Target names the
    // JSON API's operation (an unsigned one would let a signed BatchGetImage be replayed as
    // BatchDeleteImage with the same body), and X-Amz-Date is the time in the string to sign.
    private static SigV4Claim Checked(SigV4Request request, SigV4Claim claim)
    {
        if (!claim.Presigned && !claim.SignedHeaders.Contains("x-amz-date", StringComparer.Ordinal))
        {
            throw new SigV4FormatException("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
        }

        if (request.Headers("x-amz-target") is not null && !claim.SignedHeaders.Contains("x-amz-target", StringComparer.Ordinal))
        {
            throw new SigV4FormatException("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.");
        }

        return claim;
    }

    private static SigV4Claim Build(string credential, string signedHeaders, string signature, string date, string? token, bool presigned, TimeSpan? expires)
    {
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request" || scope.Any(string.IsNullOrEmpty) || !ValidRegion(scope[2]))
        {
            throw new SigV4FormatException($"Credential should be scoped to a valid region, and to 'aws4_request': '{credential}'.");
        }

        if (!DateTimeOffset.TryParseExact(date, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            throw new SigV4FormatException($"X-Amz-Date must be in the ISO 8601 basic format yyyyMMddTHHmmssZ, not '{date}'.");
        }

        if (scope[1].Length != 8 || !date.StartsWith(scope[1], StringComparison.Ordinal))
        {
            throw new SigV4FormatException($"Credential should be scoped to the date of X-Amz-Date: '{scope[1]}' differs from '{date[..8]}'.");
        }

        var headers = signedHeaders.Split(';', StringSplitOptions.RemoveEmptyEntries);
        if (headers.Length == 0 || !headers.Contains("host", StringComparer.Ordinal))
        {
            throw new SigV4FormatException("SignedHeaders must include 'host'.");
        }

        return new SigV4Claim(scope[0], scope[1], scope[2], scope[3], headers, signature, time, token, presigned, expires);
    }

    // The region names a registry (and is echoed in ARNs): lowercase words joined by '-', as AWS's are.
    private static bool ValidRegion(string region) =>
        region.Length <= 64 && region.Split('-').All(word => word.Length > 0 && word.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9'));

    private static string Required(Dictionary<string, string> parts, string name, string message) =>
        parts.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new SigV4FormatException(message);

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
}
