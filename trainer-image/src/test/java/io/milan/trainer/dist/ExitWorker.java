package io.milan.trainer.dist;

import io.milan.trainer.train.TerminationMessage;

/**
 * A child of {@link LauncherTest}: prints its env, then the rank named by the first argument writes a
 * termination message and exits with code 5, while the others wait to be stopped.
 */
public final class ExitWorker {

    private ExitWorker() {
    }

    public static void main(String[] args) throws InterruptedException {
        DistConfig config = DistConfig.fromEnv(System.getenv());
        System.out.println("PLACE rank=" + config.rank() + " local=" + config.localRank() + " of "
                + config.localWorldSize() + " world=" + config.worldSize() + " master=" + config.masterAddr() + ":"
                + config.masterPort());
        System.out.flush();
        if (config.rank() == Integer.parseInt(args[0])) {
            TerminationMessage.write("pretrain failed: out of patience");
            System.exit(5);
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
