using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Wharf.Server.Tests.Telemetry;

/// <summary>
/// A real OTLP/HTTP traces receiver: Kestrel on 127.0.0.1 port 0 accepting <c>POST /v1/traces</c> (protobuf), keeping each
/// export's bytes (at most 64 MiB in all) and reading the spans out of them with a small protobuf field reader.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const long MaxBytes = 64 << 20;

    private readonly WebApplication app;
    private readonly ConcurrentQueue<byte[]> exports = new();
    private long received;

    private OtlpReceiver(WebApplication app) => this.app = app;

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<byte[]> Exports => [.. exports];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (Interlocked.Add(ref receiver.received, body.Length) <= MaxBytes)
            {
                receiver.exports.Enqueue(body.ToArray());
            }

            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        receiver.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>Every span received so far, with its resource's <c>service.name</c>.</summary>
    public IReadOnlyList<Span> Spans()
    {
        var spans = new List<Span>();
        foreach (var export in exports)
        {
            // ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource { 1: KeyValue }, 2: ScopeSpans { 2: Span } } }
            foreach (var resourceSpans in Fields(export, 1))
            {
                string? service = null;
                foreach (var resource in Fields(resourceSpans, 1))
                {
                    foreach (var attribute in Fields(resource, 1))
                    {
                        if (Text(attribute, 1) == "service.name")
                        {
                            service = Fields(attribute, 2).Select(value => Text(value, 1)).FirstOrDefault();
                        }
                    }
                }

                foreach (var scopeSpans in Fields(resourceSpans, 2))
                {
                    foreach (var span in Fields(scopeSpans, 2))
                    {
                        spans.Add(new Span(
                            Convert.ToHexStringLower(Fields(span, 1).FirstOrDefault() ?? []),
                            Convert.ToHexStringLower(Fields(span, 2).FirstOrDefault() ?? []),
                            Convert.ToHexStringLower(Fields(span, 4).FirstOrDefault() ?? []),
                            Text(span, 5) ?? string.Empty,
                            service));
                    }
                }
            }
        }

        return spans;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static string? Text(byte[] message, int field) => Fields(message, field).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault();

    /// <summary>The length-delimited fields numbered <paramref name="field"/> of a protobuf message; other wire types are skipped.</summary>
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var found = new List<byte[]>();
        var position = 0;
        while (position < message.Length)
        {
            var key = Varint(message, ref position);
            var number = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0:
                    Varint(message, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 5:
                    position += 4;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    if (length < 0 || position + length > message.Length)
                    {
                        throw new InvalidDataException("truncated protobuf field");
                    }

                    if (number == field)
                    {
                        found.Add(message[position..(position + length)]);
                    }

                    position += length;
                    break;
                default:
                    throw new InvalidDataException($"unexpected protobuf wire type {key & 7}");
            }
        }

        return found;
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= message.Length)
            {
                throw new InvalidDataException("truncated varint");
            }

            var b = message[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("varint too long");
    }

    public sealed record Span(string TraceId, string SpanId, string ParentSpanId, string Name, string? Service);
}
