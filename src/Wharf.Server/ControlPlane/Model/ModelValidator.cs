using System.Text.Json;
using System.Text.RegularExpressions;

namespace Wharf.Server.ControlPlane.Model;

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

    /// <summary>
    /// Throws what the API answers for an input the model refuses: a type error is a serialization error;
    /// anything else <c>InvalidParameterException</c> where the operation declares it, else a validation error.
    /// </summary>
    public static void ThrowIfInvalid(ServiceModel model, OperationModel operation, JsonElement input)
    {
        if (Validate(model, operation, input) is { } failure)
        {
            throw failure.Kind == ValidationFailureKind.Type
                ? new Core.Errors.WharfException(Core.Errors.WharfErrorCode.Serialization, failure.Message)
                : new Core.Errors.WharfException(operation.HasError("InvalidParameterException") ? Core.Errors.WharfErrorCode.InvalidParameter : Core.Errors.WharfErrorCode.Validation, failure.Message);
        }
    }

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
            "string" => Text(value) is { } text ? String(shape, text, path) : Type(path, "a string"),
            "integer" => Number(shape, value, path, int.MinValue, int.MaxValue),
            "long" => Number(shape, value, path, long.MinValue, long.MaxValue),
            "double" or "float" => value.ValueKind == JsonValueKind.Number ? null : Type(path, "a number"),
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : Type(path, "a boolean"),
            "timestamp" => value.ValueKind == JsonValueKind.Number || Text(value) is not null ? null : Type(path, "a timestamp"),
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

        if (!NamesAreText(value))
        {
            return Type(Display(path, shape.Name), "member names that are valid Unicode");
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

        if (!NamesAreText(value))
        {
            return Type(path, "keys that are valid Unicode");
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
            return new ValidationFailure(ValidationFailureKind.Constraint, path, $"Member must satisfy enum value set: [{string.Join(", ", values)}]");
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
        // As strict as botocore writes integers: 1.0 and 1e2 are refused, so handlers can read with GetInt64.
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
        // Length of the decoded bytes, without decoding: the handler decodes once, later.
        var text = Text(value);
        if (text is null || text.Length % 4 != 0 || !System.Buffers.Text.Base64.IsValid(text, out var decoded))
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

    /// <summary>
    /// A JSON string's text, or null for anything else. An escaped lone surrogate (<c>"\ud800"</c>)
    /// parses but cannot become a .NET string; catching it here keeps it a type failure, not a 500.
    /// </summary>
    private static string? Text(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether every member name of the object unescapes: <c>TryGetProperty</c> (here and in the handlers)
    /// throws on a lone-surrogate name anywhere in the object, so such an object is refused whole.
    /// </summary>
    private static bool NamesAreText(JsonElement value)
    {
        foreach (var property in value.EnumerateObject())
        {
            try
            {
                _ = property.Name;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        return true;
    }

    private static string Display(string path, string shapeName) => path.Length == 0 ? shapeName : path;

    private static ValidationFailure Type(string path, string expected) => new(ValidationFailureKind.Type, path, expected);
}
