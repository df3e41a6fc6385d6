package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.google.gson.Gson;
import io.milan.api.EvalStatus;
import io.milan.api.ObjectStorage;
import io.milan.trainer.storage.ObjectFiles;
import io.milan.trainer.checkpoint.Checkpoint;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.RunIdentity;
import io.milan.trainer.cli.ClassifierOptions;
import io.milan.trainer.cli.CommonOptions;
import io.milan.trainer.cli.FinetuneOptions;
import io.milan.trainer.cli.LinprobeOptions;
import io.milan.trainer.data.Batch;
import io.milan.trainer.data.BatchLoader;
import io.milan.trainer.data.FinetuneTrainTransform;
import io.milan.trainer.data.ImageDataset;
import io.milan.trainer.data.Mixup;
import io.milan.trainer.data.SampleTransform;
import io.milan.trainer.data.TrainTransform;
import io.milan.trainer.dist.GradientSync;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.eval.BestAccuracy;
import io.milan.trainer.eval.EvalAccumulator;
import io.milan.trainer.model.ClassificationLoss;
import io.milan.trainer.model.Layers;
import io.milan.trainer.model.LinearProbeModel;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.model.Pooling;
import io.milan.trainer.model.PretrainedLoader;
import io.milan.trainer.model.VitClassifier;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.optim.AccumulationSchedule;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.CosineSchedule;
import io.milan.trainer.optim.GradScaler;
import io.milan.trainer.optim.Gradients;
import io.milan.trainer.optim.Lars;
import io.milan.trainer.optim.NonFiniteCheck;
import io.milan.trainer.optim.OptimizerStep;
import io.milan.trainer.optim.ParamGroups;
import io.milan.trainer.optim.StatefulOptimizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tuning (main_finetune.py + engine_finetune.py) and linear probing (main_linprobe.py) of a classifier, and
 * evaluation of a saved one ({@code --eval}). Per epoch: micro-batches with gradient accumulation on this
 * process's device, the per-iteration warmup + cosine lr (times each group's layer-decay scale), gradients
 * averaged over all processes (DDP's Reducer, in the step's last backward),
 * AdamW (fine-tuning, layer decay) or LARS (linear probing); then evaluation on {@code val/}, the best top-1
 * so far, a log.txt line, the status report and a checkpoint every {@code --checkpoint_interval} epochs.
 */
public final class ClassifierRun {
    private static final Logger LOG = LoggerFactory.getLogger(ClassifierRun.class);
    /** Checkpoint metadata: which loop wrote it, and the best accuracy so far (so a resumed run continues it). */
    static final String TASK = "task";
    static final String MAX_ACCURACY = "max_accuracy";
    static final String MAX_ACCURACY_EPOCH = "max_accuracy_epoch";

    /** What to run. */
    public enum Mode {
        FINETUNE, LINPROBE, EVAL
    }

    private final ClassifierOptions o;
    private final CommonOptions c;
    private final Mode mode;
    private final String[] commandLine;
    private final RunIdentity identity;
    private MixedPrecision amp;

    /**
     * {@code identity}: the run its checkpoints record and {@code --resume auto} requires (see CheckpointStore);
     * null for evaluation, which reads any checkpoint.
     */
    public ClassifierRun(ClassifierOptions options, Mode mode, String[] commandLine, RunIdentity identity) {
        this.o = options;
        this.c = options.common;
        this.mode = options.evalOnly ? Mode.EVAL : mode;
        this.commandLine = commandLine.clone();
        this.identity = identity;
    }

    private FinetuneOptions ft() {
        return (FinetuneOptions) o;
    }

    /**
     * Runs to the end, or until a SIGTERM stops every rank (see {@link GracefulStop}); throws (so the process exits
     * non-zero) on any error.
     */
    public Ending run() throws Exception {
        o.validate();
        RunEnvironment env = RunEnvironment.resolve(c);
        amp = MixedPrecision.resolve(c.amp, env.device());
        // Checked before joining the group, so a bad path fails every rank at once with the same message.
        ImageDataset val = ImageDataset.open(c.dataPath, "val");
        ImageDataset train = mode == Mode.EVAL ? null : ImageDataset.open(c.dataPath, "train");
        if (train != null) {
            requireClasses(train, o.nbClasses, "--nb_classes " + o.nbClasses);
            requireClasses(val, o.nbClasses, "--nb_classes " + o.nbClasses);
        }
        ViTConfig encoder = PretrainRun.encoderConfig(o.model, c);
        int workers = Math.max(1, c.numWorkers);
        try (NDManager root = NDManager.newBaseManager(env.device());
                ProcessGroup group = ProcessGroup.join(env.dist(), env.device());
                RunReporter reporter = new RunReporter(group.isPrimary(), env.dist().attempt(),
                        mode == Mode.EVAL ? 1 : o.epochs);
                Evaluator evaluator = new Evaluator(val, c.inputSize, o.evalBatch(), workers, c.maxBadImageFraction,
                        c.seed, group, o.distEval)) {
            if (mode == Mode.EVAL) {
                evaluateCheckpoint(root, env.device(), group, encoder, evaluator, reporter);
                return Ending.FINISHED;
            }
            try (Classifier model = create(encoder, root.newSubManager(), group.isPrimary())) {
                return train(root, group, model, train, evaluator, reporter);
            }
        }
    }

    /** A fresh model; rank 0 loads --finetune into it (the others receive it by broadcast). */
    private Classifier create(ViTConfig encoder, NDManager m, boolean primary) throws Exception {
        // Only rank 0 reads it; an s3:// location is downloaded once per pod (docs/storage.md).
        Path pretrained = o.finetune.isEmpty() || !primary ? null
                : ObjectFiles.local("--finetune", o.finetune, ObjectStorage.Role.PRETRAINED, null);
        if (mode == Mode.FINETUNE) {
            VitClassifier model = VitClassifier.create(encoder.withDropPath(ft().dropPath), o.nbClasses, o.pooling, m,
                    c.seed);
            if (pretrained != null && primary) {
                PretrainedLoader.Report report = PretrainedLoader.load(model, pretrained);
                printReport(report);
                if (report.loaded().isEmpty()) {
                    model.close();
                    throw new IllegalArgumentException("--finetune " + pretrained + ": none of its tensors matches"
                            + " the model (is it a checkpoint of a ViT encoder with these names?)");
                }
            }
            return Classifier.finetune(model);
        }
        LinearProbeModel model = LinearProbeModel.create(encoder, o.nbClasses, m, c.seed);
        if (pretrained != null && primary) {
            printReport(PretrainedLoader.load(model, pretrained));
        } else if (pretrained == null && primary) {
            LOG.warn("linprobe without --finetune: probing a RANDOMLY initialised encoder");
        }
        return Classifier.linearProbe(model);
    }

    /** What main_finetune.py / main_linprobe.py print on loading --finetune, then our one-line summary. */
    private static void printReport(PretrainedLoader.Report report) {
        System.out.println("Load pre-trained checkpoint from: " + report.source());
        report.removedHead().forEach(k -> System.out.println("Removing key " + k + " from pretrained checkpoint"));
        System.out.println(report.incompatibleKeys());
        LOG.info("Loaded pre-trained checkpoint {}", report.summary());
    }

    private StatefulOptimizer optimizer(NamedParameters params, ViTConfig encoder, NDManager root) {
        if (mode == Mode.FINETUNE) {
            return AdamW.forFinetuning(ParamGroups.layerDecay(params.shapes(), params.trainableNames(),
                    c.weightDecay, ft().layerDecay, encoder.depth(), ParamGroups.VIT_NO_WEIGHT_DECAY), root);
        }
        return Lars.withReferenceSettings(ParamGroups.single(params.shapes(), params.trainableNames(),
                c.weightDecay), root);
    }

    private SampleTransform trainTransform() {
        if (mode == Mode.FINETUNE) {
            FinetuneOptions f = ft();
            return FinetuneTrainTransform.reference(c.inputSize, f.aa, f.reprob, f.remode, f.recount);
        }
        return TrainTransform.linearProbing(c.inputSize);
    }

    private Ending train(NDManager root, ProcessGroup group, Classifier model, ImageDataset data, Evaluator evaluator,
            RunReporter reporter) throws Exception {
        NamedParameters params = model.parameters();
        ViTConfig encoder = model.config();
        int world = group.worldSize();
        int processBatch = o.batchSize;
        int effectiveBatch = processBatch * world * c.accumIter;
        double lr0 = CosineSchedule.absoluteLr(c.lr, o.blr, processBatch, c.accumIter, world);
        CosineSchedule schedule = new CosineSchedule(lr0, Math.min(o.minLr, lr0), o.warmupEpochs, o.epochs);
        StatefulOptimizer optimizer = optimizer(params, encoder, root);
        Mixup mixup = mode == Mode.FINETUNE && ft().mixupActive() ? new Mixup(new Mixup.Config(ft().mixup,
                ft().cutmix, ft().mixupProb, ft().mixupSwitchProb, ft().smoothing, o.nbClasses)) : null;
        long nParameters = params.numelTrainable();
        CheckpointStore store = CheckpointStores.open(c, identity);
        CheckpointPolicy policy = new CheckpointPolicy(o.checkpointInterval, c.keepCheckpoints);
        TrainingLog log = new TrainingLog(c.outputDir);
        if (group.isPrimary()) {
            Files.createDirectories(c.outputDir);
            LOG.info("{}: {} {}x{} px, patch {}, {} classes, {} parameters ({} trainable); train {} images, val {}",
                    mode.name().toLowerCase(Locale.ROOT), o.model, c.inputSize, c.inputSize, encoder.patchSize(),
                    o.nbClasses, params.numel(), nParameters, data.size(), evaluator.size());
            LOG.info("base lr: {}  actual lr: {}  accumulate grad iterations: {}  effective batch size: {}"
                    + "  world size: {} on {}", String.format("%.2e", lr0 * 256 / effectiveBatch),
                    String.format("%.2e", lr0), c.accumIter, effectiveBatch, world, group.device());
            LOG.info("criterion = {}", mixup != null ? "SoftTargetCrossEntropy (mixup " + ft().mixup + ", cutmix "
                    + ft().cutmix + ", smoothing " + ft().smoothing + ")"
                    : mode == Mode.FINETUNE && ft().smoothing > 0 ? "LabelSmoothingCrossEntropy(" + ft().smoothing
                            + ")" : "CrossEntropyLoss");
        }
        ResumeSync.Position start = ResumeSync.apply(c.resume, store, group, model, optimizer, root, c.seed);
        BestAccuracy best = bestSoFar(start.metadata());
        long globalStep = start.globalStep();
        if (group.isPrimary()) {
            LOG.info("Mixed precision (--amp {}): {}", c.amp, amp.describe());
        }

        try (GradScaler scaler = amp.scaler(root, c.ampGrowthInterval);
                GradientSync sync = group.gradientSync(params.asMap());
                BatchLoader loader = new BatchLoader(data, trainTransform(), new BatchLoader.Options(processBatch,
                        true, Math.max(1, c.numWorkers), Math.max(2, c.numWorkers), c.maxBadImageFraction, c.seed)
                        .withShuffleBuffer(c.shuffleBuffer));
                GracefulStop stop = GracefulStop.start(group, policy, o.epochs, c.stopAfterSteps);
                SaveCadence cadence = SaveCadence.start(group, c.saveEverySteps, c.saveEveryMinutes);
                CheckpointWriter checkpoints = new CheckpointWriter(store, policy, o.epochs, commandLine, c.seed);
                TensorBoardLog board = TensorBoardLog.open(group, c.logDir, c.outputDir,
                        TensorBoardLog.FINETUNE_LOSS)) {
            ResumeSync.restoreScaler(scaler, start, group);
            MidEpochSaves midEpoch = new MidEpochSaves(group, cadence, checkpoints, policy, o.epochs, c.seed);
            StepProgress progress = new StepProgress(reporter, group.isPrimary(), o.epochs, (long) processBatch * world,
                    scaler);
            long runStart = System.nanoTime();
            epochs:
            for (int epoch = start.startEpoch(); epoch < o.epochs; epoch++) {
                Gradients.zero(params.asMap(), params.trainableNames());
                // A resume from a mid-epoch checkpoint continues at its micro-batch with the epoch's sums so far.
                MidEpochSaves.Sums resumed = epoch == start.startEpoch() ? start.sums() : null;
                int firstIt = resumed == null ? 0 : start.startIteration();
                double lossSum = resumed == null ? 0 : resumed.lossSum();
                double lrSum = resumed == null ? 0 : resumed.lrSum();
                double lr = 0;
                long skippedBefore = resumed != null ? resumed.skippedBefore()
                        : scaler == null ? 0 : scaler.skippedSteps();
                int iterations;
                double imagesPerSecond;
                try (BatchLoader.EpochIterator batches = loader.shuffledEpoch(epoch, group.rank(), world, firstIt)) {
                    iterations = batches.batches();
                    if (iterations == 0) {
                        throw new IllegalArgumentException("--data_path " + data.location() + " has " + data.size()
                                + " images, fewer than one batch of " + processBatch + " per process x " + world
                                + " processes");
                    }
                    AccumulationSchedule accumulation = new AccumulationSchedule(c.accumIter, iterations);
                    progress.startEpoch(epoch, iterations);
                    stop.startEpoch(epoch, accumulation.optimizerStepsPerEpoch());
                    long epochFirstStep = globalStep - firstIt / c.accumIter;
                    for (int it = firstIt; it < iterations; it++) {
                        if (accumulation.setsLearningRate(it)) {
                            lr = schedule.lrAt(accumulation.fractionalEpoch(epoch, it));
                        }
                        boolean stepBoundary = accumulation.isStepBoundary(it);
                        double loss;
                        try (Batch batch = batches.next(); NDManager step = root.newSubManager()) {
                            loss = microBatch(batch, step, sync, stepBoundary, model, mixup, group.rank(), epoch, it,
                                    lr, accumulation.lossScale(), scaler);
                        }
                        if (stepBoundary) {
                            double scaleBefore = scaler == null ? 0 : scaler.scaleValue();
                            OptimizerStep.Outcome update = OptimizerStep.apply(optimizer, scaler, params.asMap(),
                                    params.trainableNames(), c.clipGrad, lr, epoch, it);
                            if (!update.applied() && group.isPrimary()) {
                                SkippedSteps.log(epoch, it, scaleBefore, scaler);
                            }
                            Gradients.zero(params.asMap(), params.trainableNames());
                            globalStep++;
                        }
                        lossSum += loss;
                        lrSum += lr;
                        progress.afterIteration(it, globalStep, loss, lossSum / (it + 1), lr);
                        board.afterIteration(accumulation, epoch, it, loss, lr);
                        if (stepBoundary) {
                            boolean stopping = stop.stopAfterStep(globalStep, (int) (globalStep - epochFirstStep));
                            int thisEpoch = epoch;
                            int nextBatch = it + 1;
                            midEpoch.atStepBoundary(stopping, epoch, it + 1, iterations, globalStep,
                                    new MidEpochSaves.Sums(lossSum, lrSum, skippedBefore), model::stateDict,
                                    optimizer, () -> CheckpointWriter.at(loader.position(thisEpoch, nextBatch, world),
                                            classifierMetadata(best, scaler)));
                            if (stopping) {
                                break epochs; // every rank, after the same step and its mid-epoch checkpoint
                            }
                        }
                    }
                    imagesPerSecond = progress.imagesPerSecond(iterations);
                }
                // With the epoch's sums, whether some rank got SIGTERM: then all stop after this epoch end.
                double[] totals = group.allReduceSum(new double[] {lossSum, iterations, stop.stopFlag()});
                double meanLoss = totals[0] / totals[1];
                double meanLr = lrSum / iterations;
                checkpoints.dataPosition(loader.position(epoch + 1, 0, world));

                Evaluator.Outcome outcome = evaluate(evaluator, model, root, group.device(), group,
                        o.predictions != null && epoch + 1 == o.epochs);
                EvalAccumulator.Result r = outcome.result();
                best.update(epoch, r.acc1());
                if (group.isPrimary()) {
                    LOG.info("Epoch {}: train_loss {} ({} img/s); {}", epoch, String.format(Locale.ROOT, "%.4f",
                            meanLoss), String.format(Locale.ROOT, "%.1f", imagesPerSecond), r);
                    System.out.printf(Locale.ROOT, "Accuracy of the network on the %d test images: %.1f%%%n",
                            r.samples(), r.acc1());
                    System.out.printf(Locale.ROOT, "Max accuracy: %.2f%%%n", best.best());
                    Path saved = checkpoints.maybeSave(epoch, globalStep, model.stateDict(), optimizer,
                            classifierMetadata(best, scaler));
                    board.evaluation(epoch, r.acc1(), r.acc5(), r.loss());
                    board.flush();
                    Map<String, Object> stats = TrainingLog.finetuneStats(epoch, meanLr, meanLoss, r.loss(), r.acc1(),
                            r.acc5(), nParameters);
                    SkippedSteps.addStats(stats, scaler, skippedBefore);
                    log.append(stats);
                    reporter.epochEnd(SkippedSteps.report(reporter.progress(epoch, iterations, iterations,
                            globalStep, imagesPerSecond, 0, meanLoss, meanLr), scaler), evalStatus(epoch, r, best));
                    if (saved != null) {
                        reporter.checkpoint(epoch, checkpoints.locationOf(saved));
                    }
                    writePredictions(outcome);
                }
                if (policy.shouldSave(epoch, o.epochs)) {
                    midEpoch.epochEndSaved();
                }
                stop.epochEndDone();
                if (stop.stopAtEpochEnd(totals[2], epoch, globalStep)) {
                    break;
                }
            }
            checkpoints.awaitWrites(); // a mid-epoch checkpoint is complete before the run reports its end
            if (stop.stoppedAfter() >= 0) {
                if (group.isPrimary()) {
                    reporter.finished(Ending.disruptedSummary(globalStep, checkpoints.lastSaved()));
                }
                group.barrier(); // rank 0's checkpoint is complete before any rank exits
                return Ending.DISRUPTED;
            }
            if (group.isPrimary()) {
                LOG.info("Training time {}", ProgressLine.timedelta((System.nanoTime() - runStart) / 1e9));
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("phase", "finished");
                summary.put("epochs", o.epochs);
                summary.put("globalStep", globalStep);
                summary.put("maxAccuracy", best.best());
                summary.put("maxAccuracyEpoch", best.epoch());
                if (scaler != null) {
                    summary.put("skippedSteps", scaler.skippedSteps());
                }
                reporter.finished(new Gson().toJson(summary));
            }
            group.barrier(); // no rank exits (and looks like a failure) before rank 0 has written everything
        }
        return Ending.FINISHED;
    }

    /** Checkpoint metadata of this loop: the task and the best accuracy so far, the loss scaler's state. */
    private Map<String, String> classifierMetadata(BestAccuracy best, GradScaler scaler) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(TASK, mode.name().toLowerCase(Locale.ROOT));
        meta.put(MAX_ACCURACY, Double.toString(best.best()));
        meta.put(MAX_ACCURACY_EPOCH, Integer.toString(best.epoch()));
        meta.putAll(SkippedSteps.metadata(scaler));
        return meta;
    }

    /**
     * One micro-batch: forward, loss, and the backward (which at a step boundary also averages the gradients over
     * the ranks). Returns its loss, read once the backward is queued.
     */
    private double microBatch(Batch batch, NDManager step, GradientSync sync, boolean stepBoundary,
            Classifier model, Mixup mixup, int rank, int epoch, int it, double lr, double lossScale,
            GradScaler scaler) {
        NDList arrays = BatchUpload.toDevice(batch, step, c.pinMem());
        NDArray images = arrays.get(0);
        NDArray labels = arrays.get(1);
        // Randomness (mixup, drop path) from (seed, rank, epoch, iteration): a resumed run repeats it.
        Random rng = new Random(mix(c.seed, rank, epoch, it, 0));
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss;
            // Mixup outside autocast (as in the reference: it runs on the batch before the autocast region).
            Mixup.Result mixed = mixup != null ? mixup.apply(images, batch.labels(), rng) : null;
            try (MixedPrecision.Region ignored = amp.autocast()) { // forward and loss; backward outside, as PyTorch
                if (mixed != null) {
                    loss = ClassificationLoss.softTarget(model.trainLogits(mixed.images(), rng), mixed.targets());
                } else if (mode == Mode.FINETUNE && ft().smoothing > 0) {
                    loss = ClassificationLoss.labelSmoothing(model.trainLogits(images, rng), labels, ft().smoothing);
                } else {
                    loss = ClassificationLoss.crossEntropy(model.trainLogits(images, rng), labels);
                }
            }
            sync.backward(stepBoundary, () -> collector.backward(PretrainRun.scaled(loss, lossScale, scaler)));
            double value = loss.getFloat();
            NonFiniteCheck.requireFiniteLoss(value, epoch, it, lr);
            return value;
        }
    }

    /** Evaluation after an epoch; the ranks first take rank 0's buffers (running statistics), as DDP would. */
    private Evaluator.Outcome evaluate(Evaluator evaluator, Classifier model, NDManager root, Device device,
            ProcessGroup group, boolean predictions) {
        Map<String, NDArray> buffers = model.buffers();
        if (!buffers.isEmpty()) {
            group.broadcastFromPrimary(buffers);
        }
        return evaluator.evaluate(model, root, device, predictions, amp);
    }

    /** {@code --eval}: the checkpoint of --resume, its kind (fine-tuned or probe) read from its tensors. */
    private void evaluateCheckpoint(NDManager root, Device device, ProcessGroup group, ViTConfig encoder,
            Evaluator evaluator, RunReporter reporter) throws Exception {
        CheckpointStore store = CheckpointStores.open(c, null);
        Checkpoint checkpoint = null;
        String header = "";
        if (group.isPrimary()) {
            checkpoint = store.resume(c.resume, root).orElseThrow(() -> new IllegalArgumentException("--resume "
                    + c.resume + ": no checkpoint in " + c.outputDir + " to evaluate"));
            header = describe(checkpoint.model(), c.resume) + "," + checkpoint.epoch();
        }
        String[] kind = new String(group.broadcastBytes(header.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                java.nio.charset.StandardCharsets.UTF_8).split(",");
        int classes = Integer.parseInt(kind[1]);
        int epoch = Integer.parseInt(kind[3]);
        evaluatorClasses(evaluator, classes);
        NDManager m = root.newSubManager(device);
        Classifier model = kind[0].equals("linprobe")
                ? Classifier.linearProbe(LinearProbeModel.create(encoder, classes, m, c.seed))
                : Classifier.finetune(VitClassifier.create(encoder, classes, Pooling.valueOf(kind[2]), m, c.seed));
        try {
            if (checkpoint != null) {
                try {
                    model.load(checkpoint.model(), c.resume.equals("auto")
                            ? store.fileOf(checkpoint).toString() : c.resume);
                } finally {
                    checkpoint.model().values().forEach(NDArray::close);
                    if (checkpoint.optimizer() != null) {
                        checkpoint.optimizer().tensors().values().forEach(NDArray::close);
                    }
                }
                LOG.info("Evaluating {} checkpoint of epoch {} ({} classes{}) on {} images", kind[0], epoch, classes,
                        kind[0].equals("linprobe") ? "" : ", " + kind[2], evaluator.size());
            }
            group.broadcastFromPrimary(model.stateDict());
            long start = System.nanoTime();
            Evaluator.Outcome outcome = evaluator.evaluate(model, root, device, o.predictions != null, amp);
            EvalAccumulator.Result r = outcome.result();
            double seconds = (System.nanoTime() - start) / 1e9;
            if (group.isPrimary()) {
                System.out.println(r);
                System.out.printf(Locale.ROOT, "Accuracy of the network on the %d test images: %.1f%% (%.1f img/s)%n",
                        r.samples(), r.acc1(), r.samples() / seconds);
                Map<String, Object> stats = new LinkedHashMap<>();
                stats.put("test_loss", r.loss());
                stats.put("test_acc1", r.acc1());
                stats.put("test_acc5", r.acc5());
                stats.put("epoch", epoch);
                stats.put("n_parameters", model.parameters().numelTrainable());
                stats.put("eval_checkpoint", c.resume);
                new TrainingLog(c.outputDir).append(stats);
                BestAccuracy single = new BestAccuracy();
                single.update(epoch, r.acc1());
                reporter.epochEnd(reporter.progress(0, 1, 1, 0, r.samples() / seconds, 0, Double.NaN, 0),
                        evalStatus(epoch, r, single));
                writePredictions(outcome);
                reporter.finished(new Gson().toJson(Map.of("phase", "evaluated", "top1", r.acc1(), "top5",
                        r.acc5())));
            }
        } finally {
            model.close();
        }
    }

    /** "linprobe,classes,-" or "finetune,classes,POOLING" from a checkpoint's tensor names. */
    private static String describe(Map<String, NDArray> model, String source) {
        if (model.containsKey("head.1.weight")) {
            return "linprobe," + model.get("head.1.weight").getShape().get(0) + ",-";
        }
        NDArray head = model.get("head.weight");
        if (head == null) {
            throw new IllegalArgumentException("--resume " + source + ": not a fine-tuning or linear-probing"
                    + " checkpoint (it has no head.weight / head.1.weight; pass a pretraining checkpoint as"
                    + " --finetune instead)");
        }
        Pooling pooling = model.containsKey("fc_norm.weight") ? Pooling.GLOBAL_AVERAGE : Pooling.CLS_TOKEN;
        return "finetune," + head.getShape().get(0) + "," + pooling.name();
    }

    private void writePredictions(Evaluator.Outcome outcome) throws java.io.IOException {
        if (o.predictions != null && outcome.predictions() != null) {
            outcome.predictions().writeCsv(o.predictions);
            LOG.info("Wrote {} predictions to {}", outcome.predictions().size(), o.predictions);
        }
    }

    private static EvalStatus evalStatus(int epoch, EvalAccumulator.Result r, BestAccuracy best) {
        EvalStatus s = new EvalStatus();
        s.epoch = epoch;
        s.top1 = r.acc1();
        s.top5 = r.acc5();
        s.loss = r.loss();
        s.bestTop1 = best.best();
        s.bestEpoch = best.epoch();
        return s;
    }

    /** The best accuracy a resumed run had reached (from its checkpoint), else nothing yet. */
    private static BestAccuracy bestSoFar(Map<String, String> metadata) {
        String acc = metadata.get(MAX_ACCURACY);
        String epoch = metadata.get(MAX_ACCURACY_EPOCH);
        if (acc == null || epoch == null || Integer.parseInt(epoch) < 0) {
            return new BestAccuracy();
        }
        return new BestAccuracy(Double.parseDouble(acc), Integer.parseInt(epoch));
    }

    private static void requireClasses(ImageDataset data, int classes, String what) {
        if (data.classes().size() > classes) {
            throw new IllegalArgumentException(what + " is smaller than the " + data.classes().size()
                    + " classes in " + data.location());
        }
    }

    private static void evaluatorClasses(Evaluator evaluator, int classes) {
        requireClasses(evaluator.dataset(), classes, "the checkpoint's head of " + classes + " classes");
    }

    /** A 64-bit seed from several ints (SplitMix64 steps), so nearby (epoch, iteration) pairs are unrelated. */
    static long mix(long seed, int... values) {
        long h = seed;
        for (int v : values) {
            h += 0x9E3779B97F4A7C15L + v;
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            h ^= h >>> 31;
        }
        return h;
    }
}
