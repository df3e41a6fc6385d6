package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.checkpoint.Checkpoint;
import io.milan.trainer.checkpoint.CheckpointException;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.optim.GradScaler;
import io.milan.trainer.optim.OptimizerState;
import io.milan.trainer.optim.StatefulOptimizer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --resume}: rank 0 alone reads the output directory (only it writes checkpoints there), then every rank
 * receives rank 0's weights, optimizer state and position, so all start identical — also on a fresh start.
 */
final class ResumeSync {
    private static final Logger LOG = LoggerFactory.getLogger(ResumeSync.class);

    /**
     * Where training continues: the next epoch and the optimizer steps taken so far; {@code metadata} is the
     * resumed checkpoint's run metadata on rank 0 (empty elsewhere and on a fresh start).
     */
    record Position(int startEpoch, long globalStep, Integer resumedFrom, Map<String, String> metadata) {
    }

    /** Checkpoint metadata: the loss scaler's state (--amp fp16), GradScaler.state_dict() as JSON (MAE's "scaler"). */
    static final String SCALER = "scaler";

    private ResumeSync() {
    }

    /**
     * Every rank's loss scaler continues from the resumed checkpoint's (rank 0 read it; MAE's
     * {@code if 'scaler' in checkpoint: loss_scaler.load_state_dict(...)}): a fresh start, or a checkpoint without
     * one (written without --amp fp16), keeps the fresh scaler. Call on every rank, after {@link #apply}.
     */
    static void restoreScaler(GradScaler scaler, Position start, ProcessGroup group) {
        if (scaler == null) {
            return; // the same on every rank: --amp is one flag for all
        }
        String saved = group.isPrimary() ? start.metadata().getOrDefault(SCALER, "") : null;
        String state = new String(group.broadcastBytes(saved == null ? null : saved.getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        if (!state.isEmpty()) {
            scaler.loadStateJson(state);
            if (group.isPrimary()) {
                LOG.info("Loss scaler resumed: {}", scaler.describe());
            }
        }
    }

    static Position apply(String resume, CheckpointStore store, ProcessGroup group, NamedParameters params,
            StatefulOptimizer optimizer, NDManager manager) throws CheckpointException {
        return apply(resume, store, group, ModelState.of(params), optimizer, manager);
    }

    /** As above for a model whose checkpoints hold more than its parameters (e.g. batch-norm statistics). */
    static Position apply(String resume, CheckpointStore store, ProcessGroup group, ModelState model,
            StatefulOptimizer optimizer, NDManager manager) throws CheckpointException {
        NamedParameters params = model.parameters();
        optimizer.initializeState(params.asMap());
        Map<String, String> metadata = Map.of();
        String header = "none";
        if (group.isPrimary()) {
            Optional<Checkpoint> found = store.resume(resume, manager);
            if (found.isPresent()) {
                Checkpoint c = found.get();
                try {
                    List<String> unused = model.load(c.model(), store.modelFile(c.epoch()).toString());
                    if (!unused.isEmpty()) {
                        LOG.warn("Checkpoint of epoch {} has tensors the model does not use: {}", c.epoch(), unused);
                    }
                    if (c.optimizer() == null) {
                        throw new CheckpointException("checkpoint of epoch " + c.epoch() + " in " + store.directory()
                                + " has no optimizer state, so training cannot continue exactly; pass it as"
                                + " --finetune/--teacher_path instead of --resume");
                    }
                    optimizer.loadState(c.optimizer(), params.asMap());
                } finally {
                    c.model().values().forEach(NDArray::close);
                    if (c.optimizer() != null) {
                        c.optimizer().tensors().values().forEach(NDArray::close);
                    }
                }
                header = c.epoch() + "," + c.globalStep() + "," + optimizer.stepCount();
                metadata = c.metadata();
                LOG.info("Resuming after epoch {} (step {}) from {}", c.epoch(), c.globalStep(), store.directory());
            }
        }
        header = new String(group.broadcastBytes(header.getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        group.broadcastFromPrimary(model.stateDict());
        OptimizerState state = optimizer.state();
        group.broadcastFromPrimary(state.tensors());
        if (header.equals("none")) {
            return new Position(0, 0, null, metadata);
        }
        String[] f = header.split(",");
        int epoch = Integer.parseInt(f[0]);
        if (!group.isPrimary()) {
            optimizer.loadState(new OptimizerState(state.kind(), Long.parseLong(f[2]),
                    new LinkedHashMap<>(state.tensors())), params.asMap());
        }
        return new Position(epoch + 1, Long.parseLong(f[1]), epoch, metadata);
    }
}
