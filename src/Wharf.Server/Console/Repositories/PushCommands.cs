using Wharf.Core.Primitives;
using Wharf.Server.Web;

namespace Wharf.Server.WebConsole.Repositories;

/// <summary>
/// The "View push commands" panel: logging in, tagging and pushing with podman and docker, copying with
/// skopeo, and reading the images with the AWS CLI, all naming this registry's address (the host the API's
/// <c>repositoryUri</c> names) and this server's API endpoint. Over plain HTTP the TLS switches are added.
/// </summary>
internal static class PushCommands
{
    public static Html Panel(RepositoryKey key, string host, string endpoint, bool plainHttp, bool otherAccount)
    {
        var region = key.Registry.Region;
        var name = key.Name.Value;
        var image = $"{host}/{name}:latest";
        var login = $"aws ecr get-login-password --region {region} --endpoint-url {endpoint}";
        var podmanTls = plainHttp ? " --tls-verify=false" : string.Empty;
        var skopeoTls = plainHttp ? " --dest-tls-verify=false" : string.Empty;
        var registryId = otherAccount ? $" --registry-id {key.Registry.Account.Value}" : string.Empty;

        var html = new Html();
        html.Raw("<details class=\"panel push-commands\"><summary>View push commands</summary>");
        html.Add($"<p>Push an image from your machine to <code>{name}</code>. The AWS CLI needs credentials of a principal allowed <code>ecr:GetAuthorizationToken</code> and the push actions on this repository.</p>");
        if (plainHttp)
        {
            html.Add($"<p class=\"hint\">This registry is served over plain HTTP, so podman and skopeo are told not to verify TLS (<code>--tls-verify=false</code>, <code>--dest-tls-verify=false</code>); docker needs <code>{host}</code> among the <code>insecure-registries</code> of its daemon.json.</p>");
        }

        html.Raw("<h3>podman</h3>");
        Command(html, "Log in with podman", $"{login} | podman login{podmanTls} --username AWS --password-stdin {host}");
        Command(html, "Tag the image with podman", $"podman tag my-image:latest {image}");
        Command(html, "Push with podman", $"podman push{podmanTls} {image}");
        html.Raw("<h3>docker</h3>");
        Command(html, "Log in with docker", $"{login} | docker login --username AWS --password-stdin {host}");
        Command(html, "Tag the image with docker", $"docker tag my-image:latest {image}");
        Command(html, "Push with docker", $"docker push {image}");
        html.Raw("<h3>skopeo</h3>");
        Command(html, "Copy an image with skopeo", $"skopeo copy{skopeoTls} --dest-creds \"AWS:$({login})\" oci-archive:my-image.tar docker://{image}");
        html.Raw("<h3>AWS CLI</h3>");
        Command(html, "List the images with the AWS CLI", $"aws ecr describe-images{registryId} --repository-name {name} --region {region} --endpoint-url {endpoint}");
        Command(html, "Describe the repository with the AWS CLI", $"aws ecr describe-repositories{registryId} --repository-names {name} --region {region} --endpoint-url {endpoint}");
        html.Raw("</details>");
        return html;
    }

    private static void Command(Html html, string label, string command) =>
        html.Add($"<div class=\"command\" role=\"group\" aria-label=\"{label}\"><code>{command}</code> {ConsoleFormat.CopyButton(command, "Copy: " + label)}</div>");
}
