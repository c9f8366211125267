using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Wharf.Testing;

/// <summary>A blob written into an OCI layout: its digest, size and media type.</summary>
public sealed record LayoutBlob(string Digest, long Size, string MediaType);

/// <summary>An image written into an OCI layout directory (skopeo's <c>oci:&lt;dir&gt;:&lt;tag&gt;</c>).</summary>
public sealed record LayoutImage(string Directory, string Tag, LayoutBlob Manifest, LayoutBlob Config, IReadOnlyList<LayoutBlob> Layers)
{
    public string SkopeoReference => $"oci:{Directory}:{Tag}";

    public string BlobPath(string digest) => Path.Combine(Directory, "blobs", "sha256", digest["sha256:".Length..]);
}

/// <summary>
/// Writes OCI image layouts of generated content, streamed to disk and hashed while written, so a
/// multi-GiB layer never sits in memory. Layers are uncompressed tars holding one file of
/// pseudo-random (incompressible) bytes.
/// </summary>
public static class OciLayout
{
    /// <summary>
    /// Layers are gzip with stored (uncompressed) deflate blocks: clients push them as they are
    /// (skopeo gzips plain tars on push), and writing them costs no compression time.
    /// </summary>
    public const string LayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };

    public static async Task<LayoutImage> WriteImageAsync(string directory, string tag, IReadOnlyList<long> layerSizes, ulong seed, CancellationToken cancellationToken = default)
    {
        var blobs = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        await File.WriteAllTextAsync(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""", cancellationToken);

        var layers = new List<LayoutBlob>();
        var diffIds = new List<string>();
        for (var i = 0; i < layerSizes.Count; i++)
        {
            var (layer, diffId) = await WriteLayerAsync(blobs, $"data-{i}.bin", layerSizes[i], seed + (ulong)i, cancellationToken);
            layers.Add(layer);
            diffIds.Add(diffId);
        }

        var config = JsonSerializer.Serialize(new
        {
            architecture = "amd64",
            os = "linux",
            config = new { Cmd = new[] { "/data-0.bin" } },
            rootfs = new { type = "layers", diff_ids = diffIds.ToArray() },
        }, Json);
        var configBlob = await WriteSmallBlobAsync(blobs, Encoding.UTF8.GetBytes(config), "application/vnd.oci.image.config.v1+json", cancellationToken);

        var manifest = JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.manifest.v1+json",
            config = new { mediaType = configBlob.MediaType, digest = configBlob.Digest, size = configBlob.Size },
            layers = layers.Select(l => new { mediaType = l.MediaType, digest = l.Digest, size = l.Size }).ToArray(),
        }, Json);
        var manifestBlob = await WriteSmallBlobAsync(blobs, Encoding.UTF8.GetBytes(manifest), "application/vnd.oci.image.manifest.v1+json", cancellationToken);

        var index = JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            manifests = new[]
            {
                new
                {
                    mediaType = manifestBlob.MediaType,
                    digest = manifestBlob.Digest,
                    size = manifestBlob.Size,
                    annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag },
                },
            },
        }, Json);
        await File.WriteAllTextAsync(Path.Combine(directory, "index.json"), index, cancellationToken);
        return new LayoutImage(directory, tag, manifestBlob, configBlob, layers);
    }

    /// <summary>The bytes of an OCI image index of <paramref name="children"/>, each for linux on its architecture.</summary>
    public static byte[] PlatformIndex(params (LayoutImage Image, string Architecture)[] children) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = "application/vnd.oci.image.index.v1+json",
            manifests = children.Select(c => new
            {
                mediaType = c.Image.Manifest.MediaType,
                digest = c.Image.Manifest.Digest,
                size = c.Image.Manifest.Size,
                platform = new { architecture = c.Architecture, os = "linux" },
            }).ToArray(),
        }, Json));

    /// <summary>SHA-256 of a file, streamed.</summary>
    public static async Task<string> Sha256FileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
    }

    private static async Task<LayoutBlob> WriteSmallBlobAsync(string blobs, byte[] content, string mediaType, CancellationToken cancellationToken)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(content));
        await File.WriteAllBytesAsync(Path.Combine(blobs, hex), content, cancellationToken);
        return new LayoutBlob("sha256:" + hex, content.Length, mediaType);
    }

    private static async Task<(LayoutBlob Layer, string DiffId)> WriteLayerAsync(string blobs, string fileName, long size, ulong seed, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(blobs, "tmp-" + Guid.NewGuid().ToString("N"));
        using var tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        HashingWriteStream? hashed = null;
        await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
        {
            hashed = new HashingWriteStream(file);
            await using (var gzip = new GZipStream(hashed, CompressionLevel.NoCompression, leaveOpen: true))
            {
                async Task WriteAsync(ReadOnlyMemory<byte> bytes)
                {
                    tarHash.AppendData(bytes.Span);
                    await gzip.WriteAsync(bytes, cancellationToken);
                }

                await WriteAsync(TarHeader(fileName, size));
                var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
                try
                {
                    var state = (seed << 1) | 1; // odd and non-zero, and distinct for every seed (seed | 1 made 2 and 3 alike)
                    for (long remaining = size; remaining > 0;)
                    {
                        var n = (int)Math.Min(remaining, 1 << 20);
                        Fill(buffer.AsSpan(0, n), ref state);
                        await WriteAsync(buffer.AsMemory(0, n));
                        remaining -= n;
                    }

                    var padding = (int)((512 - (size % 512)) % 512) + 1024; // pad the entry, then two zero records
                    Array.Clear(buffer, 0, padding);
                    await WriteAsync(buffer.AsMemory(0, padding));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }

        var hex = Convert.ToHexStringLower(hashed.Hash.GetHashAndReset());
        File.Move(temp, Path.Combine(blobs, hex), overwrite: true);
        var layer = new LayoutBlob("sha256:" + hex, hashed.Length, LayerTarGzip);
        hashed.Hash.Dispose();
        return (layer, "sha256:" + Convert.ToHexStringLower(tarHash.GetHashAndReset()));
    }

    /// <summary>Counts and hashes what is written through it.</summary>
    private sealed class HashingWriteStream(Stream inner) : Stream
    {
        private long length;

        public IncrementalHash Hash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => length;

        public override long Position { get => length; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Hash.AppendData(buffer);
            length += buffer.Length;
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Hash.AppendData(buffer.Span);
            length += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    private static void Fill(Span<byte> span, ref ulong state)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(span);
        for (var i = 0; i < words.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            words[i] = state;
        }

        for (var i = words.Length * 8; i < span.Length; i++)
        {
            span[i] = (byte)(state >> (8 * (i % 8)));
        }
    }

    /// <summary>A ustar header for one regular file.</summary>
    private static byte[] TarHeader(string name, long size)
    {
        var header = new byte[512];
        void Put(int offset, string value) => Encoding.ASCII.GetBytes(value).CopyTo(header, offset);
        Put(0, name);
        Put(100, "0000644\0");
        Put(108, "0000000\0");
        Put(116, "0000000\0");
        Put(124, Convert.ToString(size, 8).PadLeft(11, '0') + "\0");
        Put(136, "00000000000\0");
        header[156] = (byte)'0';
        Put(257, "ustar\0");
        Put(263, "00");
        for (var i = 148; i < 156; i++)
        {
            header[i] = (byte)' ';
        }

        var sum = header.Sum(b => b);
        Put(148, Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        return header;
    }
}
