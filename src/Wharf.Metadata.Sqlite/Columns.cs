using Microsoft.Data.Sqlite;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Sqlite;

/// <summary>Column encodings shared by the stores: times as unix milliseconds UTC, digests as text.</summary>
internal static class Columns
{
    public static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(this SqliteDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static Digest Digest(this SqliteDataReader reader, int ordinal) =>
        Core.Primitives.Digest.Parse(reader.GetString(ordinal));

    public static string? NullableString(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
