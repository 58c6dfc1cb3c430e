package dev.portway.admin;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.concurrent.CompletableFuture;

/** A non-REST path the admin server also serves (metrics, the web page). */
public interface Endpoint {

    CompletableFuture<HttpResponses.Response> handle(FullHttpRequest request, QueryStringDecoder query);
}
