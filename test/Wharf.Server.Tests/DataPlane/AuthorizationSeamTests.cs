using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wharf.Core.Errors;
using Wharf.Core.Security;
using Wharf.Server.Tests.Infrastructure;

namespace Wharf.Server.Tests.DataPlane;

/// <summary>
/// Every /v2 operation asks the one authorisation seam with the ECR action and repository ARN, and a
/// refusal there is a 403 DENIED on the wire: replacing the registration is all identity will need.
/// </summary>
public sealed class AuthorizationSeamTests
{
    [Fact]
    public async Task Operations_ask_the_seam_with_ECR_actions_and_a_refusal_is_DENIED()
    {
        var authorizer = new RecordingAuthorizer();
        await using var server = await WharfTestServer.StartAsync(services: s => s.AddSingleton<IAccessAuthorizer>(authorizer));
        using var client = server.CreateClient();

        await Oci.PushImageAsync(client, "seam/app", "v1");
        using (var pulled = await client.GetAsync("/v2/seam/app/manifests/v1", Oci.Ct))
        {
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        }

        const string arn = "arn:aws:ecr:us-east-1:123456789012:repository/seam/app";
        Assert.Contains((EcrActions.InitiateLayerUpload, arn), authorizer.Asked);
        Assert.Contains((EcrActions.PutImage, arn), authorizer.Asked);
        Assert.Contains((EcrActions.BatchGetImage, arn), authorizer.Asked);

        authorizer.Deny(EcrActions.BatchGetImage);
        using var denied = await client.GetAsync("/v2/seam/app/manifests/v1", Oci.Ct);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Contains("\"DENIED\"", await denied.Content.ReadAsStringAsync(Oci.Ct), StringComparison.Ordinal);
    }

    private sealed class RecordingAuthorizer : IAccessAuthorizer
    {
        private readonly ConcurrentDictionary<string, bool> denied = new(StringComparer.Ordinal);

        public ConcurrentBag<(string Action, string Resource)> Asked { get; } = [];

        public void Deny(string action) => denied[action] = true;

        public ValueTask AuthorizeAsync(Caller caller, string action, string resourceArn, CancellationToken cancellationToken)
        {
            Asked.Add((action, resourceArn));
            return denied.ContainsKey(action)
                ? throw new WharfException(WharfErrorCode.Denied, $"User: {caller.PrincipalArn} is not authorized to perform: {action} on resource: {resourceArn}")
                : ValueTask.CompletedTask;
        }
    }
}
