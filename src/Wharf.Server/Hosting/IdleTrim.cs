using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace Wharf.Server.Hosting;

/// <summary>
/// Requests arrived and in flight, counted by <see cref="RequestRecords"/> for <see cref="IdleTrim"/>: one atomic add
/// when a request arrives and one when it ends, on one 64-bit word (arrivals in the high half, requests in flight in the
/// low half), so that the idle check reads both at once. Scrapes of <c>/metrics</c> and health probes are not counted:
/// a monitor polling every few seconds must not keep the server from trimming, nor make it trim after every poll.
/// </summary>
internal sealed class RequestActivity
{
    private const long Arrival = (1L << 32) + 1;

    // Alone on its cache line: every request on every core writes it.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Padded
    {
        [FieldOffset(64)]
        public long Value;
    }

    private Padded state;

    /// <summary>Whether a request to this surface (<see cref="RequestRecord.Surface"/>) counts as activity.</summary>
    public static bool Counts(string surface) => surface is not ("metrics" or "health");

    public void Arrived() => Interlocked.Add(ref state.Value, Arrival);

    public void Ended() => Interlocked.Decrement(ref state.Value);

    /// <summary>Arrivals (high half) and requests in flight (low half), as one value: unchanged means nothing arrived.</summary>
    public long Snapshot => Volatile.Read(ref state.Value);

    public static int InFlight(long snapshot) => (int)(snapshot & 0xFFFF_FFFF);
}

/// <summary>
/// Gives memory back once the server is idle (issue 19, target 4; bench/RESULTS.md, "Idle memory — session 40"). Under
/// load the GC keeps the space it grew (its committed regions are kept for the next burst) and nothing collects or
/// decommits while no request allocates, so a server that took a burst of pushes stays at the burst's footprint. After
/// <see cref="WharfOptions.IdleTrimAfter"/> with no request arriving or in flight, this runs one full, compacting
/// collection in the runtime's aggressive mode (which decommits the free regions), then glibc's <c>malloc_trim</c>
/// (the native heap's free pages: SQLite's page cache, OpenSSL). Once per idle period: the next trim waits for a request
/// and a new quiet period. It checks four times per period on <see cref="TimeProvider"/>'s clock, so a trim comes between
/// one period and a period and a quarter after the last request ended. Zero turns it off.
/// </summary>
internal sealed partial class IdleTrim(RequestActivity activity, TimeProvider time, IOptions<WharfOptions> options, ILogger<IdleTrim> logger) : BackgroundService
{
    /// <summary>Checks per quiet period.</summary>
    internal const int ChecksPerPeriod = 4;

    private long armed;
    private long trims;

    /// <summary>
    /// The check timers armed so far: 1 once the first is, then one more after each check (a test that drives a fake
    /// clock waits for it before advancing the clock again, else the next timer would count from the advanced time).
    /// </summary>
    internal long Armed => Volatile.Read(ref armed);

    /// <summary>Trims run by this server.</summary>
    internal long Trims => Volatile.Read(ref trims);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var quiet = options.Value.IdleTrimAfter;
        if (quiet <= TimeSpan.Zero)
        {
            return;
        }

        var interval = quiet / ChecksPerPeriod;
        var seen = activity.Snapshot;
        var quietSince = time.GetTimestamp();
        long? trimmedAt = null; // the snapshot at the last trim: the start's own work counts as activity
        var next = Task.Delay(interval, time, stoppingToken);
        Interlocked.Increment(ref armed);
        while (true)
        {
            try
            {
                await next;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            var now = activity.Snapshot;
            var trim = false;
            if (now != seen || RequestActivity.InFlight(now) > 0)
            {
                seen = now;
                quietSince = time.GetTimestamp();
            }
            // Half a check's slack: timers count whole milliseconds and may fire a little before the stopwatch's due time,
            // and four checks a quarter-period apart must make a quiet period, not wait for a fifth.
            else if (now != trimmedAt && time.GetElapsedTime(quietSince) >= quiet - (interval / 2))
            {
                trimmedAt = now;
                trim = true;
            }

            if (trim)
            {
                Trim();
            }

            next = Task.Delay(interval, time, stoppingToken);
            Interlocked.Increment(ref armed);
        }
    }

    private void Trim()
    {
        var started = Stopwatch.GetTimestamp();
        var before = logger.IsEnabled(LogLevel.Debug) ? Resident.Read() : default;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var collected = logger.IsEnabled(LogLevel.Debug) ? Resident.Read() : default;
        var trimmed = NativeHeap.Trim();
        Interlocked.Increment(ref trims);
        Telemetry.WharfMetrics.IdleTrims.Add(1);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            var after = Resident.Read();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var committed = GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0;
            LogTrimmed(logger, elapsed, before.Anon / 1024.0, collected.Anon / 1024.0, after.Anon / 1024.0, trimmed, committed);
        }
    }

    [LoggerMessage(EventId = WharfEventId.IdleTrimmed, Level = LogLevel.Debug, Message = "Idle trim in {ElapsedMs:0.0} ms: anonymous resident memory {Before:0.0} MiB, {Collected:0.0} after the collection, {After:0.0} after malloc_trim ({Trimmed}); GC committed {Committed:0.0} MiB")]
    private static partial void LogTrimmed(ILogger logger, double elapsedMs, double before, double collected, double after, string trimmed, double committed);

    /// <summary><c>RssAnon</c> and <c>RssFile</c> of /proc/self/status in KiB (zero where there is none), for the debug line.</summary>
    private readonly record struct Resident(long Anon, long File)
    {
        public static Resident Read()
        {
            try
            {
                long anon = 0, file = 0;
                foreach (var line in System.IO.File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                    {
                        anon = Kib(line);
                    }
                    else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
                    {
                        file = Kib(line);
                    }
                }

                return new Resident(anon, file);
            }
            catch (IOException)
            {
                return default;
            }
        }

        private static long Kib(string line) =>
            long.TryParse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : 0;
    }
}

/// <summary>glibc's <c>malloc_trim(0)</c>: returns the free pages of every malloc arena to the kernel. Absent on musl and other systems.</summary>
internal static class NativeHeap
{
    private static bool unavailable;

    /// <summary>Trims, and says what came of it (for the debug line).</summary>
    public static string Trim()
    {
        if (unavailable || !OperatingSystem.IsLinux())
        {
            return "not available";
        }

        try
        {
            return MallocTrim(0) != 0 ? "pages released" : "nothing to release";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            unavailable = true;
            return "not available";
        }
    }

    // DllImport, not LibraryImport: the signature is blittable, so no marshalling code (and no unsafe code in this project).
    [DllImport("libc", EntryPoint = "malloc_trim", ExactSpelling = true)]
    private static extern int MallocTrim(nuint pad);
}

internal static class IdleTrimRegistration
{
    public static IServiceCollection AddIdleTrim(this IServiceCollection services)
    {
        services.AddSingleton<RequestActivity>();
        services.AddSingleton<IdleTrim>();
        services.AddHostedService(sp => sp.GetRequiredService<IdleTrim>());
        return services;
    }
}
