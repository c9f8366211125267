using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Wharf.Core.Secrets;

namespace Wharf.Server.Errors;

/// <summary>
/// The server's JSON, source-generated for Native AOT (reflection-based serialization is off in the
/// published binary and in the tests): AWS JSON results and requests (<see cref="JsonObject"/>), the OCI
/// error body, the public token, audit parameters, sealed credentials, listing scopes, the console's
/// argument lists and the CLI's webhook listings (whose values are strings, booleans and numbers).
/// Sites with other options than the defaults use this as their options' resolver. The CLI's
/// <c>--json</c> documents have their own context (<see cref="Cli.CliJsonContext"/>).
/// </summary>
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(Public.PublicTokenRealm.TokenResponse))]
[JsonSerializable(typeof(SecretQuery))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(List<Dictionary<string, object>>))]
[JsonSerializable(typeof(List<Dictionary<string, object?>>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;
