package dev.portway.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Looks at this machine's processes through /proc, for tests that check what pods leave behind. */
public final class Processes {

    private Processes() {
    }

    /** Whether {@code pid} is a running process; a zombie (dead, not yet reaped by its new parent) is not. */
    public static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** The PIDs of every process whose environment holds {@code NAME=value}. */
    public static List<Long> withEnvironment(String name, String value) {
        byte[] wanted = (name + "=" + value).getBytes(StandardCharsets.UTF_8);
        List<Long> pids = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path dir : dirs.toList()) {
                String pid = dir.getFileName().toString();
                if (!pid.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    byte[] env = Files.readAllBytes(dir.resolve("environ"));
                    if (contains(env, wanted)) {
                        pids.add(Long.parseLong(pid));
                    }
                } catch (IOException | SecurityException e) {
                    // gone meanwhile, or not ours to read
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return pids;
    }

    /** Whether {@code env} (NUL-separated entries) has the entry {@code entry}. */
    private static boolean contains(byte[] env, byte[] entry) {
        int start = 0;
        for (int i = 0; i <= env.length; i++) {
            if (i == env.length || env[i] == 0) {
                if (i - start == entry.length && java.util.Arrays.equals(env, start, i, entry, 0, entry.length)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    /** The PID in a process container's ID ({@code pid://1234}). */
    public static long pid(String containerId) {
        if (containerId == null || !containerId.startsWith("pid://")) {
            throw new IllegalArgumentException("not a process container: " + containerId);
        }
        return Long.parseLong(containerId.substring("pid://".length()));
    }
}
