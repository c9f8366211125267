using Wharf.Server.ControlPlane;
using Wharf.Server.ControlPlane.Model;

namespace Wharf.Server.Tests.ControlPlane;

/// <summary>docs/ecr-api.md lists every operation of the model, and says "done" exactly for those Wharf implements.</summary>
public sealed class EcrApiDocsTests
{
    [Fact]
    public void Docs_table_lists_every_model_operation_with_the_servers_status()
    {
        var rows = ReadTable();
        var model = ServiceModel.Ecr.OperationNames.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(model, rows.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(
            EcrOperations.Implemented.Order(StringComparer.Ordinal).ToArray(),
            rows.Where(r => r.Value == "done").Select(r => r.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.All(rows.Values, status => Assert.True(status == "done" || status.StartsWith("later: ", StringComparison.Ordinal) || status == "not planned", status));
    }

    private static Dictionary<string, string> ReadTable()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Wharf.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        var inTable = false; // only the rows of "Every operation of the model"; other sections have tables too
        foreach (var line in File.ReadLines(Path.Combine(dir.FullName, "docs", "ecr-api.md")))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                inTable = line == "## Every operation of the model";
            }

            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (inTable && cells.Length >= 4 && cells[1].Length > 0 && char.IsUpper(cells[1][0]) && cells[1] != "Operation")
            {
                Assert.True(rows.TryAdd(cells[1], cells[2]), $"{cells[1]} is listed twice");
            }
        }

        return rows;
    }
}
