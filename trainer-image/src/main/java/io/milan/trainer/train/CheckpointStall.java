package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.EpochPosition;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.ParamGroups;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * {@code milan-trainer bench --checkpoint_stall DIR}: how long a mid-epoch checkpoint of a MILAN pretraining model
 * (its parameters and AdamW's two moments, on the bench's device) stops the training thread, with the background
 * writer (the copy to host memory only) and written synchronously (copy, serialise, fsync, rename), into {@code DIR}.
 * Prints the median of a few saves of each; no assertion on time anywhere.
 */
public final class CheckpointStall {
    private static final int REPEATS = 3;

    private CheckpointStall() {
    }

    public static void run(PretrainConfig config, NDManager root, Path dir, PrintStream out) throws IOException {
        Files.createDirectories(dir);
        try (NDManager m = root.newSubManager(); MilanPretrainModel model = MilanPretrainModel.create(config, m, 0)) {
            NamedParameters params = model.parameters();
            AdamW adam = AdamW.forPretraining(ParamGroups.pretrain(params.shapes(), params.trainableNames(), 0.05), m);
            adam.initializeState(params.asMap());
            long bytes = 0;
            for (NDArray a : params.asMap().values()) {
                bytes += a.getShape().size() * 4;
            }
            for (NDArray a : adam.state().tensors().values()) {
                bytes += a.getShape().size() * 4;
            }
            CheckpointStore store = new CheckpointStore(dir);
            CheckpointPolicy policy = new CheckpointPolicy(1, 0);
            double[] background = new double[REPEATS];
            double[] written = new double[REPEATS];
            double[] synchronous = new double[REPEATS];
            try (CheckpointWriter async = new CheckpointWriter(store, policy, 1, new String[0], 0, true);
                    CheckpointWriter sync = new CheckpointWriter(store, policy, 1, new String[0], 0, false)) {
                for (int i = 0; i < REPEATS; i++) {
                    long t0 = System.nanoTime();
                    async.saveMidEpoch(0, 1 + 2L * i, params.asMap(), adam, position());
                    long t1 = System.nanoTime();
                    async.awaitWrites();
                    long t2 = System.nanoTime();
                    sync.saveMidEpoch(0, 2 + 2L * i, params.asMap(), adam, position());
                    long t3 = System.nanoTime();
                    background[i] = (t1 - t0) / 1e6;
                    written[i] = (t2 - t0) / 1e6;
                    synchronous[i] = (t3 - t2) / 1e6;
                }
            }
            out.printf(Locale.ROOT, "checkpoint stall: %s, %.0f MB of parameters + AdamW state on %s, into %s%n",
                    describe(config), bytes / 1e6, root.getDevice(), dir);
            out.printf(Locale.ROOT, "  background writer: training thread paused %.0f ms (median of %d; the save"
                    + " completed after %.0f ms)%n", median(background), REPEATS, median(written));
            out.printf(Locale.ROOT, "  synchronous write: training thread paused %.0f ms (median of %d)%n",
                    median(synchronous), REPEATS);
        }
    }

    private static Map<String, String> position() {
        return new EpochPosition(0, 2, 1, 0).metadata();
    }

    private static String describe(PretrainConfig c) {
        return String.format(Locale.ROOT, "encoder %dx%d (dim %d), decoder %dx%d", c.encoder().depth(),
                c.encoder().dim(), c.encoder().dim(), c.decoder().depth(), c.decoder().dim());
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
