using System.Diagnostics.CodeAnalysis;

namespace Wharf.Core.Primitives;

/// <summary>The <c>&lt;reference&gt;</c> of a manifest URL: a tag or a digest, never both.</summary>
public sealed record Reference
{
    private Reference(Tag? tag, Digest? digest)
    {
        Tag = tag;
        Digest = digest;
    }

    public Tag? Tag { get; }

    public Digest? Digest { get; }

    [MemberNotNullWhen(true, nameof(Digest))]
    [MemberNotNullWhen(false, nameof(Tag))]
    public bool IsDigest => Digest is not null;

    public static Reference Of(Tag tag) => new(tag, null);

    public static Reference Of(Digest digest) => new(null, digest);

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out Reference? reference)
    {
        reference = null;
        if (value is null)
        {
            return false;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            if (!Primitives.Digest.TryParse(value, out var digest))
            {
                return false;
            }

            reference = Of(digest);
            return true;
        }

        if (!Primitives.Tag.TryParse(value, out var tag))
        {
            return false;
        }

        reference = Of(tag);
        return true;
    }

    public override string ToString() => IsDigest ? Digest.Value.ToString() : Tag.Value;
}
