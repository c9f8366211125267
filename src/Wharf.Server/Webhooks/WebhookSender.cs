using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Wharf.Core.Webhooks;
using Wharf.Server.Hosting;

namespace Wharf.Server.Webhooks;

/// <summary>The outcome of one POST: delivered (a 2xx), or the status (null when none came) and a one-line reason.</summary>
internal sealed record WebhookAttempt(bool Delivered, int? Status, string Error);

/// <summary>
/// POSTs one delivery: the event's JSON as stored, signed (<see cref="WebhookSignature"/>), on the named client
/// <see cref="ClientName"/> (redirects not followed). The whole exchange is bounded by <c>Webhooks:Timeout</c>,
/// and at most <see cref="MaxResponseBytes"/> of the answer are read (for the error), so a receiver that
/// never answers or answers without end costs one attempt, never a stuck worker.
/// </summary>
internal sealed class WebhookSender(IHttpClientFactory clients, TimeProvider time, IOptions<WharfOptions> options)
{
    public const string ClientName = "wharf-webhooks";

    public const int MaxResponseBytes = 4096;

    public async Task<WebhookAttempt> SendAsync(Uri url, byte[] secret, string eventId, string payload, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(payload);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Wharf-Webhook-Id", eventId);
        request.Headers.TryAddWithoutValidation("Wharf-Webhook-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Wharf-Webhook-Signature", WebhookSignature.Sign(secret, timestamp, body));
        request.Headers.UserAgent.ParseAdd("Wharf-Webhooks/1");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Webhooks.Timeout);
        try
        {
            var client = clients.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
            {
                return new WebhookAttempt(true, status, string.Empty);
            }

            var excerpt = await ReadExcerptAsync(response, timeout.Token);
            return new WebhookAttempt(false, status, $"HTTP {status}{(excerpt.Length > 0 ? ": " + excerpt : string.Empty)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttempt(false, null, $"no answer within {options.Value.Webhooks.Timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            return new WebhookAttempt(false, null, Cli.WharfCli.OneLine(e.InnerException?.Message ?? e.Message));
        }
    }

    // The start of the answer as one line of text, for the dead-letter list; the rest is never read.
    private static async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxResponseBytes];
            var read = 0;
            while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is var n and > 0)
            {
                read += n;
            }

            var text = Encoding.UTF8.GetString(buffer, 0, read);
            var line = Cli.WharfCli.OneLine(new string([.. text.Where(c => !char.IsControl(c) || c is '\n' or '\t')]));
            return line.Length > 200 ? line[..200] + "…" : line;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return string.Empty;
        }
    }
}
