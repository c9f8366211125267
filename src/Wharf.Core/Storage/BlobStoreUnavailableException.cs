namespace Wharf.Core.Storage;

/// <summary>
/// The blob store cannot be reached or used right now (endpoint down, bucket missing, credentials
/// refused): a condition that may pass, so requests answer with a retryable error, never a 500. The
/// message is one line for an operator and names no secret.
/// </summary>
public sealed class BlobStoreUnavailableException : Exception
{
    public BlobStoreUnavailableException()
    {
    }

    public BlobStoreUnavailableException(string message)
        : base(message)
    {
    }

    public BlobStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
