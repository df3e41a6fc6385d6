package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.data.Batch;
import io.milan.trainer.data.BatchLoader;
import io.milan.trainer.data.EvalTransform;
import io.milan.trainer.data.ImageDataset;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.eval.EvalAccumulator;
import io.milan.trainer.eval.Predictions;
import io.milan.trainer.eval.TopK;
import io.milan.trainer.model.ClassificationLoss;
import io.milan.trainer.model.GradMode;
import io.milan.trainer.model.Layers;

/**
 * The reference's {@code engine_finetune.evaluate} over {@code val/}: Resize + CenterCrop ({@link EvalTransform}),
 * cross-entropy loss, top-1/top-5, whole batches per forward (one native round trip per batch, not per image).
 * With {@code --dist_eval} each rank evaluates its share (PyTorch DistributedSampler padding included) and the
 * totals are summed over the ranks; otherwise every rank evaluates everything (as the reference's sequential
 * sampler) and the figures are its own.
 */
final class Evaluator implements AutoCloseable {

    /** The metrics and, when asked for, every image's top-5 (complete on rank 0 only). */
    record Outcome(EvalAccumulator.Result result, Predictions predictions) {
    }

    private final ImageDataset val;
    private final ProcessGroup group;
    private final boolean distributed;
    private final BatchLoader loader;

    Evaluator(ImageDataset val, int inputSize, int batchSize, int workers, double maxBadImages, long seed,
            ProcessGroup group, boolean distributed) {
        this.val = val;
        this.group = group;
        this.distributed = distributed;
        this.loader = new BatchLoader(val, EvalTransform.imagenet(inputSize), new BatchLoader.Options(batchSize,
                false, Math.max(1, workers), Math.max(2, workers), maxBadImages, seed));
    }

    ImageDataset dataset() {
        return val;
    }

    int size() {
        return val.size();
    }

    /** Evaluates {@code model} (on {@code device}) in float32; collective: every rank must call it. */
    Outcome evaluate(Classifier model, NDManager root, Device device, boolean withPredictions) {
        return evaluate(model, root, device, withPredictions, new MixedPrecision(MixedPrecision.Mode.OFF, device));
    }

    /**
     * As above, the forward under {@code amp}'s autocast (the reference evaluates under autocast too); logits and
     * loss in float32.
     */
    Outcome evaluate(Classifier model, NDManager root, Device device, boolean withPredictions, MixedPrecision amp) {
        EvalAccumulator acc = new EvalAccumulator();
        Predictions predictions = withPredictions ? new Predictions() : null;
        try (BatchLoader.EpochIterator batches = distributed
                ? loader.orderedEpoch(group.rank(), group.worldSize()) : loader.orderedEpoch(0, 1); GradMode ignored = GradMode.disabled()) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next(); NDManager step = root.newSubManager(device)) {
                    NDList arrays = batch.toNDList(step);
                    NDArray logits;
                    try (MixedPrecision.Region autocast = amp.autocast()) {
                        logits = Layers.float32(model.evalLogits(arrays.get(0)));
                    }
                    TopK top = TopK.of(logits, 5);
                    double loss = ClassificationLoss.crossEntropy(logits, arrays.get(1)).getFloat();
                    long[] labels = batch.labels();
                    acc.add(top, labels, loss);
                    if (predictions != null) {
                        predictions.add(batch.indices(), labels, top, val::sampleName);
                    }
                }
            }
        }
        EvalAccumulator total = acc;
        if (distributed) {
            long[] counts = group.allReduceSum(acc.counts());
            double[] loss = group.allReduceSum(new double[] {acc.lossSum()});
            total = EvalAccumulator.fromTotals(counts, loss[0]);
            if (predictions != null) {
                byte[][] all = group.allGather(predictions.encode());
                predictions = new Predictions();
                for (byte[] rows : all) {
                    predictions.merge(Predictions.decode(rows));
                }
            }
        }
        return new Outcome(total.result(), predictions);
    }

    @Override
    public void close() {
        loader.close();
    }
}
