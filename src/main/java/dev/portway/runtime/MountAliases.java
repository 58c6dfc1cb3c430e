package dev.portway.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The other paths a directory is reachable at, when its filesystem is mounted more than once: a
 * bind mount of the user's home, a toolbox's {@code /run/host} holding the host's root, a bind of
 * one of its subdirectories. A directory hidden from pods under a tmpfs at one path is otherwise
 * there for them at another.
 *
 * <p>Read from a mount table in the format of {@code /proc/self/mountinfo}. The directory's
 * filesystem is the one of the mount it is under (the table's device, not {@code stat}'s: on
 * btrfs each subvolume has a device of its own that the table never names); for each mount of
 * that filesystem whose mount point leads to the directory, where the directory lies in the
 * filesystem (the mount's root and the rest of the path). Then each mount of the filesystem whose
 * root holds that place shows the directory at a path, and each whose root lies inside it shows a
 * part of it at its mount point. Which mount is on top at a path is not worked out (mounts stack
 * and cover each other): every path found is a candidate only, kept if it is the very directory it
 * should show (device and inode), as the sandbox checks again.
 */
final class MountAliases {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MountAliases.class);
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    /** How the JVM turns file names into bytes and back (the locale's; C gives ASCII). */
    private static final Charset FILE_NAMES = fileNames();

    private MountAliases() {
    }

    /** One line of the table: the filesystem (major:minor), its directory mounted, and where. */
    record Mount(String device, Path root, Path mountPoint) {
    }

    /** A path ({@code at}) that shows the directory at {@code shows}, a path under the hidden one. */
    record Alias(Path at, Path shows) {
    }

    /**
     * The other paths of {@code hidden} (a real path) now, each with the identity it must have;
     * none when the table cannot be read (never an exception: a pod's start must not fail on it).
     */
    static List<PodSandbox.Hidden> of(PodSandbox.Hidden hidden) {
        try {
            List<Mount> table = parse(Files.readAllBytes(MOUNTINFO));
            List<PodSandbox.Hidden> out = new ArrayList<>();
            for (Alias a : candidates(hidden.dir(), covering(hidden.dir(), table), table)) {
                String identity = a.shows().equals(hidden.dir()) ? hidden.identity() : identity(a.shows());
                if (identity != null && identity.equals(identity(a.at()))) {
                    out.add(new PodSandbox.Hidden(a.at(), identity));
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot read the mount table for other paths of {}: {}", hidden.dir(), e.toString());
            return List.of();
        }
    }

    /** The device of the mount {@code dir} is under: the one with the longest mount point, the last mounted of those. */
    static String covering(Path dir, List<Mount> table) {
        Mount best = null;
        for (Mount m : table) {
            if (dir.startsWith(m.mountPoint()) && (best == null || m.mountPoint().getNameCount() >= best.mountPoint().getNameCount())) {
                best = m;
            }
        }
        return best == null ? null : best.device();
    }

    /**
     * The paths that may show {@code dir} (on {@code device}) or a part of it, by the mounts of
     * {@code table} ({@code dir} itself left out). Unchecked: see the class.
     */
    static List<Alias> candidates(Path dir, String device, List<Mount> table) {
        if (device == null) {
            return List.of();
        }
        List<Mount> same = table.stream().filter(m -> m.device().equals(device)).toList();
        Set<Path> inFilesystem = new LinkedHashSet<>();
        for (Mount m : same) {
            if (dir.startsWith(m.mountPoint())) {
                inFilesystem.add(m.root().resolve(m.mountPoint().relativize(dir)).normalize());
            }
        }
        Set<Alias> out = new LinkedHashSet<>();
        for (Path place : inFilesystem) {
            for (Mount m : same) {
                Alias alias = null;
                if (place.startsWith(m.root())) {
                    alias = new Alias(m.mountPoint().resolve(m.root().relativize(place)).normalize(), dir);
                } else if (m.root().startsWith(place)) {
                    alias = new Alias(m.mountPoint(), dir.resolve(place.relativize(m.root())).normalize());
                }
                if (alias != null && !alias.at().equals(alias.shows())) {
                    out.add(alias);
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** The mounts of a table in the format of {@code /proc/PID/mountinfo}; lines it cannot read are left out. */
    static List<Mount> parse(byte[] table) {
        List<Mount> out = new ArrayList<>();
        // the kernel writes a path's bytes as they are, but for space, tab, newline and backslash (\ooo)
        for (String line : new String(table, StandardCharsets.ISO_8859_1).split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 5 || !f[2].contains(":") || !f[3].startsWith("/") || !f[4].startsWith("/")) {
                continue;
            }
            try {
                out.add(new Mount(f[2], path(f[3]), path(f[4])));
            } catch (InvalidPathException e) {
                // a name the JVM cannot hold under its locale (C, and a byte past ASCII): no path of it can be hidden either
            }
        }
        return out;
    }

    /** A path of the table: its escapes undone, its bytes read as the JVM reads file names. */
    private static Path path(String field) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1) && isOctal(field, i + 2) && isOctal(field, i + 3)) {
                bytes.write(Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                bytes.write(c); // ISO-8859-1: the byte itself
            }
        }
        String name = bytes.toString(FILE_NAMES);
        if (name.indexOf('\uFFFD') >= 0) {
            throw new InvalidPathException(name, "not a name in " + FILE_NAMES);
        }
        return Path.of(name);
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }

    private static Charset fileNames() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /** {@code path}'s device and inode, as the sandbox compares them; null if it cannot be read. */
    private static String identity(Path path) {
        try {
            return Files.isDirectory(path) ? Files.getAttribute(path, "unix:dev") + ":" + Files.getAttribute(path, "unix:ino") : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
