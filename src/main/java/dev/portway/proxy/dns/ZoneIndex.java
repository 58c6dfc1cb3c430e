package dev.portway.proxy.dns;

import dev.portway.plan.DnsZone;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.dns.DefaultDnsPtrRecord;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A {@link DnsZone} with what answering needs precomputed when the zone is set, not per query:
 * the empty non-terminals (ancestors of names, which exist without records of their own) and the
 * reverse map (PTR name to the name that has the address). Immutable.
 */
final class ZoneIndex {

    /** The TTL of every record served, and the SOA's minimum (the negative-caching TTL): CoreDNS's default for services. */
    static final long TTL = 5;

    private static final int CLASS_IN = DnsRecord.CLASS_IN;
    private static final int CLASS_ANY = DnsRecord.CLASS_ANY;

    /** Ranks names for one address: the most specific name (most labels) first, then in alphabetical order. */
    private static final Comparator<String> REVERSE_PREFERENCE =
            Comparator.comparingInt(ZoneIndex::labels).reversed().thenComparing(Comparator.naturalOrder());

    final DnsZone zone;
    private final String domain;
    private final long serial;
    private final Set<String> nonTerminals;
    private final Map<String, String> reverse;

    ZoneIndex(DnsZone zone, long serial) {
        this.zone = zone;
        this.domain = zone.domain();
        this.serial = serial;
        Set<String> names = new HashSet<>(zone.addresses().keySet());
        names.addAll(zone.services().keySet());
        names.addAll(zone.aliases().keySet());
        Set<String> ancestors = new HashSet<>();
        for (String name : names) {
            if (!name.endsWith("." + domain)) {
                continue;
            }
            int dot = name.indexOf('.');
            while (dot >= 0 && name.length() - dot - 1 >= domain.length()) {
                String parent = name.substring(dot + 1);
                if (!ancestors.add(parent) || parent.equals(domain)) {
                    break; // this parent's own ancestors were added already (or it is the apex)
                }
                dot = name.indexOf('.', dot + 1);
            }
        }
        this.nonTerminals = Set.copyOf(ancestors);
        Map<String, String> rev = new HashMap<>();
        zone.addresses().forEach((name, addresses) -> {
            for (InetAddress a : addresses) {
                rev.merge(reverseName(a), name, (x, y) -> REVERSE_PREFERENCE.compare(x, y) <= 0 ? x : y);
            }
        });
        this.reverse = Map.copyOf(rev);
    }

    /**
     * What the zone says about {@code question}: the answer to send, or {@code null} when the
     * question is not the zone's (a name outside it, or a reverse name of an address the zone
     * does not have), to be forwarded upstream.
     */
    Answer answer(DnsQuestion question) {
        String qname = question.name();
        String name = normalize(qname);
        DnsRecordType type = question.type();
        int dnsClass = question.dnsClass() & 0xFFFF;
        boolean internet = dnsClass == CLASS_IN || dnsClass == CLASS_ANY;
        boolean ours = name.equals(domain) || name.endsWith("." + domain);
        if (!ours) {
            String target = internet && (type.equals(DnsRecordType.PTR) || type.equals(DnsRecordType.ANY))
                    ? reverse.get(name) : null;
            if (target == null) {
                return null;
            }
            return new Answer(DnsResponseCode.NOERROR, true,
                    List.of(new DefaultDnsPtrRecord(qname, CLASS_IN, TTL, target + ".")), List.of(), List.of());
        }
        if (!internet) {
            return Answer.of(DnsResponseCode.REFUSED);
        }
        boolean apex = name.equals(domain);
        if (name.equals("dns-version." + domain)) {
            // the schema version of the Kubernetes DNS specification (section 2.2), which the spec requires
            return type.equals(DnsRecordType.TXT) || type.equals(DnsRecordType.ANY)
                    ? new Answer(DnsResponseCode.NOERROR, true, List.of(txt(qname, SCHEMA_VERSION)), List.of(), List.of())
                    : new Answer(DnsResponseCode.NOERROR, true, List.of(), List.of(soa()), List.of());
        }
        if (!apex && !zone.exists(name) && !nonTerminals.contains(name)) {
            return new Answer(DnsResponseCode.NXDOMAIN, true, List.of(), List.of(soa()), List.of());
        }
        String aliasOf = zone.alias(name);
        if (aliasOf != null) {
            return alias(qname, type, aliasOf);
        }
        boolean any = type.equals(DnsRecordType.ANY);
        List<DnsRecord> answers = new ArrayList<>();
        List<DnsRecord> additional = new ArrayList<>();
        if (type.equals(DnsRecordType.A) || type.equals(DnsRecordType.AAAA) || any) {
            boolean v4 = type.equals(DnsRecordType.A) || any;
            boolean v6 = type.equals(DnsRecordType.AAAA) || any;
            for (InetAddress a : zone.lookup(name)) {
                if (a instanceof Inet4Address ? v4 : v6) {
                    answers.add(address(qname, a));
                }
            }
        }
        if (type.equals(DnsRecordType.SRV) || any) {
            Set<String> targets = new LinkedHashSet<>();
            for (DnsZone.Srv srv : zone.lookupSrv(name)) {
                answers.add(srv(qname, srv));
                targets.add(normalize(srv.target()));
            }
            for (String target : targets) {
                for (InetAddress a : zone.lookup(target)) {
                    additional.add(address(target + ".", a));
                }
            }
        }
        if (apex && (type.equals(DnsRecordType.SOA) || any)) {
            answers.add(soa());
        }
        if (answers.isEmpty()) {
            return new Answer(DnsResponseCode.NOERROR, true, List.of(), List.of(soa()), List.of());
        }
        return new Answer(DnsResponseCode.NOERROR, true, answers, List.of(), additional);
    }

    /** How many CNAMEs of the zone an answer follows before it gives up (a loop of ExternalName Services). */
    static final int MAX_ALIASES = 8;

    /**
     * The answer for a name that is an alias (an ExternalName Service's CNAME), as CoreDNS gives it:
     * the CNAME, then, for an A or AAAA question, the target's addresses. A target in the zone
     * (another Service's name) is answered from it, following its own CNAME if it has one; a target
     * outside it is left to the upstreams ({@link Answer#chase}). Other questions get the CNAME
     * alone, which a resolver follows itself.
     */
    private Answer alias(String qname, DnsRecordType type, String target) {
        List<DnsRecord> answers = new ArrayList<>();
        answers.add(cname(qname, target));
        if (!type.equals(DnsRecordType.A) && !type.equals(DnsRecordType.AAAA)) {
            return new Answer(DnsResponseCode.NOERROR, true, answers, List.of(), List.of());
        }
        boolean v4 = type.equals(DnsRecordType.A);
        String name = target;
        for (int hops = 1; ; hops++) {
            if (!name.equals(domain) && !name.endsWith("." + domain)) {
                return new Answer(DnsResponseCode.NOERROR, true, answers, List.of(), List.of(), name);
            }
            String next = zone.alias(name);
            if (next == null) {
                int aliases = answers.size();
                for (InetAddress a : zone.lookup(name)) {
                    if (a instanceof Inet4Address == v4) {
                        answers.add(address(name + ".", a));
                    }
                }
                // NOERROR whether the target exists or not, as CoreDNS answers: the CNAME is an answer
                return new Answer(DnsResponseCode.NOERROR, true, answers, answers.size() == aliases ? List.of(soa()) : List.of(),
                        List.of());
            }
            if (hops == MAX_ALIASES) {
                answers.forEach(io.netty.util.ReferenceCountUtil::release);
                return Answer.of(DnsResponseCode.SERVFAIL); // a loop, or a chain no resolver would follow
            }
            answers.add(cname(name + ".", next));
            name = next;
        }
    }

    private static DnsRecord cname(String owner, String target) {
        ByteBuf rdata = Unpooled.buffer(target.length() + 2);
        writeName(rdata, target);
        return new DefaultDnsRawRecord(owner, DnsRecordType.CNAME, TTL, rdata);
    }

    /**
     * An answer's code and records. The records hold buffers: they are handed to one response,
     * which releases them.
     *
     * @param chase a name outside the zone whose records of the question's type, asked of the
     *              upstreams, complete the answer (after the CNAME to it); null when it is whole
     */
    record Answer(DnsResponseCode code, boolean authoritative, List<DnsRecord> answers, List<DnsRecord> authority,
            List<DnsRecord> additional, String chase) {

        Answer(DnsResponseCode code, boolean authoritative, List<DnsRecord> answers, List<DnsRecord> authority,
                List<DnsRecord> additional) {
            this(code, authoritative, answers, authority, additional, null);
        }

        static Answer of(DnsResponseCode code) {
            return new Answer(code, false, List.of(), List.of(), List.of());
        }
    }

    private DnsRecord soa() {
        ByteBuf rdata = Unpooled.buffer(64);
        writeName(rdata, "ns.dns." + domain);
        writeName(rdata, "hostmaster." + domain);
        rdata.writeInt((int) serial);
        rdata.writeInt(7200);  // refresh
        rdata.writeInt(1800);  // retry
        rdata.writeInt(86400); // expire
        rdata.writeInt((int) TTL); // minimum: how long a negative answer is cached
        return new DefaultDnsRawRecord(domain + ".", DnsRecordType.SOA, TTL, rdata);
    }

    /** The version of the Kubernetes DNS-Based Service Discovery specification these answers follow. */
    static final String SCHEMA_VERSION = "1.1.0";

    private static DnsRecord txt(String name, String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return new DefaultDnsRawRecord(name, DnsRecordType.TXT, TTL,
                Unpooled.buffer(bytes.length + 1).writeByte(bytes.length).writeBytes(bytes));
    }

    private static DnsRecord address(String name, InetAddress a) {
        DnsRecordType type = a instanceof Inet4Address ? DnsRecordType.A : DnsRecordType.AAAA;
        return new DefaultDnsRawRecord(name, type, TTL, Unpooled.wrappedBuffer(a.getAddress()));
    }

    private static DnsRecord srv(String name, DnsZone.Srv srv) {
        ByteBuf rdata = Unpooled.buffer(6 + srv.target().length() + 2);
        rdata.writeShort(srv.priority());
        rdata.writeShort(srv.weight());
        rdata.writeShort(srv.port());
        writeName(rdata, srv.target()); // never compressed (RFC 2782)
        return new DefaultDnsRawRecord(name, DnsRecordType.SRV, TTL, rdata);
    }

    /** Writes a domain name as labels, uncompressed. */
    static void writeName(ByteBuf out, String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (!n.isEmpty()) {
            for (String label : n.split("\\.", -1)) {
                if (label.isEmpty() || label.length() > 63) {
                    throw new IllegalArgumentException("not a domain name: " + name);
                }
                out.writeByte(label.length());
                out.writeCharSequence(label, StandardCharsets.US_ASCII);
            }
        }
        out.writeByte(0);
    }

    /** The PTR name of an address: {@code d.c.b.a.in-addr.arpa} or the nibbles of an IPv6 address under {@code ip6.arpa}. */
    static String reverseName(InetAddress a) {
        byte[] b = a.getAddress();
        StringBuilder s = new StringBuilder(b.length == 4 ? 29 : 73);
        if (b.length == 4) {
            for (int i = 3; i >= 0; i--) {
                s.append(b[i] & 0xFF).append('.');
            }
            return s.append("in-addr.arpa").toString();
        }
        for (int i = b.length - 1; i >= 0; i--) {
            s.append(Character.forDigit(b[i] & 0xF, 16)).append('.');
            s.append(Character.forDigit((b[i] >> 4) & 0xF, 16)).append('.');
        }
        return s.append("ip6.arpa").toString();
    }

    static String normalize(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    private static int labels(String name) {
        int n = 1;
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) == '.') {
                n++;
            }
        }
        return n;
    }
}
