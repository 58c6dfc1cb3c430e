package dev.portway.api;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The order kube-apiserver gives the versions of one API group (apimachinery's
 * {@code version.CompareKubeAwareVersionStrings}): GA before beta before alpha, then the higher
 * major, then the higher minor ({@code v2, v1, v1beta2, v1beta1, v1alpha1}), and anything not
 * shaped like a Kubernetes version last. Discovery lists a group's versions in this order and
 * names the first its preferred version, which is the version kubectl picks for a bare
 * resource name; so the order decides what {@code kubectl get referencegrants} talks to.
 */
public final class VersionPriority {

    /** The most preferred version first. */
    public static final Comparator<String> PREFERRED_FIRST = (a, b) -> compare(b, a);

    private static final Pattern KUBE_VERSION = Pattern.compile("v(\\d{1,18})(?:(alpha|beta)(\\d{1,18}))?");

    private VersionPriority() {
    }

    /**
     * Positive when {@code a} is preferred over {@code b}, negative when {@code b} is, zero when
     * they are the same version (the sign convention of the Go function).
     */
    public static int compare(String a, String b) {
        if (a.equals(b)) {
            return 0;
        }
        Matcher ma = KUBE_VERSION.matcher(a);
        Matcher mb = KUBE_VERSION.matcher(b);
        boolean okA = ma.matches();
        boolean okB = mb.matches();
        if (!okA && !okB) {
            return Integer.signum(b.compareTo(a)); // Go: strings.Compare(v2, v1)
        }
        if (!okA) {
            return -1;
        }
        if (!okB) {
            return 1;
        }
        int byStability = Integer.compare(stability(ma.group(2)), stability(mb.group(2)));
        if (byStability != 0) {
            return byStability;
        }
        int byMajor = Long.compare(Long.parseLong(ma.group(1)), Long.parseLong(mb.group(1)));
        if (byMajor != 0) {
            return byMajor;
        }
        return Long.compare(minor(ma), minor(mb));
    }

    /** GA over beta over alpha. */
    private static int stability(String qualifier) {
        if (qualifier == null) {
            return 2;
        }
        return qualifier.equals("beta") ? 1 : 0;
    }

    private static long minor(Matcher m) {
        return m.group(3) == null ? 0 : Long.parseLong(m.group(3));
    }
}
