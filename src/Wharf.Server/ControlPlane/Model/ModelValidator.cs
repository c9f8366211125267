using System.Text.Json;
using System.Text.RegularExpressions;

namespace Wharf.Server.ControlPlane.Model;

internal enum ValidationFailureKind
{
    /// <summary>A model constraint (required, length, range, pattern, enum) is violated.</summary>
    Constraint,

    /// <summary>The JSON type does not fit the shape (a string for a number, a bad base64 blob, …).</summary>
    Type,
}

/// <summary>The first problem found in a request, with its path in Coral's style (<c>imageIds.1.member.imageTag</c>).</summary>
internal sealed record ValidationFailure(ValidationFailureKind Kind, string Path, string Constraint)
{
    /// <summary>ECR's wording for a constraint, a plain one for a type problem.</summary>
    public string Message => Kind == ValidationFailureKind.Constraint
        ? $"Invalid parameter at '{Path}' failed to satisfy constraint: '{Constraint}'"
        : $"Unexpected value type at '{Path}': expected {Constraint}";
}

/// <summary>
/// Checks a request body against the operation's input shape: walks members in model order, depth
/// first, and returns the first failure. Unknown members are ignored and JSON null is absence, as AWS
/// does. Never throws on any input.
/// </summary>
internal static class ModelValidator
{
    private const int MaxDepth = 32;

    public static ValidationFailure? Validate(ServiceModel model, OperationModel operation, JsonElement input) =>
        operation.InputShape is null ? null : Check(model, model.Shape(operation.InputShape), input, string.Empty, 0);

    private static ValidationFailure? Check(ServiceModel model, ShapeModel shape, JsonElement value, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            return Type(path, "a shallower value");
        }

        return shape.Type switch
        {
            "structure" => Structure(model, shape, value, path, depth),
            "list" => List(model, shape, value, path, depth),
            "map" => Map(model, shape, value, path, depth),
            "string" => value.ValueKind == JsonValueKind.String ? String(shape, value.GetString()!, path) : Type(path, "a string"),
            "integer" => Number(shape, value, path, int.MinValue, int.MaxValue),
            "long" => Number(shape, value, path, long.MinValue, long.MaxValue),
            "double" or "float" => value.ValueKind == JsonValueKind.Number ? null : Type(path, "a number"),
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : Type(path, "a boolean"),
            "timestamp" => value.ValueKind is JsonValueKind.Number or JsonValueKind.String ? null : Type(path, "a timestamp"),
            "blob" => Blob(shape, value, path),
            _ => null,
        };
    }

    private static ValidationFailure? Structure(ServiceModel model, ShapeModel shape, JsonElement value, string path, int depth)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return Type(Display(path, shape.Name), "an object");
        }

        foreach (var (name, memberShape) in shape.Members)
        {
            var memberPath = path.Length == 0 ? name : $"{path}.{name}";
            if (!value.TryGetProperty(name, out var member) || member.ValueKind == JsonValueKind.Null)
            {
                if (shape.Required.Contains(name))
                {
                    return new ValidationFailure(ValidationFailureKind.Constraint, memberPath, "must not be null");
                }

                continue;
            }

            if (Check(model, model.Shape(memberShape), member, memberPath, depth + 1) is { } failure)
            {
                return failure;
            }
        }

        return null;
    }

    private static ValidationFailure? List(ServiceModel model, ShapeModel shape, JsonElement value, string path, int depth)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return Type(path, "a list");
        }

        if (Length(shape, value.GetArrayLength(), path) is { } failure)
        {
            return failure;
        }

        var element = model.Shape(shape.Element!);
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            index++;
            var itemPath = $"{path}.{index}.member";
            if (item.ValueKind == JsonValueKind.Null)
            {
                return new ValidationFailure(ValidationFailureKind.Constraint, itemPath, "must not be null");
            }

            if (Check(model, element, item, itemPath, depth + 1) is { } itemFailure)
            {
                return itemFailure;
            }
        }

        return null;
    }

    private static ValidationFailure? Map(ServiceModel model, ShapeModel shape, JsonElement value, string path, int depth)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return Type(path, "an object");
        }

        var count = value.EnumerateObject().Count();
        if (Length(shape, count, path) is { } failure)
        {
            return failure;
        }

        var keyShape = shape.MapKey is null ? null : model.Shape(shape.MapKey);
        var valueShape = model.Shape(shape.Element!);
        foreach (var entry in value.EnumerateObject())
        {
            var entryPath = $"{path}.{entry.Name}";
            if ((keyShape is null ? null : String(keyShape, entry.Name, entryPath)) is { } keyFailure)
            {
                return keyFailure;
            }

            if (Check(model, valueShape, entry.Value, entryPath, depth + 1) is { } valueFailure)
            {
                return valueFailure;
            }
        }

        return null;
    }

    private static ValidationFailure? String(ShapeModel shape, string text, string path)
    {
        if (Length(shape, text.Length, path) is { } failure)
        {
            return failure;
        }

        if (shape.Enum is { } values && !values.Contains(text, StringComparer.Ordinal))
        {
            return new ValidationFailure(ValidationFailureKind.Constraint, path, $"must satisfy enum value set: [{string.Join(", ", values)}]");
        }

        if (shape.Regex is { } regex)
        {
            bool matches;
            try
            {
                matches = regex.IsMatch(text);
            }
            catch (RegexMatchTimeoutException)
            {
                matches = false;
            }

            if (!matches)
            {
                return new ValidationFailure(ValidationFailureKind.Constraint, path, $"must satisfy regular expression '{shape.Pattern}'");
            }
        }

        return null;
    }

    private static ValidationFailure? Number(ShapeModel shape, JsonElement value, string path, long lowest, long highest)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < lowest || number > highest)
        {
            return Type(path, "an integer");
        }

        if (shape.Min is { } min && number < min)
        {
            return new ValidationFailure(ValidationFailureKind.Constraint, path, $"must be greater than or equal to {ShapeModel.Format(min)}");
        }

        if (shape.Max is { } max && number > max)
        {
            return new ValidationFailure(ValidationFailureKind.Constraint, path, $"must be less than or equal to {ShapeModel.Format(max)}");
        }

        return null;
    }

    private static ValidationFailure? Blob(ShapeModel shape, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return Type(path, "a base64 string");
        }

        // Length of the decoded bytes, without decoding: the handler decodes once, later.
        var text = value.GetString()!;
        if (text.Length % 4 != 0 || !System.Buffers.Text.Base64.IsValid(text, out var decoded))
        {
            return Type(path, "a base64 string");
        }

        return Length(shape, decoded, path);
    }

    private static ValidationFailure? Length(ShapeModel shape, long length, string path)
    {
        if (shape.Min is { } min && length < min)
        {
            return new ValidationFailure(ValidationFailureKind.Constraint, path, $"must have length greater than or equal to {ShapeModel.Format(min)}");
        }

        if (shape.Max is { } max && length > max)
        {
            return new ValidationFailure(ValidationFailureKind.Constraint, path, $"must have length less than or equal to {ShapeModel.Format(max)}");
        }

        return null;
    }

    private static string Display(string path, string shapeName) => path.Length == 0 ? shapeName : path;

    private static ValidationFailure Type(string path, string expected) => new(ValidationFailureKind.Type, path, expected);
}
