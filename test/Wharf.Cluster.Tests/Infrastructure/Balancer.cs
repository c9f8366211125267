using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Wharf.Testing;

namespace Wharf.Cluster.Tests.Infrastructure;

/// <summary>
/// nginx (Debian's nginx-light) in front of the nodes, as an operator would run it: round-robin,
/// request bodies streamed to the node (<c>proxy_request_buffering off</c>, no size limit), HTTP/1.1
/// to the upstreams, and the client's <c>Host</c> passed on, since SigV4 signs it. The nodes answer
/// with relative <c>Location</c> headers, which pass through unchanged. A child process in the
/// foreground (<c>daemon off</c>), killed with the test.
/// </summary>
internal sealed class Balancer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    private Balancer(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary><c>127.0.0.1:port</c>, the registry host for skopeo.</summary>
    public string HostAndPort => $"127.0.0.1:{Port}";

    public string ErrorLog => File.Exists(Path.Combine(directory, "error.log")) ? File.ReadAllText(Path.Combine(directory, "error.log")) : string.Empty;

    public static async Task<Balancer> StartAsync(string directory, IEnumerable<int> upstreamPorts)
    {
        var nginx = Requires.Which("/usr/sbin/nginx") ?? Requires.Which("nginx");
        if (nginx is null)
        {
            Requires.Missing("nginx is not installed (Debian's nginx-light)");
        }

        Directory.CreateDirectory(directory);
        var ports = upstreamPorts.ToList();
        for (var attempt = 0; ; attempt++)
        {
            var port = Ports.Free();
            var config = Path.Combine(directory, "nginx.conf");
            await File.WriteAllTextAsync(config, Configuration(directory, port, ports));
            var info = new ProcessStartInfo(nginx!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-c", config, "-p", directory, "-e", Path.Combine(directory, "error.log") })
            {
                info.ArgumentList.Add(arg);
            }

            var process = Process.Start(info)!;
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            var balancer = new Balancer(process, directory, port);
            if (await balancer.WaitListeningAsync())
            {
                return balancer;
            }

            var log = balancer.ErrorLog;
            await balancer.DisposeAsync();
            if (attempt >= 3)
            {
                Assert.Fail($"nginx did not start:\n{log}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private static string Configuration(string directory, int port, IReadOnlyList<int> upstreamPorts)
    {
        var servers = new StringBuilder();
        foreach (var upstream in upstreamPorts)
        {
            // A node that refuses a connection is left out for 1 s; requests that cannot be replayed
            // (POST, PATCH, PUT) are not retried on another node, so clients see the failure and retry.
            servers.Append(CultureInfo.InvariantCulture, $"    server 127.0.0.1:{upstream} max_fails=1 fail_timeout=1s;\n");
        }

        // As root, nginx's workers would switch to nobody, who cannot use this directory's temp paths.
        var user = Environment.UserName == "root" ? "user root root;" : string.Empty;
        return $$"""
            daemon off;
            {{user}}
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path {{directory}}/client_body;
              proxy_temp_path {{directory}}/proxy;
              fastcgi_temp_path {{directory}}/fastcgi;
              uwsgi_temp_path {{directory}}/uwsgi;
              scgi_temp_path {{directory}}/scgi;
              upstream wharf {
            {{servers}}    keepalive 32;
              }
              server {
                listen 127.0.0.1:{{port}};
                client_max_body_size 0;
                location / {
                  proxy_pass http://wharf;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                  proxy_request_buffering off;
                  proxy_buffering off;
                  proxy_read_timeout 120s;
                  proxy_send_timeout 120s;
                }
              }
            }

            """;
    }

    private async Task<bool> WaitListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync("127.0.0.1", Port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }
}
