using Wharf.Core.Uploads;

namespace Wharf.Core.Tests.Uploads;

public sealed class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-99", 1000, 0, 100)]
    [InlineData("bytes=900-", 1000, 900, 100)]
    [InlineData("bytes=-10", 1000, 990, 10)]
    [InlineData("bytes=-5000", 1000, 0, 1000)]
    [InlineData("bytes=990-5000", 1000, 990, 10)]
    public void Satisfiable_ranges_resolve(string header, long size, long offset, long length)
    {
        Assert.True(ByteRange.TryParse(header, out var range));
        Assert.True(range.TryResolve(size, out var o, out var l));
        Assert.Equal((offset, length), (o, l));
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=1000-2000")]
    [InlineData("bytes=-0")]
    public void Ranges_beyond_the_blob_are_unsatisfiable(string header)
    {
        Assert.True(ByteRange.TryParse(header, out var range));
        Assert.False(range.TryResolve(1000, out _, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("items=0-1")]
    [InlineData("bytes=5-1")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=-")]
    public void Malformed_or_multi_ranges_are_ignored(string? header) => Assert.False(ByteRange.TryParse(header, out _));
}
