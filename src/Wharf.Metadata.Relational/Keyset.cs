namespace Wharf.Metadata.Relational;

/// <summary>
/// The "after" condition of a keyset page, present only when there is a cursor. Written
/// <c>(@after IS NULL OR name &gt; @after)</c>, one statement served both pages but was no index range
/// (SQLite read every key before the cursor, so walking a listing was quadratic); two statements keep
/// the results and let each page read one range.
/// </summary>
internal static class Keyset
{
    /// <summary><c> AND <paramref name="column"/> &gt; @after</c> when <paramref name="after"/> is set, else nothing.</summary>
    public static string After(string? after, string column, string parameter = "after") =>
        after is null ? string.Empty : $" AND {column} > @{parameter}";
}
