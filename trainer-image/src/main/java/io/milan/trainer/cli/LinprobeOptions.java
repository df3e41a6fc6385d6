package io.milan.trainer.cli;

import static io.milan.trainer.cli.CommonOptions.require;

import io.milan.trainer.model.Pooling;

/** Flags of {@code linprobe}: the reference main_linprobe.py's, with its defaults (LARS, no weight decay). */
public class LinprobeOptions extends ClassifierOptions {

    public LinprobeOptions() {
        batchSize = 512;
        epochs = 90;
        warmupEpochs = 10;
        blr = 0.1;
        minLr = 0;
        common.weightDecay = 0;
    }

    @Override
    public void validate() {
        super.validate();
        require(pooling == Pooling.CLS_TOKEN, "--global_pool: linear probing uses the cls token (as the"
                + " reference's linear probe); drop the flag");
        require(batchSize >= 2, "--batch_size must be >= 2: the probe's batch norm needs more than one sample,"
                + " got " + batchSize);
    }
}
