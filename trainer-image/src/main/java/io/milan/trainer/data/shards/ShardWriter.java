package io.milan.trainer.data.shards;

import io.milan.trainer.checkpoint.AtomicFiles;
import io.milan.trainer.data.ImageFolder;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes an ImageFolder split as tar shards of the WebDataset layout: the samples in a seeded random order (so a
 * shard holds a mix of classes and streaming it needs only a small shuffle buffer), {@code <key>.jpg} (or
 * {@code .png}: the file's bytes as they are, not re-encoded) and {@code <key>.cls} per sample, where the key is the
 * sample's position in that order, zero-padded. Shards are {@code shard-000000.tar}, ... of at most
 * {@code samplesPerShard} samples or {@code bytesPerShard} bytes, each written atomically, and
 * {@link ShardManifest#FILE} last; the whole directory appears at once (a temporary sibling renamed at the end).
 */
public final class ShardWriter {

    /** Fixed entry times make a shard's bytes, and so its checksum, depend only on its content. */
    private static final FileTime ENTRY_TIME = FileTime.fromMillis(0);
    /** Two zero records end a tar file. */
    private static final int END_OF_ARCHIVE = 1024;

    /** How big a shard may grow: at most so many samples, or so many bytes (whichever is set). */
    public record ShardSize(int samples, long bytes) {
        public ShardSize {
            if (samples < 0 || bytes < 0 || (samples == 0) == (bytes == 0)) {
                throw new IllegalArgumentException("a shard size is either a sample count or a byte length");
            }
        }

        /** {@code 1000} (samples) or {@code 256MB}, {@code 1GiB}, {@code 500KB} ... (bytes). */
        public static ShardSize parse(String text) {
            String t = text.trim().toUpperCase(Locale.ROOT);
            String[][] units = {{"GIB", "1073741824"}, {"MIB", "1048576"}, {"KIB", "1024"}, {"GB", "1000000000"},
                {"MB", "1000000"}, {"KB", "1000"}, {"B", "1"}};
            try {
                for (String[] unit : units) {
                    if (t.endsWith(unit[0])) {
                        long n = Long.parseLong(t.substring(0, t.length() - unit[0].length()).trim());
                        if (n < 1) {
                            break;
                        }
                        return new ShardSize(0, Math.multiplyExact(n, Long.parseLong(unit[1])));
                    }
                }
                int n = Integer.parseInt(t);
                if (n >= 1) {
                    return new ShardSize(n, 0);
                }
            } catch (NumberFormatException | ArithmeticException e) {
                // reported below
            }
            throw new IllegalArgumentException("--shard-size '" + text + "' is neither a positive sample count (e.g."
                    + " 1000) nor a byte length (e.g. 256MB, 1GiB)");
        }
    }

    private ShardWriter() {
    }

    /** Hears each shard file as soon as it is complete (before the next is written, and before the manifest). */
    @FunctionalInterface
    public interface ShardListener {
        void written(Path shard) throws IOException;
    }

    /** Writes {@code from} as shards into the new directory {@code to}; returns the manifest. */
    public static ShardManifest write(ImageFolder from, Path to, ShardSize size, long seed) throws IOException {
        return write(from, to, size, seed, shard -> { });
    }

    /**
     * As {@link #write(ImageFolder, Path, ShardSize, long)}, telling {@code listener} of each shard when written
     * (an upload may then delete it, so a split larger than the local disk can go to object storage).
     */
    public static ShardManifest write(ImageFolder from, Path to, ShardSize size, long seed, ShardListener listener)
            throws IOException {
        if (Files.exists(to)) {
            throw new IllegalArgumentException("--to " + to + " already exists; remove it or choose another");
        }
        List<ImageFolder.Sample> order = new ArrayList<>(from.samples());
        java.util.Collections.shuffle(order, new Random(seed));
        int keyDigits = Math.max(6, Integer.toString(order.size() - 1).length());
        return AtomicFiles.writeDirectory(to, dir -> {
            List<ShardManifest.Shard> shards = new ArrayList<>();
            int next = 0;
            while (next < order.size()) {
                String name = String.format(Locale.ROOT, "shard-%06d.tar", shards.size());
                ShardManifest.Shard shard = writeShard(dir.resolve(name), order, next, size, keyDigits);
                listener.written(dir.resolve(name));
                shards.add(shard);
                next += shard.samples();
            }
            ShardManifest manifest = new ShardManifest(ShardManifest.FORMAT, ShardManifest.VERSION, order.size(),
                    from.classes(), seed, shards);
            AtomicFiles.write(dir.resolve(ShardManifest.FILE), manifest.toJson().getBytes(StandardCharsets.UTF_8));
            return manifest;
        });
    }

    /** Writes samples from {@code first} until the shard is full; at least one sample, however big. */
    private static ShardManifest.Shard writeShard(Path file, List<ImageFolder.Sample> order, int first,
            ShardSize size, int keyDigits) throws IOException {
        MessageDigest sha = sha256();
        int[] count = {0};
        long[] length = {0};
        AtomicFiles.write(file, channel -> {
            CountingOutputStream counted = new CountingOutputStream(
                    new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16));
            // Blocks of one record (512 bytes): no padding to 10 KiB, so the size estimate below is exact.
            TarArchiveOutputStream tar = new TarArchiveOutputStream(new DigestOutputStream(counted, sha), 512);
            long written = 0;
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (int i = first; i < order.size(); i++) {
                ImageFolder.Sample sample = order.get(i);
                byte[] image = Files.readAllBytes(sample.file());
                long sampleBytes = entryBytes(image.length) + entryBytes(1);
                if (count[0] > 0 && (size.samples() > 0 ? count[0] >= size.samples()
                        : written + sampleBytes + END_OF_ARCHIVE > size.bytes())) {
                    break;
                }
                String key = String.format(Locale.ROOT, "%0" + keyDigits + "d", i);
                put(tar, key + "." + extension(sample.file()), image);
                put(tar, key + ".cls", Integer.toString(sample.label()).getBytes(StandardCharsets.US_ASCII));
                count[0]++;
                written += sampleBytes;
            }
            tar.close(); // the end-of-archive records, flushed down to the channel (which AtomicFiles closes)
            length[0] = counted.count;
        });
        return new ShardManifest.Shard(file.getFileName().toString(), count[0], length[0],
                HexFormat.of().formatHex(sha.digest()));
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(content.length);
        entry.setMode(0100644);
        entry.setLastModifiedTime(ENTRY_TIME);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /** A tar entry's bytes: a 512-byte header plus the content rounded up to 512. */
    private static long entryBytes(long content) {
        return 512 + (content + 511) / 512 * 512;
    }

    /** {@code jpg} for .jpg and .jpeg (WebDataset's usual key), else the file's extension in lower case. */
    static String extension(Path file) {
        String name = file.getFileName().toString();
        String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        return ext.equals("jpeg") ? "jpg" : ext;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Counts what passes through, to know a shard's length while writing it. */
    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            flush(); // but leave the channel open: AtomicFiles fsyncs and closes it
        }
    }
}
