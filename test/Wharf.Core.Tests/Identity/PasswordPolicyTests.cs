using Wharf.Core.Errors;
using Wharf.Core.Identity;

namespace Wharf.Core.Tests.Identity;

/// <summary>AWS's default password policy, and that a refusal never repeats the password.</summary>
public sealed class PasswordPolicyTests
{
    [Theory]
    [InlineData("Correct-Horse-42")] // all four kinds
    [InlineData("correct-horse-42")] // lower, digit, symbol
    [InlineData("CorrectHorse42")] // upper, lower, digit
    [InlineData("Aa1!Aa1!")] // exactly 8
    [InlineData("pässwörd-Ü1")] // Latin-1 letters count as symbols
    public void Passwords_with_three_kinds_of_characters_and_8_to_128_of_them_pass(string password) =>
        IdentityService.CheckPassword(password, "password");

    [Theory]
    [InlineData("Aa1!Aa1", WharfErrorCode.PasswordPolicyViolation)] // 7
    [InlineData("alllowercaseletters", WharfErrorCode.PasswordPolicyViolation)]
    [InlineData("lowercase123", WharfErrorCode.PasswordPolicyViolation)]
    [InlineData("UPPER-CASE-ONLY", WharfErrorCode.PasswordPolicyViolation)]
    [InlineData("", WharfErrorCode.IamValidation)]
    [InlineData("Correct-Horse-42\u0001", WharfErrorCode.IamValidation)]
    [InlineData("Correct-Horse-42-\u4e2d", WharfErrorCode.IamValidation)] // outside IAM's alphabet
    public void Other_passwords_are_refused_without_repeating_them(string password, WharfErrorCode code)
    {
        var e = Assert.Throws<WharfException>(() => IdentityService.CheckPassword(password, "password"));
        Assert.Equal(code, e.Code);
        if (password.Length > 0)
        {
            Assert.DoesNotContain(password, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_longest_password_is_128_characters()
    {
        IdentityService.CheckPassword("Aa1-" + new string('x', 124), "password");
        Assert.Equal(WharfErrorCode.PasswordPolicyViolation, Assert.Throws<WharfException>(() => IdentityService.CheckPassword("Aa1-" + new string('x', 125), "password")).Code);
    }

    [Fact]
    public void A_hash_verifies_its_password_only()
    {
        var hash = Passwords.Hash("Correct-Horse-42");
        Assert.StartsWith("pbkdf2-sha256$600000$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain("Correct-Horse-42", hash, StringComparison.Ordinal);
        Assert.True(Passwords.Verify("Correct-Horse-42", hash));
        Assert.False(Passwords.Verify("Correct-Horse-43", hash));
        Assert.False(Passwords.Verify("Correct-Horse-42", "not a hash"));
    }
}
