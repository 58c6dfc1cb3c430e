package dev.portway.testing;

import java.net.URI;

/**
 * A small stand-in for {@code curl}, for requests sent from a process of its own (inside another
 * network namespace, in {@code QuickStartIT}): {@code java -cp target/test-classes
 * dev.portway.testing.Curl URL...} GETs each URL in turn and prints one tab-separated line per
 * URL: {@code URL status pod client}, or {@code URL error message}.
 */
public final class Curl {

    private Curl() {
    }

    public static void main(String[] args) {
        for (String url : args) {
            URI uri = URI.create(url);
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            try {
                Net.Response r = Net.get(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort(), path);
                System.out.println(url + "\t" + r.status() + "\t" + r.pod() + "\t" + r.echo("client"));
            } catch (Exception e) {
                System.out.println(url + "\terror\t" + e);
            }
        }
    }
}
