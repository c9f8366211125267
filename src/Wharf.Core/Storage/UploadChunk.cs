using System.Globalization;
using System.Security.Cryptography;

namespace Wharf.Core.Storage;

/// <summary>
/// One staged chunk of an upload: the bytes from <see cref="Offset"/> to <see cref="End"/> that one
/// write stored under <see cref="WriteId"/>, a fresh id the store chose. Two writes at one offset
/// (a retry, or two nodes racing) never replace each other, so the caller can record which chunk it
/// accepted and read and commit exactly the bytes it hashed.
/// </summary>
public sealed record UploadChunk(long Offset, long End, string WriteId)
{
    /// <summary>The most chunks one upload may have (as ECR's parts per layer upload).</summary>
    public const int MaxPerUpload = 10_000;

    public long Length => End - Offset;

    /// <summary>How the upload session records the chunk: <c>offset.writeId</c>.</summary>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Offset}.{WriteId}");

    /// <summary>A fresh write id: 16 lower-case hex digits, a plain name in any file or key.</summary>
    public static string NewWriteId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="chunks"/> form a chain from 0: each
    /// non-empty, each starting where the one before ends, each with a valid write id. Returns where the
    /// chain ends.
    /// </summary>
    public static long ThrowIfNotChain(IReadOnlyList<UploadChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        long end = 0;
        foreach (var chunk in chunks)
        {
            if (chunk is null || chunk.Offset != end || chunk.End <= chunk.Offset || !UploadIds.IsValid(chunk.WriteId))
            {
                throw new ArgumentException($"Chunk {chunk} does not continue a chain from 0 at {end}.", nameof(chunks));
            }

            end = chunk.End;
        }

        return end;
    }

    /// <summary>
    /// The chain of chunks an upload session recorded (<paramref name="names"/>, in order) that ends at
    /// <paramref name="end"/>: each chunk ends where the next starts. Throws <see cref="FormatException"/>
    /// when the names do not form a chain from 0.
    /// </summary>
    public static IReadOnlyList<UploadChunk> Chain(IReadOnlyList<string> names, long end)
    {
        var chain = new UploadChunk[names.Count];
        for (var i = names.Count - 1; i >= 0; i--)
        {
            var name = names[i];
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !long.TryParse(name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
                || offset >= end || (i == 0) != (offset == 0) || !UploadIds.IsValid(name[(dot + 1)..]))
            {
                throw new FormatException($"Chunk '{name}' does not continue the upload's chain.");
            }

            chain[i] = new UploadChunk(offset, end, name[(dot + 1)..]);
            end = offset;
        }

        // Bytes without chunks: a session from before chunks were recorded.
        return end == 0 ? chain : throw new FormatException($"The upload's chunks end at 0 bytes, not {end}.");
    }
}
