using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;
using Wharf.Server.Hosting;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// <c>/console/sign-in</c> and <c>/console/sign-out</c>. One answer for every wrong account, user or
/// password (and the same hashing work for an unknown user), so the page tells nobody which exist; failed
/// attempts are throttled per name and per source address before any password is checked; the form is
/// protected by a pre-session cookie and a token bound to it (login CSRF: another site cannot sign a
/// browser in as someone else). Sign-ins and failures are logged, never with the password or secret.
/// </summary>
internal sealed partial class SignInHandler(
    IMetadataStore store,
    IConsoleSessions sessions,
    ConsoleCsrf csrf,
    ConsoleLayout layout,
    SignInThrottle throttle,
    IServiceProvider services,
    ILogger<SignInHandler> logger)
{
    /// <summary>The pre-session cookie the sign-in form's token is bound to.</summary>
    public const string LoginCookieName = "wharf-console-login";

    private const string PasswordAction = "password";
    private const string AccessKeyAction = "access-key";

    // Verified against when the user has no login profile, so an unknown user costs the same hashing.
    // Each password check costs a PBKDF2 of Passwords.Iterations (a few hundred milliseconds of one core), on a
    // form anyone may post: at most half the cores hash at once, so sign-ins from many addresses (each within
    // the throttle) queue rather than starve the registry's own requests.
    private static readonly SemaphoreSlim Hashing = new(Math.Max(1, Environment.ProcessorCount / 2));

    private static readonly Lazy<string> DecoyHash = new(() => Passwords.Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));

    public async Task GetAsync(HttpContext context)
    {
        var next = SignInPages.SafeNext(context.Request.Query["next"]);
        if (ConsoleRequest.UserOrNull(context) is not null)
        {
            await ConsoleLayout.RedirectAsync(context, next ?? ConsoleRoutes.Home);
            return;
        }

        await WriteFormAsync(context, next, StatusCodes.Status200OK, error: null, account: null, userName: null, accessKeyId: null);
    }

    public async Task PostAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var next = SignInPages.SafeNext(ConsoleForms.Field(context, "next"));
        if (ConsoleRequest.UserOrNull(context) is not null)
        {
            await ConsoleLayout.RedirectAsync(context, next ?? ConsoleRoutes.Home);
            return;
        }

        var action = ConsoleForms.Field(context, ConsoleForms.ActionField);
        // As AWS prints it (1234-5678-9012) or as typed with spaces: the digits are the id.
        var account = ConsoleForms.Field(context, "account")?.Replace("-", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        var userName = ConsoleForms.Field(context, "user")?.Trim();
        var accessKeyId = ConsoleForms.Field(context, "access_key_id")?.Trim();
        if (!await LoginTokenValidAsync(context, ConsoleForms.Field(context, ConsoleCsrf.FieldName), ct))
        {
            await WriteFormAsync(
                context, next, StatusCodes.Status403Forbidden,
                ConsoleErrors.Banner("The form's security token is missing or out of date.", "Nobody was signed in. Sign in again from this page."),
                account, userName, accessKeyId);
            return;
        }

        var source = context.Connection.RemoteIpAddress?.ToString();

        // Counted by IPv6 /64, as the public limits count: one host holds a whole /64 to rotate through.
        var sourceKey = Public.Limits.SourceAddress.Of(context);
        var byKey = action == AccessKeyAction;
        var name = byKey ? "key:" + (accessKeyId ?? string.Empty).ToUpperInvariant() : $"{account}/{userName?.ToLowerInvariant()}";
        name = name.Length > 200 ? name[..200] : name;
        if (throttle.RetryAfter(name, sourceKey) is { } wait)
        {
            var minutes = Math.Max(1, (int)Math.Ceiling(wait.TotalMinutes));
            LogSignInFailed(logger, name, byKey ? AccessKeyAction : PasswordAction, source, "throttled");
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteFormAsync(
                context, next, StatusCodes.Status429TooManyRequests,
                ConsoleErrors.Banner("Too many failed sign-ins.", $"For your security, sign-in is paused for this name or address: try again in {minutes} {(minutes == 1 ? "minute" : "minutes")}."),
                account, userName, accessKeyId);
            return;
        }

        var (principal, keyId, reason) = byKey
            ? await CheckAccessKeyAsync(accessKeyId, ConsoleForms.Field(context, "secret_access_key"), ct)
            : await CheckPasswordAsync(account, userName, ConsoleForms.Field(context, "password"), ct);
        if (principal is null || sessions is not CookieConsoleSessions cookies)
        {
            throttle.Failed(name, sourceKey);
            LogSignInFailed(logger, name, byKey ? AccessKeyAction : PasswordAction, source, reason ?? "not IAM mode");
            var error = byKey
                ? ConsoleErrors.Banner("The access key could not sign you in.", "The access key ID or secret access key is not correct, or the key is not active.")
                : ConsoleErrors.Banner("The sign-in details are not correct.", "The account ID, user name or password is not correct. Check them and try again.");
            await WriteFormAsync(context, next, StatusCodes.Status401Unauthorized, error, account, userName, accessKeyId);
            return;
        }

        throttle.Succeeded(name);
        await cookies.StartAsync(context, principal, byKey ? ConsoleSignInMethod.AccessKey : ConsoleSignInMethod.Password, keyId, ct);
        context.Response.Cookies.Delete(LoginCookieName, ConsoleCookies.Options(context, expires: null));
        LogSignIn(logger, principal.Arn, byKey ? AccessKeyAction : PasswordAction, source);
        await ConsoleLayout.RedirectAsync(context, next ?? ConsoleRoutes.Home);
    }

    public async Task SignOutAsync(HttpContext context)
    {
        var user = ConsoleRequest.User(context);
        if (sessions is CookieConsoleSessions cookies && user.Method != ConsoleSignInMethod.Open)
        {
            await cookies.EndAsync(context, user.SessionIdHash, context.RequestAborted);
            await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.SignIn, "You have signed out.");
            return;
        }

        // --auth open: there is nobody to sign out.
        await ConsoleLayout.RedirectAsync(context, ConsoleRoutes.Home);
    }

    private async Task<(PrincipalRecord? Principal, string? KeyId, string? Reason)> CheckPasswordAsync(string? accountText, string? userName, string? password, CancellationToken ct)
    {
        string? arn = null;
        if (AccountId.TryParse(accountText ?? string.Empty, out var account) && userName is { Length: > 0 } && UserName().IsMatch(userName))
        {
            arn = userName == "root" ? Caller.Root(account).PrincipalArn : $"arn:aws:iam::{account}:user/{userName}";
        }

        var profile = arn is null ? null : await store.Logins.GetLoginProfileAsync(arn, ct);
        bool matches;
        await Hashing.WaitAsync(ct);
        try
        {
            matches = Passwords.Verify(password ?? string.Empty, profile?.PasswordHash ?? DecoyHash.Value);
        }
        finally
        {
            Hashing.Release();
        }

        if (profile is null || !matches)
        {
            return (null, null, profile is null ? "no such login profile" : "wrong password");
        }

        return await store.Identities.GetPrincipalAsync(profile.PrincipalArn, ct) is { } principal ? (principal, null, null) : (null, null, "no such principal");
    }

    private async Task<(PrincipalRecord? Principal, string? KeyId, string? Reason)> CheckAccessKeyAsync(string? accessKeyId, string? secret, CancellationToken ct)
    {
        if (accessKeyId is not { Length: >= 16 and <= 128 } || secret is not { Length: > 0 and <= 256 })
        {
            return (null, null, "malformed key");
        }

        var key = await store.Identities.GetAccessKeyAsync(accessKeyId, ct);
        if (key is null)
        {
            return (null, null, "no such key");
        }

        string stored;
        try
        {
            stored = AccessKeys.Unseal(key, services.GetRequiredService<SecretBox>());
        }
        catch (CryptographicException)
        {
            return (null, null, "key sealed under another master key");
        }

        // Equal-length digests, compared in constant time: the comparison says nothing of the secret.
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(stored)), SHA256.HashData(Encoding.UTF8.GetBytes(secret))))
        {
            return (null, null, "wrong secret");
        }

        if (!key.Active)
        {
            return (null, null, "inactive key");
        }

        return await store.Identities.GetPrincipalAsync(key.PrincipalArn, ct) is { } principal ? (principal, key.Id, null) : (null, null, "no such principal");
    }

    private async Task WriteFormAsync(HttpContext context, string? next, int status, Html? error, string? account, string? userName, string? accessKeyId)
    {
        var token = await LoginTokenAsync(context, context.RequestAborted);
        var action = ConsoleRoutes.SignIn;
        var html = new Html();
        html.Raw("<div class=\"signin\"><h1>Sign in to Wharf</h1>");
        if (error is not null)
        {
            html.Append(error);
        }

        html.Raw("<section class=\"signin-method\" aria-labelledby=\"signin-password\"><h2 id=\"signin-password\">With a password</h2>");
        html.Add($"<form method=\"post\" action=\"{action}\" class=\"stack\"><input type=\"hidden\" name=\"{ConsoleCsrf.FieldName}\" value=\"{token}\"><input type=\"hidden\" name=\"{ConsoleForms.ActionField}\" value=\"{PasswordAction}\">");
        Next(html, next);
        html.Add($"<div><label for=\"signin-account\">Account ID</label><input id=\"signin-account\" type=\"text\" name=\"account\" inputmode=\"numeric\" autocomplete=\"organization\" maxlength=\"16\" required value=\"{account}\"></div>");
        html.Add($"<div><label for=\"signin-user\">User name</label><p class=\"hint\" id=\"signin-user-hint\">Your IAM user name, or <code>root</code> for the account's root user.</p>");
        html.Add($"<input id=\"signin-user\" type=\"text\" name=\"user\" autocomplete=\"username\" maxlength=\"64\" required aria-describedby=\"signin-user-hint\" value=\"{userName}\"></div>");
        html.Raw("<div><label for=\"signin-secret\">Password</label><input id=\"signin-secret\" name=\"password\" type=\"password\" autocomplete=\"current-password\" maxlength=\"128\" required></div>");
        html.Raw("<button type=\"submit\">Sign in</button></form></section>");

        html.Raw("<section class=\"signin-method\" aria-labelledby=\"signin-key\"><h2 id=\"signin-key\">With an access key</h2>");
        html.Raw("<p class=\"hint\">The key pair the AWS CLI uses. The session ends when the key is deactivated or deleted.</p>");
        html.Add($"<form method=\"post\" action=\"{action}\" class=\"stack\"><input type=\"hidden\" name=\"{ConsoleCsrf.FieldName}\" value=\"{token}\"><input type=\"hidden\" name=\"{ConsoleForms.ActionField}\" value=\"{AccessKeyAction}\">");
        Next(html, next);
        html.Add($"<div><label for=\"signin-key-id\">Access key ID</label><input id=\"signin-key-id\" type=\"text\" name=\"access_key_id\" autocomplete=\"off\" spellcheck=\"false\" maxlength=\"128\" required value=\"{accessKeyId}\"></div>");
        html.Raw("<div><label for=\"signin-key-secret\">Secret access key</label><input id=\"signin-key-secret\" name=\"secret_access_key\" type=\"password\" autocomplete=\"off\" maxlength=\"256\" required></div>");
        html.Raw("<button type=\"submit\" class=\"secondary\">Sign in with access key</button></form></section></div>");
        await layout.WriteAsync(context, null, new ConsolePage("Sign in", html) { Status = status });
    }

    private static void Next(Html html, string? next)
    {
        if (next is not null)
        {
            html.Add($"<input type=\"hidden\" name=\"next\" value=\"{next}\">");
        }
    }

    // The pre-session cookie (made when missing) and the form token bound to it.
    private async Task<string> LoginTokenAsync(HttpContext context, CancellationToken ct)
    {
        var value = context.Request.Cookies[LoginCookieName];
        if (value is not { Length: 43 })
        {
            value = CookieConsoleSessions.NewToken();
            context.Response.Cookies.Append(LoginCookieName, value, ConsoleCookies.Options(context, expires: null));
        }

        return await csrf.TokenAsync(LoginBinding(value), ct);
    }

    private async Task<bool> LoginTokenValidAsync(HttpContext context, string? token, CancellationToken ct) =>
        context.Request.Cookies[LoginCookieName] is { Length: 43 } value && await csrf.VerifyAsync(LoginBinding(value), token, ct);

    // Distinct from any session's id hash, so a login token is never a session's form token.
    private static string LoginBinding(string cookie) => "login:" + CookieConsoleSessions.HashOf(cookie);

    [GeneratedRegex(@"^[\w+=,.@-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex UserName();

    [LoggerMessage(EventId = WharfEventId.ConsoleSignIn, Level = LogLevel.Information, Message = "Console sign-in: {Principal} with {Method} from {Source}")]
    private static partial void LogSignIn(ILogger logger, string principal, string method, string? source);

    [LoggerMessage(EventId = WharfEventId.ConsoleSignInFailed, Level = LogLevel.Warning, Message = "Console sign-in refused: {Name} with {Method} from {Source} ({Reason})")]
    private static partial void LogSignInFailed(ILogger logger, string name, string method, string? source, string reason);
}
