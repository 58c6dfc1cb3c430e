package dev.portway.proxy.dns;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordDecoder;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;

/**
 * Reads DNS queries as this server takes them: one question, no answer or authority records, and
 * at most one additional record (the OPT of EDNS), as stub resolvers send them.
 *
 * <p>Netty's query decoders read every record a header claims before anything can look at the
 * counts, and allocate, for each name, a buffer twice the size of what is left of the message:
 * one 64 KiB TCP frame claiming 13,000 questions made about 0.9 GB of garbage, and a chain of
 * compression pointers some 10<sup>8</sup> hops, on an event loop that also runs the pods'
 * probes. Here the header is checked first, and a query with other counts, another opcode, or a
 * question whose name is not plain labels is answered from its header alone ({@link #refusal}).
 */
final class QueryCodec {

    static final int HEADER = 12;
    /**
     * The longest query taken over TCP. A query of one question is at most some 300 bytes, and
     * EDNS padding (RFC 8467) takes it to 468; Netty's own limit is 64 KiB.
     */
    static final int MAX_TCP_QUERY = 4096;

    /** Makes the query object for a message's ID and opcode. */
    interface Factory<Q extends DnsQuery> {
        Q newQuery(int id, DnsOpCode opCode);
    }

    private QueryCodec() {
    }

    /** Whether {@code buf} starts with a query's header (a response, or less than a header, is dropped unanswered). */
    static boolean isQuery(ByteBuf buf) {
        return buf.readableBytes() >= HEADER && (buf.getByte(buf.readerIndex() + 2) & 0x80) == 0;
    }

    static int id(ByteBuf query) {
        return query.getUnsignedShort(query.readerIndex());
    }

    static DnsOpCode opCode(ByteBuf query) {
        return DnsOpCode.valueOf((byte) (query.getUnsignedShort(query.readerIndex() + 2) >> 11 & 0xF));
    }

    static boolean recursionDesired(ByteBuf query) {
        return (query.getUnsignedShort(query.readerIndex() + 2) >> 8 & 1) == 1;
    }

    /**
     * The answer the query in {@code buf} (a header, see {@link #isQuery}) gets from its header
     * alone, or null when it is one to decode: NOTIMP for an opcode other than QUERY, FORMERR for
     * other counts, or for a question whose name is cut short, longer than 255 bytes, compressed
     * (nothing comes before the question for a pointer to point at), or has a label holding a dot
     * a control character or a byte past ASCII (a name decoded to text could not tell it from two
     * labels: a query for the one label {@code web.default} would be answered for another name;
     * Netty decodes names through IDNA, where U+3002 is a dot too, fullwidth letters are ASCII ones,
     * and a byte that is no UTF-8 throws; IDNs go on the wire as ASCII).
     */
    static DnsResponseCode refusal(ByteBuf buf) {
        int at = buf.readerIndex();
        if (!DnsOpCode.QUERY.equals(opCode(buf))) {
            return DnsResponseCode.NOTIMP;
        }
        if (buf.getUnsignedShort(at + 4) != 1 || buf.getUnsignedShort(at + 6) != 0 || buf.getUnsignedShort(at + 8) != 0
                || buf.getUnsignedShort(at + 10) > 1) {
            return DnsResponseCode.FORMERR;
        }
        int end = buf.writerIndex();
        int i = at + HEADER;
        int nameLength = 1; // the root's zero
        while (true) {
            if (i >= end) {
                return DnsResponseCode.FORMERR;
            }
            int length = buf.getUnsignedByte(i++);
            if (length == 0) {
                return null;
            }
            nameLength += length + 1;
            if (length > 63 || nameLength > 255 || i + length > end) {
                return DnsResponseCode.FORMERR; // over 63: a pointer or an extended label type
            }
            for (int k = i; k < i + length; k++) {
                int b = buf.getUnsignedByte(k);
                if (b == '.' || b < 0x20 || b >= 0x7F) {
                    return DnsResponseCode.FORMERR;
                }
            }
            i += length;
        }
    }

    /**
     * Writes {@code query} as it was read ({@link #decode}): its id, opcode, RD, and the Z, AD and
     * CD bits (Netty's query encoders write the opcode and RD alone, so a forwarded query lost its
     * CD bit, and a DNSSEC client's "checking disabled" with it), its question and its OPT record.
     */
    static ByteBuf encode(DnsQuery query, ByteBuf out) throws Exception {
        out.writeShort(query.id());
        out.writeShort((query.opCode().byteValue() & 0xF) << 11 | (query.isRecursionDesired() ? 1 << 8 : 0) | (query.z() & 0x7) << 4);
        out.writeShort(query.count(DnsSection.QUESTION));
        out.writeShort(0);
        out.writeShort(0);
        out.writeShort(query.count(DnsSection.ADDITIONAL));
        for (int i = 0; i < query.count(DnsSection.QUESTION); i++) {
            io.netty.handler.codec.dns.DnsRecordEncoder.DEFAULT.encodeQuestion(query.recordAt(DnsSection.QUESTION, i), out);
        }
        for (int i = 0; i < query.count(DnsSection.ADDITIONAL); i++) {
            io.netty.handler.codec.dns.DnsRecordEncoder.DEFAULT.encodeRecord(query.recordAt(DnsSection.ADDITIONAL, i), out);
        }
        return out;
    }

    /** Decodes the query in {@code buf}, which {@link #refusal} let through. */
    static <Q extends DnsQuery> Q decode(ByteBuf buf, Factory<Q> factory) throws Exception {
        int id = buf.readUnsignedShort();
        int flags = buf.readUnsignedShort();
        buf.skipBytes(6); // the question count (1), answers and authorities (0)
        int additional = buf.readUnsignedShort();
        Q query = factory.newQuery(id, DnsOpCode.valueOf((byte) (flags >> 11 & 0xF)));
        boolean decoded = false;
        try {
            query.setRecursionDesired((flags >> 8 & 1) == 1);
            query.setZ(flags >> 4 & 0x7);
            query.addRecord(DnsSection.QUESTION, DnsRecordDecoder.DEFAULT.decodeQuestion(buf));
            if (additional == 1) {
                DnsRecord r = DnsRecordDecoder.DEFAULT.decodeRecord(buf); // null when cut short, as Netty's decoders take it
                if (r != null) {
                    query.addRecord(DnsSection.ADDITIONAL, r);
                }
            }
            decoded = true;
            return query;
        } finally {
            if (!decoded) {
                query.release();
            }
        }
    }
}
