package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.admin.auth.AdminCredentials;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate's branches that sockets rarely hit: bodies that grow past the limit as they stream, refusals mid-body. */
class RequestGateTest {

    @TempDir
    static Path dir;

    private static AdminServer.Options options;

    @BeforeAll
    static void credentials() {
        AdminCredentials creds = AdminCredentials.loadOrCreate(dir.resolve("state"), List.of("127.0.0.1"), Clock.systemUTC());
        options = new AdminServer.Options(creds, java.util.Set.of(), 8, java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(5),
                java.time.Duration.ofSeconds(5),
                1024, 4096);
    }

    private static EmbeddedChannel gate() {
        return new EmbeddedChannel(new RequestGate(options, new dev.portway.admin.auth.ViewerTokens(java.time.Clock.systemUTC()), new InetSocketAddress("127.0.0.1", 8001), null, c -> { }));
    }

    private static HttpRequest post(String path, boolean chunked) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path);
        r.headers().set(HttpHeaderNames.HOST, "127.0.0.1:8001");
        r.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + options.credentials().token());
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        HttpUtil.setTransferEncodingChunked(r, chunked);
        return r;
    }

    private static HttpContent bytes(int n) {
        return new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[n]));
    }

    /** Records close() instead of closing, as a real channel keeps decoding the bytes of the current read after it. */
    private static final class CloseRecorder extends io.netty.channel.ChannelOutboundHandlerAdapter {
        boolean closed;

        @Override
        public void close(io.netty.channel.ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) {
            closed = true;
            promise.setSuccess();
        }
    }

    @Test
    void aChunkedBodyThatGrowsPastTheLimitIsCutOffWith413AndReleased() {
        CloseRecorder close = new CloseRecorder();
        EmbeddedChannel ch = new EmbeddedChannel(close, new RequestGate(options, new dev.portway.admin.auth.ViewerTokens(java.time.Clock.systemUTC()), new InetSocketAddress("127.0.0.1", 8001), null, c -> { }));
        assertThat(ch.writeInbound(post("/api/v1/namespaces/default/configmaps", true))).isTrue();
        HttpContent first = bytes(600);
        assertThat(ch.writeInbound(first)).isTrue();
        ch.<HttpRequest>readInbound();
        ch.<HttpContent>readInbound().release();
        HttpContent over = bytes(600);
        assertThat(ch.writeInbound(over)).isFalse();
        assertThat(over.refCnt()).isZero();
        FullHttpResponse answer = ch.readOutbound();
        assertThat(answer.status().code()).isEqualTo(413);
        assertThat(answer.content().toString(java.nio.charset.StandardCharsets.UTF_8)).contains("limit is 1024");
        answer.release();
        assertThat(close.closed).isTrue();
        // what the codec still decodes from bytes already read never reaches the API: not the
        // rest of the refused request (which would complete it in the aggregator), nor a pipelined one
        HttpContent rest = bytes(10);
        DefaultLastHttpContent end = new DefaultLastHttpContent();
        HttpRequest next = post("/api/v1/namespaces/default/configmaps", false);
        ch.writeInbound(rest, end, next);
        assertThat(ch.<Object>readInbound()).isNull();
        assertThat(rest.refCnt()).isZero();
        assertThat(end.refCnt()).isZero();
        ch.finishAndReleaseAll();
    }

    @Test
    void theApplyPathHasTheLargerLimit() {
        EmbeddedChannel ch = gate();
        assertThat(ch.writeInbound(post(ApiHandler.APPLY_PATH, true))).isTrue();
        assertThat(ch.writeInbound(bytes(3000))).isTrue();
        assertThat(ch.writeInbound(new DefaultLastHttpContent())).isTrue();
        assertThat(ch.<Object>readOutbound()).isNull();
        assertThat(ch.isOpen()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void aSmallBodyOfARefusedRequestIsReadAndDroppedBeforeTheConnectionCloses() {
        EmbeddedChannel ch = gate();
        HttpRequest r = post("/api/v1/namespaces/default/pods", false);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
        HttpUtil.setContentLength(r, 10);
        assertThat(ch.writeInbound(r)).isFalse();
        FullHttpResponse answer = ch.readOutbound();
        assertThat(answer.status().code()).isEqualTo(415);
        answer.release();
        assertThat(ch.isOpen()).as("still reading the body").isTrue();
        HttpContent body = new DefaultLastHttpContent(Unpooled.wrappedBuffer(new byte[10]));
        assertThat(ch.writeInbound(body)).isFalse();
        assertThat(body.refCnt()).isZero();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    /** Netty marks such a head failed but keeps the header: reading its length threw, and no answer was written. */
    @Test
    void aMalformedContentLengthIsAnsweredWith400() {
        EmbeddedChannel ch = gate();
        HttpRequest r = post("/api/v1/namespaces/default/configmaps", false);
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, "abc");
        r.setDecoderResult(io.netty.handler.codec.DecoderResult.failure(new IllegalArgumentException("bad length")));
        assertThat(ch.writeInbound(r)).isFalse();
        FullHttpResponse answer = ch.readOutbound();
        assertThat(answer.status().code()).isEqualTo(400);
        answer.release();
        ch.finishAndReleaseAll();
    }
}
