using System.Diagnostics.CodeAnalysis;

namespace Wharf.Core.Primitives;

/// <summary>A 12-digit AWS account id; also the registry id of that account's registries.</summary>
public readonly record struct AccountId
{
    private AccountId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? value, out AccountId id)
    {
        id = default;
        if (value is not { Length: 12 } || value.AsSpan().IndexOfAnyExceptInRange('0', '9') >= 0)
        {
            return false;
        }

        id = new AccountId(value);
        return true;
    }

    public static AccountId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a 12-digit account id.");

    public override string ToString() => Value ?? string.Empty;
}
