namespace Wharf.Server.WebConsole;

/// <summary>What <see cref="ConsoleRequestFilter"/> leaves on the request for handlers.</summary>
internal static class ConsoleRequest
{
    private static readonly object UserKey = new();

    /// <summary>The signed-in user (the filter has made sure there is one, except on <see cref="SignedOutAllowed"/> endpoints).</summary>
    public static ConsoleUser User(HttpContext context) =>
        context.Items[UserKey] as ConsoleUser ?? throw new InvalidOperationException("no console user on this request");

    /// <summary>The user, or null on a signed-out endpoint.</summary>
    public static ConsoleUser? UserOrNull(HttpContext context) => context.Items[UserKey] as ConsoleUser;

    public static void SetUser(HttpContext context, ConsoleUser user) => context.Items[UserKey] = user;
}

/// <summary>Endpoint metadata: this console endpoint serves people who are not signed in (sign-in, assets).</summary>
internal sealed class SignedOutAllowed
{
    public static readonly SignedOutAllowed Instance = new();
}

/// <summary>Endpoint metadata: a signed-in user whose password must be changed may still use this endpoint (the password page, sign-out).</summary>
internal sealed class PasswordChangeAllowed
{
    public static readonly PasswordChangeAllowed Instance = new();
}
