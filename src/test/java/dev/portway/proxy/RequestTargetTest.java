package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The request target and Host as routing reads them. */
class RequestTargetTest {

    /**
     * The fully qualified form names the same host: admin.example.com. must reach admin.example.com's
     * virtual host and its policy, not a catch-all's (whose backend may take it for admin.example.com).
     */
    @Test
    void aHostWithATrailingDotIsTheHostWithout() throws Exception {
        RequestTarget t = RequestTarget.parse("/x", "Admin.Example.com.");
        assertThat(t.host()).isEqualTo("admin.example.com");
        assertThat(t.authority()).as("as forwarded").isEqualTo("Admin.Example.com");
        RequestTarget withPort = RequestTarget.parse("/x", "admin.example.com.:8080");
        assertThat(withPort.host()).isEqualTo("admin.example.com");
        assertThat(withPort.authority()).isEqualTo("admin.example.com:8080");
        RequestTarget absolute = RequestTarget.parse("http://admin.example.com./x", "other");
        assertThat(absolute.host()).isEqualTo("admin.example.com");
        assertThat(RequestTarget.parse("/x", "127.0.0.1").host()).isEqualTo("127.0.0.1");
    }

    @Test
    void aHostOfDotsAloneIsNotAHost() {
        assertThatThrownBy(() -> RequestTarget.parse("/x", "..")).isInstanceOf(RequestTarget.Invalid.class);
    }
}
