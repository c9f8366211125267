using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Sqlite;

/// <summary>
/// SQLite's change stamp in WAL mode, read without a statement: the first copy of the WAL-index header, the 48 bytes at
/// the start of the <c>-shm</c> file that every process using the database maps (SQLite's "walformat" document). Every
/// commit, by any connection of any process, rewrites it before COMMIT returns — its change counter, the last valid
/// frame (<c>mxFrame</c>), the salts a WAL reset changes, and a checksum of it all — and SQLite's own readers take their
/// snapshot from it; a checkpoint leaves it alone. So two equal readings mean no commit in between (a torn reading,
/// taken while a commit writes it, differs from both and only costs a read).
/// </summary>
/// <remarks>
/// The header is reached through SQLite's own mapping of the shared memory, not a second mapping of the file: opening and
/// closing another descriptor of the <c>-shm</c> file would drop SQLite's POSIX locks on it (which are per process). A
/// connection of its own (<see cref="Arm"/>), never lent to a store call, runs one read so its WAL index is mapped, and
/// SQLite's <c>xShmMap</c> (a method of the public <c>sqlite3_io_methods</c>, reached with
/// <c>SQLITE_FCNTL_FILE_POINTER</c>) gives the address of region 0. That connection stays open until
/// <see cref="Dispose"/>, so the mapping stays valid and the file cannot be deleted and made anew under it (SQLite
/// deletes the <c>-shm</c> only when no connection of any process has it open). Anything unexpected (not WAL mode, an
/// older VFS, a platform without the call) leaves the watch unarmed: no stamp, so nothing is cached.
/// </remarks>
internal sealed partial class SqliteWalWatch : IChangeWatch, IDisposable
{
    private const int SqliteOk = 0;
    private const int FcntlFilePointer = 7;
    private const int WalIndexRegionBytes = 32768;

    // sqlite3_io_methods: int iVersion, then the methods; xShmMap is the 13th (after the 12 of version 1).
    private const int ShmMapSlot = 13;

    private readonly Lock _lock = new();
    private SqliteConnection? _connection;
    private nint _header;
    private int _readers;
    private int _closed;

    /// <summary>Why the last <see cref="Arm"/> left the watch unarmed, or null (for tests and the log).</summary>
    public string? NotArmedBecause { get; private set; } = "not armed yet";

    public bool IsArmed => Volatile.Read(ref _header) != 0;

    public unsafe bool TryRead(out ChangeStamp stamp)
    {
        Interlocked.Increment(ref _readers);
        try
        {
            var header = (ulong*)Volatile.Read(ref _header);
            if (header is null || Volatile.Read(ref _closed) != 0)
            {
                stamp = default;
                return false;
            }

            stamp = new ChangeStamp(
                Volatile.Read(ref header[0]),
                Volatile.Read(ref header[1]),
                Volatile.Read(ref header[2]),
                Volatile.Read(ref header[3]),
                Volatile.Read(ref header[4]),
                Volatile.Read(ref header[5]));
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _readers);
        }
    }

    /// <summary>
    /// Opens the watch's connection (<paramref name="open"/>: one with Wharf's settings) and finds the WAL-index
    /// header; once armed, again is nothing. Call after the database is in WAL mode (after migrating).
    /// </summary>
    public async Task ArmAsync(Func<CancellationToken, Task<SqliteConnection>> open, CancellationToken cancellationToken)
    {
        if (IsArmed || Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        var connection = await open(cancellationToken);
        try
        {
            lock (_lock)
            {
                if (_header != 0 || _closed != 0)
                {
                    connection.Dispose();
                    return;
                }

                var header = Arm(connection, out var why);
                if (header == 0)
                {
                    NotArmedBecause = why;
                    connection.Dispose();
                    return;
                }

                _connection = connection;
                NotArmedBecause = null;
                Volatile.Write(ref _header, header);
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static unsafe nint Arm(SqliteConnection connection, out string? why)
    {
        why = null;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            why = "the WAL index is read only on Unix-like systems";
            return 0;
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode";
            if (!string.Equals(command.ExecuteScalar() as string, "wal", StringComparison.OrdinalIgnoreCase))
            {
                why = "the database is not in WAL mode";
                return 0;
            }

            // A read transaction maps the WAL index (region 0) for this connection.
            command.CommandText = "SELECT count(*) FROM sqlite_master";
            command.ExecuteScalar();
        }

        try
        {
            nint file = 0;
            var db = connection.Handle!.DangerousGetHandle();
            if (FileControl(db, "main\0"u8, FcntlFilePointer, &file) != SqliteOk || file == 0)
            {
                why = "SQLITE_FCNTL_FILE_POINTER failed";
                return 0;
            }

            var methods = *(nint**)file;
            if (methods is null || *(int*)methods < 2)
            {
                why = "the VFS has no shared-memory methods";
                return 0;
            }

            var shmMap = (delegate* unmanaged<nint, int, int, int, void**, int>)methods[ShmMapSlot];
            void* region = null;
            if (shmMap is null || shmMap(file, 0, WalIndexRegionBytes, 0, &region) != SqliteOk || region is null)
            {
                why = "the WAL index is not mapped";
                return 0;
            }

            return (nint)region;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            why = e.Message;
            return 0;
        }
    }

    [LibraryImport("e_sqlite3", EntryPoint = "sqlite3_file_control")]
    private static unsafe partial int FileControl(nint db, ReadOnlySpan<byte> name, int op, void* arg);

    /// <summary>Disarms the watch, waits out readers of the header, and closes its connection.</summary>
    public void Dispose()
    {
        SqliteConnection? connection;
        lock (_lock)
        {
            // A full fence, then the readers' count: a reader counted after it sees the watch closed.
            Interlocked.Exchange(ref _closed, 1);
            connection = _connection;
            _connection = null;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref _readers) != 0)
        {
            spin.SpinOnce();
        }

        Volatile.Write(ref _header, 0);
        connection?.Dispose();
    }
}
