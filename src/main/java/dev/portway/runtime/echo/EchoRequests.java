package dev.portway.runtime.echo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

/**
 * Makes each HTTP request whole for the echo handlers while holding only what they read: the head,
 * and when asked the body of a form ({@code application/x-www-form-urlencoded}, echo-basic reads
 * form values from it) up to {@link #MAX_FORM} bytes; a larger form is answered 413 and the
 * connection closed. Every other body is let go as it arrives, and the request handed on has an
 * empty one.
 *
 * <p>Netty's {@code HttpObjectAggregator} held up to a mebibyte of every request's body until its
 * end: a client that sent most of one and stopped pinned that much direct memory, shared with the
 * data plane and the API server, for as long as it kept the connection (1,024 connections a port).
 */
final class EchoRequests extends ChannelInboundHandlerAdapter {

    /** The largest form body kept. */
    static final int MAX_FORM = 64 * 1024;

    private final boolean keepForms;
    /** The head of the request being read, or null between requests. */
    private HttpRequest head;
    /** The form body read so far, or null when the body is let go. */
    private CompositeByteBuf form;
    /** The body's bytes read so far, kept or not. */
    private long bodyBytes;
    private boolean tooLarge;

    EchoRequests(boolean keepForms) {
        this.keepForms = keepForms;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            release();
            head = request;
            bodyBytes = 0;
            tooLarge = false;
            String expect = request.headers().get(HttpHeaderNames.EXPECT);
            if (expect != null && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.strip())) {
                // as Go's server (and Netty's HttpServerExpectContinueHandler): 417, and nothing of the body is read
                refuse(ctx, HttpResponseStatus.EXPECTATION_FAILED);
                head = null;
            } else if (keepForms && readsForm(request) && HttpUtil.getContentLength(request, 0L) > MAX_FORM) {
                refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE); // said at once, before any 100 Continue
                head = null;
            } else {
                if (keepForms && readsForm(request)) {
                    form = ctx.alloc().compositeBuffer();
                }
                if (HttpUtil.is100ContinueExpected(request)) {
                    ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
                }
            }
        }
        if (!(msg instanceof HttpContent content)) {
            if (!(msg instanceof HttpRequest)) {
                ctx.fireChannelRead(msg);
            }
            return;
        }
        try {
            if (head == null) {
                return; // the rest of a request already refused
            }
            bodyBytes += content.content().readableBytes();
            if (form != null) {
                if (form.readableBytes() + content.content().readableBytes() <= MAX_FORM) {
                    form.addComponent(true, content.content().retain());
                } else {
                    tooLarge = true;
                    form.release();
                    form = null;
                }
            }
            if (content instanceof LastHttpContent last) {
                HttpRequest request = head;
                head = null;
                if (tooLarge) {
                    refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
                    return;
                }
                ByteBuf body = form == null ? Unpooled.EMPTY_BUFFER : form;
                form = null;
                FullHttpRequest whole = new Whole(request, body, last, bodyBytes);
                whole.setDecoderResult(request.decoderResult());
                ctx.fireChannelRead(whole);
            }
        } finally {
            content.release();
        }
    }

    /** A request made whole: its body is empty or a form, and {@link #bodyBytes} says how long the one sent was. */
    static final class Whole extends DefaultFullHttpRequest {
        private final long bodyBytes;

        Whole(HttpRequest head, ByteBuf body, LastHttpContent last, long bodyBytes) {
            super(head.protocolVersion(), head.method(), head.uri(), body, head.headers(), last.trailingHeaders());
            this.bodyBytes = bodyBytes;
        }

        /** How many bytes of body the client sent (what the echo reports; it keeps none of them). */
        long bodyBytes() {
            return bodyBytes;
        }
    }

    /** Whether Go's server would read {@code request}'s body for form values: a POST, PUT or PATCH of a url-encoded form. */
    private static boolean readsForm(HttpRequest request) {
        String method = request.method().name();
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        return (method.equals("POST") || method.equals("PUT") || method.equals("PATCH"))
                && AsciiString.regionMatches(type, true, 0, HttpHeaderValues.APPLICATION_X_WWW_FORM_URLENCODED, 0,
                HttpHeaderValues.APPLICATION_X_WWW_FORM_URLENCODED.length());
    }

    /** {@code status}, and the connection closed: what is left of the request is not read. */
    private static void refuse(ChannelHandlerContext ctx, HttpResponseStatus status) {
        FullHttpResponse refused = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        refused.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(refused).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (form != null) {
            form.release();
            form = null;
        }
    }
}
