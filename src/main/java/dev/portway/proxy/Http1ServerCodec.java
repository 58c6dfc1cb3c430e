package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The gateway's HTTP/1.1 server codec: Netty's decoder and encoder (as {@code HttpServerCodec}
 * pairs them, so that the answer to a HEAD has no body), with one rule of RFC 9112 that Netty's
 * decoder leaves out: a request whose header section uses obsolete line folding (a line that
 * starts with a space or tab, section 5.2) is refused with 400 instead of being unfolded, so that
 * no proxy behind the gateway can read the same bytes as different headers.
 *
 * <p>Netty already refuses the rest of section 6 (both Content-Length and Transfer-Encoding,
 * differing or malformed lengths, a final coding other than chunked, bare LF line ends in strict
 * mode); those requests arrive here with a failed decoder result and are answered with 400.
 */
final class Http1ServerCodec extends CombinedChannelDuplexHandler<Http1ServerCodec.Decoder, Http1ServerCodec.Encoder>
        implements HttpServerUpgradeHandler.SourceCodec {

    /** The methods of requests decoded and not yet answered, oldest first (a HEAD's answer has no body). */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);

    Http1ServerCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    /** Whether the first bytes of a request's head arrived and wait for the rest (between requests). */
    boolean holdsPartialHead() {
        return inboundHandler().holdsPartialHead();
    }

    /** An h2c upgrade took the connection: HTTP/1.1 is done on it. */
    @Override
    public void upgradeFrom(ChannelHandlerContext ctx) {
        ctx.pipeline().remove(this);
    }

    /** Why a folded header was refused. */
    static final class ObsoleteLineFolding extends IllegalArgumentException {
        ObsoleteLineFolding() {
            super("obsolete line folding (a header line starting with a space or tab) is not accepted");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    final class Decoder extends HttpRequestDecoder {
        /** Between messages, or inside a header section (not in a body). */
        private boolean inHead = true;
        /** Some lines of the current head were consumed already: the buffer starts at a header line. */
        private boolean midHead;
        private boolean refused;

        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        boolean holdsPartialHead() {
            return inHead && (midHead || internalBuffer().isReadable());
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (refused) {
                buffer.skipBytes(buffer.readableBytes());
                return;
            }
            if (inHead && folds(buffer, midHead)) {
                refused = true;
                buffer.skipBytes(buffer.readableBytes());
                HttpRequest invalid = (HttpRequest) createInvalidMessage();
                invalid.setDecoderResult(DecoderResult.failure(new ObsoleteLineFolding()));
                methods.add(invalid.method());
                out.add(invalid);
                return;
            }
            int before = out.size();
            int readerBefore = buffer.readerIndex();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpRequest r) {
                    methods.add(r.method());
                    inHead = false;
                    midHead = false;
                }
                if (o instanceof LastHttpContent) {
                    inHead = true;
                    midHead = false;
                }
            }
            if (inHead && out.size() == before && buffer.readerIndex() > readerBefore) {
                midHead = true;
            }
        }

        /**
         * Whether the head in {@code buffer} (from its reader index up to the empty line that ends
         * it, or as far as it goes) has a line that starts with a space or tab. {@code atLine}: the
         * buffer starts at a header line (the request line was consumed before).
         */
        private static boolean folds(ByteBuf buffer, boolean atLine) {
            int i = buffer.readerIndex();
            int end = buffer.writerIndex();
            if (!atLine) {
                // the request line (and any empty lines before it) is not a header line
                while (i < end && (buffer.getByte(i) == '\r' || buffer.getByte(i) == '\n')) {
                    i++;
                }
                int lf = buffer.indexOf(i, end, (byte) '\n');
                if (lf < 0) {
                    return false;
                }
                i = lf + 1;
            }
            while (i < end) {
                byte first = buffer.getByte(i);
                if (first == ' ' || first == '\t') {
                    return true;
                }
                if (first == '\r' || first == '\n') {
                    return false; // the empty line: the head ends here
                }
                int lf = buffer.indexOf(i, end, (byte) '\n');
                if (lf < 0) {
                    return false;
                }
                i = lf + 1;
            }
            return false;
        }
    }

    final class Encoder extends HttpResponseEncoder {
        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg);
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            FieldWriter.write(headers, buf);
        }
    }
}
