package dev.portway.runtime.echo;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Requests made whole for the echo handlers: a form's body kept (up to 64 KiB), every other let go. */
class EchoRequestsTest {

    private static EmbeddedChannel channel(boolean keepForms) {
        return new EmbeddedChannel(new HttpServerCodec(), new EchoRequests(keepForms));
    }

    private static void send(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    @Test
    void aFormsBodyIsKeptForEchoBasicAndEveryOtherIsLetGo() {
        EmbeddedChannel ch = channel(true);
        send(ch, "POST /?a=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\ndelay\r\n3\r\n=1s\r\n0\r\n\r\n");
        FullHttpRequest form = ch.readInbound();
        assertThat(form.content().toString(StandardCharsets.US_ASCII)).isEqualTo("delay=1s");
        // the headers as the client sent them: no Content-Length made up for a chunked body
        assertThat(form.headers().names()).containsExactly("Host", "Content-Type", "Transfer-Encoding");
        form.release();

        send(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
        FullHttpRequest other = ch.readInbound();
        assertThat(other.content().readableBytes()).isZero();
        assertThat(other.headers().get("Content-Length")).isEqualTo("5");
        other.release();

        // Go reads form bodies of POST, PUT and PATCH only
        send(ch, "GET / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1");
        FullHttpRequest get = ch.readInbound();
        assertThat(get.content().readableBytes()).isZero();
        get.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void theHttpEchoKeepsNoBodyAtAll() {
        EmbeddedChannel ch = channel(false);
        send(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1");
        FullHttpRequest request = ch.readInbound();
        assertThat(request.content().readableBytes()).isZero();
        request.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    /** A form whose length is said is refused at its head; a chunked one once it passes the limit and ends. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aFormPastSixtyFourKibibytesIsRefusedAndTheConnectionClosed(boolean chunked) {
        EmbeddedChannel ch = channel(true);
        int length = EchoRequests.MAX_FORM + 1;
        send(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + (chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + length) + "\r\n\r\n");
        for (int sent = 0; sent < length && ch.isOpen(); sent += 1000) {
            String part = "a".repeat(Math.min(1000, length - sent));
            send(ch, chunked ? Integer.toHexString(part.length()) + "\r\n" + part + "\r\n" : part);
        }
        if (chunked) {
            send(ch, "0\r\n\r\n");
        }
        assertThat(ch.<Object>readInbound()).isNull();
        io.netty.buffer.ByteBuf answer = ch.readOutbound();
        assertThat(answer.toString(StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 413 Request Entity Too Large\r\n");
        answer.release();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }
    /**
     * Expect: 100-continue is answered here, after the checks: a form said to be too large gets
     * its 413 first, never a 100 that asks for a body the echo will not read; an expectation it does
     * not know gets 417, as Go's server answers.
     */
    @Test
    void anExpectationIsAnsweredAfterTheChecks() {
        EmbeddedChannel ch = channel(true);
        send(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n"
                + "Expect: 100-continue\r\n\r\n");
        assertThat(outbound(ch)).startsWith("HTTP/1.1 100 Continue\r\n");
        send(ch, "a=1");
        FullHttpRequest request = ch.readInbound();
        assertThat(request.content().toString(StandardCharsets.US_ASCII)).isEqualTo("a=1");
        request.release();
        ch.finishAndReleaseAll();

        ch = channel(true);
        send(ch, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                + (EchoRequests.MAX_FORM + 1) + "\r\nExpect: 100-continue\r\n\r\n");
        assertThat(outbound(ch)).startsWith("HTTP/1.1 413 Request Entity Too Large\r\n");
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();

        ch = channel(false);
        send(ch, "GET / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n");
        assertThat(outbound(ch)).startsWith("HTTP/1.1 417 Expectation Failed\r\n");
        assertThat(ch.<Object>readInbound()).isNull();
        ch.finishAndReleaseAll();
    }

    private static String outbound(EmbeddedChannel ch) {
        io.netty.buffer.ByteBuf b = ch.readOutbound();
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
        }
    }
}
