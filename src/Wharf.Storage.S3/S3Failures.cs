using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Wharf.Core.Storage;

namespace Wharf.Storage.S3;

/// <summary>
/// Which S3 failures mean "the store cannot be used now" and the one-line reason an operator reads
/// (it names the bucket and endpoint, never a key or secret).
/// </summary>
internal sealed class S3Failures(string bucket, string endpoint)
{
    public string Endpoint { get; } = endpoint;

    /// <summary>
    /// The reason <paramref name="error"/> makes the store unavailable, or null when it is an answer
    /// the caller handles (a missing object, a bad range) or the caller's own cancellation.
    /// <paramref name="notFoundIsFault"/> makes any 404 mean a missing bucket (for the check, whose
    /// only target is the bucket).
    /// </summary>
    public string? Classify(Exception error, bool notFoundIsFault, CancellationToken cancellationToken)
    {
        if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        if (error is AmazonS3Exception s3)
        {
            return ClassifyAnswer(s3, notFoundIsFault);
        }

        // An SDK exception may wrap the transport failure; an S3 answer is never wrapped.
        for (var inner = error; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or IOException or TimeoutException or TaskCanceledException)
            {
                return $"S3 endpoint {Endpoint} is unreachable: {OneLine(inner.Message)}";
            }
        }

        return error is AmazonClientException or AmazonServiceException
            ? $"S3 endpoint {Endpoint} failed: {OneLine(error.Message)}"
            : null;
    }

    /// <summary>
    /// Runs one S3 call, turning what says the store cannot be used now (transport failures, 5xx,
    /// SlowDown, a missing bucket, refused credentials) into <see cref="BlobStoreUnavailableException"/>;
    /// other S3 errors (404s the callers map to absence) pass through.
    /// </summary>
    public async Task<T> GuardAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (Exception e) when (Classify(e, notFoundIsFault: false, cancellationToken) is { } reason)
        {
            throw new BlobStoreUnavailableException(reason, e);
        }
    }

    private string? ClassifyAnswer(AmazonS3Exception error, bool notFoundIsFault)
    {
        var code = error.ErrorCode ?? "";
        if (code == "NoSuchBucket" || (notFoundIsFault && error.StatusCode == HttpStatusCode.NotFound))
        {
            return $"S3 bucket '{bucket}' does not exist at {Endpoint}";
        }

        if (error.StatusCode == HttpStatusCode.Forbidden || code is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied")
        {
            return $"S3 at {Endpoint} refused the credentials for bucket '{bucket}' ({(code.Length > 0 ? code : "403")})";
        }

        if ((int)error.StatusCode >= 500 || code is "SlowDown" or "ServiceUnavailable" or "RequestTimeout")
        {
            return $"S3 at {Endpoint} answered {(int)error.StatusCode} {code}".TrimEnd();
        }

        return null;
    }

    private static string OneLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
