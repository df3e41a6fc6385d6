/**
 * Evaluation of classifiers as the reference does it ({@code engine_finetune.evaluate}, {@code timm.utils.accuracy}):
 * top-1/top-5 accuracy, totals that sum across ranks, the best accuracy so far, and the per-image predictions
 * file.
 * <pre>{@code
 * EvalAccumulator acc = new EvalAccumulator();
 * Predictions predictions = new Predictions();
 * for (Batch batch : valBatches) {
 *     NDArray logits = model.forward(images, null);
 *     TopK top = TopK.of(logits, 5);
 *     double loss = ClassificationLoss.crossEntropy(logits, labels).getFloat();
 *     acc.add(top, batch.labels(), loss);
 *     predictions.add(batch.indices(), batch.labels(), top, i -> val.get((int) i).file().toString());
 * }
 * long[] counts = group.allReduceSum(acc.counts());
 * double[] loss = group.allReduceSum(new double[] {acc.lossSum()});
 * EvalAccumulator.Result r = EvalAccumulator.fromTotals(counts, loss[0]).result();
 * boolean newBest = best.update(epoch, r.acc1());
 * }</pre>
 */
package io.milan.trainer.eval;
