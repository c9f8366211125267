using Wharf.Core.Errors;

namespace Wharf.Core.Tests.Errors;

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
            Assert.False(string.IsNullOrWhiteSpace(row.QueryCode));
            Assert.InRange(row.QueryStatus, 400, 599);
        }
    }

    [Fact]
    public void The_query_apis_name_the_authentication_failures_their_own_way_and_every_other_error_as_the_json_api_does()
    {
        // The IAM and STS Query APIs' own names (AWS's common errors of those services), once, in the catalogue.
        var own = new Dictionary<WharfErrorCode, (string Code, int Status)>
        {
            [WharfErrorCode.UnrecognizedClient] = ("InvalidClientTokenId", 403),
            [WharfErrorCode.InvalidSignature] = ("SignatureDoesNotMatch", 403),
            [WharfErrorCode.MissingAuthenticationToken] = ("MissingAuthenticationToken", 403),
            [WharfErrorCode.IncompleteSignature] = ("IncompleteSignature", 400),
            [WharfErrorCode.Denied] = ("AccessDenied", 403),
            [WharfErrorCode.TokenExpired] = ("ExpiredToken", 400),
            [WharfErrorCode.TooManyRequests] = ("Throttling", 400),
            [WharfErrorCode.Internal] = ("ServiceFailure", 500),
            [WharfErrorCode.RequestBodyUnreadable] = ("ValidationError", 400),
        };
        foreach (var row in ErrorCatalogue.All)
        {
            var expected = own.TryGetValue(row.Code, out var query) ? query : (row.AwsType, row.AwsStatus);
            Assert.Equal((row.Code, expected.Item1, expected.Item2), (row.Code, row.QueryCode, row.QueryStatus));
        }
    }
}
