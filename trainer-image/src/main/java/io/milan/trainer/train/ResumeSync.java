package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.checkpoint.Checkpoint;
import io.milan.trainer.checkpoint.CheckpointException;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.EpochPosition;
import io.milan.trainer.data.BatchLoader;
import io.milan.trainer.data.DataPosition;
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
     * Where training continues: the epoch and its first micro-batch ({@code startIteration} > 0 only after a
     * mid-epoch checkpoint) and the optimizer steps taken so far; {@code sums} this rank's running sums of that
     * epoch when it continues inside it, else null; {@code metadata} is the resumed checkpoint's run metadata on
     * rank 0 (empty elsewhere and on a fresh start).
     */
    record Position(int startEpoch, int startIteration, long globalStep, Integer resumedFrom,
            Map<String, String> metadata, MidEpochSaves.Sums sums) {
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
            StatefulOptimizer optimizer, NDManager manager, DataPosition cut) throws CheckpointException {
        return apply(resume, store, group, ModelState.of(params), optimizer, manager, cut);
    }

    /**
     * As above for a model whose checkpoints hold more than its parameters (e.g. batch-norm statistics).
     * {@code cut} is how this run cuts its epochs (its loader's {@link BatchLoader#position} at any batch): a
     * mid-epoch checkpoint continues inside its epoch only when it was cut the same way.
     */
    static Position apply(String resume, CheckpointStore store, ProcessGroup group, ModelState model,
            StatefulOptimizer optimizer, NDManager manager, DataPosition cut) throws CheckpointException {
        NamedParameters params = model.parameters();
        optimizer.initializeState(params.asMap());
        Map<String, String> metadata = Map.of();
        String header = "none";
        String inEpoch = ""; // "epoch,iteration" and every rank's sums, or "epoch" to start it over, or nothing
        if (group.isPrimary()) {
            Optional<Checkpoint> found = store.resume(resume, manager);
            if (found.isPresent()) {
                Checkpoint c = found.get();
                try {
                    String file = resume.equals("auto") ? store.fileOf(c).toString() : resume;
                    inEpoch = inEpoch(c, file, cut);
                    List<String> unused = model.load(c.model(), file);
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
                if (inEpoch.isEmpty()) {
                    LOG.info("Resuming after epoch {} (step {}) from {}", c.epoch(), c.globalStep(), store.directory());
                } else {
                    LOG.info("Resuming inside epoch {} (after step {}) from {}", c.epoch(), c.globalStep(),
                            store.fileOf(c));
                }
            }
        }
        header = new String(group.broadcastBytes((header + "|" + inEpoch).getBytes(StandardCharsets.UTF_8)),
                StandardCharsets.UTF_8);
        inEpoch = header.substring(header.indexOf('|') + 1);
        header = header.substring(0, header.indexOf('|'));
        group.broadcastFromPrimary(model.stateDict());
        OptimizerState state = optimizer.state();
        group.broadcastFromPrimary(state.tensors());
        if (header.equals("none")) {
            return new Position(0, 0, 0, null, metadata, null);
        }
        String[] f = header.split(",");
        int epoch = Integer.parseInt(f[0]);
        if (!group.isPrimary()) {
            optimizer.loadState(new OptimizerState(state.kind(), Long.parseLong(f[2]),
                    new LinkedHashMap<>(state.tensors())), params.asMap());
        }
        long globalStep = Long.parseLong(f[1]);
        if (inEpoch.isEmpty()) {
            return new Position(epoch + 1, 0, globalStep, epoch, metadata, null);
        }
        String[] where = inEpoch.split(";")[0].split(",");
        if (where.length == 1) { // the epoch starts over (see inEpoch)
            return new Position(epoch, 0, globalStep, epoch - 1, metadata, null);
        }
        String[] sums = inEpoch.split(";")[1].split(",");
        MidEpochSaves.Sums mine = new MidEpochSaves.Sums(Double.parseDouble(sums[2 + group.rank()]),
                Double.parseDouble(sums[0]), Long.parseLong(sums[1]));
        return new Position(epoch, Integer.parseInt(where[1]), globalStep, epoch - 1, metadata, mine);
    }

    /**
     * Rank 0: how a checkpoint continues inside its epoch, for the broadcast: "" for an epoch-end checkpoint (the
     * next epoch starts), "epoch,iteration;lrSum,skippedBefore,lossSum0,lossSum1..." for a mid-epoch one, or just
     * "epoch" when this run cuts the epoch differently ({@code cut}: another world size, --seed or --shuffle_buffer,
     * or changed data: another order of samples), so the epoch starts over from the checkpoint's weights.
     */
    private static String inEpoch(Checkpoint c, String file, DataPosition cut) throws CheckpointException {
        Optional<EpochPosition> found = EpochPosition.of(c, file);
        if (found.isEmpty()) {
            return "";
        }
        EpochPosition p = found.get();
        Optional<String> differs = p.worldSize() != cut.worldSize() || p.dataSeed() != cut.seed()
                ? Optional.of("with " + p.worldSize() + " process(es) and --seed " + p.dataSeed() + "; this run has "
                        + cut.worldSize() + " with --seed " + cut.seed())
                : recordedData(c, file).flatMap(saved -> saved.differenceFrom(cut));
        if (differs.isPresent()) {
            LOG.warn("{} was saved inside epoch {} {}, so the epoch's order of samples differs: epoch {} starts over"
                    + " from its first batch with the checkpoint's weights", file, p.epoch(), differs.get(), p.epoch());
            return Integer.toString(p.epoch());
        }
        MidEpochSaves.Sums[] sums = MidEpochSaves.recorded(c.metadata(), cut.worldSize(), file);
        StringBuilder out = new StringBuilder(p.epoch() + "," + p.iteration() + ";" + sums[0].lrSum() + ","
                + sums[0].skippedBefore());
        for (MidEpochSaves.Sums s : sums) {
            out.append(',').append(s.lossSum());
        }
        return out.toString();
    }

    /** The data position a checkpoint recorded (absent in those written before shards existed). */
    private static Optional<DataPosition> recordedData(Checkpoint c, String file) throws CheckpointException {
        String json = c.metadata().get(DataPosition.KEY);
        if (json == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(DataPosition.parse(json, file + " metadata " + DataPosition.KEY));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(e.getMessage() + "; resume from an epoch-end checkpoint instead");
        }
    }
}
