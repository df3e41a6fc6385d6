package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import io.milan.trainer.checkpoint.CheckpointException;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.checkpoint.EpochPosition;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.optim.StatefulOptimizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The loops' mid-epoch checkpoints (docs/trainer.md, Mid-epoch checkpoints): at a step boundary where the cadence
 * ({@link SaveCadence}) says one is due, or where the run stops on SIGTERM, every rank contributes its running sums
 * of the epoch and rank 0 saves the model, the optimizer, the loss scaler and the position in the epoch
 * ({@link EpochPosition}). With those sums the resumed epoch's log.txt line is the uninterrupted run's to the bit.
 */
final class MidEpochSaves {
    /** Metadata: each rank's sum of its micro-batch losses so far in the epoch, comma-separated, rank order. */
    static final String LOSS_SUMS = "milan.epoch_loss_sums";
    /** Metadata: the sum of the learning rates of the epoch's micro-batches so far. */
    static final String LR_SUM = "milan.epoch_lr_sum";
    /** Metadata: the loss scaler's skipped steps of the run when the epoch began (for its log.txt line). */
    static final String SKIPPED_BEFORE = "milan.epoch_skipped_before";

    /** One rank's running sums of the epoch in progress. */
    record Sums(double lossSum, double lrSum, long skippedBefore) {
    }

    private final ProcessGroup group;
    private final SaveCadence cadence;
    private final CheckpointWriter writer;
    private final CheckpointPolicy policy;
    private final int epochs;
    private final long seed;

    MidEpochSaves(ProcessGroup group, SaveCadence cadence, CheckpointWriter writer, CheckpointPolicy policy, int epochs,
            long seed) {
        this.group = group;
        this.cadence = cadence;
        this.writer = writer;
        this.policy = policy;
        this.epochs = epochs;
        this.seed = seed;
    }

    /**
     * At every step boundary, on every rank, after {@code globalStep} with {@code iterationsDone} of the epoch's
     * {@code iterations} micro-batches done: saves a mid-epoch checkpoint when one is due or when the run stops here
     * ({@code stopping}). One that is due at the epoch's last step is left to the epoch end when the policy saves
     * there anyway. Returns the model file on rank 0 when it saved, else null.
     */
    Path atStepBoundary(boolean stopping, int epoch, int iterationsDone, int iterations, long globalStep, Sums sums,
            Supplier<Map<String, NDArray>> state, StatefulOptimizer optimizer, Supplier<Map<String, String>> metadata)
            throws IOException {
        boolean due = cadence.dueAfterStep(globalStep);
        boolean epochEndSaves = iterationsDone == iterations && policy.shouldSave(epoch, epochs);
        if (!stopping && (!due || epochEndSaves)) {
            return null;
        }
        double[] mine = new double[group.worldSize()];
        mine[group.rank()] = sums.lossSum();
        double[] lossSums = group.allReduceSum(mine); // adds zeros only: every rank's sum exactly
        cadence.saved();
        if (!group.isPrimary()) {
            return null;
        }
        Map<String, String> meta = new LinkedHashMap<>(metadata.get());
        meta.putAll(new EpochPosition(epoch, iterationsDone, group.worldSize(), seed).metadata());
        meta.put(LOSS_SUMS, Arrays.stream(lossSums).mapToObj(Double::toString).collect(Collectors.joining(",")));
        meta.put(LR_SUM, Double.toString(sums.lrSum()));
        meta.put(SKIPPED_BEFORE, Long.toString(sums.skippedBefore()));
        return writer.saveMidEpoch(epoch, globalStep, state.get(), optimizer, meta);
    }

    /** An epoch-end checkpoint was saved: the time-based interval starts again. */
    void epochEndSaved() {
        cadence.saved();
    }

    /** Every rank's sums as recorded in a mid-epoch checkpoint's {@code metadata} ({@code file} for messages). */
    static Sums[] recorded(Map<String, String> metadata, int worldSize, String file) throws CheckpointException {
        try {
            String[] losses = metadata.getOrDefault(LOSS_SUMS, "").split(",");
            if (losses.length != worldSize) {
                throw new IllegalArgumentException(LOSS_SUMS + " has " + losses.length + " values for "
                        + worldSize + " ranks");
            }
            double lrSum = Double.parseDouble(metadata.getOrDefault(LR_SUM, ""));
            long skipped = Long.parseLong(metadata.getOrDefault(SKIPPED_BEFORE, ""));
            Sums[] out = new Sums[worldSize];
            for (int r = 0; r < worldSize; r++) {
                out[r] = new Sums(Double.parseDouble(losses[r]), lrSum, skipped);
            }
            return out;
        } catch (IllegalArgumentException e) {
            throw new CheckpointException("mid-epoch checkpoint " + file + " records invalid epoch sums ("
                    + e.getMessage() + ")");
        }
    }
}
