package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.TestCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PROXY protocol v2 header leaves as soon as the upstream connection opens: a backend that
 * reads it and then speaks first (as SMTP, MySQL and SSH servers do) greets the client, who has
 * sent nothing. The header used to wait for the client's first bytes, and the greeting never came.
 */
class ProxyProtocolTest {

    /** Reads the v2 header, then greets with the client address it names; a connection without a header is dropped. */
    private static final String GREETER = """
            import os, socket
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((os.environ["POD_IP"], 2525))
            s.listen(16)
            while True:
                c, _ = s.accept()
                h = b""
                while len(h) < 16:
                    chunk = c.recv(16 - len(h))
                    if not chunk:
                        break
                    h += chunk
                if len(h) == 16:
                    n = int.from_bytes(h[14:16], "big")
                    while len(h) < 16 + n:
                        h += c.recv(16 + n - len(h))
                    client = socket.inet_ntoa(h[16:20]) if h[13] == 0x11 else "not-ipv4"
                    c.sendall(("220 hello " + client + "\\r\\n").encode())
                c.close()
            """;

    private static TestCluster cluster;

    @BeforeAll
    static void start() throws InterruptedException {
        cluster = new TestCluster();
        StringBuilder script = new StringBuilder();
        GREETER.lines().forEach(l -> script.append("          ").append(l).append('\n'));
        cluster.apply("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: greeter}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: greeter}}
                  template:
                    metadata: {labels: {app: greeter}}
                    spec:
                      containers:
                      - name: smtp-like
                        image: python
                        command: [python3, -c]
                        args:
                        - |
                %s
                        env:
                        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
                        readinessProbe:
                          tcpSocket: {port: 2525}
                          periodSeconds: 1
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: greeter
                  annotations:
                    portway.dev/proxy-protocol: v2
                spec:
                  type: NodePort
                  selector: {app: greeter}
                  ports:
                  - {port: 2525}
                """.formatted(script.toString().stripTrailing()));
        cluster.awaitReady("greeter", 1);
        cluster.settle();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void aServerThatSpeaksFirstGreetsAClientThatHasSentNothing() throws Exception {
        for (String target : new String[] {cluster.clusterIp("greeter") + ":2525", cluster.nodeIp(1) + ":" + cluster.nodePort("greeter")}) {
            String[] hp = target.split(":");
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress("127.0.0.77", 0));
                s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 5000);
                s.setSoTimeout(5000);
                String greeting = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                assertThat(greeting).as(target).startsWith("220 hello ");
                if (target.startsWith(cluster.clusterIp("greeter"))) {
                    assertThat(greeting).as("the header names the client").isEqualTo("220 hello 127.0.0.77");
                }
            }
        }
    }
}
