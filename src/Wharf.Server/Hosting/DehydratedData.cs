using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Wharf.Server.Hosting;

/// <summary>
/// Gives back the executable's pages that only the runtime's start read (issue 19, target 4; bench/RESULTS.md, "Idle
/// memory — session 42"). A Native AOT executable stores the runtime's type data compressed (the "dehydrated data",
/// 7.8 MB of the executable's read-only segment) and expands it into anonymous memory before <c>Main</c>; the expansion
/// reads every byte, so the kernel keeps all of those file pages mapped, and nothing reads them again. This unmaps them
/// with <c>madvise(MADV_DONTNEED)</c>: on a private, read-only file mapping that changes nothing but the resident set
/// (the mapping stays, and a later read would fault the same bytes back in from the page cache).
/// </summary>
/// <remarks>
/// The data is found the way the runtime finds it: the ELF section <c>__modules</c> (read from the executable's section
/// headers) holds a pointer to the module's ReadyToRun header, whose section table gives the dehydrated data's start
/// and end (section 207). Every step is checked — an ELF file, the header's signature, the row's size, a range inside
/// one read-only loaded segment — and anything unexpected (the JIT runtime, another format, a stripped section table)
/// releases nothing. Only whole pages inside the range are released.
/// </remarks>
internal static class DehydratedData
{
    private const int PtPhdr = 6;
    private const int PtLoad = 1;
    private const int PfW = 2;
    private const int DehydratedDataSection = 207;
    private const int HasEndPointer = 1;
    private const uint ReadyToRunSignature = 0x00525452; // "RTR"
    private const int MadvDontNeed = 4;

    /// <summary>Releases the pages; the range released (a length of 0 when there was nothing to find or release).</summary>
    public static (nint Start, long Length) Release()
    {
        if (!OperatingSystem.IsLinux() || RuntimeFeature.IsDynamicCodeSupported || nint.Size != 8)
        {
            return default; // the JIT runtime expands nothing
        }

        try
        {
            return Find() is { } range && Madvise(range.Start, (nuint)range.Length, MadvDontNeed) == 0 ? range : default;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EntryPointNotFoundException or DllNotFoundException)
        {
            return default;
        }
    }

    /// <summary>The page-aligned part of the dehydrated data, or null.</summary>
    internal static (nint Start, long Length)? Find()
    {
        // The program headers as loaded: the load bias, and the segments the range must lie in.
        nint phdr = (nint)GetAuxValue(3), phent = (nint)GetAuxValue(4), phnum = (nint)GetAuxValue(5);
        if (phdr == 0 || phent != 56 || phnum is <= 0 or > 256)
        {
            return null;
        }

        nint? bias = null;
        for (var i = 0; i < phnum; i++)
        {
            if (Marshal.ReadInt32(phdr + (i * 56)) == PtPhdr)
            {
                bias = phdr - (nint)Marshal.ReadInt64(phdr + (i * 56) + 16);
            }
        }

        // Nothing is read from memory that a loaded segment does not hold: a bad section table cannot make this fault.
        if (bias is not { } loadBias || ModulesSection() is not var (modulesAddress, modulesSize) || modulesSize is < 8 or > 64
            || !InSegment(phdr, (int)phnum, loadBias, loadBias + modulesAddress, loadBias + modulesAddress + modulesSize, readOnly: false))
        {
            return null;
        }

        var page = Environment.SystemPageSize;
        for (long m = 0; m + 8 <= modulesSize; m += 8)
        {
            var header = Marshal.ReadIntPtr(loadBias + (nint)modulesAddress + (nint)m);
            if (header == 0 || !InSegment(phdr, (int)phnum, loadBias, header, header + 16L, readOnly: false)
                || (uint)Marshal.ReadInt32(header) != ReadyToRunSignature)
            {
                continue;
            }

            int sections = (ushort)Marshal.ReadInt16(header + 12), entrySize = Marshal.ReadByte(header + 14);
            if (entrySize < 24 || sections > 1024 || !InSegment(phdr, (int)phnum, loadBias, header, header + 16L + ((long)sections * entrySize), readOnly: false))
            {
                return null;
            }

            for (var s = 0; s < sections; s++)
            {
                var row = header + 16 + (s * entrySize);
                if (Marshal.ReadInt32(row) != DehydratedDataSection || (Marshal.ReadInt32(row + 4) & HasEndPointer) == 0)
                {
                    continue;
                }

                long start = Marshal.ReadIntPtr(row + 8), end = Marshal.ReadIntPtr(row + 16);
                start = (start + page - 1) & -(long)page;
                end &= -(long)page;
                return end > start && InSegment(phdr, (int)phnum, loadBias, start, end, readOnly: true) ? ((nint)start, end - start) : null;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether [start, end) lies in one loaded segment; with <paramref name="readOnly"/>, one that is not writable, in its
    /// part that the file backs.
    /// </summary>
    private static bool InSegment(nint phdr, int phnum, nint bias, long start, long end, bool readOnly)
    {
        for (var i = 0; i < phnum; i++)
        {
            var p = phdr + (i * 56);
            if (Marshal.ReadInt32(p) != PtLoad || (readOnly && (Marshal.ReadInt32(p + 4) & PfW) != 0))
            {
                continue;
            }

            long from = bias + Marshal.ReadInt64(p + 16), size = Marshal.ReadInt64(p + (readOnly ? 32 : 40)); // p_filesz, p_memsz
            if (start >= from && end <= from + size && end >= start)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The link-time address and size of the section <c>__modules</c>, from the executable's section headers.</summary>
    private static (long Address, long Size)? ModulesSection()
    {
        using var file = File.OpenHandle("/proc/self/exe");
        Span<byte> elf = stackalloc byte[64];
        if (RandomAccess.Read(file, elf, 0) != 64 || !elf[..4].SequenceEqual("\u007fELF"u8) || elf[4] != 2 || elf[5] != 1)
        {
            return null; // not a 64-bit little-endian ELF file
        }

        var shoff = BinaryPrimitives.ReadInt64LittleEndian(elf[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]), shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3E..]);
        if (shoff <= 0 || shentsize != 64 || shnum is 0 or > 256 || shstrndx >= shnum)
        {
            return null;
        }

        var headers = new byte[shnum * 64];
        if (RandomAccess.Read(file, headers, shoff) != headers.Length)
        {
            return null;
        }

        var names = headers.AsSpan(shstrndx * 64, 64);
        long namesOffset = BinaryPrimitives.ReadInt64LittleEndian(names[24..]), namesSize = BinaryPrimitives.ReadInt64LittleEndian(names[32..]);
        if (namesSize is <= 0 or > 65536)
        {
            return null;
        }

        var strings = new byte[namesSize];
        if (RandomAccess.Read(file, strings, namesOffset) != strings.Length)
        {
            return null;
        }

        for (var i = 0; i < shnum; i++)
        {
            var header = headers.AsSpan(i * 64, 64);
            var name = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (name < 0 || name >= strings.Length)
            {
                continue;
            }

            var rest = strings.AsSpan(name);
            var nul = rest.IndexOf((byte)0);
            if (nul >= 0 && rest[..nul].SequenceEqual("__modules"u8))
            {
                return (BinaryPrimitives.ReadInt64LittleEndian(header[16..]), BinaryPrimitives.ReadInt64LittleEndian(header[32..]));
            }
        }

        return null;
    }

    // DllImport, not LibraryImport: the signatures are blittable (and this project has no unsafe code).
    [DllImport("libc", EntryPoint = "getauxval", ExactSpelling = true)]
    private static extern nuint GetAuxValue(nuint type);

    [DllImport("libc", EntryPoint = "madvise", ExactSpelling = true)]
    private static extern int Madvise(nint address, nuint length, int advice);
}
