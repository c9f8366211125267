using System.Buffers;

namespace Wharf.Core.Storage;

/// <summary>
/// What an upload id may be (1–64 characters of A–Z, a–z, 0–9, '_' and '-'): a plain name that every
/// blob store can use as a file name or key segment and that can never leave its staging folder.
/// </summary>
public static class UploadIds
{
    public const int MaxLength = 64;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    public static bool IsValid(string? uploadId) =>
        uploadId is { Length: > 0 and <= MaxLength } && !uploadId.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="uploadId"/> is valid.</summary>
    public static void ThrowIfInvalid(string uploadId)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (!IsValid(uploadId))
        {
            throw new ArgumentException(
                $"Upload id '{uploadId}' must be 1-{MaxLength} characters of A-Z, a-z, 0-9, '_' and '-'.",
                nameof(uploadId));
        }
    }
}
