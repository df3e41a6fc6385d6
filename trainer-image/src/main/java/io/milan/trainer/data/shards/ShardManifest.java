package io.milan.trainer.data.shards;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;

/**
 * {@value #FILE}: what a shard directory holds, written last by {@code milan-trainer shard}. The classes are the
 * source ImageFolder's, in its order (a sample's {@code .cls} is an index into them); every shard has its sample
 * count, byte length and SHA-256, which the reader checks before it hands out a sample.
 *
 * @param format always {@value #FORMAT}
 * @param samples the sum of the shards' counts
 * @param seed the seed of the shuffle that ordered the samples across the shards
 */
public record ShardManifest(String format, int version, int samples, List<String> classes, long seed,
        List<Shard> shards) {

    public static final String FILE = "shards.json";
    public static final String FORMAT = "webdataset";
    public static final int VERSION = 1;
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** One tar file: its name in the directory, how many samples it holds, its length and SHA-256 (hex). */
    public record Shard(String name, int samples, long bytes, String sha256) {
    }

    public ShardManifest {
        classes = List.copyOf(classes);
        shards = List.copyOf(shards);
    }

    /** Whether {@code dir} holds a shard manifest (then it is read as shards, not as an ImageFolder). */
    public static boolean isShardDirectory(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /** Reads and checks {@code dir/shards.json}; errors name the file and the field. */
    public static ShardManifest read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ShardFormatException(file + " does not exist; is " + dir + " a directory written by"
                    + " `milan-trainer shard`?");
        }
        return parse(json, file.toString());
    }

    /** Parses and checks a manifest's JSON; {@code where} names it in errors. */
    public static ShardManifest parse(String json, String where) throws ShardFormatException {
        ShardManifest m;
        try {
            m = GSON.fromJson(json, ShardManifest.class);
        } catch (JsonParseException | IllegalArgumentException e) {
            throw new ShardFormatException(where + " is not a valid shard manifest: " + e.getMessage());
        }
        if (m == null) {
            throw new ShardFormatException(where + " is empty");
        }
        m.validate(where);
        return m;
    }

    private void validate(String where) throws ShardFormatException {
        require(FORMAT.equals(format), where, "format is '" + format + "', expected '" + FORMAT + "'");
        require(version == VERSION, where, "version " + version + " is not supported (this trainer reads "
                + VERSION + ")");
        require(classes != null && !classes.isEmpty(), where, "classes is missing or empty");
        require(shards != null && !shards.isEmpty(), where, "shards is missing or empty");
        long total = 0;
        HashSet<String> names = new HashSet<>();
        for (Shard s : shards) {
            require(s.name() != null && s.name().endsWith(".tar") && !s.name().contains("/"), where,
                    "shard name '" + s.name() + "' is not a plain file name ending in .tar");
            require(names.add(s.name()), where, "shard " + s.name() + " is listed twice");
            require(s.samples() >= 1, where, "shard " + s.name() + " has samples " + s.samples());
            require(s.sha256() != null && s.sha256().matches("[0-9a-f]{64}"), where, "shard " + s.name()
                    + " has no valid sha256");
            total += s.samples();
        }
        require(total == samples, where, "samples is " + samples + " but the shards hold " + total);
    }

    private static void require(boolean ok, String where, String problem) throws ShardFormatException {
        if (!ok) {
            throw new ShardFormatException(where + ": " + problem);
        }
    }

    /** The global index of each shard's first sample (the manifest's order), plus the total at the end. */
    public int[] firstIndices() {
        int[] first = new int[shards.size() + 1];
        for (int i = 0; i < shards.size(); i++) {
            first[i + 1] = first[i] + shards.get(i).samples();
        }
        return first;
    }
}
