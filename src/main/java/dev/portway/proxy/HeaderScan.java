package dev.portway.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a header section holds of the fields the gateway removes or reads, found in one pass over
 * it, as bits. Most requests and responses carry few of them (a request from a load generator
 * none but Host), and then nothing is looked up, removed or hashed by name: a lookup in Netty's
 * headers hashes the name and walks a bucket, and the gateway used to make some thirty of them per
 * request whether the fields were there or not.
 */
final class HeaderScan {

    // hop-by-hop fields (RFC 9110 7.6.1), removed in both directions
    static final int CONNECTION = 1;
    static final int KEEP_ALIVE = 1 << 1;
    static final int PROXY_CONNECTION = 1 << 2;
    static final int TE = 1 << 3;
    static final int TRAILER = 1 << 4;
    static final int UPGRADE = 1 << 5;
    static final int HOP_BY_HOP = CONNECTION | KEEP_ALIVE | PROXY_CONNECTION | TE | TRAILER | UPGRADE;
    // forwarding fields, kept only from trusted proxies
    static final int X_FORWARDED_FOR = 1 << 6;
    static final int X_FORWARDED_PROTO = 1 << 7;
    static final int X_FORWARDED_HOST = 1 << 8;
    static final int X_FORWARDED_PORT = 1 << 9;
    static final int FORWARDED = 1 << 10;
    /** As ingress-nginx sets it (and backends behind it read it): the client's address. */
    static final int X_REAL_IP = 1 << 18;
    static final int FORWARDING = X_FORWARDED_FOR | X_FORWARDED_PROTO | X_FORWARDED_HOST | X_FORWARDED_PORT | FORWARDED | X_REAL_IP;
    private static final AsciiString X_FORWARDED_PREFIX = AsciiString.cached("x-forwarded-");
    /**
     * A path that some backends take for the request's own (IIS's URL Rewrite, Symfony, Zend):
     * from a client, it would send a request the routes and policies judged by one path to another
     * ({@code GET /public} with {@code X-Original-URL: /admin} past a deny rule of /admin). Kept
     * only from trusted proxies, as the forwarding fields are.
     */
    static final int X_ORIGINAL_URL = 1 << 19;
    static final int X_REWRITE_URL = 1 << 20;
    static final int PATH_OVERRIDE = X_ORIGINAL_URL | X_REWRITE_URL;
    /**
     * Another {@code X-Forwarded-*} name ({@code -Prefix}, which Spring and others take for the
     * path the app is served under; {@code -Uri}, which forward-auth proxies take for the request's;
     * {@code -Server}, {@code -Scheme}, {@code -Ssl}): a client's claim, dropped with the
     * forwarding fields from an untrusted client ({@link #removeOtherForwarded}).
     */
    static final int X_FORWARDED_OTHER = 1 << 21;
    static final int HOST = 1 << 11;
    /** More than one Host field. */
    static final int HOSTS = 1 << 12;
    // framing
    static final int CONTENT_LENGTH = 1 << 13;
    static final int TRANSFER_ENCODING = 1 << 14;
    /** A name the HTTP/2 codec uses for itself (x-http2-stream-id, ...): never passed on from a client. */
    static final int X_HTTP2 = 1 << 15;
    /**
     * {@code Sec-WebSocket-Key1} or {@code -Key2}: the handshake of WebSocket's draft 76, whose
     * request carries an 8-byte body with no length field. Netty's decoder reads those 8 bytes as
     * a body (so would a backend built on it), other parsers read none: two framings of one stream.
     */
    static final int OBSOLETE_WEBSOCKET_KEY = 1 << 16;
    /**
     * A name with an underscore. CGI, WSGI, Rack and PHP read {@code X_Forwarded_For} and
     * {@code X-Forwarded-For} as one variable, so a client could pass off its own value as the
     * gateway's; such fields of a request are dropped, as NGINX (and so ingress-nginx) does by default.
     */
    static final int UNDERSCORE = 1 << 17;

    private static final AsciiString SEC_WEBSOCKET_KEY1 = AsciiString.cached("sec-websocket-key1");
    private static final AsciiString SEC_WEBSOCKET_KEY2 = AsciiString.cached("sec-websocket-key2");

    static final AsciiString X_FORWARDED_FOR_NAME = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO_NAME = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST_NAME = AsciiString.cached("x-forwarded-host");
    static final AsciiString X_FORWARDED_PORT_NAME = AsciiString.cached("x-forwarded-port");
    static final AsciiString FORWARDED_NAME = AsciiString.cached("forwarded");
    static final AsciiString X_REAL_IP_NAME = AsciiString.cached("x-real-ip");
    private static final AsciiString X_ORIGINAL_URL_NAME = AsciiString.cached("x-original-url");
    private static final AsciiString X_REWRITE_URL_NAME = AsciiString.cached("x-rewrite-url");
    /** Fields of no standard that RFC 9110 (7.6.1) still has a proxy drop: Netty deprecates its names for them. */
    private static final AsciiString KEEP_ALIVE_NAME = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION_NAME = AsciiString.cached("proxy-connection");

    /** The names of the bits, by bit position. */
    private static final AsciiString[] NAMES = {
        HttpHeaderNames.CONNECTION, KEEP_ALIVE_NAME, PROXY_CONNECTION_NAME, HttpHeaderNames.TE,
        HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE, X_FORWARDED_FOR_NAME, X_FORWARDED_PROTO_NAME, X_FORWARDED_HOST_NAME,
        X_FORWARDED_PORT_NAME, FORWARDED_NAME, HttpHeaderNames.HOST, null, null, null, null, null, null, X_REAL_IP_NAME,
        X_ORIGINAL_URL_NAME, X_REWRITE_URL_NAME,
    };

    private HeaderScan() {
    }

    /** The bits of the fields {@code h} holds. */
    static int of(HttpHeaders h) {
        int bits = 0;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext();) {
            int bit = bit(it.next().getKey());
            if (bit == HOST && (bits & HOST) != 0) {
                bit = HOSTS;
            }
            bits |= bit;
        }
        return bits;
    }

    private static final AsciiString X_HTTP2_PREFIX = AsciiString.cached("x-http2-");

    private static int bit(CharSequence name) {
        if (underscored(name)) {
            return UNDERSCORE;
        }
        if (name.length() > X_HTTP2_PREFIX.length() && X_HTTP2_PREFIX.regionMatches(true, 0, name, 0, X_HTTP2_PREFIX.length())) {
            return X_HTTP2;
        }
        int known = known(name);
        if (known == 0 && name.length() > X_FORWARDED_PREFIX.length()
                && X_FORWARDED_PREFIX.regionMatches(true, 0, name, 0, X_FORWARDED_PREFIX.length())) {
            return X_FORWARDED_OTHER;
        }
        return known;
    }

    private static int known(CharSequence name) {
        return switch (name.length()) {
            case 2 -> is(name, HttpHeaderNames.TE) ? TE : 0;
            case 4 -> is(name, HttpHeaderNames.HOST) ? HOST : 0;
            case 7 -> is(name, HttpHeaderNames.TRAILER) ? TRAILER : is(name, HttpHeaderNames.UPGRADE) ? UPGRADE : 0;
            case 9 -> is(name, FORWARDED_NAME) ? FORWARDED : is(name, X_REAL_IP_NAME) ? X_REAL_IP : 0;
            case 10 -> is(name, HttpHeaderNames.CONNECTION) ? CONNECTION : is(name, KEEP_ALIVE_NAME) ? KEEP_ALIVE : 0;
            case 13 -> is(name, X_REWRITE_URL_NAME) ? X_REWRITE_URL : 0;
            case 14 -> is(name, HttpHeaderNames.CONTENT_LENGTH) ? CONTENT_LENGTH : is(name, X_ORIGINAL_URL_NAME) ? X_ORIGINAL_URL : 0;
            case 15 -> is(name, X_FORWARDED_FOR_NAME) ? X_FORWARDED_FOR : 0;
            case 16 -> is(name, PROXY_CONNECTION_NAME) ? PROXY_CONNECTION
                    : is(name, X_FORWARDED_HOST_NAME) ? X_FORWARDED_HOST : is(name, X_FORWARDED_PORT_NAME) ? X_FORWARDED_PORT : 0;
            case 17 -> is(name, X_FORWARDED_PROTO_NAME) ? X_FORWARDED_PROTO
                    : is(name, HttpHeaderNames.TRANSFER_ENCODING) ? TRANSFER_ENCODING : 0;
            case 18 -> is(name, SEC_WEBSOCKET_KEY1) || is(name, SEC_WEBSOCKET_KEY2) ? OBSOLETE_WEBSOCKET_KEY : 0;
            default -> 0;
        };
    }

    /** Whether a name has an underscore: a byte search for the decoder's AsciiString names, an intrinsic for Strings. */
    private static boolean underscored(CharSequence name) {
        if (name instanceof AsciiString a) {
            return a.indexOf('_', 0) >= 0;
        }
        if (name instanceof String str) {
            return str.indexOf('_') >= 0;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) == '_') {
                return true;
            }
        }
        return false;
    }

    private static boolean is(CharSequence name, AsciiString known) {
        return known.contentEqualsIgnoreCase(name);
    }

    /** Removes the {@code X-Forwarded-*} fields but the four the gateway writes (which {@link #FORWARDING} covers). */
    static void removeOtherForwarded(HttpHeaders h) {
        List<String> names = new ArrayList<>(2);
        for (String name : h.names()) {
            if (bit(name) == X_FORWARDED_OTHER) {
                names.add(name);
            }
        }
        names.forEach(h::remove);
    }

    /** Removes the fields whose names have an underscore. */
    static void removeUnderscored(HttpHeaders h) {
        List<String> names = new ArrayList<>(2);
        for (String name : h.names()) {
            if (name.indexOf('_') >= 0) {
                names.add(name);
            }
        }
        names.forEach(h::remove);
    }

    /** Removes the fields of {@code mask} that {@code bits} says are there. */
    static void remove(HttpHeaders h, int bits, int mask) {
        int present = bits & mask;
        while (present != 0) {
            int bit = Integer.lowestOneBit(present);
            h.remove(NAMES[Integer.numberOfTrailingZeros(bit)]);
            present &= ~bit;
        }
    }

    /**
     * Removes the hop-by-hop fields: the fixed ones, and those the Connection fields name. Returns
     * the bits of what is left (a Connection field may name a forwarding field). A Connection field
     * never removes the message's framing or its Host: {@code Connection: content-length} would
     * send the body on without its length, and the next hop would read it as another request.
     */
    static int stripHopByHop(HttpHeaders h, int bits) {
        boolean named = false;
        if ((bits & CONNECTION) != 0) {
            for (String listed : h.getAll(HttpHeaderNames.CONNECTION)) {
                for (String token : listed.split(",")) {
                    String n = token.trim().toLowerCase(Locale.ROOT);
                    if (!n.isEmpty() && !n.equals("close") && !n.equals("keep-alive") && !essential(n)) {
                        named |= h.contains(n);
                        h.remove(n);
                    }
                }
            }
        }
        remove(h, bits, HOP_BY_HOP);
        return named ? of(h) : bits & ~HOP_BY_HOP;
    }

    /** A field no Connection header may remove. */
    private static boolean essential(String name) {
        return name.equals("content-length") || name.equals("transfer-encoding") || name.equals("host");
    }

    /** Whether a request has a body: {@code Transfer-Encoding: chunked} or a length above 0 (no lookup when neither field is there). */
    static boolean bodyExpected(HttpMessage m, int bits) {
        return (bits & (CONTENT_LENGTH | TRANSFER_ENCODING)) != 0
                && (HttpUtil.isTransferEncodingChunked(m) || HttpUtil.getContentLength(m, 0L) > 0);
    }

    /** {@link HttpUtil#isKeepAlive}, without a lookup when the message has no Connection field. */
    static boolean keepAlive(HttpMessage m, int bits) {
        return (bits & CONNECTION) == 0 ? m.protocolVersion().isKeepAliveDefault() : HttpUtil.isKeepAlive(m);
    }
}
