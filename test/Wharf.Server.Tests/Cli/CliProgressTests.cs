using Microsoft.Extensions.Time.Testing;
using Spectre.Console.Testing;
using Wharf.Core.Primitives;
using Wharf.Server.Cli;

namespace Wharf.Server.Tests.Cli;

/// <summary>How progress is drawn: plain lines (redirected output) and Spectre.Console bars (a terminal, recorded by a test console).</summary>
public sealed class CliProgressTests
{
    [Fact]
    public void Plain_lines_come_at_each_tenth_with_the_time_left_and_once_per_phase_end()
    {
        var time = new FakeTimeProvider();
        var output = new StringWriter();
        var progress = new PlainProgress("wharf check", output, time);

        progress.Report(new WorkProgress("checking referenced blobs", 0, 1000));
        for (var done = 1; done <= 1000; done++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            progress.Report(new WorkProgress("checking referenced blobs", done, 1000));
        }

        progress.Report(new WorkProgress("second phase", 0));
        progress.Report(new WorkProgress("second phase", 7));
        progress.Complete();

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            [
                "wharf check: checking referenced blobs: 0/1000",
                "wharf check: checking referenced blobs: 100/1000 (10%), about 9.0 s left",
                "wharf check: checking referenced blobs: 200/1000 (20%), about 8.0 s left",
                "wharf check: checking referenced blobs: 300/1000 (30%), about 7.0 s left",
                "wharf check: checking referenced blobs: 400/1000 (40%), about 6.0 s left",
                "wharf check: checking referenced blobs: 500/1000 (50%), about 5.0 s left",
                "wharf check: checking referenced blobs: 600/1000 (60%), about 4.0 s left",
                "wharf check: checking referenced blobs: 700/1000 (70%), about 3.0 s left",
                "wharf check: checking referenced blobs: 800/1000 (80%), about 2.0 s left",
                "wharf check: checking referenced blobs: 900/1000 (90%), about 1.0 s left",
                "wharf check: checking referenced blobs: 1000/1000 (100%) in 10 s",
                "wharf check: second phase: 7 done in 0.0 s",
            ],
            lines);
    }

    [Fact]
    public void A_phase_of_unknown_size_says_how_far_it_has_come_every_few_seconds()
    {
        var time = new FakeTimeProvider();
        var output = new StringWriter();
        var progress = new PlainProgress("wharf gc", output, time);

        for (var done = 0; done <= 120; done++)
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            progress.Report(new WorkProgress("deleting unreferenced blobs", done));
        }

        progress.Complete();

        Assert.Equal(
            [
                "wharf gc: deleting unreferenced blobs: 50 so far",
                "wharf gc: deleting unreferenced blobs: 100 so far",
                "wharf gc: deleting unreferenced blobs: 120 done in 12 s",
            ],
            output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task At_a_terminal_each_phase_is_a_bar_that_ends_full()
    {
        var console = new TestConsole().Interactive().EmitAnsiSequences();
        console.Profile.Width = 120;

        var result = await CliProgress.RunInteractiveAsync(console, "wharf vulndb import", progress =>
        {
            progress.Report(new WorkProgress("reading advisories", 0, 40));
            for (var i = 1; i <= 40; i++)
            {
                progress.Report(new WorkProgress("reading advisories", i, 40));
            }

            progress.Report(new WorkProgress("counting", 3));
            return Task.FromResult(42);
        });

        Assert.Equal(42, result);
        var screen = console.Output;
        Assert.Contains("wharf vulndb import: reading advisories", screen, StringComparison.Ordinal);
        Assert.Contains("100%", screen, StringComparison.Ordinal);
        Assert.Contains("wharf vulndb import: counting (3)", screen, StringComparison.Ordinal);
    }
}

/// <summary><c>wharf status</c>'s pieces that need no process: where the metadata is (never a password), and the tables at a terminal.</summary>
public sealed class StatusOutputTests
{
    [Fact]
    public void The_postgres_location_names_host_port_and_database_never_the_user_or_password()
    {
        var options = new Wharf.Server.Hosting.WharfOptions();
        options.Metadata.Backend = Wharf.Server.Hosting.MetadataBackend.Postgres;
        options.Metadata.ConnectionString = "Host=db.internal;Port=5433;Username=wharf;Password=s3cr3t-pw;Database=registry";

        var location = StatusCommand.DescribeMetadata(options);

        Assert.Equal("db.internal:5433/registry", location);
        options.Metadata.ConnectionString = "Host=db;Password='unterminated";
        Assert.DoesNotContain("unterminated", StatusCommand.DescribeMetadata(options), StringComparison.Ordinal);
    }

    [Fact]
    public void At_a_terminal_the_status_is_drawn_as_tables_with_the_same_rows()
    {
        var report = new StatusReport(
            "0.1.0",
            "0123456789abcdef0123456789abcdef01234567",
            new ServerStatus(null, false, false, "nothing answers at http://127.0.0.1:5000"),
            new BackendStatus("sqlite", "/data/wharf.db", true, null),
            new BackendStatus("filesystem", "/data/blobs", true, null),
            [new JobStatus("gc", 1800, new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero), 1500, false, "", "IOException: disk full", null, "node/1/x")],
            null,
            new StatusCounts(3, 5, 8, 3 * 1024 * 1024 / 2, 1, 0, 2),
            null);
        var console = new TestConsole();
        console.Profile.Width = 200;

        StatusOutput.WriteTables(console, report, StatusOutput.Sections(report));

        var screen = console.Output;
        Assert.Contains("wharf 0.1.0 (commit 0123456789ab)", screen, StringComparison.Ordinal);
        Assert.Contains("down", screen, StringComparison.Ordinal);
        Assert.Contains("failed: IOException: disk full", screen, StringComparison.Ordinal);
        Assert.Contains("2026-12-06 12:00:00Z", screen, StringComparison.Ordinal);
        Assert.Contains("8 (1.5 MiB)", screen, StringComparison.Ordinal);
        Assert.Contains("pending replications", screen, StringComparison.Ordinal);
    }
}
