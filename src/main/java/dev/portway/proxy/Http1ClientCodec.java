package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The gateway's HTTP/1.1 codec on its upstream connections: Netty's response decoder and request
 * encoder, paired as {@code HttpClientCodec} pairs them (the answer to a HEAD has no body; the
 * gateway sends no CONNECT upstream), and what {@code HttpClientCodec} keeps to itself: whether
 * bytes came that belong to no response asked for.
 *
 * <p>A pooled connection is lent to the next client as it is. Bytes an endpoint sent past the end
 * of its response (more than its framing said, a body on an answer to HEAD, a 204 or a 304) stayed
 * in the decoder and began the next client's answer: a {@code Set-Cookie} of the first response's
 * making on another client's. So a connection whose decoder holds bytes when its response ends is
 * not pooled ({@link #holdsBytes}), and one that receives any while it idles in the pool is
 * closed: what a decoder builds from them (a head in part) would show no sooner than the next
 * client's answer. Line ends alone (CR, LF), which some servers send after a body and the decoder
 * skips before a response, are no such bytes.
 *
 * <p>What this cannot see: bytes that arrive after the connection was lent again (a borrower on
 * the same event loop in the same turn, a pipelined request), which no HTTP/1.1 pool can tell from
 * the start of the next answer; NGINX's and HAProxy's keep-alive pools have the same window.
 */
final class Http1ClientCodec extends CombinedChannelDuplexHandler<Http1ClientCodec.Decoder, Http1ClientCodec.Encoder> {

    /** The methods of requests sent and not yet answered, oldest first. */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
    /** Whether an exchange has the connection (a new one has, until its first exchange gives it back). */
    private boolean lent = true;

    Http1ClientCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    /** Whether the decoder holds bytes it has not made into messages (between responses: bytes of none asked for). */
    boolean holdsBytes() {
        return inboundHandler().holdsBytes();
    }

    /** An exchange takes the connection ({@code true}), or gives it back to the pool. */
    void lent(boolean lent) {
        this.lent = lent;
    }

    final class Decoder extends HttpResponseDecoder {
        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        boolean holdsBytes() {
            return !lineEndsOnly(internalBuffer());
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (!lent) {
                // no request is out: whatever comes is no answer to anything (but the line end some
                // servers send after a body, which the decoder skips before a response)
                boolean junk = !lineEndsOnly(buffer);
                buffer.skipBytes(buffer.readableBytes());
                if (junk) {
                    ctx.close();
                }
                return;
            }
            super.decode(ctx, buffer, out);
        }

        /** Whether {@code b} holds nothing but CR and LF bytes (or nothing). */
        private static boolean lineEndsOnly(ByteBuf b) {
            for (int i = b.readerIndex(); i < b.writerIndex(); i++) {
                byte c = b.getByte(i);
                if (c != '\r' && c != '\n') {
                    return false;
                }
            }
            return true;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            HttpResponse response = (HttpResponse) msg;
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // the final answer to the same request follows
            }
            if (HttpMethod.HEAD.equals(methods.poll())) {
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }
    }

    final class Encoder extends HttpRequestEncoder {
        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest r) {
                methods.add(r.method());
            }
            super.encode(ctx, msg, out);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            FieldWriter.write(headers, buf);
        }
    }
}
