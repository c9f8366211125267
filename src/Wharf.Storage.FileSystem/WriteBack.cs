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

    /// <summary>
    /// Starts writeback of <paramref name="length"/> bytes at <paramref name="offset"/> on a thread-pool thread (the call
    /// blocks while the disk's queue is full, which must not stall the upload's reads); a failure, or a handle closed
    /// by then, is ignored: the fsync that follows reports real errors.
    /// </summary>
    public static void StartInBackground(SafeFileHandle handle, long offset, long length) =>
        ThreadPool.UnsafeQueueUserWorkItem(_ => Start(handle, offset, length), null);

    private static void Start(SafeFileHandle handle, long offset, long length)
    {
        if (handle.IsClosed)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRange((int)handle.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        catch (ObjectDisposedException)
        {
            // Closed in the meantime: the upload's write is over.
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
