using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Wharf.Core.Storage;

namespace Wharf.Storage.FileSystem;

/// <summary>
/// Reads [offset, offset + length) of an open file with positional reads (<see cref="RandomAccess"/>):
/// no FileStream buffer in between, forward-only, and it owns the handle. The handle was opened before
/// any rename or delete could touch the path, so the bytes it reads are one complete file. It is an
/// <see cref="IFileRegion"/>: a transport may send its bytes with <c>sendfile</c> instead of reading them.
/// </summary>
internal sealed class FileRangeStream : ReadOnlyStream, IFileRegion
{
    private readonly SafeFileHandle _handle;
    private readonly long _end;
    private long _position;

    public FileRangeStream(SafeFileHandle handle, long offset, long length)
    {
        _handle = handle;
        _position = offset;
        _end = offset + length;
    }

    public override bool CanRead => !_handle.IsClosed;

    public SafeFileHandle Handle => _handle;

    public long Offset => _position;

    public long Remaining => _end - _position;

    private int Clamp(int count) => (int)Math.Min(count, _end - _position);

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var count = Clamp(buffer.Length);
        if (count <= 0)
        {
            return 0;
        }

        var read = RandomAccess.Read(_handle, buffer[..count], _position);
        _position += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var count = Clamp(buffer.Length);
        if (count <= 0)
        {
            return 0;
        }

        var read = await RandomAccess.ReadAsync(_handle, buffer[..count], _position, cancellationToken);
        _position += read;
        return read;
    }

    /// <summary>Copies with the next read overlapping the previous write (<see cref="OverlappedCopy"/>).</summary>
    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return OverlappedCopy.CopyAsync(this, destination, null, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}
