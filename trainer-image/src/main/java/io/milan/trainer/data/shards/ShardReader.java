package io.milan.trainer.data.shards;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads one whole shard: all its bytes first (so the length and SHA-256 are checked against the manifest before
 * any sample is used, and a stream from an object store is held open only as long as one sequential read), then
 * its samples in file order. WebDataset's grouping: an entry's key is its path up to the first dot of the file
 * name, the rest is the extension; a sample is the adjacent entries of one key, here an image ({@code jpg},
 * {@code jpeg} or {@code png}) and a {@code cls} (the class index in ASCII). Other extensions are ignored.
 */
public final class ShardReader {

    static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png");
    /** WebDataset's {@code base_plus_ext}: key = directories + name up to its first dot. */
    private static final Pattern KEY_AND_EXTENSION = Pattern.compile("^((?:.*/|)[^./]+)\\.([^/]*)$");

    private ShardReader() {
    }

    /**
     * The samples of shard {@code shard} (position {@code position} in the manifest), with global indices from
     * {@code firstIndex}.
     *
     * @throws ShardFormatException naming the file when it is missing, truncated, corrupt or not as listed
     */
    public static List<EncodedSample> read(ShardSource source, ShardManifest manifest, int position, long firstIndex)
            throws IOException {
        ShardManifest.Shard shard = manifest.shards().get(position);
        String file = source.describe(shard.name());
        byte[] bytes = readAll(source, shard, file);
        List<EncodedSample> samples = parse(bytes, file, firstIndex, manifest.classes().size());
        if (samples.size() != shard.samples()) {
            throw new ShardFormatException(file + " holds " + samples.size() + " samples but " + ShardManifest.FILE
                    + " lists " + shard.samples());
        }
        return samples;
    }

    private static byte[] readAll(ShardSource source, ShardManifest.Shard shard, String file) throws IOException {
        if (shard.bytes() > Integer.MAX_VALUE - 16) {
            throw new ShardFormatException(file + " is " + shard.bytes() + " bytes; shards must stay below 2 GiB"
                    + " (write smaller ones with --shard-size)");
        }
        byte[] bytes;
        try (InputStream in = source.open(shard.name())) {
            // One byte more than listed, to notice a longer file without reading all of it.
            bytes = in.readNBytes((int) shard.bytes() + 1);
        }
        if (bytes.length != shard.bytes()) {
            throw new ShardFormatException(file + " is " + (bytes.length > shard.bytes() ? "longer than" : bytes.length
                    + " bytes, shorter than") + " the " + shard.bytes() + " bytes " + ShardManifest.FILE
                    + " lists (truncated or replaced?)");
        }
        String sha = sha256(bytes);
        if (!sha.equals(shard.sha256())) {
            throw new ShardFormatException(file + ": SHA-256 " + sha + " does not match " + shard.sha256() + " in "
                    + ShardManifest.FILE + " (corrupt or replaced)");
        }
        return bytes;
    }

    /** The samples of a tar file's bytes; {@code file} names it in errors. */
    static List<EncodedSample> parse(byte[] tar, String file, long firstIndex, int classes) throws IOException {
        List<EncodedSample> samples = new ArrayList<>();
        String key = null;
        byte[] image = null;
        String imageName = null;
        Integer label = null;
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                if (!entry.isFile()) {
                    continue;
                }
                Matcher m = KEY_AND_EXTENSION.matcher(entry.getName());
                if (!m.matches()) {
                    continue; // no extension: not part of a sample
                }
                String extension = m.group(2).toLowerCase(Locale.ROOT);
                if (!extension.equals("cls") && !IMAGE_EXTENSIONS.contains(extension)) {
                    continue;
                }
                if (!m.group(1).equals(key)) {
                    if (key != null) {
                        samples.add(sample(file, key, image, imageName, label, firstIndex + samples.size()));
                    }
                    key = m.group(1);
                    image = null;
                    label = null;
                }
                byte[] content = in.readAllBytes();
                if (extension.equals("cls")) {
                    label = parseLabel(file, entry.getName(), content, classes);
                } else {
                    if (image != null) {
                        throw new ShardFormatException(file + ": sample " + key + " has two images");
                    }
                    image = content;
                    imageName = entry.getName();
                }
            }
        } catch (ShardFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ShardFormatException(file + " is not a readable tar file (truncated or corrupt): "
                    + e.getMessage(), e);
        }
        if (key != null) {
            samples.add(sample(file, key, image, imageName, label, firstIndex + samples.size()));
        }
        return samples;
    }

    private static EncodedSample sample(String file, String key, byte[] image, String imageName, Integer label,
            long index) throws ShardFormatException {
        if (image == null) {
            throw new ShardFormatException(file + ": sample " + key + " has no image (" + key + ".jpg/.png)");
        }
        if (label == null) {
            throw new ShardFormatException(file + ": sample " + key + " has no class (" + key + ".cls)");
        }
        return new EncodedSample(index, file + ":" + imageName, image, label);
    }

    private static int parseLabel(String file, String entry, byte[] content, int classes)
            throws ShardFormatException {
        String text = new String(content, StandardCharsets.US_ASCII).trim();
        try {
            int label = Integer.parseInt(text);
            if (label >= 0 && label < classes) {
                return label;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ShardFormatException(file + ": " + entry + " holds '" + text + "', not a class index in [0, "
                + classes + ")");
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
