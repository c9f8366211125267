using Microsoft.Win32.SafeHandles;

namespace Wharf.Core.Storage;

/// <summary>
/// A blob read whose bytes are, unchanged, the next <see cref="Remaining"/> bytes of an open file from
/// <see cref="Offset"/> (a plaintext blob of the filesystem store): a transport may send them from the page cache
/// (<c>sendfile</c>) instead of reading them through the stream. A sealed blob's read is never one (its bytes on disk
/// are not the bytes sent). The stream still owns the handle.
/// </summary>
public interface IFileRegion
{
    /// <summary>The open file; valid until the stream is disposed.</summary>
    SafeFileHandle Handle { get; }

    /// <summary>Where the next byte to send is in the file.</summary>
    long Offset { get; }

    /// <summary>How many bytes are left to send.</summary>
    long Remaining { get; }
}
