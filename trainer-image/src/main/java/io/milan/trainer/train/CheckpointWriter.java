package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import io.milan.trainer.checkpoint.Checkpoint;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.data.DataPosition;
import io.milan.trainer.optim.OptimizerState;
import io.milan.trainer.optim.StatefulOptimizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rank 0's checkpoints, shared by the training loops. At an epoch end: saved when the policy says so (every K epochs
 * and after the last), with the command line and seed as metadata, older ones pruned to --keep_checkpoints. Inside an
 * epoch ({@link #saveMidEpoch}): the tensors are copied to host memory on the training thread (the only stall of
 * training), then a background thread serialises, fsyncs and renames them into place (atomically, see
 * CheckpointStore). At most one write is in flight: the next checkpoint of either kind, and {@link #awaitWrites},
 * wait for it and rethrow its failure.
 */
final class CheckpointWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointWriter.class);

    private final CheckpointStore store;
    private final CheckpointPolicy policy;
    private final int epochs;
    private final String[] commandLine;
    private final int seed;
    private final boolean background;
    private ExecutorService writer; // created on the first background write
    private Future<Path> inFlight;
    private Path lastSaved;
    private DataPosition dataPosition;

    CheckpointWriter(CheckpointStore store, CheckpointPolicy policy, int epochs, String[] commandLine, int seed) {
        this(store, policy, epochs, commandLine, seed, true);
    }

    /** {@code background}: false writes mid-epoch checkpoints on the calling thread (benchmarks compare both). */
    CheckpointWriter(CheckpointStore store, CheckpointPolicy policy, int epochs, String[] commandLine, int seed,
            boolean background) {
        this.store = store;
        this.policy = policy;
        this.epochs = epochs;
        this.commandLine = commandLine.clone();
        this.seed = seed;
        this.background = background;
    }

    /** Where the data stands for the next checkpoint: saved in its metadata under {@link DataPosition#KEY}. */
    void dataPosition(DataPosition position) {
        this.dataPosition = position;
    }

    /** Saves after {@code epoch} if due; returns the model file, or null when not saved. */
    Path maybeSave(int epoch, long globalStep, Map<String, NDArray> state, StatefulOptimizer optimizer,
            Map<String, String> extraMetadata) throws IOException {
        if (!policy.shouldSave(epoch, epochs)) {
            return null;
        }
        awaitWrites(); // also keeps prune() from deleting the temporary file of a write in flight
        Path saved = store.save(new Checkpoint(epoch, globalStep, state, optimizer.state(), metadata(extraMetadata)));
        store.prune(epoch, policy.keepLast());
        lastSaved = saved;
        return saved;
    }

    /** Where users find the checkpoint saved as {@code modelFile}: its object's URL, or the path. */
    String locationOf(Path modelFile) {
        return store.locationOf(modelFile);
    }

    /**
     * A mid-epoch checkpoint inside {@code epoch} after {@code globalStep}; {@code extraMetadata} records the
     * position (see checkpoint/EpochPosition). Returns once the tensors are copied; the file is complete after
     * {@link #awaitWrites}. Returns the model file it is written to.
     */
    Path saveMidEpoch(int epoch, long globalStep, Map<String, NDArray> state, StatefulOptimizer optimizer,
            Map<String, String> extraMetadata) throws IOException {
        awaitWrites();
        long start = System.nanoTime();
        NDManager host = NDManager.newBaseManager(Device.cpu());
        Checkpoint snapshot;
        try {
            OptimizerState live = optimizer.state();
            snapshot = new Checkpoint(epoch, globalStep, hostCopies(state, host),
                    new OptimizerState(live.kind(), live.step(), hostCopies(live.tensors(), host)),
                    metadata(extraMetadata));
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
        long copied = System.nanoTime();
        Path file = store.fileOf(snapshot);
        java.util.concurrent.Callable<Path> write = () -> {
            try (host) {
                Path saved = store.save(snapshot);
                LOG.info("Mid-epoch checkpoint after step {}: training paused {} ms to copy it, written {} in {} ms",
                        globalStep, (copied - start) / 1_000_000, background ? "in the background" : "synchronously",
                        (System.nanoTime() - copied) / 1_000_000);
                return saved;
            }
        };
        if (!background) {
            try {
                lastSaved = write.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return file;
        }
        if (writer == null) {
            writer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "milan-checkpoint-writer");
                t.setDaemon(true);
                return t;
            });
        }
        inFlight = writer.submit(write);
        return file;
    }

    /** Waits for the write in flight, if any; rethrows its failure (so a failing disk fails the run). */
    void awaitWrites() throws IOException {
        if (inFlight == null) {
            return;
        }
        Future<Path> pending = inFlight;
        inFlight = null;
        try {
            lastSaved = pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a checkpoint write", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new IOException("writing a mid-epoch checkpoint failed: " + io.getMessage(), io);
            }
            if (cause instanceof UncheckedIOException io) {
                throw new IOException("writing a mid-epoch checkpoint failed: " + io.getMessage(), io);
            }
            throw new IllegalStateException("writing a mid-epoch checkpoint failed: " + cause, cause);
        }
    }

    /** The model file this writer saved last (complete) in this process, or null. */
    Path lastSaved() {
        return lastSaved;
    }

    /** Waits for the write in flight, then stops the writer thread. */
    @Override
    public void close() throws IOException {
        try {
            awaitWrites();
        } finally {
            if (writer != null) {
                writer.shutdown();
            }
        }
    }

    /** {@code metadata} with the data position of a mid-epoch checkpoint, which wins over the epoch-end one. */
    static Map<String, String> at(DataPosition position, Map<String, String> metadata) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(DataPosition.KEY, position.toJson());
        return meta;
    }

    private Map<String, String> metadata(Map<String, String> extraMetadata) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(CheckpointStore.ARGS, new Gson().toJson(commandLine));
        meta.put(CheckpointStore.SEED, Integer.toString(seed));
        if (dataPosition != null) {
            meta.put(DataPosition.KEY, dataPosition.toJson());
        }
        meta.putAll(extraMetadata);
        return meta;
    }

    /** Copies of {@code tensors} in host memory on {@code host}, which the training loop can no longer change. */
    static Map<String, NDArray> hostCopies(Map<String, NDArray> tensors, NDManager host) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue();
            NDArray copy = a.getDevice().isGpu() ? a.toDevice(Device.cpu(), false) : a.duplicate();
            copy.attach(host);
            out.put(e.getKey(), copy);
        }
        return out;
    }
}
