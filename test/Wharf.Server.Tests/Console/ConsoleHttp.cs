using System.Net;
using System.Text.RegularExpressions;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.Console;

/// <summary>
/// The console over plain HTTP with a cookie jar, for what a browser test would only make slow: signing in
/// with the page's own form token, posting forms with the page's token, reading and replaying cookies.
/// </summary>
internal sealed partial class ConsoleHttp : IDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    // handler: a handler of the test's own (one that trusts a test CA, say); its redirects and cookies are set here.
    public ConsoleHttp(WharfTestServer server, SocketsHttpHandler? handler = null)
    {
        Cookies = new CookieContainer();
        handler ??= new SocketsHttpHandler();
        handler.AllowAutoRedirect = false;
        handler.CookieContainer = Cookies;
        handler.UseCookies = true;
        Client = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        BaseAddress = server.BaseAddress;
    }

    public CookieContainer Cookies { get; }

    public HttpClient Client { get; }

    public Uri BaseAddress { get; }

    /// <summary>The session cookie's value, or null.</summary>
    public string? SessionCookie => Cookies.GetCookies(new Uri(BaseAddress, "/console/")).FirstOrDefault(c => c.Name == "wharf-console")?.Value;

    /// <summary>The <c>_csrf</c> token of the first form on <paramref name="path"/>.</summary>
    public async Task<string> TokenAsync(string path)
    {
        using var response = await Client.GetAsync(path, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        return CsrfField().Match(body) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException($"no form token on {path} ({(int)response.StatusCode})");
    }

    public async Task<HttpResponseMessage> SignInAsync(string account, string user, string password, string? next = null)
    {
        var token = await TokenAsync("/console/sign-in");
        List<KeyValuePair<string, string>> fields = [new("_csrf", token), new("do", "password"), new("account", account), new("user", user), new("password", password)];
        if (next is not null)
        {
            fields.Add(new("next", next));
        }

        return await Client.PostAsync("/console/sign-in", new FormUrlEncodedContent(fields), Ct);
    }

    public async Task<HttpResponseMessage> SignInWithKeyAsync(string keyId, string secret)
    {
        var token = await TokenAsync("/console/sign-in");
        return await Client.PostAsync("/console/sign-in", new FormUrlEncodedContent([new("_csrf", token), new("do", "access-key"), new("access_key_id", keyId), new("secret_access_key", secret)]), Ct);
    }

    public Task<HttpResponseMessage> PostAsync(string path, params (string Name, string Value)[] fields) =>
        Client.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))), Ct);

    public Task<HttpResponseMessage> GetAsync(string path) => Client.GetAsync(path, Ct);

    /// <summary>True when <paramref name="path"/> shows a page to a signed-in user, false when it sends the browser to sign in.</summary>
    public async Task<bool> SignedInAsync(string path = "/console/password")
    {
        using var response = await Client.GetAsync(path, Ct);
        return response.StatusCode == HttpStatusCode.OK
            || (response.StatusCode == HttpStatusCode.SeeOther && response.Headers.Location?.OriginalString.StartsWith("/console/sign-in", StringComparison.Ordinal) == true
                ? false
                : throw new InvalidOperationException($"{path} answered {(int)response.StatusCode} {response.Headers.Location}"));
    }

    public void Dispose() => Client.Dispose();

    [GeneratedRegex("name=\"_csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();
}
