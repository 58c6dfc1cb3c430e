package dev.portway.plan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which route hostnames a request for another falls back to, in the Gateway API's sense of a wildcard (one label or more). */
class GatewayPlansHostsTest {

    @ParameterizedTest(name = "{0} covers {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            *               | shop.example.com   | true
            *               | *.example.com      | true
            *.example.com   | shop.example.com   | true
            *.example.com   | a.b.example.com    | true
            *.example.com   | *.b.example.com    | true
            *.com           | *.example.com      | true
            *.example.com   | example.com        | false
            *.example.com   | *.example.com      | false
            *.example.com   | shopexample.com    | false
            *.example.com   | *.com              | false
            shop.example.com| shop.example.com   | false
            shop.example.com| a.shop.example.com | false
            """)
    void covers(String wider, String host, boolean expected) {
        assertThat(GatewayPlans.covers(wider, host)).isEqualTo(expected);
    }
}
