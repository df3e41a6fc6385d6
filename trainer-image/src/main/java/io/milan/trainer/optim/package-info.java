/**
 * Optimisation, as in the reference recipes (MAE/MILAN {@code main_*.py}, {@code engine_*.py},
 * {@code util/lr_sched.py}, {@code util/lr_decay.py}, {@code util/lars.py}), on named DJL arrays.
 *
 * <p>How a training loop uses it (names are the model's state_dict names, e.g. from
 * {@code NamedParameters.shapes()} / {@code trainableNames()} / {@code asMap()}):
 * <pre>{@code
 * List<ParamGroup> groups = ParamGroups.pretrain(shapes, trainableNames, weightDecay);   // or layerDecay(...)
 * AdamW adam = AdamW.forPretraining(groups, stateManager);                              // or Lars for linprobe
 * CosineSchedule schedule = new CosineSchedule(
 *         CosineSchedule.absoluteLr(lrFlag, blr, batch, accumIter, worldSize), minLr, warmupEpochs, epochs);
 * AccumulationSchedule accumulation = new AccumulationSchedule(accumIter, batchesPerEpoch);
 * for (int epoch = start; epoch < epochs; epoch++) {
 *     Gradients.zero(params, trainableNames);                 // drops a trailing partial group
 *     for (int it = 0; it < batchesPerEpoch; it++) {
 *         if (accumulation.setsLearningRate(it)) {
 *             lr = schedule.lrAt(accumulation.fractionalEpoch(epoch, it));
 *         }
 *         double loss = ...forward...;
 *         NonFiniteCheck.requireFiniteLoss(loss, epoch, it, lr);
 *         ...backward(loss × accumulation.lossScale())...;
 *         if (accumulation.isStepBoundary(it)) {
 *             double norm = clipGrad == null ? Gradients.globalNorm(params, trainableNames)
 *                     : Gradients.clipGlobalNorm(params, trainableNames, clipGrad);
 *             adam.step(params, lr);                          // group lr = lr × lrScale
 *             Gradients.zero(params, trainableNames);
 *         }
 *     }
 * }
 * }</pre>
 * {@link io.milan.trainer.optim.StatefulOptimizer#state()} goes into a checkpoint;
 * {@link io.milan.trainer.optim.StatefulOptimizer#loadState} restores it.
 */
package io.milan.trainer.optim;
