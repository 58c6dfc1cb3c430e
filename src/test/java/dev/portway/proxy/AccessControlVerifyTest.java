package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.Test;

/**
 * Password checks cannot be turned against the other clients: a client's guesses wait in a short
 * line of their own, the line of all is bounded, an abandoned guess is never hashed, and the time
 * of a refusal does not tell whether the user exists.
 */
class AccessControlVerifyTest {

    private static final AccessControl ACCESS = new AccessControl(new Plan.AccessPolicy("monitoring/stack",
            Map.of("admin", OpenBSDBCrypt.generate("2y", "s3cret".toCharArray(), new byte[16], 4)), List.of(), List.of(),
            List.of(), List.of(), null, null));

    private static HttpHeaders basic(String user, String password) {
        return new DefaultHttpHeaders().add("authorization",
                "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }

    private static InetAddress client(int n) throws Exception {
        return InetAddress.getByAddress(new byte[] {127, 77, 0, (byte) n});
    }

    @Test
    void aGuessWhoseClientWentAwayIsNotHashed() throws Exception {
        long before = ACCESS.hashed.sum();
        AccessControl.Verdict v = ACCESS.verify(basic("admin", "guess-1"), client(1), () -> false, Runnable::run).get();
        assertThat(v.status()).isEqualTo(HttpResponseStatus.UNAUTHORIZED);
        assertThat(ACCESS.hashed.sum()).isEqualTo(before);
    }

    @Test
    void aClientWaitsInALineOfItsOwnAndTheLineOfAllIsBounded() throws Exception {
        List<Runnable> queued = new ArrayList<>();
        Executor later = queued::add;
        List<CompletableFuture<AccessControl.Verdict>> waiting = new ArrayList<>();
        for (int i = 0; i < AccessControl.MAX_CHECKS_PER_CLIENT; i++) {
            waiting.add(ACCESS.verify(basic("admin", "guess-a" + i), client(2), () -> true, later));
        }
        AccessControl.Verdict more = ACCESS.verify(basic("admin", "guess-b"), client(2), () -> true, later).getNow(null);
        assertThat(more).as("a fifth check of the same client").isNotNull();
        assertThat(more.status()).isEqualTo(HttpResponseStatus.TOO_MANY_REQUESTS);
        assertThat(more.retryAfter()).isEqualTo("1");
        CompletableFuture<AccessControl.Verdict> other = ACCESS.verify(basic("admin", "s3cret"), client(3), () -> true, later);
        assertThat(other).as("another client's check waits its turn").isNotDone();
        queued.forEach(Runnable::run);
        assertThat(other.get()).isSameAs(AccessControl.PASS);
        for (CompletableFuture<AccessControl.Verdict> w : waiting) {
            assertThat(w.get().status()).isEqualTo(HttpResponseStatus.UNAUTHORIZED);
        }
        assertThat(ACCESS.verify(basic("admin", "guess-c"), client(2), () -> true, Runnable::run).get().status())
                .as("the client's line is free again").isEqualTo(HttpResponseStatus.UNAUTHORIZED);

        Executor full = task -> {
            throw new RejectedExecutionException("full");
        };
        AccessControl.Verdict busy = ACCESS.verify(basic("admin", "guess-d"), client(4), () -> true, full).get();
        assertThat(busy.status()).isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(ACCESS.verify(basic("admin", "guess-e"), client(4), () -> true, Runnable::run).get().status())
                .as("a refused check leaves no place taken").isEqualTo(HttpResponseStatus.UNAUTHORIZED);
    }

    @Test
    void anUnknownUserIsHashedTooAndRightAndWrongAreRememberedApart() throws Exception {
        long before = ACCESS.hashed.sum();
        assertThat(ACCESS.verify(basic("nobody", "x"), client(5), () -> true, Runnable::run).get().status())
                .isEqualTo(HttpResponseStatus.UNAUTHORIZED);
        assertThat(ACCESS.hashed.sum()).as("hashed against a decoy").isEqualTo(before + 1);

        HttpHeaders right = basic("admin", "s3cret");
        HttpHeaders wrong = basic("admin", "wrong");
        ACCESS.verify(right, client(6), () -> true, Runnable::run).get();
        ACCESS.verify(wrong, client(6), () -> true, Runnable::run).get();
        assertThat(ACCESS.check("GET", "/", right, client(6))).isSameAs(AccessControl.PASS);
        assertThat(ACCESS.check("GET", "/", wrong, client(6)).status()).isEqualTo(HttpResponseStatus.UNAUTHORIZED);
    }
}
