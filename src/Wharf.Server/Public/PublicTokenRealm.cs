using System.Text.Json;
using Wharf.Core.Errors;
using Wharf.Server.Errors;

namespace Wharf.Server.Public;

/// <summary>
/// The token realm of the public address (<c>GET /token/?service=…&amp;scope=…</c>), as ECR Public's
/// <c>https://public.ecr.aws/token/</c>: no credentials → an anonymous token; <c>Basic AWS:&lt;ecr-public
/// password&gt;</c> → a token for that password's principal; a bad login → 401. The scope asked for is not
/// narrowed into the token: what a caller may do is the authorizer's to decide on each request.
/// Answers <c>{"token","access_token","expires_in","issued_at"}</c> (Docker's and OAuth's names both).
/// Limited as credentials are (<c>Limits:Token</c>), per source address.
/// </summary>
internal sealed class PublicTokenRealm(PublicIdentity identity, Hosting.RequestLimits limits, TimeProvider time, ILogger<PublicTokenRealm> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            var method = context.Request.Method;
            if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
            {
                // containerd tries an OAuth POST first and falls back to GET on 405.
                throw new WharfException(WharfErrorCode.MethodNotAllowed, $"{method} is not supported by the token realm; use GET")
                {
                    Headers = new Dictionary<string, string> { ["Allow"] = "GET, HEAD" },
                };
            }

            // Counted per source address before any login is read: a login costs the store lookups a token does.
            limits.Throttle(context, identity.Anonymous(context), Hosting.RequestClass.Token);
            var header = context.Request.Headers.Authorization.ToString();
            var issuedAt = time.GetUtcNow();
            string token;
            DateTimeOffset expires;
            if (header.Length == 0)
            {
                (token, expires) = await identity.IssueAnonymousAsync(context.RequestAborted);
            }
            else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
                && await identity.LoginAsync(header[6..], context.RequestAborted) is { } password)
            {
                (token, expires) = await identity.IssueAsync(password, context.RequestAborted);
            }
            else
            {
                throw new WharfException(WharfErrorCode.Unauthorized, "the login is not an ecr-public authorization token (user AWS, password from 'aws ecr-public get-login-password')");
            }

            var body = JsonSerializer.SerializeToUtf8Bytes(new TokenResponse(
                token,
                token,
                Math.Max(60, (int)(expires - issuedAt).TotalSeconds),
                issuedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)),
                ServerJsonContext.Default.TokenResponse);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.Headers.CacheControl = "no-store";
            response.ContentLength = body.Length;
            if (HttpMethods.IsGet(method))
            {
                await response.Body.WriteAsync(body, context.RequestAborted);
            }
        }
        catch (Exception e)
        {
            await OciErrorWriter.HandleAsync(context, e, logger);
        }
    }

    internal sealed record TokenResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("token")] string Token,
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("issued_at")] string IssuedAt);
}
