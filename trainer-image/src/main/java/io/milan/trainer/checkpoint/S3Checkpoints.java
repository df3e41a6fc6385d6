package io.milan.trainer.checkpoint;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import io.milan.trainer.storage.ObjectStore;
import io.milan.trainer.storage.S3Location;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's checkpoints in object storage under {@code s3://bucket/prefix}: the same safetensors files as in the
 * output directory ({@code checkpoint-<epoch>.safetensors} and {@code .optim.safetensors}, so PyTorch users read
 * them as they are), and a manifest object, {@value #MANIFEST}, naming the complete checkpoints newest first with
 * each file's size and SHA-256.
 *
 * <p>Order of writes: the optimizer file, then the model file (each object appears whole or not at all: one PUT,
 * or a multipart upload completed after its last part), then the manifest. The manifest is the commit point: a
 * checkpoint whose upload was interrupted is not in it, so resuming picks the previous one. On resume each file
 * is checked against the manifest's size and SHA-256; a missing or corrupt object makes it fall back to the
 * previous checkpoint, as a truncated file does on a claim.
 *
 * <p>Mid-epoch checkpoints ({@code checkpoint-<epoch>-step<globalStep>.safetensors}) are copied too, uploaded on
 * the checkpoint writer's background thread; the manifest holds at most one, which an epoch-end checkpoint of
 * its epoch or later replaces, and orders it between the ends of its epoch and the one before.
 */
public final class S3Checkpoints implements CheckpointReplica {

    public static final String MANIFEST = "checkpoints.json";
    static final String FORMAT = "milan-checkpoint-manifest-1";
    private static final Logger LOG = LoggerFactory.getLogger(S3Checkpoints.class);
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final ObjectStore store;
    private final S3Location location;

    public S3Checkpoints(ObjectStore store, S3Location location) {
        this.store = store;
        this.location = location;
    }

    /** The manifest: complete checkpoints, newest epoch first. */
    public record Manifest(String format, List<Entry> checkpoints) {
    }

    /**
     * One checkpoint: its files in commit order (model file last); {@code step} the global step of a mid-epoch
     * checkpoint inside {@code epoch}, null for an epoch end (and in manifests written before mid-epoch copies).
     */
    public record Entry(int epoch, List<FileEntry> files, Long step) {
        public Entry(int epoch, List<FileEntry> files) {
            this(epoch, files, null);
        }

        public boolean midEpoch() {
            return step != null;
        }

        String describe() {
            return midEpoch() ? "the mid-epoch checkpoint of epoch " + epoch + " after step " + step
                    : "the checkpoint of epoch " + epoch;
        }
    }

    /** Newest first: a mid-epoch checkpoint of epoch e after the end of e - 1 and before the end of e. */
    static final Comparator<Entry> NEWEST_FIRST = Comparator.comparingInt(Entry::epoch)
            .thenComparing(e -> !e.midEpoch()).thenComparingLong(e -> e.midEpoch() ? e.step() : 0).reversed();

    public record FileEntry(String name, long size, String sha256) {
    }

    @Override
    public void publish(int epoch, List<Path> files) throws IOException {
        Entry entry = new Entry(epoch, upload(files));
        // This epoch's earlier copy (an earlier attempt's) and mid-epoch copies up to this epoch give way.
        commit(entry, e -> e.epoch() == epoch || (e.midEpoch() && e.epoch() <= epoch));
        LOG.info("Uploaded checkpoint of epoch {} to {}", epoch, location.url(files.get(files.size() - 1)
                .getFileName().toString()));
    }

    @Override
    public void publishMidEpoch(int epoch, long globalStep, List<Path> files) throws IOException {
        Entry entry = new Entry(epoch, upload(files), globalStep);
        commit(entry, Entry::midEpoch); // at most one mid-epoch copy, as in the directory
        LOG.info("Uploaded mid-epoch checkpoint of epoch {} after step {} to {}", epoch, globalStep,
                location.url(files.get(files.size() - 1).getFileName().toString()));
    }

    /** Uploads {@code files} in order (each whole or not at all); their manifest entries. */
    private List<FileEntry> upload(List<Path> files) throws IOException {
        List<FileEntry> entries = new ArrayList<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            store.upload(file, location.bucket(), location.key(name));
            entries.add(new FileEntry(name, Files.size(file), sha256(file)));
        }
        return entries;
    }

    /**
     * Writes the manifest with {@code entry} in place of the entries {@code replaced} selects (the commit point),
     * then deletes the replaced entries' objects that no kept entry names.
     */
    private void commit(Entry entry, java.util.function.Predicate<Entry> replaced) throws IOException {
        List<Entry> kept = new ArrayList<>();
        List<Entry> dropped = new ArrayList<>();
        for (Entry e : readManifest().map(Manifest::checkpoints).orElse(List.of())) {
            (replaced.test(e) ? dropped : kept).add(e);
        }
        kept.add(entry);
        writeManifest(kept);
        deleteObjectsOf(dropped, kept);
    }

    private void deleteObjectsOf(List<Entry> dropped, List<Entry> kept) throws IOException {
        TreeSet<String> keptNames = new TreeSet<>();
        kept.forEach(e -> e.files().forEach(f -> keptNames.add(f.name())));
        List<String> keys = dropped.stream().flatMap(e -> e.files().stream()).map(FileEntry::name)
                .filter(n -> !keptNames.contains(n)).distinct().map(location::key).toList();
        if (!keys.isEmpty()) {
            store.delete(location.bucket(), keys);
            LOG.info("Removed {} old checkpoint object(s) from {}", keys.size(), location);
        }
    }

    @Override
    public void prune(int savedEpoch, int keepLast) throws IOException {
        Optional<Manifest> manifest = readManifest();
        if (manifest.isEmpty() || keepLast == 0) {
            return;
        }
        List<Entry> kept = new ArrayList<>();
        List<Entry> dropped = new ArrayList<>();
        int older = 0;
        for (Entry e : manifest.get().checkpoints()) { // newest first
            // Later epochs (an earlier attempt's, to be overwritten) stay; of the rest the keepLast newest.
            // Mid-epoch copies never count (publish replaces them).
            boolean keep = e.midEpoch() || e.epoch() > savedEpoch || older++ < keepLast
                    || e.epoch() == savedEpoch;
            (keep ? kept : dropped).add(e);
        }
        if (dropped.isEmpty()) {
            return;
        }
        writeManifest(kept); // first, so that no manifest names a deleted object
        deleteObjectsOf(dropped, kept);
    }

    @Override
    public void restoreInto(Path directory) throws IOException {
        Optional<Manifest> manifest = readManifest();
        if (manifest.isEmpty() || manifest.get().checkpoints().isEmpty()) {
            return;
        }
        List<String> problems = new ArrayList<>();
        for (Entry e : manifest.get().checkpoints().stream().sorted(NEWEST_FIRST).toList()) {
            Optional<String> problem = restore(e, directory);
            if (problem.isEmpty()) {
                if (!problems.isEmpty()) {
                    LOG.warn("Resuming from {} in {}, an older one, because the newer ones are unusable",
                            e.describe(), location);
                }
                return;
            }
            problems.add(problem.get());
            LOG.warn("{}; falling back to the previous checkpoint", problem.get());
        }
        throw new CheckpointException("none of the " + problems.size() + " checkpoints in " + location
                + " is usable; remove " + location.url(MANIFEST) + " to start over: " + String.join("; ", problems));
    }

    @Override
    public String locationOf(Path modelFile) {
        return location.url(modelFile.getFileName().toString());
    }

    /** Downloads and verifies one checkpoint's files; empty when they are all intact, else what is wrong. */
    private Optional<String> restore(Entry e, Path directory) throws IOException {
        for (FileEntry f : e.files()) {
            Path target = directory.resolve(f.name());
            if (Files.isRegularFile(target) && Files.size(target) == f.size() && sha256(target).equals(f.sha256())) {
                continue; // already here (a container restarted with the same scratch directory)
            }
            String url = location.url(f.name());
            if (!store.download(location.bucket(), location.key(f.name()), target)) {
                return Optional.of("checkpoint object " + url + " named in " + location.url(MANIFEST)
                        + " does not exist");
            }
            long size = Files.size(target);
            String sha = sha256(target);
            if (size != f.size() || !sha.equals(f.sha256())) {
                Files.deleteIfExists(target);
                return Optional.of("checkpoint object " + url + " is corrupt (" + size + " bytes, SHA-256 " + sha
                        + "; the manifest records " + f.size() + " bytes, " + f.sha256() + ")");
            }
        }
        LOG.info("Restored {} from {} into {}", e.describe(), location, directory);
        return Optional.empty();
    }

    /** The manifest, or empty when there is none yet; an error when it is unreadable. */
    public Optional<Manifest> readManifest() throws IOException {
        Optional<byte[]> bytes = store.getBytes(location.bucket(), location.key(MANIFEST));
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            Manifest m = GSON.fromJson(new String(bytes.get(), StandardCharsets.UTF_8), Manifest.class);
            if (m == null || !FORMAT.equals(m.format()) || m.checkpoints() == null) {
                throw new JsonParseException("not a " + FORMAT + " manifest");
            }
            return Optional.of(m);
        } catch (JsonParseException e) {
            throw new CheckpointException(location.url(MANIFEST) + " is unreadable: " + e.getMessage()
                    + "; remove it to start over", e);
        }
    }

    private void writeManifest(List<Entry> checkpoints) throws IOException {
        List<Entry> sorted = new ArrayList<>(checkpoints);
        sorted.sort(NEWEST_FIRST);
        byte[] json = GSON.toJson(new Manifest(FORMAT, sorted)).getBytes(StandardCharsets.UTF_8);
        store.putBytes(location.bucket(), location.key(MANIFEST), json);
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
