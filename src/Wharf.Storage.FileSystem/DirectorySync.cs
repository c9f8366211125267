using System.Runtime.InteropServices;

namespace Wharf.Storage.FileSystem;

/// <summary>
/// fsync(2) on a directory, which .NET offers no API for: a rename or a new entry is durable only once
/// its parent directory is flushed (ext4/xfs may otherwise lose the entry on power loss although the
/// file's bytes were flushed).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int CloseOnExec = 0x80000; // Linux O_CLOEXEC (same value on x64 and arm64)

    public static void Flush(string directory)
    {
        // Windows cannot open a directory for flushing and NTFS journals renames itself; macOS's
        // fsync is weaker still, but a best effort there costs nothing.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(directory, OperatingSystem.IsLinux() ? ReadOnly | CloseOnExec : ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) < 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
