namespace Wharf.Scanning.Versions;

/// <summary>The version order of each ecosystem, by the name OSV gives the ecosystem.</summary>
public static class VersionComparers
{
    /// <summary>The comparison for an OSV ecosystem (<c>Debian:12</c>, <c>Alpine:v3.20</c>, <c>npm</c>, <c>PyPI</c>, …); null when Wharf has none.</summary>
    public static Comparison<string>? For(string ecosystem) => (ecosystem.Split(':', 2)[0]) switch
    {
        "Debian" or "Ubuntu" => DpkgVersion.Compare,
        "Alpine" or "Wolfi" or "Chainguard" => ApkVersion.Compare,
        "Red Hat" or "Rocky Linux" or "AlmaLinux" or "openSUSE" or "SUSE" or "Mageia" or "Photon OS" => RpmVersion.Compare,
        "npm" or "NuGet" or "crates.io" or "Go" => SemanticVersion.Compare,
        "PyPI" => Pep440Version.Compare,
        "Maven" => MavenVersion.Compare,
        _ => null,
    };
}
