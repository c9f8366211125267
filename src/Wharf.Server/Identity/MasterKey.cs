using System.Security.Cryptography;
using Wharf.Core.Identity;
using Wharf.Server.Hosting;

namespace Wharf.Server.Identity;

/// <summary>
/// The server's master key, kept outside the database in a file only the owner can read: loaded, or
/// created (32 random bytes, base64, mode 0600) on first start. It seals access-key secrets.
/// </summary>
internal static class MasterKey
{
    public static string PathFor(WharfOptions options) =>
        Path.GetFullPath(options.Identity.MasterKeyFile ?? Path.Combine(options.DataDirectory, "master.key"));

    public static SecretBox LoadOrCreate(WharfOptions options)
    {
        var path = PathFor(options);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var created = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            try
            {
                // CreateNew: two nodes starting at once cannot both write a key; the loser reads the winner's.
                WriteOwnerOnly(path, created);
            }
            catch (IOException) when (File.Exists(path))
            {
            }
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The master key file {path} is not base64.");
        }

        return key.Length == 32 ? new SecretBox(key) : throw new InvalidOperationException($"The master key in {path} must be 32 bytes; it is {key.Length}.");
    }

    /// <summary>Creates <paramref name="path"/> (failing if it exists) readable and writable by the owner only.</summary>
    public static void WriteOwnerOnly(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
