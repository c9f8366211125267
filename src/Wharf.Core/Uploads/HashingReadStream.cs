using System.Security.Cryptography;
using Wharf.Core.Storage;

namespace Wharf.Core.Uploads;

/// <summary>
/// A read-only pass-through that feeds every byte read into an <see cref="IncrementalHash"/> and counts
/// them, so an upload is hashed while it is written (no second pass over the staged bytes).
/// </summary>
internal sealed class HashingReadStream(Stream inner, IncrementalHash hash) : ReadOnlyStream
{
    public long BytesRead { get; private set; }

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Consume(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Consume(buffer.Span[..read]);
        return read;
    }

    private void Consume(ReadOnlySpan<byte> bytes)
    {
        hash.AppendData(bytes);
        BytesRead += bytes.Length;
    }
}
