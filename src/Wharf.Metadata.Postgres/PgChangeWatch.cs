using System.Globalization;
using Npgsql;
using Wharf.Metadata.Relational;

namespace Wharf.Metadata.Postgres;

/// <summary>
/// PostgreSQL's change stamp, with a stated bound instead of SQLite's exactness: a node may serve what it read before
/// another node's commit for at most <see cref="Bound"/> after that commit (docs/metadata.md, "PostgreSQL's read cache").
/// </summary>
/// <remarks>
/// <para>Migration 28's statement triggers send a notification on <see cref="Channel"/> in every transaction that writes
/// what the cached statements read; PostgreSQL delivers notifications at commit, to every session that LISTENs, in the
/// order the transactions committed. One connection of this node's own (not the pool's) listens; each change
/// notification adds one to the generation, which is the stamp with the listener's epoch.</para>
/// <para>The bound comes from heartbeats: every <see cref="Heartbeat"/>, a pooled connection commits
/// <c>pg_notify(channel, 'hb:node:seq')</c>, the time noted before it is sent. When the listener receives its own
/// heartbeat back, every transaction that committed before it was sent has been delivered (commit order), so the
/// generation has counted it. <see cref="TryRead"/> gives a stamp only while the newest heartbeat received was sent
/// less than <see cref="Bound"/> ago: a commit older than that has moved the generation, and entries read before it are
/// not served. Other nodes' heartbeats are not changes. This node's own writes need no wait: <see cref="Database.Writes"/>
/// is part of <see cref="ReadCache"/>'s stamp.</para>
/// <para>A broken listener (an error, or heartbeats committed for <see cref="DeadAfter"/> without one coming back)
/// turns the stamp off at once, reconnects with a backoff and bumps the epoch, so nothing read before is served again;
/// the stamp is on again after a heartbeat sent after the new LISTEN comes back. Heartbeats are sent only while
/// <see cref="TryRead"/> was asked in the last <see cref="IdleAfter"/> (an idle node sends none), with
/// <c>synchronous_commit</c> off (a heartbeat needs no WAL flush). The watch starts at the first <see cref="TryRead"/>
/// after <see cref="Allow"/> (the store calls it after migrating), so a command that never reads a manifest or a blob
/// opens no listener.</para>
/// </remarks>
internal sealed class PgChangeWatch : IChangeWatch, IAsyncDisposable
{
    internal const string Channel = "wharf_changes";
    internal static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromMilliseconds(20);
    internal static readonly TimeSpan DefaultBound = TimeSpan.FromMilliseconds(100);
    internal static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(2);

    private const int Unarmed = 0;
    private const int Allowed = 1;
    private const int Running = 2;
    private const int Closed = 3;
    private const int Ring = 64;
    private const long NoHeartbeat = long.MinValue;

    private readonly string _listenerConnectionString;
    private readonly NpgsqlDataSource _pool;
    private readonly TimeProvider _time;
    private readonly long _boundTicks;
    private readonly long _demandTicks;
    private readonly string _heartbeatPrefix = "hb:" + Guid.NewGuid().ToString("N") + ":";
    private readonly long[] _sentAt = new long[Ring];
    private readonly long[] _sentSeq = new long[Ring];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private int _state;
    private long _generation;
    private long _epoch;
    private long _confirmedSent = NoHeartbeat;
    private long _confirmedAt;
    private long _lastCommittedAt;
    private long _listenSince = long.MaxValue;
    private long _demand;
    private long _seq;
    private int _listenerPid;
    private Task? _listener;
    private Task? _heartbeats;

    public PgChangeWatch(string connectionString, NpgsqlDataSource pool, TimeProvider time, TimeSpan? heartbeat = null, TimeSpan? bound = null)
    {
        _listenerConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            Multiplexing = false,
            ApplicationName = "wharf-changes",
        }.ConnectionString;
        _pool = pool;
        _time = time;
        Heartbeat = heartbeat ?? DefaultHeartbeat;
        Bound = bound ?? DefaultBound;
        if (Heartbeat >= Bound)
        {
            throw new ArgumentException("The heartbeat must be shorter than the bound.", nameof(heartbeat));
        }

        _boundTicks = (long)(Bound.TotalSeconds * time.TimestampFrequency);
        _demandTicks = time.TimestampFrequency / 100;
        _demand = time.GetTimestamp();
    }

    /// <summary>How often a heartbeat is sent while the cache is in use.</summary>
    public TimeSpan Heartbeat { get; }

    /// <summary>How long after another node's commit this node may still serve what it read before.</summary>
    public TimeSpan Bound { get; }

    /// <summary>True while the listener's connection is up and listening (for tests).</summary>
    internal bool IsListening => Volatile.Read(ref _listenerPid) != 0;

    /// <summary>The listener's server process id, 0 when it has none (for tests: <c>pg_terminate_backend</c>).</summary>
    internal int ListenerPid => Volatile.Read(ref _listenerPid);

    /// <summary>Change notifications received (for tests).</summary>
    internal long Generation => Volatile.Read(ref _generation);

    /// <summary>Listens begun (for tests): each new one drops every stamp before it.</summary>
    internal long Epoch => Volatile.Read(ref _epoch);

    /// <summary>While true, no heartbeat is sent (for tests of the bound).</summary>
    internal bool HeartbeatsPaused { get; set; }

    /// <summary>Lets the watch start at the next <see cref="TryRead"/>: the schema (and its triggers) is in place.</summary>
    public void Allow() => Interlocked.CompareExchange(ref _state, Allowed, Unarmed);

    public bool TryRead(out ChangeStamp stamp)
    {
        stamp = default;
        var now = _time.GetTimestamp();
        if (now - Volatile.Read(ref _demand) > _demandTicks)
        {
            Volatile.Write(ref _demand, now);
        }

        var state = Volatile.Read(ref _state);
        if (state != Running)
        {
            if (state == Allowed)
            {
                Start();
            }

            return false;
        }

        // The newest heartbeat first, then the generation: every change delivered before that heartbeat came back has
        // been counted in what is read next.
        var confirmed = Volatile.Read(ref _confirmedSent);
        if (confirmed == NoHeartbeat || now - confirmed >= _boundTicks || Volatile.Read(ref _listenerPid) == 0)
        {
            return false;
        }

        stamp = new ChangeStamp((ulong)Volatile.Read(ref _generation), (ulong)Volatile.Read(ref _epoch), 0, 0, 0, 0);
        return Volatile.Read(ref _listenerPid) != 0;
    }

    private void Start()
    {
        lock (_lock)
        {
            if (Interlocked.CompareExchange(ref _state, Running, Allowed) != Allowed)
            {
                return;
            }

            var token = _stop.Token;
            _listener = Task.Run(() => ListenAsync(token), CancellationToken.None);
            _heartbeats = Task.Run(() => SendHeartbeatsAsync(token), CancellationToken.None);
        }
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(50);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenerConnectionString);
                connection.Notification += (_, e) => Received(e.Payload);
                await connection.OpenAsync(cancellationToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                // Everything committed from here on is delivered; whatever was missed before is dropped with the epoch,
                // and only a heartbeat sent from now on turns the stamp on.
                var since = _time.GetTimestamp();
                Volatile.Write(ref _listenSince, since);
                Volatile.Write(ref _confirmedAt, since);
                Interlocked.Increment(ref _epoch);
                Volatile.Write(ref _listenerPid, connection.ProcessID);
                backoff = TimeSpan.FromMilliseconds(50);
                while (true)
                {
                    await connection.WaitAsync(TimeSpan.FromMilliseconds(250), cancellationToken);
                    if (_time.GetElapsedTime(Volatile.Read(ref _confirmedAt), Volatile.Read(ref _lastCommittedAt)) > DeadAfter)
                    {
                        // Heartbeats commit but none comes back: the connection is gone without an error.
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // Off below, then again after the backoff.
            }
            finally
            {
                Off();
            }

            try
            {
                await Task.Delay(backoff, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private void Off()
    {
        Volatile.Write(ref _listenerPid, 0);
        Volatile.Write(ref _listenSince, long.MaxValue);
        Volatile.Write(ref _confirmedSent, NoHeartbeat);
        Interlocked.Increment(ref _epoch);
    }

    private void Received(string payload)
    {
        if (!payload.StartsWith("hb:", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _generation);
            return;
        }

        // Another node's heartbeat is not a change; this node's own confirms what it was sent after.
        if (!payload.StartsWith(_heartbeatPrefix, StringComparison.Ordinal)
            || !long.TryParse(payload.AsSpan(_heartbeatPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return;
        }

        var slot = (int)(seq % Ring);
        var sentAt = Volatile.Read(ref _sentAt[slot]);
        if (Volatile.Read(ref _sentSeq[slot]) != seq || sentAt < Volatile.Read(ref _listenSince))
        {
            return;
        }

        Volatile.Write(ref _confirmedAt, _time.GetTimestamp());
        if (sentAt > Volatile.Read(ref _confirmedSent))
        {
            Volatile.Write(ref _confirmedSent, sentAt);
        }
    }

    private async Task SendHeartbeatsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Heartbeat, _time, cancellationToken);
                var now = _time.GetTimestamp();
                if (HeartbeatsPaused || Volatile.Read(ref _listenerPid) == 0 || _time.GetElapsedTime(Volatile.Read(ref _demand), now) > IdleAfter)
                {
                    continue;
                }

                var seq = ++_seq;
                var slot = (int)(seq % Ring);
                Volatile.Write(ref _sentSeq[slot], -1);
                Volatile.Write(ref _sentAt[slot], now);
                Volatile.Write(ref _sentSeq[slot], seq);

                // Its own transaction, committed without waiting for the WAL flush: set_config(..., true) lasts to the
                // end of the transaction, which is when synchronous_commit is read.
                await using var command = _pool.CreateCommand("SELECT set_config('synchronous_commit', 'off', true), pg_notify(@channel, @payload)");
                command.Parameters.AddWithValue("channel", Channel);
                command.Parameters.AddWithValue("payload", _heartbeatPrefix + seq.ToString(CultureInfo.InvariantCulture));
                await command.ExecuteNonQueryAsync(cancellationToken);
                Volatile.Write(ref _lastCommittedAt, _time.GetTimestamp());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                // The database is unreachable: no heartbeat comes back, so the stamp goes off within the bound.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task?[] tasks;
        lock (_lock)
        {
            if (Interlocked.Exchange(ref _state, Closed) == Closed)
            {
                return;
            }

            tasks = [_listener, _heartbeats];
        }

        await _stop.CancelAsync();
        foreach (var task in tasks)
        {
            if (task is not null)
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        Off();
        _stop.Dispose();
    }
}
