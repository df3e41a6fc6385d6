package io.milan.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.google.gson.Gson;
import io.milan.api.ObjectStorage;
import io.milan.trainer.storage.ObjectFiles;
import io.milan.trainer.checkpoint.CheckpointPolicy;
import io.milan.trainer.checkpoint.CheckpointStore;
import io.milan.trainer.checkpoint.RunIdentity;
import io.milan.trainer.cli.CommonOptions;
import io.milan.trainer.cli.ModelName;
import io.milan.trainer.cli.PretrainOptions;
import io.milan.trainer.data.Batch;
import io.milan.trainer.data.BatchLoader;
import io.milan.trainer.data.ImageDataset;
import io.milan.trainer.data.TrainTransform;
import io.milan.trainer.dist.GradientSync;
import io.milan.trainer.dist.ProcessGroup;
import io.milan.trainer.model.ClipTeacher;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.EncoderTeacher;
import io.milan.trainer.model.Layers;
import io.milan.trainer.model.Masking;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.NamedParameters;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.Teacher;
import io.milan.trainer.model.TeacherOutput;
import io.milan.trainer.model.ViTConfig;
import io.milan.trainer.optim.AccumulationSchedule;
import io.milan.trainer.optim.AdamW;
import io.milan.trainer.optim.CosineSchedule;
import io.milan.trainer.optim.GradScaler;
import io.milan.trainer.optim.Gradients;
import io.milan.trainer.optim.NonFiniteCheck;
import io.milan.trainer.optim.OptimizerStep;
import io.milan.trainer.optim.ParamGroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MILAN pretraining (the reference's main_pretrain.py + engine_pretrain.py): per micro-batch the frozen teacher
 * makes targets and cls attention, the masking is drawn, the student predicts every token, and the loss goes
 * backward; at accumulation boundaries that backward also averages the gradients over all processes (one per
 * device: DDP's Reducer, overlapping the backward) and AdamW steps. Rank 0 writes checkpoints, log.txt and
 * progress. With --amp the teacher's and the student's forward run under autocast, and fp16 scales the loss
 * (a step with inf/NaN gradients is skipped and counted, the scale backs off).
 */
public final class PretrainRun {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainRun.class);

    private final PretrainOptions o;
    private final CommonOptions c;
    private final String[] commandLine;
    private final RunIdentity identity;
    private MixedPrecision amp;

    /** {@code identity}: the run its checkpoints record and {@code --resume auto} requires (see CheckpointStore). */
    public PretrainRun(PretrainOptions options, String[] commandLine, RunIdentity identity) {
        this.o = options;
        this.c = options.common;
        this.commandLine = commandLine.clone();
        this.identity = identity;
    }

    /**
     * Trains to the last epoch, or until a SIGTERM stops every rank (see {@link GracefulStop}); throws (so the
     * process exits non-zero) on any error.
     */
    public Ending run() throws Exception {
        o.validate();
        RunEnvironment env = RunEnvironment.resolve(c);
        amp = MixedPrecision.resolve(c.amp, env.device());
        // Checked before joining the group, so a bad path fails every rank at once with the same message.
        ImageDataset data = ImageDataset.open(c.dataPath, "train");
        ViTConfig encoder = encoderConfig(o.model, c);

        try (NDManager root = NDManager.newBaseManager(env.device());
                ProcessGroup group = ProcessGroup.join(env.dist(), env.device());
                RunReporter reporter = new RunReporter(group.isPrimary(), env.dist().attempt(), o.epochs)) {
            Teacher teacher = loadTeacher(root, encoder);
            requireSamePatches(teacher, encoder);
            PretrainConfig config = new PretrainConfig(encoder, new DecoderConfig(o.decoderDim, o.decoderDepth,
                    o.decoderHeads, 4, teacher.dim(), o.changeDecoder));
            try (teacher; MilanPretrainModel model = MilanPretrainModel.create(config, root, c.seed)) {
                return train(root, group, model, teacher, data, reporter);
            }
        }
    }

    private Ending train(NDManager root, ProcessGroup group, MilanPretrainModel model, Teacher teacher,
            ImageDataset data, RunReporter reporter) throws Exception {
        NamedParameters params = model.parameters();
        int world = group.worldSize();
        int effectiveBatch = o.batchSize * world * c.accumIter;
        double lr0 = CosineSchedule.absoluteLr(c.lr, o.blr, o.batchSize, c.accumIter, world);
        CosineSchedule schedule = new CosineSchedule(lr0, o.minLr, o.warmupEpochs, o.epochs);
        AdamW adam = AdamW.forPretraining(
                ParamGroups.pretrain(params.shapes(), params.trainableNames(), c.weightDecay), root);
        CheckpointStore store = CheckpointStores.open(c, identity);
        CheckpointPolicy policy = new CheckpointPolicy(o.checkpointInterval, c.keepCheckpoints);
        TrainingLog log = new TrainingLog(c.outputDir);
        if (group.isPrimary()) {
            Files.createDirectories(c.outputDir);
            LOG.info("Model: {} encoder {}x{} px, patch {}, {} parameters ({} trainable); decoder {} x{} ({})",
                    o.model, c.inputSize, c.inputSize, model.config().encoder().patchSize(), params.numel(),
                    params.numelTrainable(), o.decoderDim, o.decoderDepth, o.changeDecoder ? "prompting" : "MAE");
            LOG.info("base lr: {}  actual lr: {}  accumulate grad iterations: {}  effective batch size: {}"
                    + "  world size: {} on {}", String.format("%.2e", lr0 * 256 / effectiveBatch),
                    String.format("%.2e", lr0), c.accumIter, effectiveBatch, world, group.device());
        }
        ResumeSync.Position start = ResumeSync.apply(c.resume, store, group, params, adam, root, c.seed);
        long globalStep = start.globalStep();
        int patches = model.config().encoder().numPatches();
        if (group.isPrimary()) {
            LOG.info("Mixed precision (--amp {}): {}", c.amp, amp.describe());
        }

        try (GradScaler scaler = amp.scaler(root, c.ampGrowthInterval);
                GradientSync sync = group.gradientSync(params.asMap());
                BatchLoader loader = new BatchLoader(data, TrainTransform.pretraining(c.inputSize),
                        new BatchLoader.Options(o.batchSize, true, Math.max(1, c.numWorkers),
                                Math.max(2, c.numWorkers), c.maxBadImageFraction, c.seed)
                                .withShuffleBuffer(c.shuffleBuffer));
                GracefulStop stop = GracefulStop.start(group, policy, o.epochs, c.stopAfterSteps);
                SaveCadence cadence = SaveCadence.start(group, c.saveEverySteps, c.saveEveryMinutes);
                CheckpointWriter checkpoints = new CheckpointWriter(store, policy, o.epochs, commandLine, c.seed);
                TensorBoardLog board = TensorBoardLog.open(group, c.logDir, c.outputDir,
                        TensorBoardLog.PRETRAIN_LOSS)) {
            ResumeSync.restoreScaler(scaler, start, group);
            MidEpochSaves midEpoch = new MidEpochSaves(group, cadence, checkpoints, policy, o.epochs, c.seed);
            long runStartNanos = System.nanoTime();
            epochs:
            for (int epoch = start.startEpoch(); epoch < o.epochs; epoch++) {
                Gradients.zero(params.asMap(), params.trainableNames());
                // A resume from a mid-epoch checkpoint continues at its micro-batch with the epoch's sums so far.
                MidEpochSaves.Sums resumed = epoch == start.startEpoch() ? start.sums() : null;
                int firstIt = resumed == null ? 0 : start.startIteration();
                double lossSum = resumed == null ? 0 : resumed.lossSum();
                double lrSum = resumed == null ? 0 : resumed.lrSum();
                long skippedBefore = resumed != null ? resumed.skippedBefore()
                        : scaler == null ? 0 : scaler.skippedSteps();
                int iterations;
                double imagesPerSecond; // of the whole epoch, for the status row that closes it
                double lr = 0;
                try (BatchLoader.EpochIterator batches = loader.shuffledEpoch(epoch, group.rank(), world, firstIt)) {
                    iterations = batches.batches();
                    if (iterations == 0) {
                        throw new IllegalArgumentException("--data_path " + data.location() + " has " + data.size()
                                + " images, fewer than one batch of " + o.batchSize + " per process x " + world
                                + " processes");
                    }
                    AccumulationSchedule accumulation = new AccumulationSchedule(c.accumIter, iterations);
                    StepProgress progress = new StepProgress(reporter, group.isPrimary(), o.epochs,
                            (long) o.batchSize * world, scaler);
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
                            loss = microBatch(batch, step, sync, stepBoundary, model, teacher, epoch, it, lr,
                                    patches, accumulation.lossScale(), scaler);
                        }
                        if (stepBoundary) {
                            double scaleBefore = scaler == null ? 0 : scaler.scaleValue();
                            OptimizerStep.Outcome update = OptimizerStep.apply(adam, scaler, params.asMap(),
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
                                    new MidEpochSaves.Sums(lossSum, lrSum, skippedBefore), params::asMap, adam,
                                    () -> CheckpointWriter.at(loader.position(thisEpoch, nextBatch, world),
                                            SkippedSteps.metadata(scaler)));
                            if (stopping) {
                                break epochs; // every rank, after the same step and its mid-epoch checkpoint
                            }
                        }
                    }
                    imagesPerSecond = progress.imagesPerSecond(iterations);
                }
                // The epoch's mean loss over every micro-batch of every rank (the reference's synchronised meter),
                // and whether some rank got SIGTERM (then all stop after this epoch end).
                double[] totals = group.allReduceSum(new double[] {lossSum, iterations, stop.stopFlag()});
                double meanLoss = totals[0] / totals[1];
                double meanLr = lrSum / iterations;
                checkpoints.dataPosition(loader.position(epoch + 1, 0, world));
                if (group.isPrimary()) {
                    board.flush();
                    epochEnd(epoch, globalStep, meanLoss, meanLr, iterations, imagesPerSecond, params, adam,
                            checkpoints, log, reporter, scaler, skippedBefore);
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
            double total = (System.nanoTime() - runStartNanos) / 1e9;
            if (group.isPrimary()) {
                LOG.info("Training time {}", ProgressLine.timedelta(total));
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("phase", "finished");
                summary.put("epochs", o.epochs);
                summary.put("globalStep", globalStep);
                if (scaler != null) {
                    summary.put("skippedSteps", scaler.skippedSteps());
                }
                reporter.finished(new Gson().toJson(summary));
            }
            group.barrier(); // no rank exits (and looks like a failure) before rank 0 has written everything
        }
        return Ending.FINISHED;
    }

    /**
     * One micro-batch: teacher targets, masking, the student's forward and backward (which, at a step boundary,
     * also averages the gradients over the ranks). Returns its loss, read once the backward is queued.
     */
    private double microBatch(Batch batch, NDManager step, GradientSync sync, boolean stepBoundary,
            MilanPretrainModel model, Teacher teacher, int epoch, int it, double lr, int patches,
            double lossScale, GradScaler scaler) {
        NDArray images = BatchUpload.toDevice(batch, step, c.pinMem()).get(0);
        long[] indices = batch.indices();
        double[] noise = MaskNoise.open(c.seed, epoch, indices, patches);
        try (TeacherOutput target = amp.teacherForward(teacher, images);
                Masking masking = o.attnMask
                        ? Masking.semantic(target.importance(), o.maskRatio, noise)
                        : Masking.random(images.getManager(), indices.length, patches, o.maskRatio,
                                MaskNoise.asFloats(noise));
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss;
            try (MixedPrecision.Region ignored = amp.autocast()) { // forward and loss; backward outside, as PyTorch
                loss = model.forward(images, target, masking).loss();
            }
            sync.backward(stepBoundary, () -> collector.backward(scaled(loss, lossScale, scaler)));
            double value = loss.getFloat();
            NonFiniteCheck.requireFiniteLoss(value, epoch, it, lr);
            masking.requireValidWeights();
            return value;
        }
    }

    /** The loss backward starts from: divided over the accumulation steps, times the loss scale under fp16. */
    static NDArray scaled(NDArray loss, double accumulationScale, GradScaler scaler) {
        NDArray averaged = Layers.scale(loss, accumulationScale);
        return scaler == null ? averaged : scaler.scale(averaged);
    }

    private void epochEnd(int epoch, long globalStep, double meanLoss, double meanLr, int iterations,
            double imagesPerSecond, NamedParameters params, AdamW adam, CheckpointWriter checkpoints, TrainingLog log,
            RunReporter reporter, GradScaler scaler, long skippedBefore) throws Exception {
        Path saved = checkpoints.maybeSave(epoch, globalStep, params.asMap(), adam, SkippedSteps.metadata(scaler));
        Map<String, Object> stats = TrainingLog.pretrainStats(epoch, meanLr, meanLoss);
        SkippedSteps.addStats(stats, scaler, skippedBefore);
        log.append(stats);
        reporter.epochEnd(SkippedSteps.report(reporter.progress(epoch, iterations, iterations, globalStep,
                imagesPerSecond, 0, meanLoss, meanLr), scaler), null);
        if (saved != null) {
            reporter.checkpoint(epoch, checkpoints.locationOf(saved));
        }
        LOG.info("Epoch {} done: train_loss {} (log.txt{})", epoch, String.format("%.4f", meanLoss),
                saved == null ? "" : ", " + saved.getFileName());
    }

    private Teacher loadTeacher(NDManager manager, ViTConfig student) throws Exception {
        // An s3:// location is downloaded once per pod (docs/storage.md), then read as a local file.
        Path path = ObjectFiles.local("--teacher_path", o.teacherPath, ObjectStorage.Role.TEACHER,
                "model.safetensors");
        if (o.teacher.equals("clip")) {
            return ClipTeacher.load(path, manager);
        }
        ViTConfig teacher = o.teacherModel == null ? student : encoderConfig(o.teacherModel, c);
        Path file = Files.isDirectory(path) ? path.resolve("model.safetensors") : path;
        return EncoderTeacher.load(file, teacher, manager);
    }

    private static void requireSamePatches(Teacher teacher, ViTConfig encoder) {
        if (teacher.numPatches() != encoder.numPatches()) {
            throw new IllegalArgumentException("--teacher_path: the teacher sees " + teacher.numPatches()
                    + " patches but the student " + encoder.numPatches() + " (--input_size " + encoder.imageSize()
                    + ", --patch_size " + encoder.patchSize() + "); their tokens must correspond one to one");
        }
    }

    /** The named size at --input_size / --patch_size. */
    public static ViTConfig encoderConfig(String model, CommonOptions c) {
        ModelName name = ModelName.parse(model);
        ViTConfig base = ViTConfig.named(name.shortName());
        int patch = c.patchSize != null ? c.patchSize : name.defaultPatchSize();
        return new ViTConfig(c.inputSize, patch, 3, base.dim(), base.depth(), base.heads(), base.mlpRatio(), 0);
    }
}
