namespace Wharf.Metadata.Relational;

/// <summary>
/// One table of the metadata schema and its columns, as <c>wharf migrate</c> copies it from one engine
/// to the other (both engines share one schema version, so the names are the same on both).
/// </summary>
public sealed record MetadataTable(string Name, IReadOnlyList<string> Columns);
