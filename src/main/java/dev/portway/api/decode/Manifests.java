package dev.portway.api.decode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the manifests a user names with {@code -f}: a file, a directory (its {@code *.yaml},
 * {@code *.yml} and {@code *.json} files, sorted by name, as kubectl does) or {@code -} for
 * standard input, and decodes every document in them. Problems are collected, not thrown, so
 * that one run reports all of them.
 */
public final class Manifests {

    private Manifests() {
    }

    /** Everything decoded from a set of paths, and everything that could not be. */
    public record Loaded(List<ObjectDecoder.Decoded> objects, List<DecodeProblem> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    public static Loaded load(List<String> paths, InputStream stdin) {
        List<ObjectDecoder.Decoded> objects = new ArrayList<>();
        List<DecodeProblem> problems = new ArrayList<>();
        for (String path : paths) {
            for (Source source : sources(path, stdin, problems)) {
                loadText(source.name, source.text, objects, problems);
            }
        }
        return new Loaded(objects, problems);
    }

    /** Decodes one text (the content of one file). */
    public static Loaded loadText(String name, String text) {
        List<ObjectDecoder.Decoded> objects = new ArrayList<>();
        List<DecodeProblem> problems = new ArrayList<>();
        loadText(name, text, objects, problems);
        return new Loaded(objects, problems);
    }

    private static void loadText(String name, String text, List<ObjectDecoder.Decoded> objects, List<DecodeProblem> problems) {
        List<Document> documents;
        try {
            documents = DocumentParser.parse(name, text);
        } catch (ManifestSyntaxException e) {
            String where = e.line() > 0 ? name + ":" + e.line() + ":" + e.column() : name;
            problems.add(new DecodeProblem(where, documentAt(text, e.line()), "invalid YAML: " + e.problem(), List.of()));
            return;
        }
        for (Document document : documents) {
            ObjectDecoder.Result result = ObjectDecoder.decode(document);
            objects.addAll(result.objects());
            problems.addAll(result.problems());
        }
    }

    /** The 1-based index of the document that holds {@code line}, counting {@code ---} separators. */
    private static int documentAt(String text, int line) {
        int document = 1;
        boolean content = false;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < Math.min(lines.length, Math.max(line - 1, 0)); i++) {
            if (lines[i].startsWith("---")) {
                if (content) {
                    document++;
                }
                content = true;
            } else if (!lines[i].isBlank() && !lines[i].startsWith("#")) {
                content = true;
            }
        }
        return document;
    }

    private record Source(String name, String text) {
    }

    private static List<Source> sources(String path, InputStream stdin, List<DecodeProblem> problems) {
        if (path.equals("-")) {
            try {
                return List.of(new Source("-", new String(stdin.readAllBytes(), StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Path p = Path.of(path);
        if (!Files.exists(p)) {
            problems.add(new DecodeProblem(path, 0, "the path " + '"' + path + '"' + " does not exist", List.of()));
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(p)) {
            try (Stream<Path> list = Files.list(p)) {
                list.filter(Files::isRegularFile)
                        .filter(f -> {
                            String n = f.getFileName().toString();
                            return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
                        })
                        .sorted()
                        .forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            files.add(p);
        }
        List<Source> sources = new ArrayList<>();
        for (Path f : files) {
            try {
                sources.add(new Source(f.toString(), Files.readString(f, StandardCharsets.UTF_8)));
            } catch (IOException e) {
                problems.add(new DecodeProblem(f.toString(), 0, "cannot read: " + e.getMessage(), List.of()));
            }
        }
        return sources;
    }
}
