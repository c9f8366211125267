namespace Wharf.Backends.Tests.Metadata;

/// <summary>
/// Names a store method whose documented behaviour a contract test asserts, so that
/// <see cref="ContractCoverageTests"/> can tell which public store methods no test covers.
/// </summary>
/// <param name="store">The store interface (<c>IMetadataStore</c> or one of its stores).</param>
/// <param name="method">The method's name (<c>nameof</c>).</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
internal sealed class CoversAttribute(Type store, string method) : Attribute
{
    public Type Store { get; } = store;

    public string Method { get; } = method;

    /// <summary>For an overloaded name, which overload: its number of parameters (the cancellation token included).</summary>
    public int Parameters { get; set; }
}
