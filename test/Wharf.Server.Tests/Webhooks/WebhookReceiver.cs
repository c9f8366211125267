using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Wharf.Server.Tests.Webhooks;

/// <summary>One request the receiver got, with what it answered.</summary>
public sealed record ReceivedWebhook(string Path, string? Id, string? Timestamp, string? Signature, string? ContentType, byte[] Body, int Status, DateTimeOffset At)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public string EventId => Json.GetProperty("id").GetString()!;

    /// <summary>The detail field as text, or null when the event has none.</summary>
    public string? Detail(string field) => Json.GetProperty("detail").TryGetProperty(field, out var value) ? value.ToString() : null;

    /// <summary>
    /// Verifies the delivery as docs/operations.md tells a receiver to, without Wharf's code: the hex
    /// HMAC-SHA256 of "timestamp.body" with the secret, compared in constant time, the timestamp within 5 minutes.
    /// </summary>
    public bool Verifies(string secret)
    {
        if (Timestamp is null || Signature is null || !long.TryParse(Timestamp, out var seconds)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
        {
            return false;
        }

        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), (byte[])[.. Encoding.ASCII.GetBytes(Timestamp + "."), .. Body]));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Signature));
    }
}

/// <summary>
/// A real HTTP receiver for webhook tests: Kestrel on 127.0.0.1 (port 0, or a port given so it can be started
/// after the subscription points at it), recording every request and answering as <see cref="Answer"/> says
/// (200 by default; a status, a delay, a redirect, an endless body, or no answer at all).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedWebhook> received = new();

    private int arrived;

    private WebhookReceiver(WebApplication app) => this.app = app;

    /// <summary>Requests whose body has arrived, answered or not yet.</summary>
    public int Arrived => Volatile.Read(ref arrived);

    /// <summary>How the next requests are answered: a status code, or a function that writes the response itself.</summary>
    public Func<HttpContext, Task<int>> Answer { get; set; } = _ => Task.FromResult(200);

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every request, in arrival order.</summary>
    public IReadOnlyList<ReceivedWebhook> Requests => [.. received];

    /// <summary>The requests answered 2xx, in arrival order.</summary>
    public IReadOnlyList<ReceivedWebhook> Delivered => [.. received.Where(r => r.Status is >= 200 and < 300)];

    public Uri Url(string path) => new(BaseAddress, path);

    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            Interlocked.Increment(ref receiver.arrived);
            int status;
            try
            {
                status = await receiver.Answer(context);
            }
            catch (OperationCanceledException)
            {
                status = 0;
            }

            var headers = context.Request.Headers;
            receiver.received.Enqueue(new ReceivedWebhook(
                context.Request.Path, headers["Wharf-Webhook-Id"].FirstOrDefault(), headers["Wharf-Webhook-Timestamp"].FirstOrDefault(),
                headers["Wharf-Webhook-Signature"].FirstOrDefault(), context.Request.ContentType, buffer.ToArray(), status, DateTimeOffset.UtcNow));
            if (status > 0 && !context.Response.HasStarted)
            {
                context.Response.StatusCode = status;
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseAddress = new Uri(address + "/");
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds of the deliveries, or fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var delivered = Delivered;
            if (condition(delivered))
            {
                return delivered;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        var got = string.Join("; ", Requests.Select(r => $"{r.Path} {r.Status} {Encoding.UTF8.GetString(r.Body)}"));
        Assert.Fail($"the receiver did not get {what} within {timeout.TotalSeconds} s; it got: {got}");
        return [];
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await app.StopAsync(stop.Token);
        await app.DisposeAsync();
    }
}
