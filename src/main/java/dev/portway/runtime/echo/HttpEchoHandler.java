package dev.portway.runtime.echo;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.Json;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Answers every HTTP request with who answered and who asked: pod, pod IP, node, the client
 * address the pod saw (and the real client when a PROXY header came first), the request line and
 * headers. JSON when the client accepts {@code application/json}, text otherwise. A
 * {@code ?status=503} query sets the response status, for trying out health checks.
 */
final class HttpEchoHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final EchoServer.Identity identity;

    HttpEchoHandler(EchoServer.Identity identity) {
        this.identity = identity;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
        String client = remote.getAddress().getHostAddress() + ":" + remote.getPort();
        String proxied = ctx.channel().attr(ProxyHeaderCapture.PROXIED_CLIENT).get();
        String requestLine = request.method() + " " + request.uri() + " " + request.protocolVersion();
        HttpResponseStatus status = HttpResponseStatus.OK;
        List<String> wanted = new QueryStringDecoder(request.uri()).parameters().get("status");
        if (wanted != null && !wanted.isEmpty()) {
            try {
                status = HttpResponseStatus.valueOf(Integer.parseInt(wanted.getFirst()));
            } catch (IllegalArgumentException e) {
                status = HttpResponseStatus.BAD_REQUEST;
            }
        }
        String accept = request.headers().get(HttpHeaderNames.ACCEPT, "");
        byte[] body;
        String contentType;
        if (accept.contains("application/json")) {
            ObjectNode json = JsonNodeFactory.instance.objectNode();
            json.put("pod", identity.pod());
            json.put("namespace", identity.namespace());
            json.put("podIP", identity.podIp());
            json.put("node", identity.node());
            json.put("client", client);
            if (proxied != null) {
                json.put("proxiedClient", proxied);
            }
            ObjectNode req = json.putObject("request");
            req.put("method", request.method().name());
            req.put("uri", request.uri());
            req.put("version", request.protocolVersion().text());
            ObjectNode headers = req.putObject("headers");
            for (Map.Entry<String, String> h : request.headers()) {
                headers.put(h.getKey(), h.getValue());
            }
            if (request instanceof EchoRequests.Whole whole && whole.bodyBytes() > 0) {
                req.put("bodyBytes", whole.bodyBytes());
            }
            body = (Json.write(json) + "\n").getBytes(StandardCharsets.UTF_8);
            contentType = "application/json";
        } else {
            StringBuilder sb = new StringBuilder();
            sb.append("pod: ").append(identity.pod()).append('\n');
            sb.append("namespace: ").append(identity.namespace()).append('\n');
            sb.append("pod ip: ").append(identity.podIp()).append('\n');
            sb.append("node: ").append(identity.node()).append('\n');
            sb.append("client: ").append(client).append('\n');
            if (proxied != null) {
                sb.append("proxied client: ").append(proxied).append('\n');
            }
            sb.append("request: ").append(requestLine).append('\n');
            for (Map.Entry<String, String> h : request.headers()) {
                sb.append("  ").append(h.getKey()).append(": ").append(h.getValue()).append('\n');
            }
            if (request instanceof EchoRequests.Whole whole && whole.bodyBytes() > 0) {
                sb.append("body: ").append(whole.bodyBytes()).append(" bytes\n");
            }
            body = sb.toString().getBytes(StandardCharsets.UTF_8);
            contentType = "text/plain; charset=utf-8";
        }
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status,
                request.method().equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        response.headers().set("X-Portway-Pod", identity.pod());
        response.headers().set("X-Portway-Node", identity.node());
        HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
        ctx.writeAndFlush(response);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
