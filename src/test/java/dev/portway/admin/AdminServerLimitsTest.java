package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portway.admin.auth.AdminCredentials;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/** The admin server's own limits, with short settings: connections over the cap, slow requests, idle connections. */
class AdminServerLimitsTest extends AdminServerTestBase {

    @Override
    AdminServer.Options options(AdminCredentials credentials) {
        return new AdminServer.Options(credentials, Set.of(), 2, Duration.ofMillis(800), Duration.ofMillis(4000), Duration.ofMillis(700),
                1024, 4096);
    }

    private static boolean closedByServer(SSLSocket s) {
        try {
            InputStream in = s.getInputStream();
            return in.read() < 0;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    private String get(SSLSocket s, String path, boolean withToken) throws Exception {
        return get(s, path, withToken ? credentials.token() : null);
    }

    /** GET with {@code token} (null: none); returns the answer's head, its body read past. */
    private String get(SSLSocket s, String path, String token) throws Exception {
        s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\n"
                + (token != null ? "Authorization: Bearer " + token + "\r\n" : "") + "\r\n").getBytes(StandardCharsets.UTF_8));
        String head = head(s);
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            s.getInputStream().readNBytes(Integer.parseInt(length.group(1)));
        }
        return head;
    }

    private static String namespace(String name) {
        return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n";
    }

    /** The head of an admin's create of a Namespace in YAML, but its framing fields and the empty line. */
    private String createHead() {
        return "POST /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer "
                + credentials.token() + "\r\nContent-Type: application/yaml\r\n";
    }

    /**
     * A chunked body cut by a malformed chunk-size line reached the API with what came before it:
     * a Namespace in YAML, cut there, was created (201) and the connection kept. It is refused now,
     * nothing is made, and the connection, whose bytes can no longer be framed, is closed.
     */
    @Test
    void aBodyCutByAMalformedChunkIsNotActedOn() throws Exception {
        try (SSLSocket s = connect()) {
            String yaml = namespace("cut");
            s.getOutputStream().write((createHead() + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(yaml.length()) + "\r\n"
                    + yaml + "\r\nZZZZ-not-a-size\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 400 ").contains("malformed chunk");
        }
        assertThat(control.store().get(dev.portway.api.ResourceKind.NAMESPACE, null, "cut")).isEmpty();
    }

    /**
     * A query with a bad escape was a 500 with the exception's text, and a warning with its stack
     * in the log for each; one in the path closed the connection without an answer.
     */
    @Test
    void aQueryThatCannotBeDecodedIsTheCallersFault() throws Exception {
        try (SSLSocket s = connect()) {
            assertThat(get(s, "/api/v1/nodes?labelSelector=%zz", true)).startsWith("HTTP/1.1 400 ");
            assertThat(get(s, "/api/v1/nodes?labelSelector=%", true)).startsWith("HTTP/1.1 400 ");
            assertThat(get(s, "/api/v1/nodes", true)).as("the connection goes on").startsWith("HTTP/1.1 200 ");
        }
        try (SSLSocket s = connect()) {
            assertThat(get(s, "/api/v1/nodes%zz", true)).as("in the path, refused at the gate").startsWith("HTTP/1.1 400 ");
        }
    }

    /**
     * A refusal of the gate's went out at once, ahead of the answer to an earlier request of the
     * same connection still being made: a client that pipelined a create and then a request the
     * gate refuses read a 403 for its create, which was made. Answers keep the requests' order.
     */
    @Test
    void aRefusalWaitsForTheAnswersToEarlierRequests() throws Exception {
        try (SSLSocket s = connect()) {
            String yaml = namespace("piped");
            s.getOutputStream().write((createHead() + "Content-Length: " + yaml.length() + "\r\n\r\n" + yaml
                    + "GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            String answers = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answers).startsWith("HTTP/1.1 201 ");
            assertThat(answers.indexOf("HTTP/1.1 403 ")).as("the refusal, after the create's answer").isPositive();
        }
        assertThat(control.store().get(dev.portway.api.ResourceKind.NAMESPACE, null, "piped")).isPresent();
    }

    /** Whether the server closed {@code s} within a few seconds (false if it is still open then). */
    private static boolean endsSoon(SSLSocket s) throws Exception {
        s.setSoTimeout(3000);
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (java.io.IOException reset) {
            return true;
        }
    }

    @Test
    void connectionsOverTheCapAreClosedAtOnceWhenEveryOpenOneHasAuthenticated() throws Exception {
        List<SSLSocket> open = new ArrayList<>();
        open.add(connect());
        open.add(connect());
        for (SSLSocket s : open) {
            assertThat(get(s, "/version", true)).startsWith("HTTP/1.1 200 OK");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 2);
        var third = new java.net.Socket(address.getHostString(), address.getPort());
        third.setSoTimeout(5000);
        assertThat(third.getInputStream().read()).as("closed without a byte").isEqualTo(-1);
        third.close();
        for (SSLSocket s : open) {
            assertThat(get(s, "/version", true)).as("the authenticated connections are untouched").startsWith("HTTP/1.1 200 OK");
            s.close();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        try (SSLSocket again = connect()) {
            assertThat(get(again, "/healthz", false)).startsWith("HTTP/1.1 200 OK");
        }
    }

    /**
     * Anyone who can reach the port may ask {@code /healthz}, and each answer starts the wait for
     * the next request again: anonymous checkers could hold every connection slot for good and lock
     * the admin out. At the cap, the oldest connection that has shown no credential makes room.
     */
    @Test
    void anonymousConnectionsHoldingEverySlotMakeRoomForNewOnes() throws Exception {
        try (SSLSocket first = connect(); SSLSocket second = connect()) {
            assertThat(get(first, "/healthz", false)).startsWith("HTTP/1.1 200 OK");
            assertThat(get(second, "/healthz", false)).startsWith("HTTP/1.1 200 OK");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 2);
            try (SSLSocket admin = connect()) {
                assertThat(get(admin, "/version", true)).startsWith("HTTP/1.1 200 OK");
                assertThat(endsSoon(first)).as("the oldest anonymous connection made room").isTrue();
                assertThat(get(second, "/healthz", false)).startsWith("HTTP/1.1 200 OK");
                // now the admin's connection is the one that has authenticated: a new one takes the anonymous one's place
                try (SSLSocket another = connect()) {
                    assertThat(get(another, "/healthz", false)).startsWith("HTTP/1.1 200 OK");
                    assertThat(endsSoon(second)).isTrue();
                    assertThat(get(admin, "/version", true)).startsWith("HTTP/1.1 200 OK");
                }
            }
        }
    }

    /** The topology page's token does not count as an admin's: its connections make room at the cap, as anonymous ones do. */
    @Test
    void viewerConnectionsHoldingEverySlotMakeRoomForAnAdmin() throws Exception {
        String viewer = dev.portway.testing.AdminHttp.mintViewerToken(tls, address, credentials.token());
        await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        try (SSLSocket first = connect(); SSLSocket second = connect()) {
            assertThat(get(first, "/api/v1/nodes", viewer)).startsWith("HTTP/1.1 200 OK");
            assertThat(get(second, "/api/v1/nodes", viewer)).startsWith("HTTP/1.1 200 OK");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 2);
            try (SSLSocket admin = connect()) {
                assertThat(get(admin, "/version", true)).startsWith("HTTP/1.1 200 OK");
                assertThat(endsSoon(first)).as("the oldest viewer connection made room").isTrue();
            }
        }
    }

    /**
     * A request behind a watch waits for the watch to end, and the connection is not read while it
     * waits: each waiting request may hold a body of megabytes. Before, every pipelined request was
     * read and held, and the seventeenth closed the connection.
     */
    @Test
    void requestsPipelinedBehindAWatchAreNotReadUntilItEnds() throws Exception {
        try (SSLSocket s = connect()) {
            s.setSoTimeout(10_000);
            String auth = "Authorization: Bearer " + credentials.token() + "\r\n";
            String host = "Host: 127.0.0.1:" + address.getPort() + "\r\n";
            s.getOutputStream().write(("GET /api/v1/configmaps?watch=true&timeoutSeconds=2 HTTP/1.1\r\n" + host + auth + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            int before = control.store().watcherCount();
            await().atMost(Duration.ofSeconds(5)).until(() -> control.store().watcherCount() > 0 || before > 0);
            int asked = 40;
            for (int i = 0; i < asked; i++) {
                s.getOutputStream().write(("GET /version HTTP/1.1\r\n" + host + auth + "\r\n").getBytes(StandardCharsets.UTF_8));
                s.getOutputStream().flush();
                Thread.sleep(10); // one request a read, as a client that pipelines over time sends them
            }
            s.getOutputStream().write(("GET /version HTTP/1.1\r\n" + host + auth + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(all.split("\"gitVersion\"", -1).length - 1).as("every version request answered after the watch").isEqualTo(asked + 1);
        }
    }

    /**
     * A client that pipelines requests and reads no answer: the server holds the next request while
     * an answer waits unread (reading no further), and closes the connection when the read timeout
     * passes with the answer still unread. Before, every answer was queued for it, 100,000 here.
     */
    @Test
    void aClientThatPipelinesRequestsAndReadsNoAnswerIsNotAnsweredWithoutBound() throws Exception {
        int asked = 100_000;
        byte[] one = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer " + credentials.token() + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (SSLSocket s = connect()) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < asked; i += 100) {
                        java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
                        for (int j = 0; j < 100; j++) {
                            batch.writeBytes(one);
                        }
                        s.getOutputStream().write(batch.toByteArray());
                    }
                } catch (java.io.IOException e) {
                    // closed by the server: expected
                }
            });
            writer.join(20_000);
            // the answers that did go out, then the end: the server stopped answering a client that read none,
            // closed with requests of the client's still unread (the end may come as a reset)
            java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = s.getInputStream().read(buf)) >= 0;) {
                    read.write(buf, 0, n);
                }
            } catch (java.io.IOException e) {
                // reset (or TLS cut short by it): the end all the same
            }
            int answered = new String(read.toByteArray(), java.nio.charset.StandardCharsets.US_ASCII).split("HTTP/1.1 200", -1).length - 1;
            assertThat(answered).as("answers written for %d requests, none read while they were sent", asked).isLessThan(asked);
        }
    }

    @Test
    void aRequestThatTricklesInIsCutOffAfterTheReadTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            long start = System.nanoTime();
            assertThat(closedByServer(s)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        }
    }

    @Test
    void aConnectionThatSendsNoRequestIsClosedAfterTheHeaderTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            long start = System.nanoTime();
            assertThat(closedByServer(s)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void anAuthenticatedClientKeepsItsConnectionForTheIdleTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.getOutputStream().write(("GET /version HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\nAuthorization: Bearer "
                    + credentials.token() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            assertThat(new String(s.getInputStream().readNBytes(15), StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200 OK");
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2)).until(() -> server.openConnections() == 1);
            await().atMost(Duration.ofSeconds(6)).until(() -> server.openConnections() == 0);
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.getOutputStream().write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + address.getPort() + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            byte[] head = s.getInputStream().readNBytes(15);
            assertThat(new String(head, StandardCharsets.UTF_8)).isEqualTo("HTTP/1.1 200 OK");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        }
    }

    /**
     * The aggregator answers {@code Expect: 100-continue} with a 100 Continue, which the timers took
     * for the request's answer: the idle timeout then ran during the watch and cut it off.
     */
    @Test
    void aWatchSentWithExpectContinueIsNotCutOffByTheIdleTimeout() throws Exception {
        try (SSLSocket s = connect()) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(("GET /api/v1/configmaps?watch=true&timeoutSeconds=6 HTTP/1.1\r\nHost: 127.0.0.1:"
                    + address.getPort() + "\r\nAuthorization: Bearer " + credentials.token() + "\r\nExpect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            long start = System.nanoTime();
            StringBuilder read = new StringBuilder();
            InputStream in = s.getInputStream();
            while (!read.toString().endsWith("0\r\n\r\n")) {
                int b;
                try {
                    b = in.read();
                } catch (java.io.IOException reset) {
                    b = -1;
                }
                if (b < 0) {
                    break;
                }
                read.append((char) b);
            }
            assertThat(read.toString()).as("the watch's last chunk, after %d ms", (System.nanoTime() - start) / 1_000_000)
                    .contains("HTTP/1.1 200 OK").endsWith("0\r\n\r\n");
        }
    }
}
