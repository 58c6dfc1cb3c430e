package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.AdminCredentials;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * A viewer token is a link that may leak, so the viewers' watches are few at once
 * ({@link ApiHandler#MAX_VIEWER_WATCHES}), and each may leave at most 8 MiB unread. A watch from a
 * past revision replays the history since: it was written whole (tens of megabytes) before the
 * first check, and once that ended it, the viewer's slot was free again while the bytes still
 * waited for a reader who never read, so one connection after another could each pin a replay.
 */
class ViewerWatchTest extends AdminServerTestBase {

    /**
     * The defaults, with header and read timeouts longer than the test: a viewer's connection idles
     * out after the header timeout (10 s by default, counted from its answer's end) and one whose
     * answer is unread closes after the read timeout (30 s). On a loaded machine the sixteen replays
     * took longer than 10 s, so the first watch's connection closed (giving its slot back, as it
     * should) before the seventeenth asked.
     */
    @Override
    AdminServer.Options options(AdminCredentials credentials) {
        AdminServer.Options d = AdminServer.Options.defaults(credentials);
        return new AdminServer.Options(credentials, d.allowedOrigins(), d.maxConnections(), Duration.ofMinutes(2), d.idleTimeout(),
                Duration.ofMinutes(2), d.maxBody(), d.maxApplyBody());
    }

    @Test
    void aReplayThatEndsAViewersWatchKeepsItsSlotUntilItIsReadOrClosed() throws Exception {
        String padding = "x".repeat(10_000);
        long from = control.store().revision();
        for (int i = 0; i < 1500; i++) { // 15 MB of history: more than a watch may leave unread, and than the socket holds
            Store.Batch batch = control.store().begin();
            batch.put(new EndpointSliceBuilder().withNewMetadata().withName("churn-" + i).withNamespace("default")
                    .withAnnotations(Map.of("padding", padding)).endMetadata().withAddressType("IPv4").build());
            batch.commit();
        }
        String viewer = dev.portway.testing.AdminHttp.mintViewerToken(tls, address, credentials.token());
        String watch = "GET /apis/discovery.k8s.io/v1/endpointslices?watch=1&allowWatchBookmarks=true&resourceVersion=" + from
                + " HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer " + viewer + "\r\n\r\n";
        List<SSLSocket> readers = new ArrayList<>();
        try {
            for (int i = 0; i < ApiHandler.MAX_VIEWER_WATCHES; i++) {
                SSLSocket s = connect();
                readers.add(s);
                s.getOutputStream().write(watch.getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
                assertThat(head(s)).as("watch %d", i).startsWith("HTTP/1.1 200 ");
            }
            // each replay ended its watch past 8 MiB unread; none of it has been read
            try (SSLSocket one = connect()) {
                one.getOutputStream().write(watch.getBytes(StandardCharsets.UTF_8));
                assertThat(head(one)).as("a watch past the viewers' slots, theirs still unread").startsWith("HTTP/1.1 429 ");
            }
            readers.removeFirst().close();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                try (SSLSocket again = connect()) {
                    again.getOutputStream().write(watch.replace("watch=1", "watch=1&timeoutSeconds=1").getBytes(StandardCharsets.UTF_8));
                    assertThat(head(again)).as("a slot given back as its connection closed").startsWith("HTTP/1.1 200 ");
                }
            });
        } finally {
            for (SSLSocket s : readers) {
                s.close();
            }
            // the server's side of each goes as its write fails on the reset: what it still held is released
            // with it, not left to a loop that stops under it
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> server.openConnections() == 0);
        }
    }
}
