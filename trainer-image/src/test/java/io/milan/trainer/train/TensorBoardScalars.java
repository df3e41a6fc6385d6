package io.milan.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milan.trainer.tensorboard.EventFileReader;
import io.milan.trainer.tensorboard.EventFileReader.Scalar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Checks a run's event files (read back by the test's own reader) against its log.txt. */
final class TensorBoardScalars {
    private TensorBoardScalars() {
    }

    /** The scalars of {@code tag}, in writing order. */
    static List<Scalar> of(List<Scalar> all, String tag) {
        return all.stream().filter(s -> s.tag().equals(tag)).toList();
    }

    /** The steps the reference logs at with accum_iter 1: {@code epoch_1000x} of every iteration. */
    static List<Long> everyIteration(int epochs, int iterations) {
        List<Long> steps = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            for (int it = 0; it < iterations; it++) {
                steps.add((long) Math.floor((it / (double) iterations + e) * 1000));
            }
        }
        return steps;
    }

    /**
     * With accum_iter 1 every micro-batch is logged, so per epoch the mean of the logged (rank-averaged) losses
     * and learning rates is log.txt's {@code train_loss} and {@code train_lr}, up to the float32 of the scalars.
     */
    static void assertEpochMeansMatchLog(List<Scalar> all, String lossTag, Path logTxt, int iterations)
            throws IOException {
        List<String> lines = Files.readAllLines(logTxt);
        List<Scalar> loss = of(all, lossTag);
        List<Scalar> lr = of(all, TensorBoardLog.LR);
        assertEquals(lines.size() * iterations, loss.size(), lossTag + " once per iteration");
        assertEquals(loss.size(), lr.size());
        for (int e = 0; e < lines.size(); e++) {
            JsonObject line = JsonParser.parseString(lines.get(e)).getAsJsonObject();
            double lossMean = mean(loss.subList(e * iterations, (e + 1) * iterations));
            double lrMean = mean(lr.subList(e * iterations, (e + 1) * iterations));
            double trainLoss = line.get("train_loss").getAsDouble();
            double trainLr = line.get("train_lr").getAsDouble();
            assertEquals(trainLoss, lossMean, 1e-6 * Math.abs(trainLoss), "epoch " + e + " mean " + lossTag);
            assertEquals(trainLr, lrMean, 1e-6 * Math.abs(trainLr), "epoch " + e + " mean lr");
        }
    }

    static List<Scalar> read(Path logDir) throws IOException {
        assertEquals(1, EventFileReader.files(logDir).size(), "one event file (rank 0's) in " + logDir);
        return EventFileReader.scalars(logDir);
    }

    private static double mean(List<Scalar> scalars) {
        return scalars.stream().mapToDouble(Scalar::value).average().orElseThrow();
    }
}
