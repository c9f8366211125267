using System.Net;
using Wharf.Server.Hosting;
using Wharf.Server.Public;

namespace Wharf.Server.Tests.Public;

/// <summary>How clients write the public address (<c>IPublicAddress.Authority</c>) before the listener binds, and the settings' checks.</summary>
public sealed class PublicListenerTests
{
    [Theory]
    [InlineData("127.0.0.1", 5001, null, "127.0.0.1:5001")]
    [InlineData("0.0.0.0", 5001, null, "localhost:5001")]
    [InlineData("::", 6001, null, "localhost:6001")]
    [InlineData("::1", 5001, null, "[::1]:5001")]
    [InlineData("0.0.0.0", 5001, "Public.Example.COM", "public.example.com")]
    public void The_authority_is_Public_Host_or_the_listeners_host_and_port(string address, int port, string? host, string expected)
    {
        var listener = new PublicListener(new PublicOptions { Port = port, Host = host }, IPAddress.Parse(address));
        Assert.Equal(expected, new PublicAddress(listener).Authority);
    }

    [Theory]
    [InlineData(5000, 5001, null, null)]
    [InlineData(0, 0, null, null)]
    [InlineData(5000, 5000, null, "Public:Port 5000 is the main port too")]
    [InlineData(5000, -1, null, "Public:Port -1 is out of range")]
    [InlineData(5000, 5001, "public.example.com", null)]
    [InlineData(5000, 5001, "public.example.com:443", "is not a host name")]
    [InlineData(5000, 5001, "http://public.example.com", "is not a host name")]
    [InlineData(5000, 5001, "public example", "is not a host name")]
    public void Public_settings_are_checked(int port, int publicPort, string? host, string? problem)
    {
        var options = new WharfOptions { Port = port, DataDirectory = "/tmp/x", Auth = AuthMode.Iam, Public = new PublicOptions { Port = publicPort, Host = host } };
        var found = new WharfOptionsValidator().FirstProblem(options);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }

        // Off, nothing about it is checked.
        options.Public.Enabled = false;
        Assert.Null(new WharfOptionsValidator().FirstProblem(options));
    }
}
