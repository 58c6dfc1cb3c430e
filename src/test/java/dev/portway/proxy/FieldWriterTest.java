package dev.portway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link FieldWriter} writes the bytes Netty's HTTP/1.1 encoders write, whatever the fields hold. */
class FieldWriterTest {

    /** Netty's own encoding of a header section, through its protected method. */
    private static final class NettyWay extends HttpResponseEncoder {
        byte[] write(HttpHeaders headers) {
            ByteBuf buf = Unpooled.buffer();
            try {
                encodeHeaders(headers, buf);
                return bytes(buf);
            } finally {
                buf.release();
            }
        }
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), b);
        return b;
    }

    private static byte[] fieldWriter(HttpHeaders headers) {
        ByteBuf buf = Unpooled.directBuffer();
        try {
            buf.writeByte('x'); // appends: what is in the buffer stays
            FieldWriter.write(headers, buf);
            buf.skipBytes(1);
            return bytes(buf);
        } finally {
            buf.release();
        }
    }

    private static void assertSameAsNetty(HttpHeaders headers) {
        assertThat(fieldWriter(headers)).isEqualTo(new NettyWay().write(headers));
    }

    @Test
    void writesWhatNettyWrites() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add(AsciiString.of("Host"), "127.3.0.2:8084")
                .add("x-forwarded-for", "127.0.0.1, 10.0.0.1")
                .add(AsciiString.of("content-length"), AsciiString.of("3"))
                .add("x-empty", "")
                .add(new StringBuilder("x-builder"), new StringBuilder("v"));
        assertSameAsNetty(h);
        assertThat(new String(fieldWriter(h), StandardCharsets.ISO_8859_1)).startsWith("Host: 127.3.0.2:8084\r\nx-forwarded-for: ");
        assertSameAsNetty(new DefaultHttpHeaders());
    }

    @Test
    void aCharPastLatin1IsAQuestionMarkNeverALineEnd() {
        // U+010A and U+010D end in the bytes of LF and CR: a writer that kept a char's low byte would split the field
        HttpHeaders h = io.netty.handler.codec.http.DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders()
                .add("x-filter", "a\u010Ab\u010Dc\u00E9\u20AC")
                .add(AsciiString.of("x-ascii"), "\u00FF");
        assertSameAsNetty(h);
        assertThat(new String(fieldWriter(h), StandardCharsets.ISO_8859_1))
                .isEqualTo("x-filter: a?b?c\u00E9?\r\nx-ascii: \u00FF\r\n");
    }

    @Test
    void fieldsPastTheScratchArrayAreWrittenWhole() {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < 300; i++) {
            h.add("x-field-" + i, "value-" + "v".repeat(i));
        }
        h.add("x-long", "L".repeat(20_000) + "\u0100");
        h.add(AsciiString.of("x-long-ascii"), new AsciiString("A".repeat(9_000)));
        h.add("x-after", "1");
        assertSameAsNetty(h);
    }
}
