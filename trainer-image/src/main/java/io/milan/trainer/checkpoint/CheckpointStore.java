package io.milan.trainer.checkpoint;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.optim.OptimizerState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints of one run in its output directory.
 *
 * <p>Layout: one checkpoint is two safetensors files,
 * <ul>
 *   <li>{@code checkpoint-<epoch>.safetensors}: the model's tensors under the reference state_dict names and
 *       nothing else, so {@code model.load_state_dict(safetensors.torch.load_file(f))} works in PyTorch;
 *       the run metadata ({@value #EPOCH}, {@value #GLOBAL_STEP}, versions, the caller's {@code args},
 *       {@code seed}...) is in its {@code __metadata__};</li>
 *   <li>{@code checkpoint-<epoch>.optim.safetensors}: the optimizer state ({@code exp_avg.<param>},
 *       {@code exp_avg_sq.<param>} or {@code mu.<param>}) and its step count.</li>
 * </ul>
 * Both are written atomically, the optimizer file first. The model file is the commit point: it records
 * the optimizer file's name and data checksum, so a checkpoint is valid only when both files are complete
 * and belong together. A crash at any moment leaves the previous checkpoints untouched.
 *
 * <p>A mid-epoch checkpoint (its metadata records an {@link EpochPosition}) is named
 * {@code checkpoint-<epoch>-step<globalStep>.safetensors} (+ {@code .optim.safetensors}), {@code epoch} being the
 * epoch in progress. There is at most one: saving one deletes the previous one once the new one is complete, and
 * saving an epoch-end checkpoint deletes those of the epochs up to it. They do not count towards
 * {@code keepLast}, so they never push an epoch-end checkpoint out.
 *
 * <p>A store opened for a run ({@link #CheckpointStore(Path, RunIdentity)}) records the run's {@link RunIdentity}
 * in every checkpoint, and {@code --resume auto} refuses a checkpoint of another run
 * ({@link ForeignCheckpointException}). A checkpoint without an identity (written before checkpoints carried one)
 * is resumed with a warning.
 *
 * <p>A store with a {@link CheckpointReplica} (e.g. {@link S3Checkpoints} for an {@code s3://} location) keeps
 * working in its local directory and also copies each saved checkpoint there, prunes the copies alike, and before
 * {@code --resume auto} brings the replica's newest intact checkpoint into the directory.
 */
public final class CheckpointStore {

    /** Suggested metadata key for the run's arguments as JSON (like the reference's saved {@code args}). */
    public static final String ARGS = "args";
    /** Suggested metadata key for the run's random seed. */
    public static final String SEED = "seed";
    public static final String FORMAT = "milan.format";
    public static final String FORMAT_VERSION = "milan-checkpoint-1";
    public static final String EPOCH = "milan.epoch";
    public static final String GLOBAL_STEP = "milan.global_step";
    public static final String TRAINER_VERSION = "milan.trainer_version";
    public static final String DJL_VERSION = "milan.djl_version";
    public static final String LIBTORCH_VERSION = "milan.libtorch_version";
    public static final String OPTIMIZER_FILE = "milan.optimizer_file";
    public static final String OPTIMIZER_CRC = "milan.optimizer_crc32c";
    public static final String OPTIMIZER_KIND = "milan.optimizer";
    public static final String OPTIMIZER_STEP = "milan.optimizer_step";
    private static final Set<String> RESERVED = reserved();

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final Pattern MODEL_FILE = Pattern.compile("checkpoint-(\\d+)\\.safetensors");
    private static final Pattern OPTIMIZER_FILE_NAME = Pattern.compile("checkpoint-(\\d+)\\.optim\\.safetensors");
    /** A mid-epoch checkpoint's model or optimizer file: epoch in progress, global step. */
    private static final Pattern MID_EPOCH_FILE = Pattern.compile(
            "checkpoint-(\\d+)-step(\\d+)(\\.optim)?\\.safetensors");

    private final Path directory;
    /** The run whose checkpoints these are; null for a store that only reads (evaluation, tools). */
    private final RunIdentity identity;
    /** The durable copy outside the pod, or null when the directory itself is where checkpoints live. */
    private final CheckpointReplica replica;

    /** A store that records no run identity and resumes any checkpoint (evaluation, tools, tests). */
    public CheckpointStore(Path directory) {
        this(directory, null);
    }

    /** The store of the run {@code identity}: its checkpoints record it, and resuming checks it. */
    public CheckpointStore(Path directory, RunIdentity identity) {
        this(directory, identity, null);
    }

    /** As above, with every checkpoint also copied to {@code replica} (null for none). */
    public CheckpointStore(Path directory, RunIdentity identity, CheckpointReplica replica) {
        this.directory = directory;
        this.identity = identity;
        this.replica = replica;
    }

    /** Where the checkpoint whose model file is {@code modelFile} lives for users: the replica's URL or the path. */
    public String locationOf(Path modelFile) {
        return replica != null ? replica.locationOf(modelFile) : modelFile.toAbsolutePath().toString();
    }

    public Path directory() {
        return directory;
    }

    public Path modelFile(int epoch) {
        return directory.resolve("checkpoint-" + epoch + ".safetensors");
    }

    public Path optimizerFile(int epoch) {
        return directory.resolve("checkpoint-" + epoch + ".optim.safetensors");
    }

    /** The model file of a mid-epoch checkpoint inside {@code epoch}, after {@code globalStep}. */
    public Path midEpochFile(int epoch, long globalStep) {
        return directory.resolve("checkpoint-" + epoch + "-step" + globalStep + ".safetensors");
    }

    private static Path midEpochOptimizerFile(Path modelFile) {
        String name = modelFile.getFileName().toString();
        return modelFile.resolveSibling(name.substring(0, name.length() - ".safetensors".length())
                + ".optim.safetensors");
    }

    /** The model file {@code checkpoint} is (or would be) stored under in this directory. */
    public Path fileOf(Checkpoint checkpoint) {
        return EpochPosition.isMidEpoch(checkpoint.metadata()) ? midEpochFile(checkpoint.epoch(),
                checkpoint.globalStep()) : modelFile(checkpoint.epoch());
    }

    /**
     * Writes {@code checkpoint} (replacing one of the same epoch, or for a mid-epoch one, the previous mid-epoch
     * checkpoint) and returns the model file.
     */
    public Path save(Checkpoint checkpoint) throws IOException {
        for (String key : checkpoint.metadata().keySet()) {
            if (RESERVED.contains(key)) {
                throw new IllegalArgumentException("checkpoint metadata key '" + key + "' is reserved");
            }
        }
        Files.createDirectories(directory);
        int epoch = checkpoint.epoch();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt"); // what Hugging Face tooling expects of PyTorch weights
        meta.put(FORMAT, FORMAT_VERSION);
        meta.put(EPOCH, Integer.toString(epoch));
        meta.put(GLOBAL_STEP, Long.toString(checkpoint.globalStep()));
        meta.put(TRAINER_VERSION, trainerVersion());
        meta.put(DJL_VERSION, Engine.getDjlVersion());
        meta.put(LIBTORCH_VERSION, Engine.getInstance().getVersion());
        OptimizerState optimizer = checkpoint.optimizer();
        List<Path> files = new ArrayList<>();
        boolean midEpoch = EpochPosition.isMidEpoch(checkpoint.metadata());
        Path modelFile = fileOf(checkpoint);
        if (optimizer != null) {
            Path optimizerFile = midEpoch ? midEpochOptimizerFile(modelFile) : optimizerFile(epoch);
            files.add(optimizerFile);
            Map<String, String> optimizerMeta = new LinkedHashMap<>();
            optimizerMeta.put(FORMAT, FORMAT_VERSION);
            optimizerMeta.put(EPOCH, Integer.toString(epoch));
            optimizerMeta.put(OPTIMIZER_KIND, optimizer.kind());
            optimizerMeta.put(OPTIMIZER_STEP, Long.toString(optimizer.step()));
            SafeTensors.write(optimizerFile, optimizer.tensors(), optimizerMeta);
            meta.put(OPTIMIZER_FILE, optimizerFile.getFileName().toString());
            meta.put(OPTIMIZER_CRC, SafeTensors.readHeader(optimizerFile).metadata().get(SafeTensors.CRC_KEY));
        }
        if (identity != null) {
            meta.putAll(identity.metadata());
        }
        meta.putAll(checkpoint.metadata());
        SafeTensors.write(modelFile, checkpoint.model(), meta);
        LOG.info("Saved {}checkpoint {} (epoch {}, step {})", midEpoch ? "mid-epoch " : "", modelFile, epoch,
                checkpoint.globalStep());
        if (midEpoch) {
            deleteMidEpoch(f -> !f.equals(modelFile) && !f.equals(midEpochOptimizerFile(modelFile)));
        }
        if (replica != null) {
            files.add(modelFile);
            if (midEpoch) {
                // On the writer's background thread (train/CheckpointWriter): training goes on meanwhile.
                replica.publishMidEpoch(epoch, checkpoint.globalStep(), files);
            } else {
                replica.publish(epoch, files);
            }
        }
        return modelFile;
    }

    /**
     * Loads and fully validates the checkpoint whose model file is {@code modelFile}: both files' structure
     * and checksums, that they belong together, and the metadata. Arrays are created on {@code manager}.
     */
    public Checkpoint load(Path modelFile, NDManager manager) throws CheckpointException {
        SafeTensors.Contents model;
        try {
            model = SafeTensors.read(modelFile, manager);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint " + modelFile + " does not exist", e);
        } catch (IOException e) {
            String hint = isTorchFile(modelFile) ? " (it is a PyTorch torch.save checkpoint: --resume continues runs"
                    + " of this trainer only; start from its weights with --finetune " + modelFile + ", or convert"
                    + " them with milan-trainer convert)" : "";
            throw new CheckpointException("checkpoint " + modelFile + " is unreadable: " + e.getMessage() + hint, e);
        }
        try {
            Map<String, String> meta = model.metadata();
            int epoch = (int) requireNumber(modelFile, meta, EPOCH, Integer.MAX_VALUE);
            long globalStep = requireNumber(modelFile, meta, GLOBAL_STEP, Long.MAX_VALUE);
            OptimizerState optimizer = loadOptimizer(modelFile, meta, epoch, manager);
            Map<String, String> userMeta = new LinkedHashMap<>(meta);
            userMeta.keySet().removeAll(RESERVED);
            return new Checkpoint(epoch, globalStep, model.tensors(), optimizer, userMeta);
        } catch (CheckpointException | RuntimeException e) {
            model.tensors().values().forEach(NDArray::close);
            throw e;
        }
    }

    /**
     * {@code --resume auto}: the newest checkpoint that loads and validates. A newer one that is truncated
     * or corrupt is skipped with a warning naming it. Empty when the directory holds no checkpoint; an
     * error when it holds some but none is usable (starting over silently could discard a long run).
     */
    public Optional<Checkpoint> loadNewestValid(NDManager manager) throws CheckpointException {
        if (replica != null) {
            try {
                replica.restoreInto(directory);
            } catch (CheckpointException e) {
                throw e;
            } catch (IOException e) {
                throw new CheckpointException(e.getMessage(), e);
            }
        }
        List<Path> files;
        try {
            files = savedFilesOldestFirst();
        } catch (IOException e) {
            throw new CheckpointException("cannot list checkpoints in " + directory + ": " + e.getMessage(), e);
        }
        List<String> problems = new ArrayList<>();
        for (int i = files.size() - 1; i >= 0; i--) {
            Path file = files.get(i);
            try {
                Checkpoint checkpoint = load(file, manager);
                if (!problems.isEmpty()) {
                    LOG.warn("Resuming from {}, an older checkpoint, because the newer ones are unusable",
                            file.getFileName());
                }
                return Optional.of(checkpoint);
            } catch (CheckpointException e) {
                problems.add(e.getMessage());
                LOG.warn("{}; falling back to the previous checkpoint", e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException("none of the " + problems.size() + " checkpoints in " + directory
                    + " is usable; remove or repair them to start over: " + String.join("; ", problems));
        }
        return Optional.empty();
    }

    /**
     * The checkpoint {@code --resume} asks for: empty for {@code ""} (start fresh), the newest valid one for
     * {@code auto} (empty when there is none yet), else exactly the given model file. A store opened for a run
     * checks that the checkpoint is that run's: {@code auto} refuses another run's ({@link
     * ForeignCheckpointException}: a directory shared with another run, or left by a deleted run of the same name,
     * is never continued silently); a file named explicitly is the user's choice (a warm start) and is only
     * warned about.
     */
    public Optional<Checkpoint> resume(String resume, NDManager manager) throws CheckpointException {
        if (resume == null || resume.isBlank()) {
            return Optional.empty();
        }
        boolean auto = resume.equals("auto");
        Optional<Checkpoint> found = auto ? loadNewestValid(manager) : Optional.of(load(Path.of(resume), manager));
        if (found.isPresent() && identity != null) {
            Checkpoint c = found.get();
            try {
                requireThisRun(auto ? fileOf(c) : Path.of(resume), auto);
            } catch (CheckpointException | RuntimeException e) {
                c.model().values().forEach(NDArray::close);
                if (c.optimizer() != null) {
                    c.optimizer().tensors().values().forEach(NDArray::close);
                }
                throw e;
            }
        }
        return found;
    }

    /** Refuses (auto) or warns about (a named file) a checkpoint of another run; warns about one of no run. */
    private void requireThisRun(Path file, boolean auto) throws CheckpointException {
        Map<String, String> meta;
        try {
            meta = SafeTensors.readHeader(file).metadata();
        } catch (IOException e) {
            throw new CheckpointException("checkpoint " + file + " is unreadable: " + e.getMessage(), e);
        }
        Optional<RunIdentity> recorded = RunIdentity.recordedIn(meta);
        if (recorded.isEmpty()) {
            LOG.warn("Checkpoint {} records no run identity (a trainer before checkpoints carried one wrote it);"
                    + " resuming it as this run's", file);
            return;
        }
        Optional<String> difference = identity.differenceFrom(recorded.get());
        if (difference.isEmpty()) {
            return;
        }
        if (auto) {
            throw new ForeignCheckpointException(file, directory, difference.get());
        }
        LOG.warn("--resume {}: a checkpoint of another run ({}); resuming from it as asked (a warm start); this run's"
                + " checkpoints record this run", file, difference.get());
    }

    /**
     * Whether the model file {@code modelFile} records another run than this store's: what {@code --resume auto}
     * refuses, and {@link #prune} leaves. Not foreign: anything in a store without identity, a checkpoint without
     * one (resume adopts it, with a warning), an unreadable or missing file (nobody can resume it).
     */
    private boolean isForeign(Path modelFile) {
        if (identity == null || !Files.exists(modelFile)) {
            return false;
        }
        try {
            return RunIdentity.recordedIn(SafeTensors.readHeader(modelFile).metadata())
                    .flatMap(identity::differenceFrom).isPresent();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Epochs with a model file in the directory, ascending (validity not checked). */
    public List<Integer> savedEpochs() throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        TreeSet<Integer> epochs = new TreeSet<>();
        try (Stream<Path> files = Files.list(directory)) {
            files.forEach(f -> {
                Matcher m = MODEL_FILE.matcher(f.getFileName().toString());
                if (m.matches()) {
                    epochs.add(Integer.parseInt(m.group(1)));
                }
            });
        }
        return new ArrayList<>(epochs);
    }

    /**
     * Model files of every checkpoint, epoch-end and mid-epoch, in the order of their position in the run: a
     * mid-epoch checkpoint of epoch e comes after the end of epoch e - 1 and before the end of epoch e.
     */
    List<Path> savedFilesOldestFirst() throws IOException {
        record Entry(Path file, int epoch, boolean end, long step) {
        }
        List<Entry> entries = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        for (int epoch : savedEpochs()) {
            entries.add(new Entry(modelFile(epoch), epoch, true, 0));
        }
        try (Stream<Path> files = Files.list(directory)) {
            files.forEach(f -> {
                Matcher m = MID_EPOCH_FILE.matcher(f.getFileName().toString());
                if (m.matches() && m.group(3) == null) {
                    entries.add(new Entry(f, Integer.parseInt(m.group(1)), false, Long.parseLong(m.group(2))));
                }
            });
        }
        return entries.stream().sorted(Comparator.comparingInt(Entry::epoch).thenComparing(Entry::end)
                .thenComparingLong(Entry::step)).map(Entry::file).toList();
    }

    /**
     * Deletes the files of mid-epoch checkpoints that {@code which} selects (model or optimizer file), except those
     * of another run's checkpoint.
     */
    private List<Path> deleteMidEpoch(java.util.function.Predicate<Path> which) throws IOException {
        List<Path> deleted = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path f : files.sorted().toList()) {
                Matcher m = MID_EPOCH_FILE.matcher(f.getFileName().toString());
                if (m.matches() && which.test(f) && !isForeign(directory.resolve(
                        "checkpoint-" + m.group(1) + "-step" + m.group(2) + ".safetensors"))) {
                    Files.deleteIfExists(f);
                    deleted.add(f);
                }
            }
        }
        return deleted;
    }

    /**
     * After saving {@code savedEpoch}: keeps the {@code keepLast} newest checkpoints up to that epoch (0
     * keeps all) and deletes older ones, orphaned optimizer files and leftovers of interrupted writes.
     * The checkpoint just saved is always kept; checkpoints of later epochs (left by an earlier attempt
     * that resumed from further back) are not touched here, the run overwrites them when it gets there.
     * Mid-epoch checkpoints of epochs up to {@code savedEpoch} are deleted (this one is further along); they never
     * count towards {@code keepLast}. Returns the deleted files.
     *
     * <p>A store opened for a run deletes only that run's checkpoints: one recording another run's identity (what
     * {@code --resume auto} refuses: a deleted run of the same name, another run that used the directory) is left
     * with its optimizer file and does not count towards {@code keepLast}.
     */
    public List<Path> prune(int savedEpoch, int keepLast) throws IOException {
        if (keepLast < 0) {
            throw new IllegalArgumentException("keep-last count must be >= 0, got " + keepLast);
        }
        List<Path> deleted = new ArrayList<>();
        Set<Integer> keep = new TreeSet<>();
        Set<Integer> foreign = new TreeSet<>();
        for (int epoch : savedEpochs()) {
            if (isForeign(modelFile(epoch))) {
                foreign.add(epoch);
            }
        }
        List<Integer> older = savedEpochs().stream().filter(e -> e <= savedEpoch && !foreign.contains(e))
                .sorted(Comparator.reverseOrder()).toList();
        keep.add(savedEpoch);
        for (int i = 0; i < older.size(); i++) {
            if (keepLast == 0 || i < keepLast) {
                keep.add(older.get(i));
            }
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                Matcher model = MODEL_FILE.matcher(name);
                Matcher optim = OPTIMIZER_FILE_NAME.matcher(name);
                Integer epoch = model.matches() ? Integer.valueOf(model.group(1))
                        : optim.matches() ? Integer.valueOf(optim.group(1)) : null;
                boolean stale = epoch != null && epoch <= savedEpoch && !keep.contains(epoch)
                        && !foreign.contains(epoch);
                boolean leftover = AtomicFiles.isTemporary(f) && name.contains("checkpoint-");
                if (stale || leftover) {
                    Files.deleteIfExists(f);
                    deleted.add(f);
                }
            }
        }
        deleted.addAll(deleteMidEpoch(f -> {
            Matcher m = MID_EPOCH_FILE.matcher(f.getFileName().toString());
            return m.matches() && Integer.parseInt(m.group(1)) <= savedEpoch;
        }));
        if (!deleted.isEmpty()) {
            LOG.info("Removed {} old checkpoint file(s), keeping epochs {}", deleted.size(), keep);
        }
        if (!foreign.isEmpty()) {
            LOG.warn("Left the checkpoints of epochs {} in {}: they record another run", foreign, directory);
        }
        if (replica != null) {
            replica.prune(savedEpoch, keepLast);
        }
        return deleted;
    }

    private OptimizerState loadOptimizer(Path modelFile, Map<String, String> meta, int epoch, NDManager manager)
            throws CheckpointException {
        String name = meta.get(OPTIMIZER_FILE);
        if (name == null) {
            return null; // weights-only checkpoint
        }
        Path file = modelFile.resolveSibling(name);
        SafeTensors.Contents contents;
        try {
            contents = SafeTensors.read(file, manager);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint " + modelFile + " needs optimizer file " + file
                    + ", which does not exist", e);
        } catch (IOException e) {
            throw new CheckpointException("optimizer file of checkpoint " + modelFile + " is unreadable: "
                    + e.getMessage(), e);
        }
        try {
            String crc = contents.metadata().get(SafeTensors.CRC_KEY);
            if (crc == null || !crc.equals(meta.get(OPTIMIZER_CRC))) {
                throw new CheckpointException("optimizer file " + file + " does not belong to " + modelFile
                        + " (checksum " + crc + ", the checkpoint expects " + meta.get(OPTIMIZER_CRC) + ")");
            }
            int optimizerEpoch = (int) requireNumber(file, contents.metadata(), EPOCH, Integer.MAX_VALUE);
            if (optimizerEpoch != epoch) {
                throw new CheckpointException("optimizer file " + file + " is for epoch " + optimizerEpoch
                        + ", the checkpoint for epoch " + epoch);
            }
            String kind = contents.metadata().get(OPTIMIZER_KIND);
            if (kind == null || kind.isBlank()) {
                throw new CheckpointException("optimizer file " + file + " has no " + OPTIMIZER_KIND + " metadata");
            }
            long step = requireNumber(file, contents.metadata(), OPTIMIZER_STEP, Long.MAX_VALUE);
            return new OptimizerState(kind, step, contents.tensors());
        } catch (CheckpointException | RuntimeException e) {
            contents.tensors().values().forEach(NDArray::close);
            throw e;
        }
    }

    private static boolean isTorchFile(Path file) {
        try {
            return io.milan.trainer.checkpoint.torchfile.TorchFile.looksLikeTorchFile(file);
        } catch (IOException e) {
            return false;
        }
    }

    private static long requireNumber(Path file, Map<String, String> meta, String key, long max)
            throws CheckpointException {
        String value = meta.get(key);
        if (value == null) {
            throw new CheckpointException(file + " has no " + key + " metadata; it is not a checkpoint of this"
                    + " trainer (weights-only files can initialise a model, not resume a run)");
        }
        try {
            long n = Long.parseLong(value);
            if (n < 0 || n > max) {
                throw new NumberFormatException("out of range");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CheckpointException(file + ": metadata " + key + " is '" + value + "', not a valid number");
        }
    }

    private static Set<String> reserved() {
        Set<String> keys = new TreeSet<>(Set.of(FORMAT, EPOCH, GLOBAL_STEP, TRAINER_VERSION, DJL_VERSION,
                LIBTORCH_VERSION, OPTIMIZER_FILE, OPTIMIZER_CRC, SafeTensors.CRC_KEY, "format"));
        keys.addAll(RunIdentity.KEYS);
        return Set.copyOf(keys);
    }

    private static String trainerVersion() {
        String version = CheckpointStore.class.getPackage().getImplementationVersion();
        return version != null ? version : "dev";
    }
}
