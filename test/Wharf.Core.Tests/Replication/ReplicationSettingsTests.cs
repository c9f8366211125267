using Wharf.Core.Metadata;
using Wharf.Core.Replication;

namespace Wharf.Core.Tests.Replication;

/// <summary>How a failed copy goes on: retried with doubling, capped delays while the retry window lasts, then FAILED; other failures at once.</summary>
public sealed class ReplicationSettingsTests
{
    private static readonly DateTimeOffset Armed = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly ReplicationSettings Settings = new(4, TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));

    private static ReplicationException Unreachable => new("DESTINATION_UNAVAILABLE", "connection refused", retryable: true);

    [Fact]
    public void Retry_delays_double_from_the_base_up_to_the_cap()
    {
        Assert.Equal(
            [5, 10, 20, 40, 60, 60],
            Enumerable.Range(0, 6).Select(a => Settings.RetryDelay(a).TotalSeconds));
        Assert.Equal(TimeSpan.FromMinutes(1), Settings.RetryDelay(int.MaxValue));
    }

    [Fact]
    public void A_retryable_failure_stays_in_progress_with_its_code_and_reason_until_the_retry_window_is_spent_then_fails()
    {
        var now = Armed.AddSeconds(30);
        var retry = Settings.AfterFailure(Unreachable, 2, Armed, now);
        Assert.Equal((ReplicationStatuses.InProgress, "DESTINATION_UNAVAILABLE", now.AddSeconds(20)), (retry.Status, retry.FailureCode, retry.NextAttemptAt));
        Assert.Contains("connection refused", retry.Reason, StringComparison.Ordinal);

        // The next retry would come after the window (armed + 10 min): this failure is final.
        var late = Armed.AddMinutes(9.5);
        var final = Settings.AfterFailure(Unreachable, 7, Armed, late);
        Assert.Equal((ReplicationStatuses.Failed, "DESTINATION_UNAVAILABLE", late), (final.Status, final.FailureCode, final.NextAttemptAt));
        Assert.StartsWith("Gave up after 8 attempts", final.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_not_worth_retrying_fails_at_once()
    {
        var refused = Settings.AfterFailure(new ReplicationException(ReplicationFailureCodes.NotAuthorized, "no policy", retryable: false), 0, Armed, Armed);
        Assert.Equal((ReplicationStatuses.Failed, ReplicationFailureCodes.NotAuthorized, "no policy"), (refused.Status, refused.FailureCode, refused.Reason));
    }
}
