using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Wharf.Core.Identity;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Server.Tests.Identity;
using Wharf.Server.Tests.Infrastructure;
using Wharf.Server.WebConsole;
using Wharf.Testing;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// Signing in to the console over HTTP: the session cookie and what is stored of it, one answer for every
/// wrong detail, throttling, login CSRF, the open-redirect guard, timeouts, sessions ending with what they
/// rest on, sign-out, a required password change, and the root's password from <c>wharf admin</c>.
/// </summary>
public sealed class SignInTests
{
    internal const string Account = "123456789012";
    internal const string Password = "Correct-Horse-42";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    internal static Dictionary<string, string?> Iam(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?> { ["Auth"] = "Iam" };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }

    /// <summary>An IAM user with a console password, made with the operator's writes.</summary>
    internal static async Task<string> UserWithPasswordAsync(WharfTestServer server, string name, string password = Password, bool resetRequired = false)
    {
        var identities = server.GetService<IdentityService>();
        var user = await identities.CreateUserAsync(AccountId.Parse(Account), name, Ct) ?? throw new InvalidOperationException("user exists");
        Assert.True(await identities.SetPasswordAsync(user.Arn, password, resetRequired, Ct));
        return user.Arn;
    }

    [Fact]
    public async Task A_password_sign_in_sets_an_HttpOnly_SameSite_cookie_of_which_only_the_hash_is_stored()
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        var arn = await UserWithPasswordAsync(server, "alice");
        using var http = new ConsoleHttp(server);
        Assert.False(await http.SignedInAsync());

        using var signedIn = await http.SignInAsync(Account, "alice", Password);
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        Assert.Equal("/console/", signedIn.Headers.Location?.OriginalString);
        var setCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("wharf-console=", StringComparison.Ordinal));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/console", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase); // plain HTTP here; see the TLS unit test below

        var value = http.SessionCookie!;
        Assert.Equal(43, value.Length);
        Assert.Equal(32, Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/') + "=").Length);
        var store = server.GetService<IMetadataStore>();
        Assert.Null(await store.Logins.GetSessionAsync(value, Ct));
        var session = await store.Logins.GetSessionAsync(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value))), Ct);
        Assert.Equal((arn, ConsoleSignInMethod.Password, (string?)null), (session!.PrincipalArn, session.Method, session.AccessKeyId));

        Assert.True(await http.SignedInAsync());
        using var page = await http.GetAsync("/console/password");
        var body = await page.Content.ReadAsStringAsync(Ct);
        Assert.Contains("alice", body, StringComparison.Ordinal);
        Assert.Contains("Sign out", body, StringComparison.Ordinal);

        // Signed in, the sign-in page sends the user on.
        using var again = await http.GetAsync("/console/sign-in");
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal("/console/", again.Headers.Location?.OriginalString);
    }

    [Fact]
    public void Cookies_are_Secure_over_TLS_HttpOnly_and_SameSite_Lax()
    {
        var tls = new DefaultHttpContext();
        tls.Request.IsHttps = true;
        var secure = ConsoleCookies.Options(tls, expires: null);
        Assert.True(secure.Secure);
        Assert.True(secure.HttpOnly);
        Assert.Equal(SameSiteMode.Lax, secure.SameSite);
        Assert.Equal("/console", secure.Path);
        Assert.False(ConsoleCookies.Options(new DefaultHttpContext(), expires: null).Secure);
    }

    [Fact]
    public async Task Every_wrong_account_user_or_password_gets_the_same_answer_and_no_session()
    {
        await using var server = await WharfTestServer.StartAsync(Iam(("Console:SignInFailures", "50")));
        await UserWithPasswordAsync(server, "alice");
        await server.GetService<IdentityService>().CreateUserAsync(AccountId.Parse(Account), "nopassword", Ct);
        using var http = new ConsoleHttp(server);
        string? first = null;
        foreach (var (account, user, password) in new[] { (Account, "alice", "Wrong-Horse-42"), (Account, "bob", Password), ("999999999999", "alice", Password), ("not-an-id", "alice", Password), (Account, "nopassword", Password), (Account, "root", Password), (Account, "a<b>", Password) })
        {
            using var response = await http.SignInAsync(account, user, password);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("The account ID, user name or password is not correct.", body, StringComparison.Ordinal);
            Assert.DoesNotContain(password, body, StringComparison.Ordinal);
            var message = body[body.IndexOf("role=\"alert\"", StringComparison.Ordinal)..];
            message = message[..message.IndexOf("</div>", StringComparison.Ordinal)];
            Assert.Equal(first ??= message, message);
            Assert.Null(http.SessionCookie);
        }
    }

    [Fact]
    public async Task Failed_sign_ins_are_throttled_per_name_and_per_address_until_the_window_ends()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(Iam(("Console:SignInFailures", "2"), ("Console:SignInWindow", "00:10:00")), services: s => s.AddSingleton<TimeProvider>(time));
        await UserWithPasswordAsync(server, "alice");
        await UserWithPasswordAsync(server, "bob");
        using var http = new ConsoleHttp(server);
        for (var i = 0; i < 2; i++)
        {
            using var wrong = await http.SignInAsync(Account, "alice", "Wrong-Horse-42");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        // Now even the right password is not checked, for alice nor for anyone from this address.
        using var throttled = await http.SignInAsync(Account, "alice", Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        var body = await throttled.Content.ReadAsStringAsync(Ct);
        Assert.Contains("Too many failed sign-ins.", body, StringComparison.Ordinal);
        Assert.Contains("try again in 10 minutes", body, StringComparison.Ordinal);
        Assert.Null(http.SessionCookie);
        using var other = await http.SignInAsync(Account, "bob", Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, other.StatusCode);

        time.Advance(TimeSpan.FromMinutes(9));
        using var later = await http.SignInAsync(Account, "alice", Password);
        Assert.Contains("try again in 1 minute.", await later.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        time.Advance(TimeSpan.FromMinutes(1));
        using var after = await http.SignInAsync(Account, "alice", Password);
        Assert.Equal(HttpStatusCode.SeeOther, after.StatusCode);
        Assert.True(await http.SignedInAsync());
    }

    [Fact]
    public async Task The_sign_in_form_needs_its_pre_session_cookie_and_token()
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        await UserWithPasswordAsync(server, "alice");
        using var http = new ConsoleHttp(server);
        var fields = new (string, string)[] { ("do", "password"), ("account", Account), ("user", "alice"), ("password", Password) };

        using var noToken = await http.PostAsync("/console/sign-in", fields);
        Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
        Assert.Contains("security token is missing or out of date", await noToken.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // A token from another browser (its cookie) is worthless here.
        using var elsewhere = new ConsoleHttp(server);
        var foreign = await elsewhere.TokenAsync("/console/sign-in");
        using var stranger = new ConsoleHttp(server);
        using var forged = await stranger.PostAsync("/console/sign-in", [("_csrf", foreign), .. fields]);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Null(stranger.SessionCookie);
    }

    [Theory]
    [InlineData("//evil.example", "/console/")]
    [InlineData("https://evil.example/console/", "/console/")]
    [InlineData("/\\evil.example", "/console/")]
    [InlineData("/console/\\evil.example", "/console/")]
    [InlineData("/console//evil.example", "/console/")]
    [InlineData("/console/%2F%2Fevil.example", "/console/")]
    [InlineData("/console/../evil", "/console/")]
    [InlineData("/elsewhere", "/console/")]
    [InlineData("/console/registries?q=a", "/console/registries?q=a")]
    public async Task After_sign_in_only_a_console_path_of_this_site_is_followed(string next, string expected)
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        await UserWithPasswordAsync(server, "alice");
        using var http = new ConsoleHttp(server);
        using var response = await http.SignInAsync(Account, "alice", Password, next);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location?.OriginalString);

        // The form carries only a safe next too.
        using var page = await new ConsoleHttp(server).GetAsync("/console/sign-in?next=" + Uri.EscapeDataString(next));
        var body = await page.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("evil.example", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_ends_after_the_idle_timeout_and_after_the_absolute_timeout_however_active()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(Iam(("Console:IdleTimeout", "00:10:00"), ("Console:AbsoluteTimeout", "00:30:00")), services: s => s.AddSingleton<TimeProvider>(time));
        await UserWithPasswordAsync(server, "alice");

        using var idle = new ConsoleHttp(server);
        (await idle.SignInAsync(Account, "alice", Password)).Dispose();
        var store = server.GetService<IMetadataStore>();
        var idHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(idle.SessionCookie!)));
        var signedInAt = (await store.Logins.GetSessionAsync(idHash, Ct))!.LastSeenAt;

        // Last seen is written at most once a minute.
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.True(await idle.SignedInAsync());
        Assert.Equal(signedInAt, (await store.Logins.GetSessionAsync(idHash, Ct))!.LastSeenAt);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await idle.SignedInAsync());
        Assert.True((await store.Logins.GetSessionAsync(idHash, Ct))!.LastSeenAt > signedInAt);

        time.Advance(TimeSpan.FromMinutes(9));
        Assert.True(await idle.SignedInAsync());
        time.Advance(TimeSpan.FromMinutes(9)); // 9 minutes since the last page: still in
        Assert.True(await idle.SignedInAsync());
        time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        Assert.False(await idle.SignedInAsync());

        using var busy = new ConsoleHttp(server);
        using (var signedIn = await busy.SignInAsync(Account, "alice", Password))
        {
            Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        }

        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromMinutes(6));
            Assert.True(await busy.SignedInAsync(), $"signed out after {(i + 1) * 6} minutes");
        }

        time.Advance(TimeSpan.FromMinutes(6) - TimeSpan.FromSeconds(1));
        Assert.True(await busy.SignedInAsync());
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await busy.SignedInAsync());

        Assert.Null(await store.Logins.GetSessionAsync(idHash, Ct));
    }

    [Fact]
    public async Task The_pruning_job_deletes_sessions_past_either_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await WharfTestServer.StartAsync(Iam(("Console:IdleTimeout", "00:10:00"), ("Console:AbsoluteTimeout", "00:30:00")), services: s => s.AddSingleton<TimeProvider>(time));
        var arn = await UserWithPasswordAsync(server, "alice");
        var store = server.GetService<IMetadataStore>();
        var now = time.GetUtcNow();
        await store.Logins.CreateSessionAsync(new ConsoleSessionRecord("idle", arn, ConsoleSignInMethod.Password, null, now - TimeSpan.FromMinutes(15), now - TimeSpan.FromMinutes(11)), Ct);
        await store.Logins.CreateSessionAsync(new ConsoleSessionRecord("old", arn, ConsoleSignInMethod.Password, null, now - TimeSpan.FromMinutes(31), now), Ct);
        await store.Logins.CreateSessionAsync(new ConsoleSessionRecord("live", arn, ConsoleSignInMethod.Password, null, now - TimeSpan.FromMinutes(29), now - TimeSpan.FromMinutes(9)), Ct);

        var job = server.GetService<IEnumerable<Wharf.Server.Jobs.IBackgroundJob>>().OfType<Wharf.Server.WebConsole.SignIn.ConsoleSessionPruneJob>().Single();
        Assert.Equal(TimeSpan.FromSeconds(150), job.Interval);
        Assert.Equal("2 expired console sessions deleted", await job.RunAsync(Ct));
        Assert.Null(await store.Logins.GetSessionAsync("idle", Ct));
        Assert.Null(await store.Logins.GetSessionAsync("old", Ct));
        Assert.NotNull(await store.Logins.GetSessionAsync("live", Ct));
    }

    [Fact]
    public async Task A_session_ends_with_its_login_profile_its_user_or_its_access_key()
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        var identities = server.GetService<IdentityService>();
        var store = server.GetService<IMetadataStore>();
        var root = Wharf.Core.Security.Caller.Root(AccountId.Parse(Account));
        var aliceArn = await UserWithPasswordAsync(server, "alice");
        var bobArn = await UserWithPasswordAsync(server, "bob");

        using var alice = new ConsoleHttp(server);
        (await alice.SignInAsync(Account, "alice", Password)).Dispose();
        using var aliceByKey = new ConsoleHttp(server);
        var aliceKey = await identities.CreateAccessKeyAsync(root, "alice", Ct);
        using (var byKey = await aliceByKey.SignInWithKeyAsync(aliceKey.Record.Id, aliceKey.Secret))
        {
            Assert.Equal(HttpStatusCode.SeeOther, byKey.StatusCode);
        }

        Assert.True(await alice.SignedInAsync());
        Assert.True(await aliceByKey.SignedInAsync());

        // Deleting the login profile ends the password session; the key's goes on until the key stops.
        await identities.DeleteLoginProfileAsync(root, "alice", Ct);
        Assert.False(await alice.SignedInAsync());
        Assert.True(await aliceByKey.SignedInAsync());
        await identities.UpdateAccessKeyAsync(root, "alice", aliceKey.Record.Id, active: false, Ct);
        Assert.False(await aliceByKey.SignedInAsync());
        using (var inactive = await new ConsoleHttp(server).SignInWithKeyAsync(aliceKey.Record.Id, aliceKey.Secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, inactive.StatusCode);
        }

        // A deleted key, and a wrong secret.
        var second = await identities.CreateAccessKeyAsync(root, "alice", Ct);
        using var withSecond = new ConsoleHttp(server);
        (await withSecond.SignInWithKeyAsync(second.Record.Id, second.Secret)).Dispose();
        Assert.True(await withSecond.SignedInAsync());
        await identities.DeleteAccessKeyAsync(root, "alice", second.Record.Id, Ct);
        Assert.False(await withSecond.SignedInAsync());
        using (var wrong = await new ConsoleHttp(server).SignInWithKeyAsync(aliceKey.Record.Id, aliceKey.Secret[..^1] + "x"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("The access key ID or secret access key is not correct, or the key is not active.", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        // A principal deleted (its rows cascade) signs nobody in any more.
        using var bob = new ConsoleHttp(server);
        (await bob.SignInAsync(Account, "bob", Password)).Dispose();
        Assert.True(await bob.SignedInAsync());
        Assert.True(await store.Identities.DeletePrincipalAsync(bobArn, Ct));
        Assert.False(await bob.SignedInAsync());

        // An administrator's new password ends the user's sessions.
        await identities.SetPasswordAsync(aliceArn, Password, resetRequired: false, Ct);
        using var again = new ConsoleHttp(server);
        (await again.SignInAsync(Account, "alice", Password)).Dispose();
        Assert.True(await again.SignedInAsync());
        await identities.UpdateLoginProfileAsync(root, "alice", "Newer-Horse-42", null, Ct);
        Assert.False(await again.SignedInAsync());
    }

    [Fact]
    public async Task Sign_out_needs_the_form_token_ends_the_session_and_the_old_cookie_no_longer_works()
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        await UserWithPasswordAsync(server, "alice");
        using var http = new ConsoleHttp(server);
        (await http.SignInAsync(Account, "alice", Password)).Dispose();
        var cookie = http.SessionCookie!;

        using var forged = await http.PostAsync("/console/sign-out", ("_csrf", "forged"));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using var missing = await http.PostAsync("/console/sign-out");
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.True(await http.SignedInAsync());

        var token = await http.TokenAsync("/console/password");
        using var signedOut = await http.PostAsync("/console/sign-out", ("_csrf", token));
        Assert.Equal(HttpStatusCode.SeeOther, signedOut.StatusCode);
        Assert.Equal("/console/sign-in", signedOut.Headers.Location?.OriginalString);
        Assert.Null(http.SessionCookie);
        using var page = await http.GetAsync("/console/sign-in");
        Assert.Contains("You have signed out.", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // Replaying the old cookie: the session is gone.
        using var replay = new ConsoleHttp(server);
        replay.Cookies.Add(new Uri(server.BaseAddress, "/console/"), new Cookie("wharf-console", cookie, "/console"));
        Assert.False(await replay.SignedInAsync());
    }

    [Fact]
    public async Task A_required_password_change_comes_before_every_page_and_then_the_user_goes_on()
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        await UserWithPasswordAsync(server, "alice", resetRequired: true);
        var policy = $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"arn:aws:iam::{{Account}}:user/${aws:username}"}]}""";
        await server.GetService<IdentityService>().PutInlinePolicyAsync($"arn:aws:iam::{Account}:user/alice", "change", policy, Ct);
        using var http = new ConsoleHttp(server);
        (await http.SignInAsync(Account, "alice", Password, "/console/registries")).Dispose();

        using var sent = await http.GetAsync("/console/registries");
        Assert.Equal(HttpStatusCode.SeeOther, sent.StatusCode);
        Assert.Equal("/console/password?next=%2Fconsole%2Fregistries", sent.Headers.Location?.OriginalString);
        using var page = await http.GetAsync("/console/password?next=%2Fconsole%2Fregistries");
        Assert.Contains("Your password must be changed before you continue.", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        var token = await http.TokenAsync("/console/password");
        using var mismatch = await http.PostAsync("/console/password", ("_csrf", token), ("do", "change"), ("current", Password), ("new", "Better-Horse-43"), ("confirm", "Better-Horse-44"));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        using var weak = await http.PostAsync("/console/password", ("_csrf", token), ("do", "change"), ("current", Password), ("new", "weakweak"), ("confirm", "weakweak"));
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Contains("The password does not meet the password policy.", await weak.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        using var wrong = await http.PostAsync("/console/password", ("_csrf", token), ("do", "change"), ("current", "Wrong-Horse-42"), ("new", "Better-Horse-43"), ("confirm", "Better-Horse-43"));
        Assert.Contains("The old password is not correct.", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        var before = http.SessionCookie;
        using var changed = await http.PostAsync("/console/password", ("_csrf", token), ("do", "change"), ("current", Password), ("new", "Better-Horse-43"), ("confirm", "Better-Horse-43"), ("next", "/console/registries"));
        Assert.Equal(HttpStatusCode.SeeOther, changed.StatusCode);
        Assert.Equal("/console/registries", changed.Headers.Location?.OriginalString);
        Assert.NotEqual(before, http.SessionCookie);
        using var password = await http.GetAsync("/console/password");
        Assert.Equal(HttpStatusCode.OK, password.StatusCode);
        Assert.DoesNotContain("must be changed", await password.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        using var fresh = new ConsoleHttp(server);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.SignInAsync(Account, "alice", Password)).StatusCode);
        Assert.Equal(HttpStatusCode.SeeOther, (await fresh.SignInAsync(Account, "alice", "Better-Horse-43")).StatusCode);
    }

    [Fact]
    public async Task The_root_signs_in_with_the_password_wharf_admin_set()
    {
        await using var server = await WharfTestServer.StartAsync(Iam());
        (await LoginProfileTests.SetPasswordAsync(server, "Root-Horse-42\n")).EnsureSuccess();
        using var http = new ConsoleHttp(server);
        using var response = await http.SignInAsync(Account, "root", "Root-Horse-42");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        using var page = await http.GetAsync("/console/password");
        Assert.Contains($"arn:aws:iam::{Account}:root", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_ins_and_failures_are_logged_and_no_password_secret_or_cookie_ever_is()
    {
        var logs = new CapturedLogs();
        await using var server = await WharfTestServer.StartAsync(
            Iam(("Logging:LogLevel:Default", "Debug")), services: s => s.AddSingleton<ILoggerProvider>(logs));
        var arn = await UserWithPasswordAsync(server, "alice");
        var key = await server.GetService<IdentityService>().CreateAccessKeyAsync(Wharf.Core.Security.Caller.Root(AccountId.Parse(Account)), "alice", Ct);
        using var http = new ConsoleHttp(server);
        (await http.SignInAsync(Account, "alice", "Wrong-Horse-42")).Dispose();
        (await http.SignInWithKeyAsync(key.Record.Id, "wrong" + key.Secret[5..])).Dispose();
        (await http.SignInAsync(Account, "alice", Password)).Dispose();
        var cookie = http.SessionCookie!;
        using var byKey = new ConsoleHttp(server);
        (await byKey.SignInWithKeyAsync(key.Record.Id, key.Secret)).Dispose();
        Assert.True(await http.SignedInAsync());

        var signIns = logs.Entries.Where(e => e.EventId == 1801).Select(e => e.Message).ToList();
        Assert.Equal(2, signIns.Count);
        Assert.All(signIns, m => Assert.StartsWith($"Console sign-in: {arn} with ", m, StringComparison.Ordinal));
        var failures = logs.Entries.Where(e => e.EventId == 1802 && e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Contains(failures, m => m.Contains($"{Account}/alice with password", StringComparison.Ordinal) && m.EndsWith("(wrong password)", StringComparison.Ordinal));
        Assert.Contains(failures, m => m.Contains(key.Record.Id, StringComparison.Ordinal) && m.EndsWith("(wrong secret)", StringComparison.Ordinal));

        var everything = string.Join('\n', logs.Entries.Select(e => e.Message));
        foreach (var secret in new[] { Password, "Wrong-Horse-42", key.Secret, key.Secret[5..], cookie })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task In_open_mode_the_sign_in_page_sends_the_browser_to_the_console()
    {
        await using var server = await WharfTestServer.StartAsync();
        using var http = new ConsoleHttp(server);
        using var response = await http.GetAsync("/console/sign-in");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/console/", response.Headers.Location?.OriginalString);
    }
}
