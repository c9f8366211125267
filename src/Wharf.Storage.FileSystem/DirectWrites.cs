using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Wharf.Storage.FileSystem;

/// <summary>
/// Writes that bypass the page cache (Linux <c>O_DIRECT</c>): an upload's bytes go from the request's buffer to the
/// disk with no copy into the page cache, so a push costs no page-cache allocation and no writeback later, and does not
/// push other files' pages out. Each direct write must start at a file offset, from a memory address and with a length
/// that are multiples of <see cref="Alignment"/>; <see cref="AlignedBuffer"/> gives such memory, and the store writes the
/// unaligned ends of a chunk through the page cache. Durability does not change: the commit still fsyncs the file (which
/// also flushes the disk's cache) before the rename.
/// </summary>
internal static partial class DirectWrites
{
    /// <summary>
    /// 4 KiB: a multiple of every disk's logical block size and of the page size the filesystems here ask for, so a direct
    /// write of whole units never fails for its alignment.
    /// </summary>
    public const int Alignment = 4096;

    private const int GetFlags = 3;  // F_GETFL
    private const int SetFlags = 4;  // F_SETFL

    // O_DIRECT differs between architectures: 040000 on x86-64, 0200000 on arm64 and arm.
    private static readonly int Direct = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => 0,
    };

    /// <summary>
    /// Whether direct writes work in <paramref name="directory"/>: a probe file there takes <c>O_DIRECT</c> and one aligned
    /// block, then is deleted. False on other systems, on filesystems that refuse <c>O_DIRECT</c> and on any failure, which
    /// leaves the store writing through the page cache as before.
    /// </summary>
    public static bool Probe(string directory)
    {
        if (!OperatingSystem.IsLinux() || Direct == 0)
        {
            return false;
        }

        var path = Path.Combine(directory, ".direct-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose);
            if (!TryEnable(handle))
            {
                return false;
            }

            using var block = AlignedBuffer.Rent();
            RandomAccess.Write(handle, block.Memory.Span[..Alignment], 0);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Turns <c>O_DIRECT</c> on for an open handle; false where its filesystem refuses it.</summary>
    public static bool TryEnable(SafeFileHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = Fcntl(fd, GetFlags, 0);
        return flags >= 0 && Fcntl(fd, SetFlags, flags | Direct) == 0;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}

/// <summary>
/// A pinned buffer of <see cref="Capacity"/> bytes whose start is aligned to <see cref="DirectWrites.Alignment"/>: one
/// read of a request body (<see cref="FileSystemBlobStore.AppendBufferSize"/>) plus one unit for the bytes carried over from the read before it. A few are kept for
/// reuse (each push takes two), so a push allocates nothing once the server is warm.
/// </summary>
internal sealed class AlignedBuffer : IDisposable
{
    public const int Capacity = FileSystemBlobStore.AppendBufferSize + DirectWrites.Alignment;
    private const int KeptFree = 8;

    private static readonly Stack<AlignedBuffer> Free = new();
    private readonly byte[] _array;
    private readonly int _start;

    private AlignedBuffer()
    {
        // The pinned object heap never moves an array, so the address found here stays the array's.
        _array = GC.AllocateUninitializedArray<byte>(Capacity + DirectWrites.Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0);
        _start = (int)((DirectWrites.Alignment - (address % DirectWrites.Alignment)) % DirectWrites.Alignment);
    }

    public Memory<byte> Memory => _array.AsMemory(_start, Capacity);

    public static AlignedBuffer Rent()
    {
        lock (Free)
        {
            if (Free.TryPop(out var buffer))
            {
                return buffer;
            }
        }

        return new AlignedBuffer();
    }

    public void Dispose()
    {
        lock (Free)
        {
            if (Free.Count < KeptFree)
            {
                Free.Push(this);
            }
        }
    }
}
