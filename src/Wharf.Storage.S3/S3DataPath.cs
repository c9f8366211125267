using System.Net;
using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Wharf.Core.Storage;

namespace Wharf.Storage.S3;

/// <summary>
/// The requests that carry blob bytes (object and part PUTs, ranged GETs), sent with the runtime's
/// <see cref="HttpClient"/> on URLs the SDK presigns; every other request goes through the SDK client.
/// Measured on Ceph RGW (docs/architecture.md, "The S3 blob store"): the SDK's own transport spends three to
/// six times the CPU per byte and moves about two thirds of the bytes per second. A presigned request
/// signs its method, key and query but not its body (UNSIGNED-PAYLOAD): the body's integrity is the
/// digest Wharf computes as the bytes arrive, checked before any blob is committed, plus TLS to an
/// HTTPS endpoint. Answers become the SDK's <see cref="AmazonS3Exception"/>, so <see cref="S3Failures"/>
/// and the callers' handling of 404 / 416 treat both paths alike; what makes the store unusable
/// is thrown as <see cref="BlobStoreUnavailableException"/> by the same <see cref="S3Failures.GuardAsync"/>.
/// </summary>
internal sealed class S3DataPath : IDisposable
{
    // Replayable requests (a GET's headers, a PUT from memory) are tried this often on a 5xx or a
    // transport failure, as the SDK's standard retry mode does.
    private const int Attempts = 3;
    private const int ErrorBodyCap = 4096;
    private static readonly TimeSpan SignedFor = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan BufferedPutTimeout = TimeSpan.FromMinutes(5);

    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly Protocol _protocol;
    private readonly S3Failures _failures;
    private readonly HttpClient _http;

    public S3DataPath(AmazonS3Client client, string bucket, Protocol protocol, S3Failures failures)
    {
        _client = client;
        _bucket = bucket;
        _protocol = protocol;
        _failures = failures;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>PUTs <paramref name="body"/> from memory as an object or a part; returns the ETag.</summary>
    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> body, string? uploadId, int partNumber, CancellationToken cancellationToken) =>
        _failures.GuardAsync(_ => PutCoreAsync(key, body, uploadId, partNumber, cancellationToken), cancellationToken);

    private async Task<string> PutCoreAsync(string key, ReadOnlyMemory<byte> body, string? uploadId, int partNumber, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(BufferedPutTimeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, await SignAsync(HttpVerb.PUT, key, SignedFor, uploadId, partNumber))
                {
                    Content = new ReadOnlyMemoryContent(body),
                };
                request.Content.Headers.ContentLength = body.Length;
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                await ThrowIfFailedAsync(response, cancellationToken);
                return ETagOf(response);
            }
            catch (Exception e) when (attempt < Attempts && IsTransient(e, cancellationToken))
            {
                await BackOffAsync(attempt, cancellationToken);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"S3 did not take a {body.Length}-byte PUT within {BufferedPutTimeout.TotalMinutes:0} min", e);
            }
        }
    }

    /// <summary>
    /// Streams exactly <paramref name="length"/> bytes of <paramref name="source"/> as one object, without
    /// buffering them; returns the ETag. A source that fails is rethrown as it failed (the client's
    /// broken request stays the client's error); one that holds another number of bytes throws
    /// <see cref="InvalidDataException"/>. Either way S3 keeps nothing: an object appears only whole.
    /// </summary>
    public async Task<string> PutStreamAsync(string key, Stream source, long length, CancellationToken cancellationToken)
    {
        var guarded = new GuardedSource(source, length);
        try
        {
            return await _failures.GuardAsync(_ => PutStreamCoreAsync(key, guarded, length, cancellationToken), cancellationToken);
        }
        catch (Exception) when (guarded.Failure is { } failure)
        {
            failure.Throw();
            throw;
        }
    }

    private async Task<string> PutStreamCoreAsync(string key, GuardedSource guarded, long length, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, await SignAsync(HttpVerb.PUT, key, SignedFor))
        {
            Content = new StreamContent(guarded, 128 * 1024),
        };
        request.Content.Headers.ContentLength = length;
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        guarded.ThrowIfSourceFailed();
        await ThrowIfFailedAsync(response, cancellationToken);
        return ETagOf(response);
    }

    /// <summary>
    /// A GET of the object, or of bytes <paramref name="first"/> to <paramref name="last"/> (null: to
    /// the end); null when the object is absent (404). A range S3 cannot satisfy throws the 416 as
    /// <see cref="AmazonS3Exception"/>.
    /// </summary>
    public Task<Stream?> GetAsync(string key, long? first, long? last, CancellationToken cancellationToken) =>
        _failures.GuardAsync(_ => GetCoreAsync(key, first, last, cancellationToken), cancellationToken);

    private async Task<Stream?> GetCoreAsync(string key, long? first, long? last, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            HttpResponseMessage? response = null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(HeadersTimeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, await SignAsync(HttpVerb.GET, key, SignedFor));
                if (first is { } from)
                {
                    request.Headers.Range = new RangeHeaderValue(from, last);
                }

                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.StatusCode is HttpStatusCode.NotFound)
                {
                    var error = await ReadErrorAsync(response, cancellationToken);
                    if (error.ErrorCode != "NoSuchBucket")
                    {
                        response.Dispose();
                        return null;
                    }

                    throw error;
                }

                await ThrowIfFailedAsync(response, cancellationToken);
                var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var stream = new ResponseStream(response, body);
                response = null;
                return stream;
            }
            catch (Exception e) when (attempt < Attempts && IsTransient(e, cancellationToken))
            {
                await BackOffAsync(attempt, cancellationToken);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"S3 did not answer a GET within {HeadersTimeout.TotalSeconds:0} s", e);
            }
            finally
            {
                response?.Dispose();
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// A URL for <paramref name="verb"/> on <paramref name="key"/> (a part of a multipart upload when
    /// <paramref name="uploadId"/> is given), valid for <paramref name="lifetime"/> counted from the
    /// SDK's own clock, which signs it.
    /// </summary>
    public async Task<Uri> SignAsync(HttpVerb verb, string key, TimeSpan lifetime, string? uploadId = null, int partNumber = 0)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = key,
            Verb = verb,
            Expires = DateTime.UtcNow + lifetime,
            Protocol = _protocol,
        };
        if (uploadId is not null)
        {
            request.UploadId = uploadId;
            request.PartNumber = partNumber;
        }

        return new Uri(await _client.GetPreSignedURLAsync(request));
    }

    private static string ETagOf(HttpResponseMessage response) =>
        response.Headers.ETag?.Tag ?? (response.Headers.TryGetValues("ETag", out var values) ? values.First() : "");

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ReadErrorAsync(response, cancellationToken);
        }
    }

    /// <summary>An S3 error answer as the SDK would raise it: status, and the XML body's Code and Message (read up to a small cap).</summary>
    private static async Task<AmazonS3Exception> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = "";
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[ErrorBodyCap];
            var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            text = System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The status alone still says what happened.
        }

        var code = Element(text, "Code") ?? "";
        var message = Element(text, "Message") ?? $"S3 answered {(int)response.StatusCode} {response.ReasonPhrase}";
        var requestId = Element(text, "RequestId") ?? "";
        var type = (int)response.StatusCode >= 500 ? ErrorType.Receiver : ErrorType.Sender;
        return new AmazonS3Exception(message, type, code, requestId, response.StatusCode);
    }

    private static string? Element(string xml, string name)
    {
        var open = xml.IndexOf($"<{name}>", StringComparison.Ordinal);
        if (open < 0)
        {
            return null;
        }

        var start = open + name.Length + 2;
        var close = xml.IndexOf($"</{name}>", start, StringComparison.Ordinal);
        return close < 0 ? null : WebUtility.HtmlDecode(xml[start..close]);
    }

    private static bool IsTransient(Exception error, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && error switch
        {
            AmazonS3Exception s3 => (int)s3.StatusCode >= 500 || s3.ErrorCode is "SlowDown" or "RequestTimeout",
            HttpRequestException or IOException => true,
            _ => false,
        };

    private static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(50, 100 << attempt)), cancellationToken);

    /// <summary>
    /// The request body of a streamed PUT: passes <c>length</c> bytes of the source through, remembers
    /// a failure of the source itself (so it is not mistaken for S3's), and refuses a source whose length
    /// differs before the last declared byte is handed on, so S3 never receives a whole body and never
    /// completes the object.
    /// </summary>
    private sealed class GuardedSource(Stream source, long length) : ReadOnlyStream
    {
        private const int FillAtLeast = 64 * 1024;
        private readonly byte[] _probe = new byte[1];
        private long _sent;

        public ExceptionDispatchInfo? Failure { get; private set; }

        public void ThrowIfSourceFailed() => Failure?.Throw();

        public override int Read(Span<byte> buffer) =>
            throw new NotSupportedException("A streamed PUT reads its source asynchronously.");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var room = (int)Math.Min(buffer.Length, length - _sent);
            if (room == 0)
            {
                return 0; // everything sent, and the source's end already seen
            }

            try
            {
                // A fuller buffer than one read of the request body gives, so each send to S3 moves
                // more than a network packet's worth.
                var read = await source.ReadAtLeastAsync(buffer[..room], Math.Min(room, FillAtLeast), throwOnEndOfStream: false, cancellationToken);
                if (read == 0)
                {
                    throw new InvalidDataException($"the body held {_sent} bytes, fewer than the {length} declared");
                }

                // Before the last declared bytes go out, the source must end here.
                if (_sent + read == length && await source.ReadAsync(_probe, cancellationToken) > 0)
                {
                    throw new InvalidDataException($"the body held more than the {length} bytes declared");
                }

                _sent += read;
                return read;
            }
            catch (Exception e)
            {
                Failure ??= ExceptionDispatchInfo.Capture(e);
                throw;
            }
        }
    }

    /// <summary>A GET's body: reads pass through, and disposal releases the response and its connection.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream body) : ReadOnlyStream
    {
        public override int Read(Span<byte> buffer) => body.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            body.ReadAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                body.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
