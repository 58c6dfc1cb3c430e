package dev.portway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a head's fields (or a trailer's) as Netty's HTTP/1.1 encoders do, {@code name: value}
 * and CRLF each, with the same bytes: a char past {@code 0xFF} becomes {@code ?}, as
 * {@code AsciiString.c2b} makes it, so no text of a route's filters can become a line end.
 *
 * <p>Netty writes a {@code String} (every value its decoder made, and most that Portway sets) into
 * the buffer a byte at a time, each a virtual call through the pooled buffer's layers to its memory.
 * Here the fields are laid out in an array of the event loop's own first, and the buffer gets them
 * in one copy: the gateway writes about twenty fields per request it proxies (the request's,
 * forwarding fields added, to the endpoint; the answer's to the client).
 */
final class FieldWriter {

    /** Room for a usual head; a field that does not fit is written alone, the slower way. */
    private static final int SCRATCH_BYTES = 4096;
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[SCRATCH_BYTES];
        }
    };

    private FieldWriter() {
    }

    /** Appends every field of {@code headers} to {@code buf}, in their order. */
    static void write(HttpHeaders headers, ByteBuf buf) {
        byte[] s = SCRATCH.get();
        int n = 0;
        Iterator<Map.Entry<CharSequence, CharSequence>> fields = headers.iteratorCharSequence();
        while (fields.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = fields.next();
            CharSequence name = field.getKey();
            CharSequence value = field.getValue();
            int size = name.length() + value.length() + 4;
            if (n + size > s.length) {
                buf.writeBytes(s, 0, n);
                n = 0;
                if (size > s.length) {
                    buf.writeCharSequence(name, io.netty.util.CharsetUtil.US_ASCII);
                    buf.writeShort((':' << 8) | ' ');
                    buf.writeCharSequence(value, io.netty.util.CharsetUtil.US_ASCII);
                    buf.writeShort(('\r' << 8) | '\n');
                    continue;
                }
            }
            n = put(s, n, name);
            s[n++] = ':';
            s[n++] = ' ';
            n = put(s, n, value);
            s[n++] = '\r';
            s[n++] = '\n';
        }
        if (n > 0) {
            buf.writeBytes(s, 0, n);
        }
    }

    /** Lays {@code text} out at {@code at}, as {@code AsciiString.c2b} maps each char; returns where it ends. */
    private static int put(byte[] s, int at, CharSequence text) {
        int length = text.length();
        if (text instanceof AsciiString ascii) {
            System.arraycopy(ascii.array(), ascii.arrayOffset(), s, at, length);
        } else if (text instanceof String string) {
            for (int i = 0; i < length; i++) {
                char c = string.charAt(i);
                s[at + i] = c > 0xFF ? (byte) '?' : (byte) c;
            }
        } else {
            for (int i = 0; i < length; i++) {
                char c = text.charAt(i);
                s[at + i] = c > 0xFF ? (byte) '?' : (byte) c;
            }
        }
        return at + length;
    }
}
