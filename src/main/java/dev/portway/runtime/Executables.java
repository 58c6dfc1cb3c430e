package dev.portway.runtime;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds a command's file the way {@code execvp} does, but in the container's PATH, not Portway's. */
final class Executables {

    private Executables() {
    }

    /**
     * The file {@code command} runs: itself when it contains a slash (relative to
     * {@code workingDir}), else the first executable of that name in {@code path}; null if none.
     */
    static String resolve(String command, String path, Path workingDir) {
        if (command.isEmpty()) {
            return null;
        }
        if (command.contains("/")) {
            Path file = workingDir.resolve(command);
            return Files.isRegularFile(file) && Files.isExecutable(file) ? file.toString() : null;
        }
        for (String dir : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path file = workingDir.resolve(dir).resolve(command);
            if (Files.isRegularFile(file) && Files.isExecutable(file)) {
                return file.toString();
            }
        }
        return null;
    }
}
