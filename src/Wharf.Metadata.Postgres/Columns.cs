using Npgsql;
using Wharf.Core.Primitives;

namespace Wharf.Metadata.Postgres;

/// <summary>Column conversions: timestamps are bigint unix milliseconds UTC, digests text.</summary>
internal static class Columns
{
    public static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(this NpgsqlDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static Digest Digest(this NpgsqlDataReader reader, int ordinal) =>
        Core.Primitives.Digest.Parse(reader.GetString(ordinal));

    public static string? NullableString(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static string[] Texts(IEnumerable<Digest> digests) => digests.Select(d => d.ToString()).ToArray();
}
