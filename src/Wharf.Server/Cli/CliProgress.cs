using System.Globalization;
using Spectre.Console;
using Wharf.Core.Primitives;

namespace Wharf.Server.Cli;

/// <summary>
/// Progress of a long command on stderr, so that stdout stays the result (and <c>--json</c>'s one
/// document): at a terminal, Spectre.Console bars with a percentage and the time left, one per phase;
/// otherwise (redirected, as in scripts, CI and the tests) plain lines — one as each phase starts, one
/// per tenth done when the size is known (with the time left), one every few seconds when it is not,
/// and one as each phase ends. The work reports <see cref="WorkProgress"/> through an
/// <see cref="IProgress{T}"/> and knows nothing of how it is drawn; a later long command (a backfill)
/// takes the same reporter.
/// </summary>
internal static class CliProgress
{
    /// <summary>Runs <paramref name="work"/> with a reporter drawing on stderr; <paramref name="title"/> names the command (e.g. <c>wharf gc</c>).</summary>
    public static async Task<T> RunAsync<T>(string title, Func<IProgress<WorkProgress>, Task<T>> work)
    {
        if (InteractiveConsole() is { } console)
        {
            return await RunInteractiveAsync(console, title, work);
        }

        var plain = new PlainProgress(title, Console.Error, TimeProvider.System);
        var result = await work(plain);
        plain.Complete();
        return result;
    }

    /// <summary>Draws bars on <paramref name="console"/> while <paramref name="work"/> runs (a test gives a recording console).</summary>
    public static Task<T> RunInteractiveAsync<T>(IAnsiConsole console, string title, Func<IProgress<WorkProgress>, Task<T>> work) =>
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bars = new BarProgress(context, title);
                var result = await work(bars);
                bars.Complete();
                return result;
            });

    /// <summary>A console on stderr when it is a terminal a person watches; null when redirected or not interactive.</summary>
    private static IAnsiConsole? InteractiveConsole()
    {
        if (Console.IsErrorRedirected)
        {
            return null;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi ? console : null;
    }

    /// <summary>One bar per phase; a phase whose size is unknown shows a count and an indeterminate bar.</summary>
    private sealed class BarProgress(ProgressContext context, string title) : IProgress<WorkProgress>
    {
        private readonly Lock gate = new();
        private ProgressTask? task;
        private string? phase;

        public void Report(WorkProgress value)
        {
            lock (gate)
            {
                if (task is null || value.Phase != phase)
                {
                    Finish();
                    phase = value.Phase;
                    task = context.AddTask(Markup.Escape($"{title}: {value.Phase}"), autoStart: true, maxValue: Math.Max(1, value.Total ?? 1));
                }

                task.IsIndeterminate = value.Total is null;
                if (value.Total is { } total)
                {
                    task.MaxValue = Math.Max(1, total);
                    task.Value = value.Done;
                }
                else
                {
                    task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{title}: {value.Phase} ({value.Done})"));
                }
            }
        }

        public void Complete()
        {
            lock (gate)
            {
                Finish();
            }
        }

        private void Finish()
        {
            if (task is not null)
            {
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }
    }
}

/// <summary>
/// Progress as plain lines (see <see cref="CliProgress"/>): <c>wharf gc: deleting unreferenced blobs: 40/400 (10%), about 12 s left</c>.
/// Thread-safe; a report costs a comparison unless it crosses a tenth or the interval.
/// </summary>
internal sealed class PlainProgress(string title, TextWriter output, TimeProvider time) : IProgress<WorkProgress>
{
    /// <summary>How often a phase of unknown size says how far it has come.</summary>
    public static readonly TimeSpan UnknownSizeInterval = TimeSpan.FromSeconds(5);

    private readonly Lock gate = new();
    private string? phase;
    private long done;
    private long? total;
    private int tenths;
    private long phaseStarted;
    private long lastLine;

    public void Report(WorkProgress value)
    {
        lock (gate)
        {
            if (value.Phase != phase)
            {
                EndPhase();
                (phase, done, total, tenths) = (value.Phase, 0, value.Total, 0);
                phaseStarted = lastLine = time.GetTimestamp();
                if (value.Total is > 0)
                {
                    // A phase of known size says so as it starts; any phase says how it ended.
                    Write(string.Create(CultureInfo.InvariantCulture, $"{title}: {value.Phase}: 0/{value.Total}"));
                }
            }

            (done, total) = (value.Done, value.Total);
            if (total is { } known && known > 0)
            {
                var reached = (int)Math.Min(10, done * 10 / known);
                if (reached > tenths && done < known)
                {
                    tenths = reached;
                    var elapsed = time.GetElapsedTime(phaseStarted);
                    var left = TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(known - done) / Math.Max(1, done)));
                    Write(string.Create(CultureInfo.InvariantCulture, $"{title}: {phase}: {done}/{known} ({reached * 10}%), about {Duration(left)} left"));
                }
            }
            else if (time.GetElapsedTime(lastLine) >= UnknownSizeInterval)
            {
                Write(string.Create(CultureInfo.InvariantCulture, $"{title}: {phase}: {done} so far"));
            }
        }
    }

    /// <summary>Ends the last phase with its line.</summary>
    public void Complete()
    {
        lock (gate)
        {
            EndPhase();
            phase = null;
        }
    }

    /// <summary>A short duration for people: <c>0.4 s</c>, <c>12 s</c>, <c>3 min 20 s</c>, <c>2 h 5 min</c>, <c>15 min</c>.</summary>
    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 10 } => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, span.TotalSeconds):0.0} s"),
        { TotalSeconds: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds} s"),
        { TotalMinutes: < 60 } => span.Seconds == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min {span.Seconds} s"),
        _ => span.Minutes == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h {span.Minutes} min"),
    };

    private void EndPhase()
    {
        if (phase is not null)
        {
            var elapsed = Duration(time.GetElapsedTime(phaseStarted));
            Write(total is { } known
                ? string.Create(CultureInfo.InvariantCulture, $"{title}: {phase}: {done}/{known} ({(known == 0 ? 100 : done * 100 / known)}%) in {elapsed}")
                : string.Create(CultureInfo.InvariantCulture, $"{title}: {phase}: {done} done in {elapsed}"));
        }
    }

    private void Write(string line)
    {
        output.WriteLine(line);
        lastLine = time.GetTimestamp();
    }
}
