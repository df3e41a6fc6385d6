package io.milan.trainer.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.trainer.cli.MilanTrainer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code milan-trainer launch}: the env of each child, and what happens when one fails. */
class LauncherTest {

    @TempDir
    Path dir;

    @Test
    void childrenGetTheirRanksOnTheSecondNodeOfAJob() {
        Map<String, String> pod = Map.of("WORLD_SIZE", "6", "NODE_RANK", "1", "MASTER_ADDR", "10.0.0.7",
                "MASTER_PORT", "29500");
        Launcher launcher = Launcher.start(new Launcher.Spec(ExitWorker.class.getName(), List.of("4", dir.toString()), 3, pod,
                List.of("-Xmx64m"), dir));
        try {
            Launcher.Outcome outcome = launcher.supervise();
            assertEquals(5, outcome.exitCode());
            assertTrue(launcher.output(1).contains("OMP_NUM_THREADS=" + Math.max(1,
                    Runtime.getRuntime().availableProcessors() / 3)), "3 children share the cores");
            // Rank 4 is local rank 1 of this node: its message comes back with both numbers.
            assertEquals("rank 4 (local rank 1 of 3) exited with code 5: pretrain failed: out of patience",
                    outcome.message());
            for (int local = 0; local < 3; local++) {
                String place = "PLACE rank=" + (3 + local) + " local=" + local + " of 3 world=6 master=10.0.0.7:29500";
                assertTrue(launcher.output(local).contains(place), launcher.output(local));
                assertFalse(launcher.process(local).isAlive(), "local rank " + local + " was stopped");
            }
            // The others were stopped with SIGTERM (143), not left running or killed outright.
            assertEquals(143, launcher.process(0).exitValue());
            assertEquals(143, launcher.process(2).exitValue());
        } finally {
            launcher.close();
        }
    }

    @Test
    void aWorldSizeThatDoesNotFitTheNodeIsRefusedNamingTheVariables() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Launcher.start(
                new Launcher.Spec(ExitWorker.class.getName(), List.of("0", dir.toString()), 4, Map.of("WORLD_SIZE", "6"),
                        List.of(), dir)));
        assertTrue(e.getMessage().startsWith("WORLD_SIZE=6 and NODE_RANK=0 do not fit 4 processes per node"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Launcher.start(new Launcher.Spec(
                ExitWorker.class.getName(), List.of("0", dir.toString()), 2, Map.of("WORLD_SIZE", "4"), List.of(), dir)));
        assertEquals("MASTER_PORT must be set for a job of 2 nodes", e.getMessage());
    }

    @Test
    void theLaunchCommandReportsTheFirstFailingChild() {
        StringWriter err = new StringWriter();
        int code = MilanTrainer.run(new PrintWriter(err, true), "launch", "--nproc_per_node", "2", "pretrain",
                "--model", "vit_tiny", "--mask_ratio", "1.5");
        assertEquals(78, code, "a configuration error in every child");
        String message = err.toString();
        assertTrue(message.matches("(?s).*launch: rank [01] \\(local rank [01] of 2\\) exited with code 78: "
                + "pretrain: --mask_ratio.*"), message);
        assertEquals(78, MilanTrainer.run(new PrintWriter(new StringWriter(), true), "launch", "--nproc_per_node", "2",
                "init-encoder", "--model", "vit_tiny"), "only training commands are launched");
    }
}
