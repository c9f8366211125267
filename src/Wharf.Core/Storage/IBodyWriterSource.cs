using System.Buffers;

namespace Wharf.Core.Storage;

/// <summary>
/// A blob read that can produce its bytes straight into a response's own buffer memory instead of being read into a
/// buffer of the copy's and copied from there: a sealed blob is decrypted in place, a batch of its segments read with
/// one store read (<c>UnsealingStream</c>). The stream still serves ordinary reads.
/// </summary>
public interface IBodyWriterSource
{
    /// <summary>
    /// Writes the read's remaining bytes into <paramref name="destination"/>, calling <paramref name="flush"/> with the
    /// count written since its last call after each piece it writes; stops when it returns false (the destination takes
    /// no more).
    /// Returns the bytes flushed.
    /// </summary>
    Task<long> WriteToAsync(IBufferWriter<byte> destination, Func<int, CancellationToken, ValueTask<bool>> flush, CancellationToken cancellationToken);
}
