package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ranks as real separate JVM processes talking over loopback, started like pods with the rendezvous env. */
class SeparateProcessesTest {

    private static final Duration BOUND = Duration.ofSeconds(120);
    private static final int[] SIZES = {0, 1, 2, 5, 1000, 262_147};

    @TempDir
    Path dir;

    @Test
    void threeProcessesAllReduceBroadcastAndSum() throws IOException {
        int world = 3;
        List<String> args = new ArrayList<>(List.of("check", dir.toString(), "42"));
        for (int size : SIZES) {
            args.add(String.valueOf(size));
        }
        try (LocalJob job = LocalJob.start(spec(world, args, Duration.ofSeconds(60)))) {
            int[] codes = job.awaitExit(BOUND);
            for (int rank = 0; rank < world; rank++) {
                assertEquals(0, codes[rank], "rank " + rank + " exit code; log:\n" + job.output(rank));
                String output = job.output(rank);
                assertTrue(output.contains("BROADCAST hello from rank 0"), "rank " + rank + ":\n" + output);
                assertTrue(output.contains("SUM 6"), "1 + 2 + 3 summed on rank " + rank + ":\n" + output);
            }
        }
        for (int size : SIZES) {
            List<float[]> inputs = new ArrayList<>();
            List<float[]> results = new ArrayList<>();
            for (int rank = 0; rank < world; rank++) {
                inputs.add(AllReduceExpectations.input(rank, size, 42));
                results.add(readFloats(dir.resolve("rank-" + rank + "-size-" + size + ".f32")));
            }
            AllReduceExpectations.assertMean(inputs, results);
        }
    }

    @Test
    void killingARankMidAllReduceMakesTheOthersFailNamingIt() throws IOException {
        int world = 4;
        int victim = 2;
        Duration distTimeout = Duration.ofSeconds(3);
        try (LocalJob job = LocalJob.start(spec(world, List.of("loop", String.valueOf(4_000_000)), distTimeout))) {
            awaitIterations(job, world, 3);
            job.process(victim).destroyForcibly();
            int[] codes = job.awaitExit(BOUND);
            String victimAddress = victimAddress(job, world, victim);
            for (int rank = 0; rank < world; rank++) {
                if (rank == victim) {
                    continue;
                }
                String output = job.output(rank);
                assertEquals(CollectivesWorker.DIST_FAILURE_EXIT, codes[rank], "rank " + rank + ":\n" + output);
                Matcher failure = Pattern.compile("DIST-FAILURE peer=(-?\\d+) (.*)").matcher(output);
                assertTrue(failure.find(), "rank " + rank + " printed no failure:\n" + output);
                assertEquals(String.valueOf(victim), failure.group(1), "blamed peer on rank " + rank + ": "
                        + failure.group(2));
                assertTrue(failure.group(2).contains("rank " + victim + " (" + victimAddress + ")"),
                        "rank " + rank + " names the victim and its address: " + failure.group(2));
            }
            assertNotEquals(0, job.process(victim).exitValue(), "the victim was killed");
        }
    }

    /** Polls the logs (bounded) until every rank reports {@code count} finished all-reduces. */
    private static void awaitIterations(LocalJob job, int world, int count) {
        long deadline = System.nanoTime() + BOUND.toNanos();
        for (int rank = 0; rank < world; rank++) {
            while (!job.output(rank).contains("iteration " + (count - 1) + "\n")) {
                if (System.nanoTime() > deadline || !job.process(rank).isAlive()) {
                    throw new AssertionError("rank " + rank + " did not reach iteration " + count + ":\n"
                            + job.output(rank));
                }
                try {
                    job.process(rank).waitFor(50, java.util.concurrent.TimeUnit.MILLISECONDS); // poll interval
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }
    }

    /** The victim's listen address as its ring successor logged it ("receives from rank 2 (127.0.0.1:port)"). */
    private static String victimAddress(LocalJob job, int world, int victim) {
        String successorLog = job.output((victim + 1) % world);
        Matcher m = Pattern.compile("receives from rank " + victim + " \\(([^)]+)\\)").matcher(successorLog);
        assertTrue(m.find(), "the successor logged its ring:\n" + successorLog);
        return m.group(1);
    }

    private LocalJob.Spec spec(int world, List<String> args, Duration distTimeout) {
        return new LocalJob.Spec(CollectivesWorker.class.getName(), args, world, 0, distTimeout, dir.resolve("logs"),
                List.of("-Xmx256m"), Map.of());
    }

    private static float[] readFloats(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(values);
        return values;
    }
}
