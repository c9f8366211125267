using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Wharf.Server.Hosting;

/// <summary>
/// Kestrel's memory pool with larger blocks. The socket transport receives into one pool block per
/// <c>recvfrom</c>, so Kestrel's 4 KiB blocks make a 512 MiB push 131,072 receive calls, each a wake-up of
/// the request's reader (bench/RESULTS.md, "Pushes"); blocks of <see cref="BlockSize"/> make it a sixteenth.
/// Blocks are pinned (the socket layer pins what it receives into) and kept for reuse up to
/// <see cref="MaxRetainedBlocks"/>; beyond that a returned block is left to the garbage collector, so
/// a burst of connections does not hold its memory for ever.
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;

    /// <summary>4 MiB kept: the blocks a few concurrent pushes hold at once (Kestrel pauses a connection at 1 MiB buffered).</summary>
    public const int MaxRetainedBlocks = 64;

    private readonly ConcurrentQueue<byte[]> free = new();
    private int retained;
    private bool disposed;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref retained);
        }
        else
        {
            block = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        }

        return new Block(this, block);
    }

    private void Return(byte[] block)
    {
        if (!disposed && Interlocked.Increment(ref retained) <= MaxRetainedBlocks)
        {
            free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref retained);
        }
    }

    protected override void Dispose(bool disposing)
    {
        disposed = true;
        free.Clear();
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? array = array;

        public Memory<byte> Memory => array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref array, null) is { } returned)
            {
                pool.Return(returned);
            }
        }
    }
}

/// <summary>Hands Kestrel (its socket transport and its own buffers) <see cref="LargeBlockMemoryPool"/>s.</summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}
