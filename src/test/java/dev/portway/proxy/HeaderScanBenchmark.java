package dev.portway.proxy;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the L7 gateway does with a request's header section (bench/jmh): one pass that finds the
 * fields it removes or reads ({@link HeaderScan}), and the hop-by-hop fields taken out. The
 * request is a browser's, with twelve fields, a keep-alive {@code Connection} naming one more and
 * an {@code X-Forwarded-For} from a proxy before; its names are {@code AsciiString}s, as Netty's
 * decoder makes them. Stripping changes the headers, so it works on a copy made in the same call:
 * {@code copyHeaders} is that copy alone, to subtract.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HeaderScanBenchmark {

    private HttpHeaders browser;
    private HttpHeaders loadGenerator;

    @Setup
    public void setUp() {
        browser = new DefaultHttpHeaders()
                .add(AsciiString.of("host"), "grafana.example.com")
                .add(AsciiString.of("user-agent"), "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
                .add(AsciiString.of("accept"), "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                .add(AsciiString.of("accept-language"), "en-US,en;q=0.9")
                .add(AsciiString.of("accept-encoding"), "gzip, deflate, br")
                .add(AsciiString.of("cookie"), "grafana_session=0123456789abcdef0123456789abcdef")
                .add(AsciiString.of("referer"), "https://grafana.example.com/d/abc/overview")
                .add(AsciiString.of("connection"), "keep-alive, x-debug")
                .add(AsciiString.of("x-debug"), "1")
                .add(AsciiString.of("x-forwarded-for"), "203.0.113.7")
                .add(AsciiString.of("sec-fetch-mode"), "navigate")
                .add(AsciiString.of("cache-control"), "max-age=0");
        loadGenerator = new DefaultHttpHeaders().add(AsciiString.of("host"), "127.3.0.2:8084");
    }

    @Benchmark
    public int scanBrowserRequest() {
        return HeaderScan.of(browser);
    }

    @Benchmark
    public int scanLoadGeneratorRequest() {
        return HeaderScan.of(loadGenerator);
    }

    @Benchmark
    public HttpHeaders copyHeaders() {
        return new DefaultHttpHeaders().add(browser);
    }

    @Benchmark
    public int copyScanAndStripHopByHop() {
        HttpHeaders h = new DefaultHttpHeaders().add(browser);
        return HeaderScan.stripHopByHop(h, HeaderScan.of(h));
    }
}
