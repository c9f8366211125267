using System.Buffers;
using System.Runtime.InteropServices;
using Wharf.Server.Hosting;

namespace Wharf.Server.Tests.Hosting;

/// <summary>The pool Kestrel receives into: 64 KiB blocks, reused, and no more kept than its bound.</summary>
public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Blocks_are_64_KiB_and_a_returned_block_is_handed_out_again()
    {
        using var pool = new LargeBlockMemoryPool();
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
        var first = pool.Rent(1);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, first.Memory.Length);
        var array = ArrayOf(first);
        first.Dispose();
        first.Dispose(); // a second dispose does not return the block twice

        using var second = pool.Rent();
        using var third = pool.Rent();
        Assert.Same(array, ArrayOf(second));
        Assert.NotSame(array, ArrayOf(third));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }

    [Fact]
    public void No_more_than_the_bound_is_kept_after_a_burst()
    {
        using var pool = new LargeBlockMemoryPool();
        var burst = Enumerable.Range(0, LargeBlockMemoryPool.MaxRetainedBlocks * 2).Select(_ => pool.Rent()).ToList();
        var arrays = burst.Select(ArrayOf).ToHashSet();
        burst.ForEach(b => b.Dispose());

        var again = Enumerable.Range(0, LargeBlockMemoryPool.MaxRetainedBlocks * 2).Select(_ => pool.Rent()).ToList();
        Assert.Equal(LargeBlockMemoryPool.MaxRetainedBlocks, again.Count(b => arrays.Contains(ArrayOf(b))));
        again.ForEach(b => b.Dispose());
    }

    private static byte[] ArrayOf(IMemoryOwner<byte> owner) =>
        MemoryMarshal.TryGetArray<byte>(owner.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException("not an array");
}
