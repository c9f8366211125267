using System.Text.RegularExpressions;
using Wharf.Server.Telemetry;

namespace Wharf.Server.Tests.Telemetry;

/// <summary>The <c>operation</c> label stays within a fixed set: an IAM or STS <c>Action</c> is the caller's text until checked.</summary>
public sealed partial class OperationLabelsTests
{
    [Fact]
    public void Every_iam_and_sts_action_the_query_api_serves_is_its_own_label_and_anything_else_is_other()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Wharf.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var handler = File.ReadAllText(Path.Combine(dir.FullName, "src", "Wharf.Server", "Identity", "QueryApiHandler.cs"));
        var actions = CaseLabel().Matches(handler).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(actions.Count > 40, $"found only {actions.Count} actions in QueryApiHandler.cs");
        foreach (var action in actions)
        {
            Assert.Equal(action, OperationLabels.Operation(action == "AssumeRole" || action == "GetCallerIdentity" ? "sts" : "iam", action));
        }

        foreach (var hostile in new[] { "NoSuchAction", "ListUsers2", "telemetry-" + Guid.NewGuid(), "<script>", string.Empty })
        {
            Assert.Equal("other", OperationLabels.Operation("iam", hostile));
            Assert.Equal("other", OperationLabels.Operation("sts", hostile));
        }

        Assert.Equal("other", OperationLabels.Operation("v2", null));
        Assert.Equal("other", OperationLabels.Method("BREW"));
        Assert.Equal("404", OperationLabels.Status(404));
        Assert.Equal("other", OperationLabels.Status(1000));
    }

    [GeneratedRegex("case \"([A-Za-z]+)\":")]
    private static partial Regex CaseLabel();
}
