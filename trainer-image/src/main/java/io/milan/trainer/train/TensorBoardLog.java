package io.milan.trainer.train;

import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.optim.AccumulationSchedule;
import io.milan.trainer.tensorboard.SummaryWriter;
import java.nio.file.Path;

/**
 * The reference's TensorBoard scalars (MILAN/MAE {@code engine_pretrain.py}, {@code engine_finetune.py},
 * {@code main_finetune.py}, {@code main_linprobe.py}), written by rank 0 to {@code --log_dir}:
 * <ul>
 *   <li>after every optimizer step ({@code (it + 1) % accum_iter == 0}), at step
 *       {@code epoch_1000x = int((it / iterations + epoch) * 1000)}: the loss averaged over the ranks
 *       ({@code misc.all_reduce_mean}) as {@code train_loss} (pretraining) or {@code loss} (fine-tuning and
 *       linear probing), and the learning rate as {@code lr} (the largest of the parameter groups', i.e. the
 *       schedule's);</li>
 *   <li>after each evaluation, at step {@code epoch}: {@code perf/test_acc1}, {@code perf/test_acc5},
 *       {@code perf/test_loss}.</li>
 * </ul>
 * Every rank calls {@link #afterIteration}: the loss average is a collective.
 */
final class TensorBoardLog implements AutoCloseable {
    static final String PRETRAIN_LOSS = "train_loss";
    static final String FINETUNE_LOSS = "loss";
    static final String LR = "lr";
    static final String TEST_ACC1 = "perf/test_acc1";
    static final String TEST_ACC5 = "perf/test_acc5";
    static final String TEST_LOSS = "perf/test_loss";

    private final ProcessGroup group;
    private final String lossTag;
    private final SummaryWriter writer; // rank 0 only; null elsewhere

    private TensorBoardLog(ProcessGroup group, String lossTag, SummaryWriter writer) {
        this.group = group;
        this.lossTag = lossTag;
        this.writer = writer;
    }

    /** @param logDir {@code --log_dir}, or null for {@code --output_dir} (the reference's defaults are equal) */
    static TensorBoardLog open(ProcessGroup group, Path logDir, Path outputDir, String lossTag) {
        Path dir = logDir != null ? logDir : outputDir;
        return new TensorBoardLog(group, lossTag, group.isPrimary() ? SummaryWriter.open(dir) : null);
    }

    /** The reference's x axis: thousandths of an epoch, truncated as Python's {@code int()}. */
    static long epoch1000x(int epoch, int it, int iterations) {
        return (long) (((double) it / iterations + epoch) * 1000);
    }

    /** After micro-batch {@code it}: at optimizer steps, the rank-averaged loss and the learning rate. */
    void afterIteration(AccumulationSchedule accumulation, int epoch, int it, double loss, double lr) {
        if (!accumulation.isStepBoundary(it)) {
            return;
        }
        double meanLoss = group.allReduceSum(new double[] {loss})[0] / group.worldSize();
        if (writer != null) {
            long step = epoch1000x(epoch, it, accumulation.itersPerEpoch());
            writer.addScalar(lossTag, meanLoss, step);
            writer.addScalar(LR, lr, step);
        }
    }

    /** After an evaluation (fine-tuning, linear probing); rank 0. Accuracies in percent. */
    void evaluation(int epoch, double acc1, double acc5, double loss) {
        if (writer != null) {
            writer.addScalar(TEST_ACC1, acc1, epoch);
            writer.addScalar(TEST_ACC5, acc5, epoch);
            writer.addScalar(TEST_LOSS, loss, epoch);
        }
    }

    /** At the end of an epoch, before log.txt is written (as the reference's {@code log_writer.flush()}). */
    void flush() {
        if (writer != null) {
            writer.flush();
        }
    }

    @Override
    public void close() {
        if (writer != null) {
            writer.close();
        }
    }
}
