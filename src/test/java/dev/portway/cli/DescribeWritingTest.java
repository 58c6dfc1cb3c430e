package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Go behaviours kubectl's describe output rests on: text/tabwriter, sort.Slice, HumanDuration, url.URL. */
class DescribeWritingTest {

    @Test
    void aLineWithFewerCellsEndsAColumnBlock() {
        // kubectl's "IPs:" has no tab: the fields above it and below it align apart.
        DescribeWriter w = new DescribeWriter();
        w.write(0, "Name:\tx\n");
        w.write(0, "IPs:\n");
        w.write(1, "IP:\ty\n");
        w.write(0, "Controlled By:\tz\n");
        assertThat(w.finish()).isEqualTo("""
                Name:  x
                IPs:
                  IP:           y
                Controlled By:  z
                """);
    }

    @Test
    void columnsNestWithinTheirBlock() {
        assertThat(TabWriter.forDescribe().format("a\tb\tc\naa\tbbb\tc\nx\ty\n")).isEqualTo("""
                a   b    c
                aa  bbb  c
                x   y
                """);
    }

    @Test
    void theTableWriterKeepsItsMinimumWidthAndPadding() {
        assertThat(TabWriter.forTables().format("NAME\tAGE\nx\t1s\n")).isEqualTo("NAME   AGE\nx      1s\n");
    }

    @Test
    void aFlushEndsEveryBlockAndUnterminatedTextIsKept() {
        TabWriter t = TabWriter.forDescribe();
        t.write("a\tb\n");
        t.flush();
        t.write("ccc\td\ne\tf");
        t.flush();
        assertThat(t.take()).isEqualTo("a  b\nccc  d\ne    f");
    }

    @Test
    void verticalTabEndsACellAndFormFeedALine() {
        assertThat(TabWriter.forDescribe().format("a\u000bb\nccc\tdd\fx\ty\n")).isEqualTo("a    b\nccc  dd\nx  y\n");
    }

    @Test
    void terminalControlCharactersAreEscaped() {
        DescribeWriter w = new DescribeWriter();
        w.write(1, "V:\tred\u001b[31m\r\n");
        assertThat(w.finish()).isEqualTo("  V:  red^[[31m\\r\n");
    }

    @Test
    void goSortOrdersLikeAnySortAndKeepsShortRunsStable() {
        Random random = new Random(42);
        for (int n = 0; n < 300; n += 7) {
            List<int[]> items = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                items.add(new int[] {random.nextInt(Math.max(1, n / 4)), i});
            }
            List<int[]> sorted = new ArrayList<>(items);
            GoSort.sort(sorted, Comparator.comparingInt(a -> a[0]));
            for (int i = 1; i < sorted.size(); i++) {
                assertThat(sorted.get(i)[0]).isGreaterThanOrEqualTo(sorted.get(i - 1)[0]);
            }
            assertThat(sorted).containsExactlyInAnyOrderElementsOf(items);
        }
        // Up to twelve elements Go uses insertion sort, which keeps equal ones in order.
        List<String> twelve = new ArrayList<>(List.of("b1", "a1", "b2", "a2", "c1", "a3", "b3", "c2", "a4", "b4", "c3", "a5"));
        GoSort.sort(twelve, Comparator.comparing(s -> s.charAt(0)));
        assertThat(twelve).containsExactly("a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4", "c1", "c2", "c3");
    }

    @Test
    void agesTruncateTowardZeroAsGoDoes() {
        assertThat(DescribeEvents.humanDuration(Duration.ofMillis(5900))).isEqualTo("5s");
        assertThat(DescribeEvents.humanDuration(Duration.ofMillis(-500))).isEqualTo("0s");
        assertThat(DescribeEvents.humanDuration(Duration.ofMillis(-1900))).isEqualTo("0s");
        assertThat(DescribeEvents.humanDuration(Duration.ofMillis(-2100))).isEqualTo("<invalid>");
        assertThat(DescribeEvents.humanDuration(Duration.ofSeconds(125))).isEqualTo("2m5s");
    }

    @Test
    void httpProbesPrintAsGoPrintsTheirUrl() {
        assertThat(GoUrl.string("http", ":8080", "/ready?x=1")).isEqualTo("http://:8080/ready%3Fx=1");
        assertThat(GoUrl.string("https", "localhost:443", "")).isEqualTo("https://localhost:443");
        assertThat(GoUrl.string("http", ":80", "health z")).isEqualTo("http://:80/health%20z");
        assertThat(GoUrl.string("", ":80", "/p")).isEqualTo("//:80/p");
        assertThat(GoUrl.string("http", "[::1]:80", "/a;b,c=d")).isEqualTo("http://[::1]:80/a;b,c=d");
    }

    @Test
    void goStringsTrimUnicodeSpace() {
        assertThat(DescribeEvents.trimSpace("\u00a0 msg\t\n")).isEqualTo("msg");
        assertThat(DescribeEvents.trimSpace("\u001fmsg")).isEqualTo("\u001fmsg");
    }
}
