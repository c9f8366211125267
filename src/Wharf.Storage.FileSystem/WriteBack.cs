using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Wharf.Storage.FileSystem;

/// <summary>
/// sync_file_range(2) with <c>SYNC_FILE_RANGE_WRITE</c> (Linux): starts writeback of a range of a file's dirty
/// pages and returns without waiting for it. It makes nothing durable (no metadata, no cache flush); it only moves
/// disk work from the fsync that follows to the time before it.
/// </summary>
internal static partial class WriteBack
{
    private const uint SyncFileRangeWrite = 2;

    /// <summary>Starts writeback of <paramref name="length"/> bytes at <paramref name="offset"/>; a failure is ignored (the fsync that follows reports real errors).</summary>
    public static void Start(SafeFileHandle handle, long offset, long length)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRange((int)handle.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int fd, long offset, long nbytes, uint flags);
}
