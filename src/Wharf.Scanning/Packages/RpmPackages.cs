using System.Buffers.Binary;
using System.Text;
using Microsoft.Data.Sqlite;
using Wharf.Scanning.Layers;

namespace Wharf.Scanning.Packages;

/// <summary>
/// Reads rpm's SQLite package database (<c>rpmdb.sqlite</c>: Fedora 33+, RHEL and Rocky/Alma 9, Amazon
/// Linux 2023): each row of <c>Packages</c> is an rpm header blob, from which the name, epoch, version,
/// release and source rpm are read. The BerkeleyDB and NDB formats of older releases are not read.
/// </summary>
public static class RpmPackages
{
    public static readonly string[] SqlitePaths = ["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"];

    private const int TagName = 1000;
    private const int TagVersion = 1001;
    private const int TagRelease = 1002;
    private const int TagEpoch = 1003;
    private const int TagSourceRpm = 1044;
    private const int TypeInt32 = 4;
    private const int TypeString = 6;

    // A header larger than rpm itself accepts (its HEADER_DATA_MAX is 256 MiB, index entries 1 Mi) is corrupt.
    private const int MaxEntries = 1 << 20;

    /// <summary>The installed packages, or the reason the database could not be read.</summary>
    public static (IReadOnlyList<InstalledPackage> Packages, string? Error) Read(ImageFile file)
    {
        // SQLite reads files, not buffers: a private copy (new, owner-only: the image's content is not
        // everyone's) lives in the temporary directory for the read, opened read-only; the finally removes
        // it and any -wal or -shm SQLite makes beside it (rpm leaves its database in WAL mode).
        var copy = Path.Combine(Path.GetTempPath(), $"wharf-rpmdb-{Guid.NewGuid():N}.sqlite");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(copy, options))
            {
                stream.Write(file.Content);
            }

            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT blob FROM Packages ORDER BY hnum";
            using var reader = command.ExecuteReader();
            var packages = new List<InstalledPackage>();
            while (reader.Read())
            {
                if (reader.IsDBNull(0))
                {
                    continue;
                }

                var header = reader.GetValue(0) is byte[] blob ? Header(blob) : null;
                if (header is null)
                {
                    return ([], "the rpm database has a corrupt package header");
                }

                if (header.Value.Name is not { } name || name == "gpg-pubkey" || header.Value.Version is not { } version)
                {
                    continue; // imported signing keys are stored as pseudo-packages
                }

                var evr = (header.Value.Epoch is { } epoch ? $"{epoch}:" : string.Empty) + version + (header.Value.Release is { } release ? $"-{release}" : string.Empty);

                // Rocky Linux's advisories name the source rpm, AlmaLinux's the binary (InstalledPackage.AdvisoryName).
                // No source version: a subpackage is built with its source's epoch, version and release, so the
                // binary's EVR is the one both compare with their fixed epoch:version-release.
                packages.Add(new InstalledPackage("rpm", name, evr, SourceName(header.Value.SourceRpm), null, file.Path, file.LayerDigest));
            }

            // Multilib installs (x86_64 and i686 of one package) are two rows with the same name and version.
            return (packages.Distinct().ToList(), null);
        }
        catch (SqliteException e)
        {
            return ([], $"the rpm database could not be read: {e.Message}");
        }
        finally
        {
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm", "-journal" })
            {
                File.Delete(copy + suffix);
            }
        }
    }

    private readonly record struct RpmHeader(string? Name, string? Version, string? Release, int? Epoch, string? SourceRpm);

    /// <summary><c>openssl-3.0.7-27.el9.src.rpm</c> → <c>openssl</c>: versions and releases hold no '-', names may.</summary>
    private static string? SourceName(string? sourceRpm)
    {
        if (sourceRpm is null)
        {
            return null;
        }

        var stem = sourceRpm.EndsWith(".src.rpm", StringComparison.Ordinal) ? sourceRpm[..^".src.rpm".Length]
            : sourceRpm.EndsWith(".nosrc.rpm", StringComparison.Ordinal) ? sourceRpm[..^".nosrc.rpm".Length]
            : null;
        var release = stem?.LastIndexOf('-') ?? -1;
        var version = release > 0 ? stem!.LastIndexOf('-', release - 1) : -1;
        return version > 0 ? stem![..version] : null;
    }

    /// <summary>An rpm header as stored in the database (no lead magic): counts, index entries, then the data store. Null when malformed.</summary>
    private static RpmHeader? Header(byte[] blob)
    {
        if (blob.Length < 8)
        {
            return null;
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(blob);
        var dataLength = BinaryPrimitives.ReadInt32BigEndian(blob.AsSpan(4));
        var dataStart = 8L + (16L * count);
        if (count < 0 || count > MaxEntries || dataLength < 0 || dataStart + dataLength > blob.Length)
        {
            return null;
        }

        var data = blob.AsSpan((int)dataStart, dataLength);
        string? name = null, version = null, release = null, sourceRpm = null;
        int? epoch = null;
        for (var i = 0; i < count; i++)
        {
            var entry = blob.AsSpan(8 + (16 * i), 16);
            var tag = BinaryPrimitives.ReadInt32BigEndian(entry);
            var type = BinaryPrimitives.ReadInt32BigEndian(entry[4..]);
            var offset = BinaryPrimitives.ReadInt32BigEndian(entry[8..]);
            if (tag is not (TagName or TagVersion or TagRelease or TagEpoch or TagSourceRpm))
            {
                continue;
            }

            if (offset < 0 || offset >= data.Length)
            {
                return null;
            }

            if (type == TypeString)
            {
                var end = data[offset..].IndexOf((byte)0);
                if (end < 0)
                {
                    return null;
                }

                var text = Encoding.UTF8.GetString(data.Slice(offset, end));
                switch (tag)
                {
                    case TagName: name = text; break;
                    case TagVersion: version = text; break;
                    case TagRelease: release = text; break;
                    case TagSourceRpm: sourceRpm = text; break;
                }
            }
            else if (type == TypeInt32 && tag == TagEpoch)
            {
                if (offset + 4 > data.Length)
                {
                    return null;
                }

                epoch = BinaryPrimitives.ReadInt32BigEndian(data[offset..]);
            }
        }

        return new RpmHeader(name, version, release, epoch, sourceRpm);
    }
}
