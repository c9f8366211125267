using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Wharf.Server.Tests.Replication;

/// <summary>
/// A token service as the Docker token spec has it (what Harbor and Docker Hub run beside their registries):
/// <c>GET /token?service=…&amp;scope=…</c> with the user's basic credentials answers a JWT signed (RS256) by a
/// self-signed certificate that the registry trusts, granting the scope's actions. Records each request.
/// </summary>
internal sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "wharf-test-registry";
    public const string Issuer = "wharf-test-issuer";

    private readonly WebApplication app;
    private readonly RSA key;
    private readonly X509Certificate2 certificate;

    private TokenServer(WebApplication app, RSA key, X509Certificate2 certificate, string user, string password)
    {
        this.app = app;
        this.key = key;
        this.certificate = certificate;
        User = user;
        Password = password;
    }

    public string User { get; }

    public string Password { get; }

    /// <summary>Each request's scope, and whether it carried the right credentials.</summary>
    public List<(string? Scope, bool Authenticated)> Requests { get; } = [];

    public Uri Realm { get; private set; } = null!;

    public string CertificatePem => certificate.ExportCertificatePem();

    public static async Task<TokenServer> StartAsync(string user, string password)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=wharf-test-token-issuer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TokenServer(app, key, certificate, user, password);
        app.MapGet("/token", server.IssueAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Realm = new Uri(address + "/token");
        return server;
    }

    /// <summary>A token for <paramref name="scope"/>, asked for as a client does (the user's basic credentials).</summary>
    public async Task<string> TokenAsync(string scope, CancellationToken cancellationToken)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Realm}?service={Service}&scope={Uri.EscapeDataString(scope)}");
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        using var response = await client.SendAsync(request, cancellationToken);
        using var json = JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.GetProperty("token").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        certificate.Dispose();
        key.Dispose();
    }

    private async Task IssueAsync(HttpContext context)
    {
        var scope = context.Request.Query["scope"].ToString();
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
        var authenticated = context.Request.Headers.Authorization.ToString() == expected;
        lock (Requests)
        {
            Requests.Add((scope.Length == 0 ? null : scope, authenticated));
        }

        if (!authenticated || context.Request.Query["service"] != Service)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        // Grants what the scope asks (repository:<name>:<actions>).
        var access = scope.Split(':') is ["repository", var name, var actions]
            ? new object[] { new { type = "repository", name, actions = actions.Split(',') } }
            : [];
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new { typ = "JWT", alg = "RS256", x5c = new[] { Convert.ToBase64String(certificate.RawData) } };
        var claims = new { iss = Issuer, sub = User, aud = Service, exp = now + 300, nbf = now - 10, iat = now, jti = Guid.NewGuid().ToString("N"), access };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { token = signingInput + "." + Base64Url(signature), expires_in = 300 }));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
