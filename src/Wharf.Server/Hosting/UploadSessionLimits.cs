using Microsoft.Extensions.Options;
using Wharf.Core.Errors;
using Wharf.Core.Metadata;
using Wharf.Core.Primitives;
using Wharf.Core.Security;

namespace Wharf.Server.Hosting;

/// <summary>
/// How many upload sessions one caller holds open in one registry, counted on this node
/// (<see cref="LimitOptions.MaxOpenUploadsPerCaller"/>): staged bytes live until a session ends or
/// expires, so an unbounded number of them is a disk and memory cost anyone with push rights could
/// impose. Sessions this node started are remembered until they end here, expire, or — when they ended
/// on another node — until the caller reaches the limit and the store says they are gone.
/// </summary>
internal sealed class UploadSessionLimits(IOptions<WharfOptions> options, RequestLimits requests, IMetadataStore store, TimeProvider time)
{
    /// <summary>A caller at the limit has its sessions looked up in the store at most this often.</summary>
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often expired sessions of every caller are forgotten.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly Lock gate = new();
    private readonly Dictionary<string, CallerSessions> callers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> owners = new(StringComparer.Ordinal);
    private DateTimeOffset nextSweep = DateTimeOffset.MinValue;

    private int Limit => options.Value.Limits.MaxOpenUploadsPerCaller;

    /// <summary>
    /// A place for one more session of the caller, to be filled with <see cref="UploadSlot.Opened"/> once the
    /// session exists (disposing an unfilled slot gives the place back); throws <see cref="WharfErrorCode.TooManyRequests"/>
    /// when the caller holds the limit.
    /// </summary>
    public async ValueTask<UploadSlot> AdmitAsync(HttpContext context, Caller caller, RegistryKey registry, CancellationToken cancellationToken)
    {
        if (Limit <= 0)
        {
            return UploadSlot.Unlimited;
        }

        var key = $"{registry.Account}/{registry.Region}|{requests.CallerKey(context, caller)}";
        if (TryReserve(key, out var recheck))
        {
            return new UploadSlot(this, key);
        }

        if (recheck.Count > 0)
        {
            foreach (var id in recheck)
            {
                if (!await store.Uploads.ExistsAsync(id, cancellationToken))
                {
                    Ended(id);
                }
            }

            if (TryReserve(key, out _))
            {
                return new UploadSlot(this, key);
            }
        }

        throw new WharfException(
            WharfErrorCode.TooManyRequests,
            $"Too many upload sessions open: {Limit} in this registry (setting Limits:MaxOpenUploadsPerCaller). Complete or cancel one, or wait for them to expire.")
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
        };
    }

    /// <summary>The session ended (completed or cancelled) on this node.</summary>
    public void Ended(string uploadId)
    {
        lock (gate)
        {
            if (owners.Remove(uploadId, out var key) && callers.TryGetValue(key, out var sessions))
            {
                sessions.Open.Remove(uploadId);
                if (sessions.IsEmpty)
                {
                    callers.Remove(key);
                }
            }
        }
    }

    private bool TryReserve(string key, out List<string> recheck)
    {
        recheck = [];
        var now = time.GetUtcNow();
        lock (gate)
        {
            if (now >= nextSweep)
            {
                nextSweep = now + SweepInterval;
                foreach (var (owner, open) in callers.ToList())
                {
                    ForgetExpired(open, now);
                    if (open.IsEmpty)
                    {
                        callers.Remove(owner);
                    }
                }
            }

            if (!callers.TryGetValue(key, out var sessions))
            {
                callers[key] = sessions = new CallerSessions();
            }

            if (sessions.Open.Count + sessions.Pending >= Limit)
            {
                ForgetExpired(sessions, now);
            }

            if (sessions.Open.Count + sessions.Pending < Limit)
            {
                sessions.Pending++;
                return true;
            }

            if (now >= sessions.NextRecheck)
            {
                sessions.NextRecheck = now + RecheckInterval;
                recheck = [.. sessions.Open.Keys];
            }

            return false;
        }
    }

    private void ForgetExpired(CallerSessions sessions, DateTimeOffset now)
    {
        foreach (var (id, expiresAt) in sessions.Open.ToList())
        {
            if (expiresAt <= now)
            {
                sessions.Open.Remove(id);
                owners.Remove(id);
            }
        }
    }

    private void Fill(string key, string uploadId)
    {
        lock (gate)
        {
            if (!callers.TryGetValue(key, out var sessions))
            {
                callers[key] = sessions = new CallerSessions { Pending = 1 };
            }

            sessions.Pending--;
            sessions.Open[uploadId] = time.GetUtcNow() + options.Value.Uploads.Expiry;
            owners[uploadId] = key;
        }
    }

    private void Release(string key)
    {
        lock (gate)
        {
            if (callers.TryGetValue(key, out var sessions))
            {
                sessions.Pending--;
                if (sessions.IsEmpty)
                {
                    callers.Remove(key);
                }
            }
        }
    }

    private sealed class CallerSessions
    {
        public Dictionary<string, DateTimeOffset> Open { get; } = new(StringComparer.Ordinal);

        public int Pending { get; set; }

        public DateTimeOffset NextRecheck { get; set; }

        public bool IsEmpty => Open.Count == 0 && Pending <= 0;
    }

    /// <summary>A reserved place for one upload session.</summary>
    internal sealed class UploadSlot(UploadSessionLimits? limits, string key) : IDisposable
    {
        public static readonly UploadSlot Unlimited = new(null, string.Empty);

        private bool done;

        /// <summary>The session exists: it now counts until it ends.</summary>
        public void Opened(string uploadId)
        {
            if (limits is not null && !done)
            {
                done = true;
                limits.Fill(key, uploadId);
            }
        }

        public void Dispose()
        {
            if (limits is not null && !done)
            {
                done = true;
                limits.Release(key);
            }
        }
    }
}
