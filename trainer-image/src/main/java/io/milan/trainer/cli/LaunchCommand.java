package io.milan.trainer.cli;

import io.milan.trainer.dist.Launcher;
import io.milan.trainer.dist.Sigterm;
import io.milan.trainer.train.TerminationMessage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code milan-trainer launch --nproc_per_node N <pretrain|finetune|linprobe|eval> ...}: one trainer process per
 * device, as torchrun starts PyTorch's (see {@link Launcher} for the env each gets). The operator starts every pod
 * through it with N = GPUs per pod (1 on the CPU).
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = "Starts one trainer process per device (torchrun's pattern): each gets LOCAL_RANK, RANK ="
                + " NODE_RANK x N + LOCAL_RANK and WORLD_SIZE; if one fails, the others are stopped and its exit"
                + " code and message are this command's. SIGTERM is passed on to every process.")
public final class LaunchCommand implements Callable<Integer> {

    private static final Set<String> TRAINING = Set.of("pretrain", "finetune", "linprobe", "eval");

    @Option(names = "--nproc_per_node", required = true,
            description = "Processes on this node, one per device (GPUs per pod; 1 on the CPU).")
    int nproc;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "COMMAND",
            description = "The training command and its flags, e.g. pretrain --model vit_base_patch16 ...")
    List<String> command;

    @Override
    public Integer call() {
        if (!TRAINING.contains(command.get(0))) {
            throw new IllegalArgumentException("launch runs one of " + TRAINING + ", not '" + command.get(0) + "'");
        }
        Launcher launcher = Launcher.start(new Launcher.Spec(MilanTrainer.class.getName(), command, nproc,
                Map.of(), Launcher.ownJvmOptions(), null));
        // SIGTERM (the kubelet stopping the pod): every process stops at its next step boundary, and this command
        // exits with their code (75 after a stop), not the JVM's 143. Other shutdowns (SIGINT) stop them too.
        Thread stop = new Thread(launcher::stopAll, "milan-launch-shutdown");
        Runtime.getRuntime().addShutdownHook(stop);
        Launcher.Outcome outcome;
        try (Sigterm.Listening forward = Sigterm.listen(launcher::forwardSigterm)) {
            outcome = launcher.supervise();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(stop);
        } catch (IllegalStateException shuttingDown) {
            // a shutdown is under way: the hook is stopping the children
        }
        if (outcome.exitCode() != 0) {
            spec.commandLine().getErr().println("launch: " + outcome.message());
        }
        if (!outcome.message().isEmpty()) {
            TerminationMessage.write(outcome.message()); // the failure, or rank 0's summary for the operator
        }
        return outcome.exitCode();
    }
}
