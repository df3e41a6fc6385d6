package io.milan.trainer.dist;

import io.milan.trainer.train.TerminationMessage;

/**
 * A child of {@link LauncherTest}: prints its env, then the rank named by the first argument waits until every
 * child of its node is up (marker files in the directory of the second argument), writes a termination message
 * and exits with code 5, while the others wait to be stopped.
 */
public final class ExitWorker {

    private ExitWorker() {
    }

    public static void main(String[] args) throws Exception {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        System.out.println("PLACE rank=" + config.rank() + " local=" + config.localRank() + " of "
                + config.localWorldSize() + " world=" + config.worldSize() + " master=" + config.masterAddr() + ":"
                + config.masterPort() + " OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS"));
        System.out.flush();
        java.nio.file.Path dir = java.nio.file.Path.of(args[1]);
        java.nio.file.Files.createFile(dir.resolve("up-" + config.localRank()));
        if (config.rank() == Integer.parseInt(args[0])) {
            for (int local = 0; local < config.localWorldSize(); local++) {
                while (!java.nio.file.Files.exists(dir.resolve("up-" + local))) {
                    Thread.sleep(20); // poll for the sibling's marker
                }
            }
            TerminationMessage.write("pretrain failed: out of patience");
            System.exit(5);
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
