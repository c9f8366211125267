namespace Wharf.Server.Tests.Infrastructure;

/// <summary>
/// The machine's clock, moved forward by <see cref="Advance"/>. For tests that shift the server's time
/// while a real client (the AWS CLI, boto3) signs with the machine's clock: the skew between them is
/// exactly what the test set, however long the run takes on a loaded machine (a clock frozen at the
/// start would drift behind the client's by the test's own duration).
/// </summary>
internal sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
