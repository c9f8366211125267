using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>--json</c>: the command's result as one JSON document on stdout, with camelCase field names that
/// are part of the command's contract (docs/operations.md lists them; a rename is a breaking change),
/// times as ISO 8601 UTC, enums as camelCase strings, absent values as null.
/// </summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static void Write<T>(T document) => Console.Out.WriteLine(JsonSerializer.Serialize(document, Options));

    public static string Serialize<T>(T document) => JsonSerializer.Serialize(document, Options);
}
