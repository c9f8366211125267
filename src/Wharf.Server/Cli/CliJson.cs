using System.Text.Json;
using System.Text.Json.Serialization;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Cli;

/// <summary>
/// <c>--json</c>: the command's result as one JSON document on stdout, with camelCase field names that
/// are part of the command's contract (docs/operations.md lists them; a rename is a breaking change),
/// times as ISO 8601 UTC, enums as camelCase strings, absent values as null.
/// </summary>
internal static class CliJson
{
    // Source-generated (CliJsonContext): a document type not listed there fails in the tests, which run without
    // reflection-based serialization. Native AOT needs one string converter per enum type; the documents hold one.
    internal static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter<TokenPurpose>(JsonNamingPolicy.CamelCase) },
        TypeInfoResolver = CliJsonContext.Default,
    };

    public static void Write<T>(T document) => Console.Out.WriteLine(Serialize(document));

    public static string Serialize<T>(T document) => JsonSerializer.Serialize(document, Options.TypeInfo<T>());
}

/// <summary><c>wharf replication credentials list --json</c>.</summary>
internal sealed record RegionsResult(IReadOnlyList<string> Regions);

/// <summary>Every <c>--json</c> document (<see cref="CliJson"/>).</summary>
[JsonSerializable(typeof(MigrateCommand.MigrateResult))]
[JsonSerializable(typeof(CheckCommand.CheckResult))]
[JsonSerializable(typeof(RegionsResult))]
[JsonSerializable(typeof(EncryptCommand.EncryptResult))]
[JsonSerializable(typeof(VulnDbCommand.ImportResult))]
[JsonSerializable(typeof(VulnDbCommand.StatusResult))]
[JsonSerializable(typeof(GcCommand.GcResult))]
[JsonSerializable(typeof(ReplicationCommand.BackfillResult))]
[JsonSerializable(typeof(AdminCommand.TokenKeysResult))]
[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(LifecycleCommand.LifecycleResult))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
