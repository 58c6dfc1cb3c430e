package dev.portway.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The other paths a directory is reachable at, when its filesystem is mounted more than once: a
 * bind mount of the user's home, a toolbox's {@code /run/host} holding the host's root. A
 * directory hidden from pods under a tmpfs at one path is otherwise there for them at another.
 *
 * <p>Read from a mount table in the format of {@code /proc/self/mountinfo}: for each mount of the
 * directory's device whose mount point leads to it, where the directory lies in the filesystem
 * (the mount's root and the rest of the path); then, for each mount of that device whose root
 * holds that place, the path it shows the directory at. Which mount is on top at a path is not
 * worked out from the table (mounts stack and cover each other): every path found is a candidate
 * only, and kept if it is the very directory (device and inode), as the sandbox checks again.
 */
final class MountAliases {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private MountAliases() {
    }

    /** One line of the table: the device (major:minor), the filesystem's directory mounted, and where. */
    record Mount(String device, Path root, Path mountPoint) {
    }

    /** The other paths of {@code dir} (a real path) now; none when the table cannot be read. */
    static List<Path> of(Path dir, String identity) {
        String table;
        try {
            table = Files.readString(MOUNTINFO, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of();
        }
        return candidates(dir, device(dir), parse(table)).stream().filter(p -> isDirectory(p, identity)).toList();
    }

    /**
     * The paths {@code dir}, on {@code device}, may also be at, by the mounts of {@code table}
     * (the directory itself left out). Unchecked: see the class.
     */
    static List<Path> candidates(Path dir, String device, List<Mount> table) {
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
        Set<Path> out = new LinkedHashSet<>();
        for (Path place : inFilesystem) {
            for (Mount m : same) {
                if (place.startsWith(m.root())) {
                    Path alias = m.mountPoint().resolve(m.root().relativize(place)).normalize();
                    if (!alias.equals(dir)) {
                        out.add(alias);
                    }
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** The mounts of a table in the format of {@code /proc/PID/mountinfo}; lines it cannot read are left out. */
    static List<Mount> parse(String table) {
        List<Mount> out = new ArrayList<>();
        for (String line : table.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 5 || !f[2].contains(":") || !f[3].startsWith("/") || !f[4].startsWith("/")) {
                continue;
            }
            out.add(new Mount(f[2], Path.of(unescape(f[3])), Path.of(unescape(f[4]))));
        }
        return out;
    }

    /** The kernel writes a space, tab, newline and backslash in a path as {@code \ooo}. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1) && isOctal(s, i + 2) && isOctal(s, i + 3)) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int i) {
        return i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7';
    }

    /** {@code path}'s device as the table writes it ({@code major:minor}), or null. */
    private static String device(Path path) {
        try {
            long dev = ((Number) Files.getAttribute(path, "unix:dev")).longValue();
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & 0xfffff000L); // glibc's gnu_dev_major
            long minor = (dev & 0xff) | ((dev >>> 12) & 0xffffff00L);
            return major + ":" + minor;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static boolean isDirectory(Path path, String identity) {
        try {
            return Files.isDirectory(path)
                    && identity.equals(Files.getAttribute(path, "unix:dev") + ":" + Files.getAttribute(path, "unix:ino"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
