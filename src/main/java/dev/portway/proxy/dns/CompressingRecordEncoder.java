package dev.portway.proxy.dns;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.dns.DefaultDnsRecordEncoder;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordEncoder;
import java.util.HashMap;
import java.util.Map;

/**
 * Netty's record encoder with name compression (RFC 1035, 4.1.4), as CoreDNS writes its answers:
 * a name, or the rest of one, that the message holds already is written as a pointer to it. Every
 * A record of a headless Service repeats its owner name: written whole, each cost 45 bytes for
 * {@code web.default.svc.cluster.local.}, and 512 bytes held 11 of them; compressed, 16 bytes and
 * 29. Names inside SRV and SOA data are never compressed (their data is written as it is made;
 * RFC 2782 forbids it for SRV targets).
 *
 * <p>One per channel, used on its event loop: each message starts with its one question, which
 * starts a new table of names (the responses without a question hold no name but the root).
 */
final class CompressingRecordEncoder implements DnsRecordEncoder {

    private static final int HEADER = 12;
    /** Offsets a pointer can hold (14 bits). */
    private static final int MAX_OFFSET = 0x3FFF;

    private final Names names = new Names();

    @Override
    public void encodeQuestion(DnsQuestion question, ByteBuf out) throws Exception {
        // Netty's encoders write the header and then the question: the message starts 12 bytes before it
        names.start(out.writerIndex() - HEADER);
        names.encodeQuestion(question, out);
    }

    @Override
    public void encodeRecord(DnsRecord record, ByteBuf out) throws Exception {
        names.encodeRecord(record, out);
    }

    /** Netty's encoder writing names through one message's table of the names written so far. */
    private static final class Names extends DefaultDnsRecordEncoder {
        /** Each name (and each rest of one) written in this message, by its offset from the message's start. */
        private final Map<String, Integer> written = new HashMap<>();
        private int start = -1;

        void start(int messageStart) {
            written.clear();
            start = messageStart;
        }

        @Override
        protected void encodeName(String name, ByteBuf buf) {
            String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
            int from = 0;
            while (from < n.length()) {
                if (start >= 0) {
                    String rest = n.substring(from);
                    Integer at = written.get(rest);
                    if (at != null) {
                        buf.writeShort(0xC000 | at);
                        return;
                    }
                    int offset = buf.writerIndex() - start;
                    if (offset <= MAX_OFFSET) {
                        written.put(rest, offset);
                    }
                }
                int dot = n.indexOf('.', from);
                int end = dot < 0 ? n.length() : dot;
                if (end - from > 63 || end == from) {
                    throw new IllegalArgumentException("not a domain name: " + name);
                }
                buf.writeByte(end - from);
                ByteBufUtil.writeAscii(buf, n.substring(from, end));
                from = end + 1;
            }
            buf.writeByte(0);
        }
    }
}
