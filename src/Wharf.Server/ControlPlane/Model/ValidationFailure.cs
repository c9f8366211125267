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
