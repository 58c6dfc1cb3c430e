package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Rate limits per client address, and what they keep of the clients they have seen. */
class AccessControlRateLimitTest {

    private static AccessControl limited(int requests, Duration per) {
        return new AccessControl(new Plan.AccessPolicy("default/limited", Map.of(), List.of(), Set.of(), List.of(), List.of(),
                List.of(), new Plan.RateLimit(requests, per, 1), null));
    }

    private static InetAddress client(int n) throws Exception {
        return InetAddress.getByAddress(new byte[] {127, (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
    }

    @Test
    void aClientPastItsLimitIsToldWhenToComeBack() throws Exception {
        AccessControl access = limited(1, Duration.ofHours(1));
        assertThat(access.check("GET", "/", new DefaultHttpHeaders(), client(1)).status()).isNull();
        AccessControl.Verdict second = access.check("GET", "/", new DefaultHttpHeaders(), client(1));
        assertThat(second.status()).isEqualTo(HttpResponseStatus.TOO_MANY_REQUESTS);
        assertThat(access.check("GET", "/", new DefaultHttpHeaders(), client(2)).status()).as("another client").isNull();
    }

    /**
     * With a limit per hour no bucket refills for an hour, and a full map used to free nothing:
     * every client of all 127.0.0.0/8 got a bucket of its own, and each new one a scan of them all.
     */
    @Test
    void clientsPastTheCapMakeRoomEvenWhenNoBucketIsIdle() throws Exception {
        AccessControl access = limited(1, Duration.ofHours(1));
        int clients = AccessControl.MAX_BUCKETS + AccessControl.MAX_BUCKETS / 2;
        for (int n = 1; n <= clients; n++) {
            access.check("GET", "/", new DefaultHttpHeaders(), client(n));
        }
        assertThat(access.clients()).isLessThanOrEqualTo(AccessControl.MAX_BUCKETS);
    }
}
