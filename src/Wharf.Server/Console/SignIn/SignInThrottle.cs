using Microsoft.Extensions.Options;
using Wharf.Server.Hosting;
using Wharf.Server.Public.Limits;

namespace Wharf.Server.WebConsole.SignIn;

/// <summary>
/// Failed sign-ins counted per name tried (account and user, or access key id) and per source address:
/// after <c>Console:SignInFailures</c> failures within <c>Console:SignInWindow</c> of the first, further
/// attempts are refused until the window ends, without checking the password (so guessing gains nothing,
/// and the refusal costs no hashing). Bounded memory: the least recently used counters go first.
/// Per node: each node of a cluster counts its own.
/// </summary>
internal sealed class SignInThrottle(TimeProvider time, IOptions<WharfOptions> options)
{
    /// <summary>Counters kept at most (names and addresses together).</summary>
    public const int Capacity = 20_000;

    private readonly BoundedLru<string, Window> windows = new(Capacity, StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>How long until the next attempt may be checked, or null when it may be now.</summary>
    public TimeSpan? RetryAfter(string name, string? source)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            var wait = Wait(NameKey(name), now);
            return source is null ? wait : Max(wait, Wait(SourceKey(source), now));
        }
    }

    public void Failed(string name, string? source)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            Count(NameKey(name), now);
            if (source is not null)
            {
                Count(SourceKey(source), now);
            }
        }
    }

    /// <summary>A good sign-in clears the name's failures (not the address's: one good account does not vouch for the guesses).</summary>
    public void Succeeded(string name)
    {
        lock (gate)
        {
            windows.Remove(NameKey(name));
        }
    }

    private TimeSpan? Wait(string key, DateTimeOffset now)
    {
        var console = options.Value.Console;
        if (!windows.TryGet(key, out var window))
        {
            return null;
        }

        var ends = window.Start + console.SignInWindow;
        if (now >= ends)
        {
            windows.Remove(key);
            return null;
        }

        return window.Failures >= console.SignInFailures ? ends - now : null;
    }

    private void Count(string key, DateTimeOffset now)
    {
        var window = windows.TryGet(key, out var current) && now < current.Start + options.Value.Console.SignInWindow
            ? current with { Failures = current.Failures + 1 }
            : new Window(now, 1);
        windows.Set(key, window);
    }

    private static TimeSpan? Max(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static string NameKey(string name) => "n:" + name;

    private static string SourceKey(string source) => "s:" + source;

    private sealed record Window(DateTimeOffset Start, int Failures);
}
