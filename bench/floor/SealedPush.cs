using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Win32.SafeHandles;

// The floor of a push (bench/README.md, "The Kestrel floor"): the least a durable, verified push of one blob costs on
// this runtime. A PUT's body is read from Kestrel into 64 KiB slots of an aligned buffer (the one copy out of the
// socket's pipe a stream reader makes), hashed with SHA-256, sealed in place with AES-256-GCM in Wharf's format (a
// 512-byte run header, then 64 KiB segments each followed by its 16-byte tag, the nonce the segment's index, the
// associated data Wharf's shape: label, scope, upload, run offset, index, last flag), written with O_DIRECT about a MiB
// at a time while the next MiB is read (the unaligned ends through the page cache), fsynced, its length and ?digest=
// checked, and answered 201; the file is deleted after the response. A PATCH appends its body the same way as a run of
// its own (Wharf seals each chunk write as a run with its own header) and answers 202 without flushing, as Wharf does;
// the PUT that ends an upload appends its body, if any, then fsyncs and checks. /push/plain/ does the same without the
// header and the cipher: the part sealing adds is the difference. No upload row, no database, no rename, no
// authorisation: a measurement, not Wharf's code. Linux x64/arm64 only (O_DIRECT); elsewhere it answers 501.
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

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Upload> Uploads = new();

    /// <summary>One upload: its file (buffered and O_DIRECT handles), the hash over its plaintext so far, its length.</summary>
    private sealed class Upload(string path, bool seal) : IDisposable
    {
        public string Path { get; } = path;
        public bool Seal { get; } = seal;
        public SafeFileHandle File { get; } = System.IO.File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.None);
        public SafeFileHandle? Direct { get; set; }
        public IncrementalHash Sha { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        public long Length { get; set; }

        public void Dispose()
        {
            Direct?.Dispose();
            File.Dispose();
            Sha.Dispose();
            System.IO.File.Delete(Path);
        }
    }

    /// <summary>POST: a new upload of the kind (sealed or plain); its URL for the PATCHes and the PUT.</summary>
    public static void Begin(HttpContext context, bool seal)
    {
        var id = Guid.NewGuid().ToString("N");
        var upload = new Upload(System.IO.Path.Combine(Directory, id), seal);
        upload.Direct = System.IO.File.OpenHandle(upload.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, FileOptions.None);
        var fd = (int)upload.Direct.DangerousGetHandle();
        if (!OperatingSystem.IsLinux() || Direct == 0 || Fcntl(fd, 4, Fcntl(fd, 3, 0) | Direct) != 0)
        {
            upload.Dispose();
            context.Response.StatusCode = 501;
            return;
        }

        Uploads[id] = upload;
        context.Response.Headers.Location = $"/push/{(seal ? "sealed" : "plain")}/{id}";
        context.Response.StatusCode = 202;
    }

    /// <summary>PATCH: the body appended as one run (as Wharf seals each chunk write), not flushed; 202.</summary>
    public static async Task PatchAsync(HttpContext context, string id)
    {
        if (!Uploads.TryGetValue(id, out var upload))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
        await AppendRunAsync(upload, context.Request.Body, context.RequestAborted);
        context.Response.Headers.Location = context.Request.Path.Value;
        context.Response.StatusCode = 202;
    }

    /// <summary>PUT ?digest=: the body (if any) appended as a run, the file fsynced, its length and digest checked; 201.</summary>
    public static async Task PutAsync(HttpContext context, string id, string digest)
    {
        if (!Uploads.TryRemove(id, out var upload))
        {
            context.Response.StatusCode = 404;
            return;
        }

        using (upload)
        {
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
            if (context.Request.ContentLength != 0)
            {
                await AppendRunAsync(upload, context.Request.Body, context.RequestAborted);
            }

            RandomAccess.FlushToDisk(upload.File);
            if (RandomAccess.GetLength(upload.File) != upload.Length)
            {
                throw new InvalidOperationException($"the floor wrote {RandomAccess.GetLength(upload.File)} bytes, not {upload.Length}");
            }

            var hex = Convert.ToHexStringLower(upload.Sha.GetCurrentHash());
            context.Response.StatusCode = digest == "sha256:" + hex ? 201 : 400;
        }
    }

    /// <summary>
    /// Appends a body at the upload's end as one run: hashed, sealed (its header, then its segments, the last one flagged),
    /// the whole 4 KiB units written with O_DIRECT about a MiB at a time while the next MiB is read, the run's unaligned
    /// ends (the rest of the unit the run before left unfinished, and its own last part) through the page cache.
    /// </summary>
    private static async Task AppendRunAsync(Upload upload, Stream body, CancellationToken cancellationToken)
    {
        var seal = upload.Seal;
        using var aes = seal ? new AesGcm(Key, Tag) : null;
        var aad = new byte["wharf-seal/v1"u8.Length + 1 + "aes256"u8.Length + 1 + 32 + 1 + 8 + 8 + 1];
        var nonce = new byte[12];
        var current = Aligned();
        var other = Aligned();
        var pending = Task.CompletedTask;

        // current[0] stands for the file offset bufferStart (a unit's start); the run begins at `from` within it.
        var from = (int)(upload.Length % Unit);
        var bufferStart = upload.Length - from;
        var fill = from;
        if (seal)
        {
            current.Span.Slice(fill, Header).Clear();
            "WHRFSEAL"u8.CopyTo(current.Span[fill..]);
            current.Span[fill + 8] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(current.Span[(fill + 12)..], (ushort)WrappedKey.Length);
            WrappedKey.CopyTo(current.Span[(fill + 14)..]);
            fill += Header;
        }

        var tag = seal ? Tag : 0;
        var carried = -1; // the byte read past the last segment, or -1
        long index = 0;
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

                filled += await body.ReadAtLeastAsync(slot[filled..(Segment + 1)], Segment + 1 - filled, throwOnEndOfStream: false, cancellationToken);
                var length = Math.Min(filled, Segment);
                done = filled <= Segment;
                carried = done ? -1 : slot.Span[Segment];
                if (length > 0)
                {
                    upload.Sha.AppendData(slot.Span[..length]);
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

                await pending;
                if (done)
                {
                    await WriteAsync(upload, current, from, fill, bufferStart);
                    break;
                }

                var aligned = fill / Unit * Unit;
                current[aligned..fill].CopyTo(other);
                pending = WriteAsync(upload, current, from, aligned, bufferStart);
                bufferStart += aligned;
                fill -= aligned;
                from = 0;
                (current, other) = (other, current);
            }

            upload.Length = bufferStart + fill;
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
    }

    /// <summary>Writes buffer[from..to) (buffer[0] at the unit-aligned <paramref name="bufferStart"/>): whole units direct, the partial ones buffered.</summary>
    private static async Task WriteAsync(Upload upload, Memory<byte> buffer, int from, int to, long bufferStart)
    {
        var headEnd = Math.Min(to, (from + Unit - 1) / Unit * Unit);
        var tailStart = Math.Max(headEnd, to / Unit * Unit);
        if (headEnd > from)
        {
            await RandomAccess.WriteAsync(upload.File, buffer[from..headEnd], bufferStart + from);
        }

        if (tailStart > headEnd)
        {
            await RandomAccess.WriteAsync(upload.Direct!, buffer[headEnd..tailStart], bufferStart + headEnd);
        }

        if (to > tailStart)
        {
            await RandomAccess.WriteAsync(upload.File, buffer[tailStart..to], bufferStart + tailStart);
        }
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
