using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Wharf.Server.Cli;

namespace Wharf.Server.Tests.Cli;

/// <summary>
/// <c>--json</c> documents are source-generated, and Native AOT needs a string converter per enum type: an enum
/// added to a document without one would silently print as a number. Every enum the context reaches prints as
/// its camelCase name.
/// </summary>
public sealed class CliJsonTests
{
    [Fact]
    public void Every_enum_in_a_json_document_is_written_as_its_camel_case_name()
    {
        var enums = typeof(CliJsonContext).GetProperties()
            .Select(p => p.PropertyType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(JsonTypeInfo<>) && t.GetGenericArguments()[0].IsEnum)
            .Select(t => t.GetGenericArguments()[0])
            .ToList();
        Assert.NotEmpty(enums);
        foreach (var type in enums)
        {
            foreach (var value in Enum.GetValues(type).Cast<object>())
            {
                var name = value.ToString()!;
                Assert.Equal($"\"{JsonNamingPolicy.CamelCase.ConvertName(name)}\"", JsonSerializer.Serialize(value, CliJson.Options.GetTypeInfo(type)));
            }
        }
    }

    [Fact]
    public void A_document_is_indented_camel_case_with_nulls()
    {
        var json = CliJson.Serialize(new RegionsResult(["eu-west-1"]));
        Assert.Equal("{\n  \"regions\": [\n    \"eu-west-1\"\n  ]\n}".ReplaceLineEndings(Environment.NewLine), json);
    }
}
