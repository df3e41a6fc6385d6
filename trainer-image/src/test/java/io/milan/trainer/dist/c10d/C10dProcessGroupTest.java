package io.milan.trainer.dist.c10d;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.dist.JobLogs;
import io.milan.trainer.dist.Launcher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * libmilantorch's c10d process group (TCPStore + ProcessGroupGloo) between real processes: each rank is a JVM
 * ({@link C10dWorker}) started by {@link Launcher} on loopback, and checks its own results exactly. No mocks, no
 * assertion on elapsed time (the bounds below only keep a broken build from hanging).
 */
class C10dProcessGroupTest {

    /** Longest any job here may take before it counts as hung: JVM starts on a loaded 2-core machine. */
    private static final Duration HANG_GUARD = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    @Test
    void theShimIsBuiltAndBoundToDjlsLibtorch() {
        assertNull(C10dProcessGroup.unavailableReason());
        String path = C10dProcessGroup.libtorchPath();
        assertTrue(path.endsWith("/libtorch_cpu.so"), path);
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 4})
    void ranksAllReduceBroadcastAndAllGatherExactly(int world) {
        try (Launcher job = Launcher.start(spec(world, List.of("check"), Duration.ofSeconds(60)))) {
            int[] codes = job.awaitExit(HANG_GUARD);
            for (int rank = 0; rank < world; rank++) {
                String log = job.output(rank);
                assertEquals(0, codes[rank], "rank " + rank + " exited with " + codes[rank] + ":\n" + log);
                for (String check : List.of("allreduce SUM 1 floats", "allreduce SUM 1000003 floats",
                        "allreduce AVG", "allreduce MAX int32", "gradient AVG", "broadcast from rank " + (world - 1),
                        "allgather", "barrier")) {
                    assertTrue(log.contains("CHECKED " + check), "rank " + rank + " did not check " + check + ":\n"
                            + log);
                }
                // The shim runs on the libtorch DJL loaded, and there is only one in the process.
                String libtorch = JobLogs.line(log, "LIBTORCH ");
                assertEquals(libtorch, JobLogs.line(log, "LIBTORCH-MAPPINGS "), log);
            }
        }
    }

    /** Rank 0 also serves the TCPStore: its death must be reported the same way. */
    @ParameterizedTest(name = "rank {0} killed")
    @ValueSource(ints = {0, 1})
    void aKilledRankMakesEveryOtherRankFailNamingTheOperation(int victim) throws InterruptedException {
        int world = 3;
        try (Launcher job = Launcher.start(spec(world, List.of("loop"), Duration.ofSeconds(20)))) {
            JobLogs.awaitIterations(job, world, 3, HANG_GUARD);
            job.process(victim).destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no goodbye
            int[] codes = job.awaitExit(HANG_GUARD);
            for (int rank = 0; rank < world; rank++) {
                if (rank == victim) {
                    continue;
                }
                String log = job.output(rank);
                assertEquals(C10dWorker.FAILURE_EXIT, codes[rank], "rank " + rank + ":\n" + log);
                String failure = JobLogs.line(log, "C10D-FAILURE ");
                assertTrue(failure.startsWith("c10d allreduce failed on rank " + rank + " of " + world + " (gloo): "),
                        failure);
                System.out.println("killed rank " + victim + ", rank " + rank + " says: " + failure);
            }
        }
    }

    @Test
    void aHungRankMakesTheOthersFailAfterTheTimeout() {
        int world = 3;
        int hanging = 2;
        try (Launcher job = Launcher.start(spec(world, List.of("hang", String.valueOf(hanging)),
                Duration.ofSeconds(3)))) {
            List<String> failures = JobLogs.failuresOfAllBut(job, world, hanging, C10dWorker.FAILURE_EXIT,
                    "C10D-FAILURE ", HANG_GUARD);
            int rank = 0;
            for (String failure : failures) {
                rank += rank == hanging ? 1 : 0;
                assertTrue(failure.startsWith("c10d allreduce failed on rank " + rank + " of " + world), failure);
                rank++;
            }
            // The first to give up names the timeout; the others may see it leave first.
            failures.forEach(f -> System.out.println("hung rank " + hanging + ", another rank says: " + f));
            assertTrue(failures.stream().anyMatch(f -> f.contains("not complete after 3000 ms, the timeout")
                    || f.contains("Timed out waiting 3000ms")), failures.toString());
            assertTrue(job.output(hanging).contains("HANGING"), job.output(hanging));
        }
    }

    @Test
    void aRankAloneReducesWithItselfAndUnfitTensorsAreRefusedByName() {
        try (NDManager manager = NDManager.newBaseManager();
                C10dProcessGroup group = C10dProcessGroup.join("127.0.0.1", Launcher.freeLoopbackPort(), 0, 1,
                        Duration.ofSeconds(10), "127.0.0.1")) {
            NDArray a = manager.create(new float[] {1, 2, 3});
            group.allReduce(a, ReduceOp.AVG);
            assertArrayEquals(new float[] {1, 2, 3}, a.toFloatArray());
            NDArray strided = manager.arange(0f, 12f, 1f).reshape(3, 4).transpose();
            C10dException error = assertThrows(C10dException.class, () -> group.allReduce(strided, ReduceOp.SUM));
            assertTrue(error.getMessage().startsWith("c10d allreduce failed on rank 0 of 1 (gloo): "),
                    error.getMessage());
            assertTrue(error.getMessage().contains("contiguous"), error.getMessage());
            assertThrows(C10dException.class, () -> group.broadcast(a, 1)); // no rank 1
            group.barrier();
        }
    }

    @Test
    void aRendezvousWithoutTheOtherRanksTimesOutNamingTheStore() {
        int port = Launcher.freeLoopbackPort();
        C10dException error = assertThrows(C10dException.class, () -> C10dProcessGroup.join("127.0.0.1", port, 0, 2,
                Duration.ofSeconds(2), "127.0.0.1").close());
        assertTrue(error.getMessage().startsWith("c10d init (TCPStore 127.0.0.1:" + port + ", server) failed on rank 0"
                + " of 2"), error.getMessage());
        System.out.println("rendezvous alone: " + error.getMessage());
    }

    private Launcher.Spec spec(int world, List<String> args, Duration timeout) {
        return Launcher.Spec.local(C10dWorker.class.getName(), args, world, timeout, dir.resolve("logs"),
                List.of("-Xmx512m"), Map.of());
    }
}
