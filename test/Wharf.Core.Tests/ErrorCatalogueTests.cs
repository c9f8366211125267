using Wharf.Core.Errors;

namespace Wharf.Core.Tests;

public sealed class ErrorCatalogueTests
{
    [Fact]
    public void Every_code_has_a_catalogue_row()
    {
        foreach (var code in Enum.GetValues<WharfErrorCode>())
        {
            var row = ErrorCatalogue.Describe(code);
            Assert.Equal(code, row.Code);
            Assert.False(string.IsNullOrWhiteSpace(row.OciCode));
            Assert.False(string.IsNullOrWhiteSpace(row.AwsType));
            Assert.InRange(row.OciStatus, 400, 599);
            Assert.InRange(row.AwsStatus, 400, 599);
        }
    }
}
