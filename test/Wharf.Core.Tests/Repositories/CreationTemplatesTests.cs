using Wharf.Core.Metadata;
using Wharf.Core.Repositories;

namespace Wharf.Core.Tests.Repositories;

/// <summary>Which creation template a new repository gets (ECR-NOTES §7.4) and what it carries, without I/O.</summary>
public sealed class CreationTemplatesTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CreationTemplate Template(string prefix, params CreationPurpose[] appliedFor) =>
        new(prefix, prefix, "AES256", null, [], TagMutability.Mutable, [], null, null, appliedFor, null, T0, T0);

    private static readonly CreationTemplates Registry = new([
        Template("ROOT", CreationPurpose.CreateOnPush, CreationPurpose.Replication),
        Template("cache/", CreationPurpose.PullThroughCache),
        Template("prod", CreationPurpose.CreateOnPush, CreationPurpose.Replication),
        Template("prod/team", CreationPurpose.CreateOnPush),
    ]);

    [Theory]
    [InlineData("prod/team/app", CreationPurpose.CreateOnPush, "prod/team")]
    [InlineData("prod/team/app", CreationPurpose.Replication, "prod")]
    [InlineData("prod/other", CreationPurpose.CreateOnPush, "prod")]
    [InlineData("prod/team", CreationPurpose.CreateOnPush, "prod")]
    [InlineData("production/app", CreationPurpose.CreateOnPush, "ROOT")]
    [InlineData("prod", CreationPurpose.CreateOnPush, "ROOT")]
    [InlineData("cache/library/alpine", CreationPurpose.PullThroughCache, "cache/")]
    [InlineData("cache/library/alpine", CreationPurpose.CreateOnPush, "ROOT")]
    public void The_longest_prefix_for_the_purpose_wins_and_ROOT_covers_the_rest(string repository, CreationPurpose purpose, string expected) =>
        Assert.Equal(expected, Registry.For(repository, purpose)?.Prefix);

    [Fact]
    public void No_template_applies_when_none_is_for_the_purpose()
    {
        Assert.Null(Registry.For("other/app", CreationPurpose.PullThroughCache));
        Assert.Null(CreationTemplates.Empty.For("prod/app", CreationPurpose.CreateOnPush));
    }

    [Fact]
    public void A_trailing_slash_names_the_same_template_and_the_given_prefix_is_kept()
    {
        Assert.Equal("cache/", Registry.Find("cache")?.Prefix);
        Assert.Equal("prod", Registry.Find("prod/")?.Prefix);
        var replaced = Registry.With(Template("prod/", CreationPurpose.Replication));
        Assert.Equal(["ROOT", "cache", "prod", "prod/team"], replaced.Templates.Select(t => t.Key));
        Assert.Equal("prod/", replaced.Find("prod")!.Prefix);
        Assert.Equal(["ROOT", "cache", "prod/team"], Registry.Without("prod/").Templates.Select(t => t.Key));
    }

    [Fact]
    public void The_stored_form_round_trips_every_setting()
    {
        var template = new CreationTemplate(
            "prod", "d", "KMS", "arn:aws:kms:us-east-1:123456789012:key/k", [new ResourceTag("team", "a")],
            TagMutability.ImmutableWithExclusion, ["latest"], "{\"p\":1}", "{\"rules\":[]}",
            [CreationPurpose.Replication, CreationPurpose.CreateOnPush], "arn:aws:iam::123456789012:role/r", T0, T0.AddDays(1));
        var read = CreationTemplates.FromSetting(new CreationTemplates([template]).ToSetting()).Templates.Single();
        Assert.Equal(template.ToCreation().Settings, read.ToCreation().Settings);
        Assert.Equal(template.ResourceTags, read.ResourceTags);
        Assert.Equal((template.RepositoryPolicy, template.LifecyclePolicy), (read.RepositoryPolicy, read.LifecyclePolicy));
        Assert.Equal(
            (template.Prefix, template.Description, template.CustomRoleArn, template.CreatedAt, template.UpdatedAt),
            (read.Prefix, read.Description, read.CustomRoleArn, read.CreatedAt, read.UpdatedAt));
        Assert.Equal(template.AppliedFor, read.AppliedFor);
        Assert.Null(CreationTemplates.Empty.ToSetting());
    }

    [Fact]
    public void A_template_becomes_the_new_repositorys_settings_tags_and_policies()
    {
        var template = Template("prod", CreationPurpose.CreateOnPush) with
        {
            Mutability = TagMutability.Immutable,
            EncryptionType = "KMS",
            ResourceTags = [new ResourceTag("k", "v")],
            RepositoryPolicy = "policy",
            LifecyclePolicy = "lifecycle",
        };
        var creation = template.ToCreation();
        Assert.Equal(new RepositorySettings(TagMutability.Immutable, [], false, "KMS", null), creation.Settings);
        Assert.Equal([new ResourceTag("k", "v")], creation.Tags);
        Assert.Equal(("policy", "lifecycle"), (creation.Policy, creation.LifecyclePolicy));
    }
}
