namespace Wharf.Server.WebConsole.Images;

/// <summary>What a referrer is, in plain words, from its artifact type (or config media type).</summary>
internal static class ArtifactKinds
{
    /// <summary>"Cosign signature", "SPDX SBOM", …; otherwise the media type itself (or "Unknown artifact").</summary>
    public static string Describe(string? artifactType)
    {
        if (string.IsNullOrEmpty(artifactType))
        {
            return "Unknown artifact";
        }

        var type = artifactType.ToLowerInvariant();
        return type switch
        {
            _ when type.StartsWith("application/vnd.dev.cosign.", StringComparison.Ordinal) && type.Contains("attestation", StringComparison.Ordinal) => "Cosign attestation",
            _ when type.StartsWith("application/vnd.dev.cosign.", StringComparison.Ordinal) => "Cosign signature",
            _ when type.StartsWith("application/vnd.cncf.notary.signature", StringComparison.Ordinal) => "Notation signature",
            _ when type.Contains("spdx", StringComparison.Ordinal) => "SPDX SBOM",
            _ when type.Contains("cyclonedx", StringComparison.Ordinal) => "CycloneDX SBOM",
            _ when type.Contains("in-toto", StringComparison.Ordinal) => "In-toto attestation",
            _ when type.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.Ordinal) => "Sigstore bundle (signature or attestation)",
            _ when type.StartsWith("application/vnd.dsse.envelope", StringComparison.Ordinal) => "DSSE attestation",
            _ when type.Contains("syft", StringComparison.Ordinal) => "Syft SBOM",
            _ => artifactType,
        };
    }
}
