using System.Text.Json;

namespace Wharf.Core.Primitives;

/// <summary>
/// An escaped lone surrogate (<c>"\ud800"</c>) is valid JSON, and the parser does not check the UTF-8
/// inside strings, but no .NET string can hold either: reading such a string or member name throws
/// <see cref="InvalidOperationException"/>. Documents a client
/// supplies are checked once with <see cref="AreReadable"/>, so their parsers can report a validation
/// error instead of failing later with an unexpected exception.
/// </summary>
public static class JsonStrings
{
    /// <summary>True when every member name and string in <paramref name="element"/> can be read.</summary>
    public static bool AreReadable(JsonElement element)
    {
        try
        {
            Read(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // The depth is bounded by the JsonDocument's MaxDepth.
    private static void Read(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Read(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Read(item);
                }

                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
