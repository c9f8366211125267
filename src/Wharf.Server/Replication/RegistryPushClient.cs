using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Wharf.Core.Primitives;
using Wharf.Core.Replication;
using Wharf.Server.Registries;

namespace Wharf.Server.Replication;

/// <summary>What a push sent: the blobs uploaded (and their bytes), the blobs the repository already had, and those mounted from another repository.</summary>
internal sealed record PushOutcome(int BlobsUploaded, long BytesUploaded, int BlobsPresent, int BlobsMounted, int ManifestsPut);

/// <summary>
/// Pushes an image to a registry's <c>/v2</c>, as a client would: every blob the destination lacks (a HEAD
/// first, so bytes sent are the unique bytes), streamed from the source with its Content-Length and never
/// buffered whole; then the children of an index; then the manifest under each tag, or by digest when it has
/// none. A blob the destination holds in another repository (one this client saw there) is mounted rather
/// than sent again. Each request has a timeout; every failure is a <see cref="ReplicationException"/> with a
/// code from <see cref="DestinationFailures"/>.
/// </summary>
internal sealed class RegistryPushClient(HttpClient http, Uri baseUri, IRegistryAuthorization authorization, TimeSpan timeout, string destinationName, BlobLocations locations)
{
    private const int CopyBufferSize = 128 * 1024;

    /// <summary>
    /// Copies <paramref name="item"/> into <paramref name="repository"/>; <paramref name="manifestHeaders"/> go
    /// on each manifest PUT (a remote Wharf's replication marker).
    /// </summary>
    public async Task<PushOutcome> PushAsync(string repository, ReplicationItem item, IReplicationSource source, IReadOnlyDictionary<string, string> manifestHeaders, CancellationToken cancellationToken)
    {
        var root = await source.GetManifestAsync(item.Source, item.Digest, cancellationToken)
            ?? throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"{item.Source}@{item.Digest} is no longer in the source registry", retryable: false);

        // Children before their index, each once (an index may name a child twice, or nest).
        var ordered = new List<ReplicationManifest>();
        var seen = new HashSet<Digest>();
        await CollectAsync(root, item.Source, source, ordered, seen, cancellationToken);

        var blobs = new Dictionary<Digest, long>();
        foreach (var manifest in ordered)
        {
            foreach (var (digest, size) in manifest.Blobs)
            {
                blobs.TryAdd(digest, size);
            }
        }

        int uploaded = 0, present = 0, mounted = 0, manifests = 0;
        long bytes = 0;
        foreach (var (digest, size) in blobs)
        {
            // One copy at a time per blob and destination: a copy running beside this one that needs the same
            // blob (a shared base layer) finds it there, or mounts it, once this one is done, instead of sending it too.
            using var turn = await locations.TakeTurnAsync(baseUri, digest, cancellationToken);
            if (await HasAsync(repository, "blobs", digest, cancellationToken))
            {
                locations.Seen(baseUri, digest, repository);
                present++;
                continue;
            }

            if (await UploadAsync(repository, digest, size, source, item.Source, locations.Find(baseUri, digest, repository), cancellationToken))
            {
                mounted++;
            }
            else
            {
                uploaded++;
                bytes += size;
            }

            locations.Seen(baseUri, digest, repository);
        }

        foreach (var manifest in ordered)
        {
            if (manifest != root)
            {
                if (!await HasAsync(repository, "manifests", manifest.Digest, cancellationToken))
                {
                    await PutManifestAsync(repository, manifest.Digest.ToString(), manifest, manifestHeaders, cancellationToken);
                    manifests++;
                }

                continue;
            }

            foreach (var reference in item.Tags.Count == 0 ? [manifest.Digest.ToString()] : item.Tags)
            {
                await PutManifestAsync(repository, reference, manifest, manifestHeaders, cancellationToken);
                manifests++;
            }
        }

        return new PushOutcome(uploaded, bytes, present, mounted, manifests);
    }

    private static async Task CollectAsync(ReplicationManifest manifest, RepositoryKey repository, IReplicationSource source, List<ReplicationManifest> ordered, HashSet<Digest> seen, CancellationToken cancellationToken)
    {
        if (!seen.Add(manifest.Digest))
        {
            return;
        }

        foreach (var child in manifest.Children)
        {
            var childManifest = await source.GetManifestAsync(repository, child, cancellationToken)
                ?? throw new ReplicationException(ReplicationFailureCodes.SourceImageNotFound, $"{repository}@{child}, a child of {manifest.Digest}, is no longer in the source registry", retryable: false);
            await CollectAsync(childManifest, repository, source, ordered, seen, cancellationToken);
        }

        ordered.Add(manifest);
    }

    private async Task<bool> HasAsync(string repository, string kind, Digest digest, CancellationToken cancellationToken)
    {
        var what = $"HEAD of {kind[..^1]} {digest} in {destinationName}/{repository}";
        using var response = await SendAsync(what, repository, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Head, Url($"v2/{repository}/{kind}/{digest}"))
        {
            Headers = { Accept = { new MediaTypeWithQualityHeaderValue("*/*") } },
        }), timeout, cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw DestinationFailures.FromStatus(what, response.StatusCode, string.Empty),
        };
    }

    /// <summary>Uploads the blob, or mounts it from <paramref name="mountFrom"/> when the destination lets it; true when mounted.</summary>
    private async Task<bool> UploadAsync(string repository, Digest digest, long size, IReplicationSource source, RepositoryKey sourceRepository, string? mountFrom, CancellationToken cancellationToken)
    {
        var what = $"upload of blob {digest} to {destinationName}/{repository}";
        var mount = mountFrom is null ? string.Empty : $"?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(mountFrom)}";
        Uri location;
        using (var started = await SendAsync(what, repository, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, Url($"v2/{repository}/blobs/uploads/{mount}"))
        {
            Content = new ByteArrayContent([]),
        }), timeout, cancellationToken))
        {
            // 201: mounted. 202: the registry would not mount (it lacks the blob there, or this key may not
            // read that repository): an ordinary upload session, as the spec says.
            if (mountFrom is not null && started.StatusCode == HttpStatusCode.Created)
            {
                return true;
            }

            if (started.StatusCode != HttpStatusCode.Accepted || started.Headers.Location is not { } at)
            {
                throw await FailureAsync(what, started, cancellationToken);
            }

            location = new Uri(started.RequestMessage!.RequestUri!, at);
        }

        var target = new UriBuilder(location);
        target.Query = (target.Query.Length > 1 ? target.Query[1..] + "&" : string.Empty) + "digest=" + Uri.EscapeDataString(digest.ToString());

        // A slow link still gets through a large layer: the timeout grows by a second per MiB.
        var blobTimeout = timeout + TimeSpan.FromSeconds(size / (1024 * 1024));
        using var done = await SendAsync(what, repository, async token =>
        {
            var blob = await source.OpenBlobAsync(sourceRepository, digest, token);
            return new HttpRequestMessage(HttpMethod.Put, target.Uri) { Content = new StreamedBlobContent(blob, size) };
        }, blobTimeout, cancellationToken);
        if (done.StatusCode != HttpStatusCode.Created)
        {
            throw await FailureAsync(what, done, cancellationToken);
        }

        return false;
    }

    private async Task PutManifestAsync(string repository, string reference, ReplicationManifest manifest, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        var what = $"PUT of manifest {repository}:{reference} ({manifest.Digest}) to {destinationName}";
        using var response = await SendAsync(what, repository, _ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, Url($"v2/{repository}/manifests/{reference}"))
            {
                Content = new ByteArrayContent(manifest.Content) { Headers = { ContentType = new MediaTypeHeaderValue(manifest.MediaType) } },
            };
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            return Task.FromResult(request);
        }, timeout, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await FailureAsync(what, response, cancellationToken);
        }
    }

    /// <summary>
    /// Sends with the repository's authorization and a timeout; a 401 is answered once with a fresh
    /// authorization (an expired token). Transport failures and timeouts become <see cref="ReplicationException"/>s.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(string what, string repository, Func<CancellationToken, Task<HttpRequestMessage>> build, TimeSpan limit, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(limit);
            HttpResponseMessage response;
            try
            {
                var header = await authorization.GetAsync(repository, refresh: attempt > 0, timer.Token);
                using var request = await build(timer.Token);
                if (header is not null && SameOrigin(request.RequestUri!))
                {
                    request.Headers.TryAddWithoutValidation("Authorization", header);
                }

                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
            }
            catch (Exception e) when (DestinationFailures.FromException(what, e, cancellationToken) is { } failure)
            {
                throw failure;
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                response.Dispose();
                continue;
            }

            return response;
        }
    }

    private static async Task<ReplicationException> FailureAsync(string what, HttpResponseMessage response, CancellationToken cancellationToken) =>
        DestinationFailures.FromStatus(what, response.StatusCode, await Registries.RegistryHttp.ReadErrorAsync(response, cancellationToken));

    private Uri Url(string relative) => new(baseUri, relative);

    // Credentials go only to the destination itself, never to a host a Location header names.
    private bool SameOrigin(Uri uri) => Uri.Compare(uri, baseUri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>A blob streamed through one pooled buffer, its length declared up front (Content-Length, never chunked).</summary>
    private sealed class StreamedBlobContent(Stream blob, long declaredLength) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                long sent = 0;
                int read;
                while ((read = await blob.ReadAsync(buffer.AsMemory(0, CopyBufferSize), cancellationToken)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    sent += read;
                }

                if (sent != declaredLength)
                {
                    throw new IOException($"the source blob has {sent} bytes, not the {declaredLength} its manifest declares");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = declaredLength;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                blob.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// Where a destination was last seen to hold each blob (a repository there), so that a blob shared by
/// several repositories crosses the network once and is mounted into the others. Bounded: past its size it
/// forgets, and a blob it forgot is only uploaded again. It also lets one copy at a time handle a blob, so two
/// copies running at once never both send it.
/// </summary>
internal sealed class BlobLocations
{
    private const int MaxEntries = 100_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Destination, Digest Digest), string> repositories = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, Digest), Task> busy = new();

    public void Seen(Uri destination, Digest digest, string repository)
    {
        if (repositories.Count >= MaxEntries)
        {
            repositories.Clear();
        }

        repositories[(destination.GetLeftPart(UriPartial.Authority), digest)] = repository;
    }

    /// <summary>Another repository of <paramref name="destination"/> known to hold the blob, or null.</summary>
    public string? Find(Uri destination, Digest digest, string repository) =>
        repositories.TryGetValue((destination.GetLeftPart(UriPartial.Authority), digest), out var other) && other != repository ? other : null;

    /// <summary>Waits until no other copy to <paramref name="destination"/> is busy with <paramref name="digest"/>; disposing ends this one's turn.</summary>
    public async Task<IDisposable> TakeTurnAsync(Uri destination, Digest digest, CancellationToken cancellationToken)
    {
        var key = (destination.GetLeftPart(UriPartial.Authority), digest);
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (!busy.TryAdd(key, mine.Task))
        {
            if (busy.TryGetValue(key, out var other))
            {
                await other.WaitAsync(cancellationToken);
            }
        }

        return new Turn(busy, key, mine);
    }

    private sealed class Turn(System.Collections.Concurrent.ConcurrentDictionary<(string, Digest), Task> busy, (string, Digest) key, TaskCompletionSource done) : IDisposable
    {
        public void Dispose()
        {
            busy.TryRemove(key, out _);
            done.TrySetResult();
        }
    }
}
