using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Wharf.Core.Primitives;
using Wharf.Core.PullThroughCache;
using Wharf.Core.Repositories;
using Wharf.Server.Registries;

namespace Wharf.Server.PullThroughCache;

/// <summary>
/// One upstream's <c>/v2</c> as a pull through the cache reads it: each request authorised by
/// <paramref name="authorization"/> (refreshed and retried once on a 401), answered within
/// <paramref name="timeout"/> (a blob's headers; its bytes then stream at the reader's pace), manifests read to
/// <see cref="DataPlaneSettings.MaxManifestBytes"/> and checked against the digest asked for and the one the
/// upstream declares, blobs' redirects followed here (at most <see cref="MaxRedirects"/>, the upstream's
/// credentials sent only to the upstream itself). Every failure is an <see cref="UpstreamException"/>.
/// </summary>
internal sealed class HttpUpstreamRegistry(
    HttpClient http,
    Uri baseUri,
    IRegistryAuthorization authorization,
    TimeSpan timeout,
    bool allowInsecure,
    string upstreamName) : IUpstreamRegistry
{
    public const int MaxRedirects = 5;

    /// <summary>What every client accepts: OCI index and manifest, Docker manifest list and schema 2 (never schema 1).</summary>
    public static readonly string Accept = string.Join(", ", MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest);

    private static readonly UpstreamFailures Failures = UpstreamFailures.Instance;

    public async Task<UpstreamManifest> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var what = $"{upstreamName}, manifest {repository}:{reference}";
        using var timer = Timer(cancellationToken);
        try
        {
            using var response = await SendAsync(HttpMethod.Get, repository, $"v2/{repository}/manifests/{reference}", Accept, timer.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw Failures.FromStatus(what, response.StatusCode, await RegistryHttp.ReadErrorAsync(response, timer.Token));
            }

            await using var body = await RegistryHttp.ReadBoundedAsync(response, DataPlaneSettings.MaxManifestBytes, what, Failures, timer.Token);
            var content = new ReadOnlyMemory<byte>(body.GetBuffer(), 0, (int)body.Length);
            var digest = Check(what, reference, DeclaredDigest(response), content);
            return new UpstreamManifest(digest, MediaTypeOf(what, response, content.Span), content);
        }
        catch (Exception e) when (Failures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    public async Task<Digest> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var what = $"{upstreamName}, manifest {repository}:{reference}";
        using (var timer = Timer(cancellationToken))
        {
            try
            {
                using var response = await SendAsync(HttpMethod.Head, repository, $"v2/{repository}/manifests/{reference}", Accept, timer.Token);
                if (!response.IsSuccessStatusCode)
                {
                    throw Failures.FromStatus(what, response.StatusCode, string.Empty);
                }

                if (DeclaredDigest(response) is { } declared)
                {
                    return Digest.TryParse(reference, out var asked) && asked != declared
                        ? throw Different(what, asked)
                        : declared;
                }
            }
            catch (Exception e) when (Failures.FromException(what, e, cancellationToken) is { } failure)
            {
                throw failure;
            }
        }

        // No Docker-Content-Digest (it is optional): the digest of what a GET answers.
        return (await GetManifestAsync(repository, reference, cancellationToken)).Digest;
    }

    public async Task<UpstreamBlob> OpenBlobAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var what = $"{upstreamName}, blob {repository}@{digest}";
        HttpResponseMessage? response = null;
        try
        {
            using (var timer = Timer(cancellationToken))
            {
                response = await SendAsync(HttpMethod.Get, repository, $"v2/{repository}/blobs/{digest}", null, timer.Token);
                for (var redirects = 0; IsRedirect(response.StatusCode); redirects++)
                {
                    var from = response.RequestMessage?.RequestUri ?? baseUri;
                    var location = response.Headers.Location;
                    response.Dispose();
                    response = null;
                    if (redirects == MaxRedirects)
                    {
                        throw Failures.Broken($"{what}: more than {MaxRedirects} redirects");
                    }

                    var target = location is null ? null : location.IsAbsoluteUri ? location : new Uri(from, location);
                    if (target is null || !(target.Scheme == Uri.UriSchemeHttps || (target.Scheme == Uri.UriSchemeHttp && allowInsecure)))
                    {
                        throw Failures.Broken($"{what}: a redirect to {(target is null ? "nowhere" : target.Scheme + "://" + target.Authority)} (https only{(allowInsecure ? " or http" : string.Empty)})");
                    }

                    // The upstream's credentials go to the upstream only: a blob store it redirects to gets a signed URL, not them.
                    using var request = new HttpRequestMessage(HttpMethod.Get, target);
                    if (SameOrigin(target, baseUri) && await authorization.GetAsync(repository, refresh: false, timer.Token) is { } header)
                    {
                        request.Headers.TryAddWithoutValidation("Authorization", header);
                    }

                    response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw Failures.FromStatus(what, response.StatusCode, await RegistryHttp.ReadErrorAsync(response, timer.Token));
                }
            }

            // The bytes stream at the reader's pace: no timer past the headers, the reader's token on each read.
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var blob = new UpstreamBlob(response.Content.Headers.ContentLength, new UpstreamBlobStream(stream, response, what));
            response = null;
            return blob;
        }
        catch (Exception e) when (Failures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
        finally
        {
            response?.Dispose();
        }
    }

    public async Task CheckAsync(string? repository, CancellationToken cancellationToken)
    {
        var what = $"{upstreamName}, /v2/ with the rule's credentials";
        using var timer = Timer(cancellationToken);
        try
        {
            var header = await authorization.GetAsync(repository ?? string.Empty, refresh: true, timer.Token);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "v2/"));
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", header);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timer.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw Failures.FromStatus(what, response.StatusCode, await RegistryHttp.ReadErrorAsync(response, timer.Token));
            }
        }
        catch (Exception e) when (Failures.FromException(what, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    private CancellationTokenSource Timer(CancellationToken cancellationToken)
    {
        var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        return timer;
    }

    /// <summary>A request to the upstream with its authorization; a 401 (an expired token) gets a fresh one and one retry.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string repository, string path, string? accept, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var header = await authorization.GetAsync(repository, refresh: attempt > 0, cancellationToken);
            using var request = new HttpRequestMessage(method, new Uri(baseUri, path));
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", header);
            }

            if (accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
            {
                response.Dispose();
                continue;
            }

            return response;
        }
    }

    private static Digest? DeclaredDigest(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var declared) ? declared : null;

    /// <summary>The manifest's digest, checked against the one asked for (a digest reference) and the one the upstream declared.</summary>
    private static Digest Check(string what, string reference, Digest? declared, ReadOnlyMemory<byte> content)
    {
        var asked = Digest.TryParse(reference, out var parsed) ? parsed : (Digest?)null;
        foreach (var expected in new[] { asked, declared })
        {
            if (expected is { } digest && Digest.Compute(digest.Algorithm, content.Span) != digest)
            {
                throw Different(what, digest);
            }
        }

        return asked ?? Digest.Sha256Of(content.Span);
    }

    private static UpstreamException Different(string what, Digest expected) =>
        new(UpstreamFailure.Unavailable, $"{what}: the upstream answered a different manifest than {expected}");

    /// <summary>The Content-Type when it names a manifest, else the body's <c>mediaType</c>.</summary>
    private static string MediaTypeOf(string what, HttpResponseMessage response, ReadOnlySpan<byte> content)
    {
        var declared = response.Content.Headers.ContentType?.MediaType;
        if (declared is not null && declared.StartsWith("application/vnd.", StringComparison.OrdinalIgnoreCase))
        {
            return declared;
        }

        try
        {
            var reader = new Utf8JsonReader(content);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("mediaType", out var mediaType)
                && mediaType.ValueKind == JsonValueKind.String
                && mediaType.GetString() is { Length: > 0 } named)
            {
                return named;
            }
        }
        catch (JsonException)
        {
        }

        throw Failures.Broken($"{what}: the answer names no manifest media type (Content-Type '{declared}', no mediaType in the body)");
    }

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
