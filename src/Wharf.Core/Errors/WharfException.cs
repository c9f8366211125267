namespace Wharf.Core.Errors;

/// <summary>
/// The one exception services throw for an expected failure. The handler of each surface turns it
/// into that surface's wire shape via <see cref="ErrorCatalogue"/>.
/// </summary>
public sealed class WharfException : Exception
{
    public WharfException(WharfErrorCode code, string? message = null, object? detail = null)
        : base(message ?? ErrorCatalogue.Describe(code).DefaultMessage)
    {
        Code = code;
        Detail = detail;
    }

    public WharfException()
        : this(WharfErrorCode.Internal)
    {
    }

    public WharfException(string message)
        : this(WharfErrorCode.Internal, message)
    {
    }

    public WharfException(string message, Exception innerException)
        : base(message, innerException) => Code = WharfErrorCode.Internal;

    public WharfErrorCode Code { get; }

    /// <summary>ECR's parameter error: <c>Invalid parameter at '…' failed to satisfy constraint: '…'</c>.</summary>
    public static WharfException InvalidParameter(string member, string constraint) =>
        new(WharfErrorCode.InvalidParameter, $"Invalid parameter at '{member}' failed to satisfy constraint: '{constraint}'");

    /// <summary>Optional structured detail (the OCI <c>detail</c> member).</summary>
    public object? Detail { get; }

    /// <summary>Headers the surface must add to the error response (e.g. <c>Range</c> on a 416 upload error).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
