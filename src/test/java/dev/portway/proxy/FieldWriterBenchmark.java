package dev.portway.proxy;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Writing a head's fields into a pooled direct buffer (bench/jmh): {@link FieldWriter} against
 * Netty's own encoding, for the two heads the gateway writes per request in the benchmark: the
 * request to the endpoint (a load generator's Host and the six forwarding fields Portway adds) and
 * NGINX's answer. Names are {@code AsciiString}s and values {@code String}s, as Netty's decoder and
 * the gateway make them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FieldWriterBenchmark {

    /** Netty's way, reached through its protected method. */
    private static final class NettyWay extends HttpResponseEncoder {
        void write(HttpHeaders headers, ByteBuf buf) {
            encodeHeaders(headers, buf);
        }
    }

    private final NettyWay netty = new NettyWay();
    private HttpHeaders request;
    private HttpHeaders response;
    private ByteBuf buf;

    @Setup
    public void setUp() {
        request = new DefaultHttpHeaders()
                .add(AsciiString.of("Host"), "127.3.0.2:8084")
                .add(AsciiString.of("x-forwarded-for"), "127.0.0.1")
                .add(AsciiString.of("x-real-ip"), "127.0.0.1")
                .add(AsciiString.of("x-forwarded-proto"), "http")
                .add(AsciiString.of("x-forwarded-host"), "127.3.0.2:8084")
                .add(AsciiString.of("x-forwarded-port"), "8084")
                .add(AsciiString.of("forwarded"), "for=127.0.0.1;host=\"127.3.0.2:8084\";proto=http");
        response = new DefaultHttpHeaders()
                .add(AsciiString.of("Server"), "nginx/1.22.1")
                .add(AsciiString.of("Date"), "Tue, 01 Dec 2026 07:09:00 GMT")
                .add(AsciiString.of("Content-Type"), "application/octet-stream")
                .add(AsciiString.of("Content-Length"), "3");
        buf = AdaptiveByteBufAllocator.DEFAULT.directBuffer(1024);
    }

    @TearDown
    public void tearDown() {
        buf.release();
    }

    @Benchmark
    public int nettyRequest() {
        buf.clear();
        netty.write(request, buf);
        return buf.writerIndex();
    }

    @Benchmark
    public int fieldWriterRequest() {
        buf.clear();
        FieldWriter.write(request, buf);
        return buf.writerIndex();
    }

    @Benchmark
    public int nettyResponse() {
        buf.clear();
        netty.write(response, buf);
        return buf.writerIndex();
    }

    @Benchmark
    public int fieldWriterResponse() {
        buf.clear();
        FieldWriter.write(response, buf);
        return buf.writerIndex();
    }
}
