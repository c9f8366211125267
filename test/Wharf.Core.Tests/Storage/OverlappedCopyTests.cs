using System.Security.Cryptography;
using Wharf.Core.Storage;

namespace Wharf.Core.Tests.Storage;

public sealed class OverlappedCopyTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(OverlappedCopy.DefaultBufferSize)]
    [InlineData((3 * OverlappedCopy.DefaultBufferSize) + 5)]
    public async Task Copies_every_byte_in_order_and_counts_what_was_written(int size)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        var destination = new SlowStream();
        long counted = 0;
        var total = await OverlappedCopy.CopyAsync(new MemoryStream(data), destination, n => counted += n, Ct);
        Assert.Equal(size, total);
        Assert.Equal(size, counted);
        Assert.Equal(data, destination.ToArray());
    }

    [Fact]
    public async Task The_next_read_runs_while_the_previous_write_is_still_in_flight()
    {
        var destination = new SlowStream();
        var source = new ObservingStream(RandomNumberGenerator.GetBytes(4 * OverlappedCopy.DefaultBufferSize), destination);
        await OverlappedCopy.CopyAsync(source, destination, null, Ct);
        Assert.True(source.ReadsDuringAWrite >= 3, $"{source.ReadsDuringAWrite} reads overlapped a write");
    }

    [Fact]
    public async Task A_failing_read_waits_for_the_write_in_flight_and_counts_only_what_was_written()
    {
        var destination = new SlowStream();
        var source = new FailingStream(RandomNumberGenerator.GetBytes(3 * OverlappedCopy.DefaultBufferSize), failAfter: 2);
        long counted = 0;
        await Assert.ThrowsAsync<IOException>(() => OverlappedCopy.CopyAsync(source, destination, n => counted += n, Ct));
        Assert.Equal(0, destination.Pending);

        // The two pieces read before the failure were written (the second while the third read failed), and counted.
        Assert.Equal(2 * OverlappedCopy.DefaultBufferSize, counted);
        Assert.Equal(source.Data.AsSpan(0, 2 * OverlappedCopy.DefaultBufferSize).ToArray(), destination.ToArray());
    }

    /// <summary>A response body: each write completes later, on another thread.</summary>
    private sealed class SlowStream : MemoryStream
    {
        private int pending;

        public int Pending => Volatile.Read(ref pending);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref pending);
            var copy = buffer.ToArray();
            await Task.Delay(5, cancellationToken);
            Write(copy);
            Interlocked.Decrement(ref pending);
        }
    }

    private sealed class ObservingStream(byte[] data, SlowStream destination) : MemoryStream(data)
    {
        public int ReadsDuringAWrite { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (destination.Pending > 0)
            {
                ReadsDuringAWrite++;
            }

            return base.ReadAsync(buffer, cancellationToken);
        }
    }

    private sealed class FailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        private int reads;

        public byte[] Data { get; } = bytes;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ++reads > failAfter ? ValueTask.FromException<int>(new IOException("the disk went away")) : base.ReadAsync(buffer, cancellationToken);
    }
}
