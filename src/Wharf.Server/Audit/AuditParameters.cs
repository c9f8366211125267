using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Wharf.Server.Audit;

/// <summary>
/// A request's parameters as the audit trail keeps them (CloudTrail's <c>requestParameters</c>): secrets
/// replaced by CloudTrail's placeholder, large members (manifests, layer parts, logos) left out,
/// long strings cut, and the whole bounded, so no record costs more than about <see cref="MaxBytes"/>.
/// </summary>
internal static class AuditParameters
{
    /// <summary>The most a record's parameters take (a little more with the closing of what was open).</summary>
    public const int MaxBytes = 16 * 1024;

    /// <summary>CloudTrail's placeholder for a value it does not record.</summary>
    public const string Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS";

    private const int MaxStringChars = 1024;
    private const int MaxDepth = 8;

    // Large values (up to 20 MiB of layer part), or a secret's value: left out, never read. KMS's plaintexts and
    // ciphertext blobs are left out as CloudTrail leaves them out of KMS's events.
    private static readonly HashSet<string> Omitted = new(StringComparer.OrdinalIgnoreCase)
    {
        "imageManifest", "layerPartBlob", "logoImageBlob", "SecretBinary", "SecretString", "aboutText", "usageText", "Plaintext", "CiphertextBlob",
    };

    // Words that make a member a secret, unless the name says it only names one (SecretId, credentialArn, tokenType…).
    // A signature counts: a presigned URL's (X-Amz-Signature, on STS's GET form) is a bearer credential until it expires.
    private static readonly string[] SecretWords = ["password", "secret", "token", "credential", "privatekey", "passphrase", "authorization", "signature"];
    private static readonly string[] NamingSuffixes = ["id", "ids", "arn", "arns", "name", "names", "type", "stage", "stages", "count", "filter", "filters", "policy"];

    /// <summary>True when a member called <paramref name="name"/> holds a secret (a password, a secret value, a token, a credential).</summary>
    public static bool IsSecret(string name)
    {
        // Query members are paths (Tags.member.1.Value): the last part names the value.
        var last = name.AsSpan(name.LastIndexOf('.') + 1);
        var secretWord = false;
        foreach (var word in SecretWords)
        {
            if (last.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                secretWord = true;
                break;
            }
        }

        if (!secretWord)
        {
            return false;
        }

        foreach (var suffix in NamingSuffixes)
        {
            if (last.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && !last.Equals(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return last.Contains("secretvalue", StringComparison.OrdinalIgnoreCase);
            }
        }

        return true;
    }

    /// <summary>An AWS JSON request's body, redacted and bounded.</summary>
    public static string FromJson(JsonElement body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteObject(writer, body, 0);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A Query API request's form (IAM, STS), redacted and bounded; <c>Action</c> and <c>Version</c> are the event itself.</summary>
    public static string FromForm(IReadOnlyDictionary<string, string> form)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in form.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (name is "Action" or "Version")
                {
                    continue;
                }

                if (Full(writer))
                {
                    writer.WriteBoolean("wharfTruncated", true);
                    break;
                }

                writer.WriteString(Cut(name, 256), IsSecret(name) ? Hidden : Cut(value, MaxStringChars));
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool Full(Utf8JsonWriter writer) => writer.BytesPending + writer.BytesCommitted > MaxBytes - 2 * MaxStringChars;

    private static void WriteObject(Utf8JsonWriter writer, JsonElement value, int depth)
    {
        writer.WriteStartObject();
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var member in value.EnumerateObject())
            {
                if (Full(writer))
                {
                    writer.WriteBoolean("wharfTruncated", true);
                    break;
                }

                var raw = NameOf(member) ?? "(not a valid name)";
                var name = Cut(raw, 256);
                if (IsSecret(raw))
                {
                    writer.WriteString(name, Hidden);
                }
                else if (Omitted.Contains(raw))
                {
                    writer.WriteString(name, "(omitted)");
                }
                else
                {
                    writer.WritePropertyName(name);
                    WriteValue(writer, member.Value, depth + 1);
                }
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement value, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when depth < MaxDepth:
                WriteObject(writer, value, depth);
                break;
            case JsonValueKind.Array when depth < MaxDepth:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    if (Full(writer))
                    {
                        writer.WriteStringValue("(truncated)");
                        break;
                    }

                    WriteValue(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.Object or JsonValueKind.Array:
                writer.WriteStringValue("(truncated: nested too deep)");
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(TryGetString(value) is { } text ? Cut(text, MaxStringChars) : "(not a valid string)");
                break;
            case JsonValueKind.Number:
                // As written, but bounded: a number token may be arbitrarily long.
                var raw = value.GetRawText();
                if (raw.Length <= 64)
                {
                    writer.WriteRawValue(raw, skipInputValidation: true);
                }
                else
                {
                    writer.WriteStringValue(Cut(raw, 64));
                }

                break;
            case JsonValueKind.True or JsonValueKind.False:
                writer.WriteBooleanValue(value.GetBoolean());
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    private static string? TryGetString(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null; // a lone surrogate escape
        }
    }

    /// <summary>
    /// At most <paramref name="max"/> characters, and always valid UTF-16: a cut never splits a surrogate pair, and a
    /// lone surrogate (JSON's <c>\ud800</c>, which a hostile body may carry) becomes U+FFFD, so the writer never throws.
    /// </summary>
    private static string Cut(string text, int max)
    {
        var cut = text.Length > max;
        var length = cut ? max - (char.IsHighSurrogate(text[max - 1]) ? 1 : 0) : text.Length;
        var valid = true;
        for (var i = 0; i < length && valid; i++)
        {
            valid = !char.IsSurrogate(text[i]) || (char.IsHighSurrogate(text[i]) && i + 1 < length && char.IsLowSurrogate(text[++i]));
        }

        if (valid)
        {
            return cut ? string.Concat(text.AsSpan(0, length), "…(truncated)") : text;
        }

        var clean = new System.Text.StringBuilder(length + 16);
        for (var i = 0; i < length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(text[i]).Append(text[++i]);
            }
            else
            {
                clean.Append(char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
            }
        }

        return cut ? clean.Append("…(truncated)").ToString() : clean.ToString();
    }

    /// <summary>A member's name, or null when it cannot be read as text (an invalid escape in it).</summary>
    private static string? NameOf(JsonProperty member)
    {
        try
        {
            return member.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
