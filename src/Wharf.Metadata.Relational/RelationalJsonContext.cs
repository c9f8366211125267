using System.Text.Json.Serialization;

namespace Wharf.Metadata.Relational;

/// <summary>
/// The JSON columns (settings, tags, stages, grant operations and contexts, severity counts), source-generated
/// for Native AOT with the default options the reflection-based calls used: the stored text is unchanged,
/// and rows written by earlier versions read as before.
/// </summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(string[][]))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, int>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, int>))]
internal sealed partial class RelationalJsonContext : JsonSerializerContext;
