using Microsoft.AspNetCore.Http.Features;
using Wharf.Core.Errors;
using Wharf.Server.Hosting;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole;

/// <summary>
/// Runs before every console endpoint: resolves the session (not signed in → the sign-in page, unless the
/// endpoint is <see cref="SignedOutAllowed"/>); for a post, refuses another site's origin, reads the
/// urlencoded form within a cap and checks its <c>_csrf</c> token against the session (a
/// <see cref="SignedOutAllowed"/> endpoint checks its own); and turns what a handler throws into a page in
/// plain words — a <see cref="WharfException"/> with its status and message, anything else a 500 page
/// that says nothing of the fault (it is logged).
/// </summary>
internal sealed partial class ConsoleRequestFilter(IConsoleSessions sessions, ConsoleCsrf csrf, ConsoleLayout layout, ILogger<ConsoleRequestFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var cancellationToken = context.RequestAborted;
        var signedOutAllowed = context.GetEndpoint()?.Metadata.GetMetadata<SignedOutAllowed>() is not null;
        ConsoleUser? user = null;
        try
        {
            user = await sessions.ResolveAsync(context, cancellationToken);
            if (user is not null)
            {
                ConsoleRequest.SetUser(context, user);
                if (user.PasswordResetRequired && context.GetEndpoint()?.Metadata.GetMetadata<PasswordChangeAllowed>() is null)
                {
                    var back = context.Request.Path + context.Request.QueryString;
                    await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Password + Html.Query(("next", HttpMethods.IsGet(context.Request.Method) ? back : null)));
                    return null;
                }
            }
            else if (!signedOutAllowed)
            {
                var back = context.Request.Path + context.Request.QueryString;
                await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.SignIn + Html.Query(("next", HttpMethods.IsGet(context.Request.Method) ? back : null)));
                return null;
            }

            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                if (await RefusePostAsync(context, user, signedOutAllowed, cancellationToken) is { } refusal)
                {
                    await layout.WriteAsync(context, user, refusal);
                    return null;
                }
            }

            return await next(invocation);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (WharfException e) when (!context.Response.HasStarted)
        {
            var status = ErrorCatalogue.Describe(e.Code).OciStatus;
            await layout.WriteAsync(context, user, new ConsolePage(ConsoleErrors.Headline(e), ConsoleErrors.Banner(e)) { Status = status is >= 400 and < 600 ? status : 400 });
            return null;
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            LogPageFault(logger, context.Request.Method, context.Request.Path, e);
            await layout.WriteAsync(context, user, new ConsolePage("Something went wrong", ConsoleErrors.Banner("Something went wrong.", "The console could not complete this request. Try again in a moment; if it keeps failing, the server's log has the details.")) { Status = 500 });
            return null;
        }
    }

    // Null when the post may go on; otherwise the page that says why not.
    private async Task<ConsolePage?> RefusePostAsync(HttpContext context, ConsoleUser? user, bool signedOutAllowed, CancellationToken cancellationToken)
    {
        // A browser says where a form came from; another site's page never posts here.
        var site = context.Request.Headers["Sec-Fetch-Site"].ToString();
        var origin = context.Request.Headers.Origin.ToString();
        if (site is "cross-site" or "same-site" || (origin.Length > 0 && origin != "null" && !SameOrigin(context.Request, origin)))
        {
            return Refused(StatusCodes.Status403Forbidden, "This form came from another site.", "The console accepts forms only from its own pages. Open the page again and submit it from there.");
        }

        if (!context.Request.HasFormContentType || context.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            return Refused(StatusCodes.Status415UnsupportedMediaType, "This request is not a console form.", "Console pages post urlencoded forms only.");
        }

        var cap = user is null ? ConsoleForms.MaxSignedOutBodyBytes : ConsoleForms.MaxBodyBytes;
        if (context.Request.ContentLength > cap)
        {
            return Refused(StatusCodes.Status413PayloadTooLarge, "The form is too large.", $"A console form is at most {cap / 1024} KiB.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = cap;
        }

        try
        {
            await context.Request.ReadFormAsync(ConsoleForms.Limits(cap), cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException or IOException)
        {
            return Refused(StatusCodes.Status400BadRequest, "The form could not be read.", $"A console form is urlencoded and at most {cap / 1024} KiB.");
        }

        if (!signedOutAllowed && user is not null && !await csrf.VerifyAsync(user.SessionIdHash, ConsoleForms.Field(context, ConsoleCsrf.FieldName), cancellationToken))
        {
            return Refused(StatusCodes.Status403Forbidden, "The form's security token is missing or out of date.", "Nothing was changed. Reload the page and submit the form again.");
        }

        return null;
    }

    private static bool SameOrigin(HttpRequest request, string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}", request.Host.Value, StringComparison.OrdinalIgnoreCase);

    private static ConsolePage Refused(int status, string headline, string detail) =>
        new(headline, ConsoleErrors.Banner(headline, detail)) { Status = status };

    [LoggerMessage(EventId = WharfEventId.ConsolePageFault, Level = LogLevel.Error, Message = "Console {Method} {Path} failed")]
    private static partial void LogPageFault(ILogger logger, string method, string path, Exception exception);
}
