using System.Text.Json;
using System.Text.Json.Nodes;
using Wharf.Core.Errors;
using Wharf.Server.ControlPlane;
using Wharf.Server.ControlPlane.Model;

namespace Wharf.Server.WebConsole.Settings;

/// <summary>
/// A console form checked as the ECR API checks the same call: the form is written as the operation's
/// request and validated against botocore's model (lengths, patterns, enums, list sizes), so that the
/// console refuses what <c>aws ecr …</c> would, with the same message, before the service applies ECR's other rules.
/// </summary>
internal static class EcrInput
{
    /// <summary>The deepest JSON a console editor accepts: far deeper than any configuration, and the depth the model's validator walks.</summary>
    public const int MaxDepth = 32;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxDepth };

    // The editor's value inside the operation's request is a few levels deeper.
    private static readonly JsonDocumentOptions RequestOptions = new() { MaxDepth = MaxDepth + 8 };

    /// <summary>Throws what the API would answer when <paramref name="input"/> does not fit <paramref name="operation"/>'s input shape.</summary>
    public static void Check(string operation, JsonObject input)
    {
        using var document = Document(input);
        RepositoryRequests.Validate(operation, document.RootElement);
    }

    /// <summary>The request as the API's handler would hold it.</summary>
    public static JsonDocument Document(JsonObject input) => JsonDocument.Parse(input.ToJsonString(), RequestOptions);

    /// <summary>A JSON value typed into an editor; text that is not JSON (or nests too deeply) is refused with what is wrong, as the API refuses such a body.</summary>
    public static JsonNode Parse(string text, string what)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: ParseOptions)
                ?? throw new WharfException(WharfErrorCode.InvalidParameter, $"The {what} is empty: give a JSON object.");
        }
        catch (JsonException e)
        {
            throw new WharfException(WharfErrorCode.InvalidParameter, $"The {what} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The enum values the model allows for <paramref name="shape"/> (to offer them in a select).</summary>
    public static IReadOnlyList<string> Values(string shape) => ServiceModel.Ecr.Shape(shape).Enum ?? [];
}
