package dev.portway.api.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;

/** htpasswd and token files as AccessPolicy Secrets hold them: what is used, and what is skipped and why. */
class CredentialFilesTest {

    private static String bcrypt(String version, String password) {
        return OpenBSDBCrypt.generate(version, password.toCharArray(), new byte[16], 4);
    }

    @Test
    void htpasswdKeepsBcryptUsersAndSaysWhichLinesItSkipped() {
        String alice = bcrypt("2y", "a");
        String bob = bcrypt("2b", "b");
        CredentialFiles.Htpasswd h = CredentialFiles.htpasswd("""
                # written by htpasswd -B
                alice:%s

                carol:$apr1$abcdefgh$0123456789abcdefghijkl
                dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=
                bob:%s
                alice:%s
                no colon here
                """.formatted(alice, bob, bcrypt("2a", "other")));
        assertThat(h.users()).containsExactly(java.util.Map.entry("alice", alice), java.util.Map.entry("bob", bob));
        assertThat(h.skipped()).containsExactly(
                "line 4 (user carol): not a bcrypt hash ($2y$, $2a$ or $2b$)",
                "line 5 (user dave): not a bcrypt hash ($2y$, $2a$ or $2b$)",
                "line 7 (user alice): the user is on line 2 already",
                "line 8: not user:hash");
        assertThat(String.join(" ", h.skipped())).as("no hash is ever repeated").doesNotContain("$apr1$").doesNotContain("{SHA}");
    }

    @Test
    void aBcryptHashMustBeWhole() {
        String hash = bcrypt("2y", "a");
        assertThat(CredentialFiles.htpasswd("u:" + hash.substring(0, hash.length() - 1)).users()).isEmpty();
        assertThat(CredentialFiles.htpasswd("u:" + hash.replace("$04$", "$03$")).users()).as("cost below 4").isEmpty();
        assertThat(CredentialFiles.htpasswd("u:  " + hash + "  ").users()).as("surrounding blanks").containsKey("u");
    }

    @Test
    void tokensAreLinesWithoutBlanksCommentsOrRepeats() {
        CredentialFiles.Tokens t = CredentialFiles.tokens("""
                # CI
                  ci-4f9a2c \t\s
                ci-4f9a2c

                grafana.7d1e+/=
                two words
                """);
        assertThat(t.tokens()).containsExactly("ci-4f9a2c", "grafana.7d1e+/=");
        assertThat(t.skipped()).containsExactly("line 6: a token has no whitespace inside");
    }
}
