using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;

// The floor of a push (bench/README.md, "The Kestrel floor"): the least a durable, verified push of one blob costs on
// this runtime. A PUT's body is read from Kestrel into 64 KiB slots of an aligned buffer (the one copy out of the
// socket's pipe a stream reader makes), hashed with SHA-256, sealed in place with AES-256-GCM in Wharf's format (a
// 512-byte run header, then 64 KiB segments each followed by its 16-byte tag, the nonce the segment's index, the
// associated data Wharf's shape: label, scope, upload, run offset, index, last flag), written with O_DIRECT about a MiB
// at a time while the next MiB is read (the unaligned tail through the page cache), fsynced, its length and ?digest=
// checked, and answered 201; the file is deleted after the response. /push/plain/ does the same without the header and
// the cipher: the part sealing adds is the difference. No upload session, no database, no rename, no authorisation: a
// measurement, not Wharf's code. Linux x64/arm64 only (O_DIRECT); elsewhere it answers 501.
internal static partial class SealedPush
{
    private const int Segment = 64 * 1024;
    private const int Tag = 16;
    private const int SealedSegment = Segment + Tag;
    private const int Header = 512;
    private const int Unit = 4096;
    private const int Fill = 1024 * 1024;            // written when the next slot would pass this
    private const int Capacity = Fill + Unit;        // plus the carried unfinished unit of the write before

    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] WrappedKey = RandomNumberGenerator.GetBytes(60); // stands for the wrapped data key

    /// <summary>Where pushed files go (each deleted after its answer): Program.cs sets the floor's scratch directory.</summary>
    public static string Directory { get; set; } = System.IO.Path.GetTempPath();

    private static readonly int Direct = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => 0,
    };

    public static async Task PushAsync(HttpContext context, bool seal, string digest)
    {
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
        var path = Path.Combine(Directory, Guid.NewGuid().ToString("N"));
        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.None);
        context.Response.OnCompleted(() => { File.Delete(path); return Task.CompletedTask; });
        using var direct = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.None);
        if (!OperatingSystem.IsLinux() || Direct == 0 || Fcntl((int)direct.DangerousGetHandle(), 4, Fcntl((int)direct.DangerousGetHandle(), 3, 0) | Direct) != 0)
        {
            context.Response.StatusCode = 501;
            return;
        }

        var body = context.Request.Body;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var aes = seal ? new AesGcm(Key, Tag) : null;
        var aad = new byte["wharf-seal/v1"u8.Length + 1 + "aes256"u8.Length + 1 + 32 + 1 + 8 + 8 + 1];
        var nonce = new byte[12];
        var current = Aligned();
        var other = Aligned();
        var pending = Task.CompletedTask;
        var fill = 0;
        long fileOffset = 0;
        if (seal)
        {
            "WHRFSEAL"u8.CopyTo(current.Span);
            current.Span[8] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(current.Span[12..], (ushort)WrappedKey.Length);
            WrappedKey.CopyTo(current.Span[14..]);
            fill = Header;
        }

        var tag = seal ? Tag : 0;
        var carried = -1; // the byte read past the last segment, or -1
        long index = 0;
        long received = 0;
        var done = false;
        try
        {
            while (!done)
            {
                // One segment: its plaintext and the byte after it (which tells whether it is the last) land in its slot.
                var slot = current.Slice(fill, SealedSegment);
                var filled = 0;
                if (carried >= 0)
                {
                    slot.Span[0] = (byte)carried;
                    filled = 1;
                }

                filled += await body.ReadAtLeastAsync(slot[filled..(Segment + 1)], Segment + 1 - filled, throwOnEndOfStream: false, context.RequestAborted);
                var length = Math.Min(filled, Segment);
                done = filled <= Segment;
                carried = done ? -1 : slot.Span[Segment];
                if (length > 0)
                {
                    sha.AppendData(slot.Span[..length]);
                    received += length;
                    if (aes is not null)
                    {
                        BinaryPrimitives.WriteInt64BigEndian(nonce.AsSpan(4), index);
                        BinaryPrimitives.WriteInt64BigEndian(aad.AsSpan(aad.Length - 9), index);
                        aad[^1] = done ? (byte)1 : (byte)0;
                        aes.Encrypt(nonce, slot.Span[..length], slot.Span[..length], slot.Span.Slice(length, Tag), aad);
                    }

                    fill += length + tag;
                    index++;
                }

                if (!done && fill + SealedSegment <= Fill)
                {
                    continue;
                }

                var aligned = fill / Unit * Unit;
                await pending;
                if (done)
                {
                    if (aligned > 0)
                    {
                        await RandomAccess.WriteAsync(direct, current[..aligned], fileOffset);
                    }

                    if (fill > aligned)
                    {
                        await RandomAccess.WriteAsync(file, current[aligned..fill], fileOffset + aligned);
                    }

                    break;
                }

                current[aligned..fill].CopyTo(other);
                pending = RandomAccess.WriteAsync(direct, current[..aligned], fileOffset).AsTask();
                fileOffset += aligned;
                fill -= aligned;
                (current, other) = (other, current);
            }

            RandomAccess.FlushToDisk(file);
            var plaintext = received;
            var expected = seal ? Header + plaintext + ((plaintext + Segment - 1) / Segment * Tag) : plaintext;
            if (RandomAccess.GetLength(file) != expected)
            {
                throw new InvalidOperationException($"the floor wrote {RandomAccess.GetLength(file)} bytes for {plaintext}, not {expected}");
            }
        }
        finally
        {
            try
            {
                await pending;
            }
            catch
            {
            }

            Return(current);
            Return(other);
        }

        var hex = Convert.ToHexStringLower(sha.GetCurrentHash());
        context.Response.StatusCode = digest == "sha256:" + hex ? 201 : 400;
    }

    private static readonly Stack<Memory<byte>> Free = new();

    private static Memory<byte> Aligned()
    {
        lock (Free)
        {
            if (Free.TryPop(out var buffer))
            {
                return buffer;
            }
        }

        var array = GC.AllocateUninitializedArray<byte>(Capacity + Unit, pinned: true);
        var start = (int)((Unit - (Marshal.UnsafeAddrOfPinnedArrayElement(array, 0) % Unit)) % Unit);
        return array.AsMemory(start, Capacity);
    }

    private static void Return(Memory<byte> buffer)
    {
        lock (Free)
        {
            Free.Push(buffer);
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
