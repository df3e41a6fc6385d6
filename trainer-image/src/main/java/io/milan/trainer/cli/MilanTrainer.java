package io.milan.trainer.cli;

import io.milan.api.TrainerExitCodes;
import io.milan.trainer.checkpoint.CheckpointException;
import io.milan.trainer.checkpoint.RunIdentity;
import io.milan.trainer.data.DatasetSubset;
import io.milan.trainer.data.FashionMnistConverter;
import io.milan.trainer.data.shards.ShardCommand;
import io.milan.trainer.data.shards.ShardFormatException;
import io.milan.trainer.data.ImageFolder;
import io.milan.trainer.dist.Sigterm;
import io.milan.trainer.train.ClassifierRun;
import io.milan.trainer.train.EncoderFiles;
import io.milan.trainer.train.PretrainRun;
import io.milan.trainer.train.TerminationMessage;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code milan-trainer}: the trainer's command line. Subcommands mirror the reference scripts (pretrain =
 * main_pretrain.py, ...) with the same flag names, so the seed's command lines run unchanged.
 * Exit codes ({@link TrainerExitCodes}, docs/trainer.md): 0 done; 78 a bad configuration (a bad flag or value, a
 * missing or unreadable dataset, a checkpoint it cannot use), which no restart can fix; 75 stopped on SIGTERM at a
 * step boundary (resumable); 1 any other failure (message on stderr and in the termination message).
 */
@Command(name = "milan-trainer", mixinStandardHelpOptions = true, version = "milan-trainer 0.1.0",
        description = "MILAN pretraining and fine-tuning on DJL's PyTorch engine.",
        subcommands = {MilanTrainer.Pretrain.class, MilanTrainer.Finetune.class, MilanTrainer.Linprobe.class,
                MilanTrainer.Eval.class, MilanTrainer.InitEncoder.class, FashionMnistConverter.class,
                DatasetSubset.class, ShardCommand.class, BenchCommand.class, LaunchCommand.class, ConvertCommand.class})
public final class MilanTrainer implements Callable<Integer> {

    public static void main(String[] args) {
        Sigterm.install(); // the training loops and the launcher take SIGTERM over while they run
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit code (tests call this). */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)} with errors written to {@code err}. */
    public static int run(java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new MilanTrainer());
        cli.setErr(err);
        // launch's flags end at the training command: the rest of the line is that command's.
        cli.getSubcommands().get("launch").setStopAtPositional(true);
        CommandLine.IParameterExceptionHandler usage = cli.getParameterExceptionHandler();
        cli.setParameterExceptionHandler((e, line) -> {
            usage.handleParseException(e, line); // picocli's message and usage help
            TerminationMessage.write(e.getCommandLine().getCommandName() + ": " + e.getMessage());
            return TrainerExitCodes.CONFIGURATION;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (isConfigurationError(e)) {
                // Bad values, a missing dataset, an unusable checkpoint: reported like picocli's own usage errors.
                String message = commandLine.getCommandName() + ": " + e.getMessage();
                commandLine.getErr().println(message);
                TerminationMessage.write(message);
                return TrainerExitCodes.CONFIGURATION;
            }
            String message = commandLine.getCommandName() + " failed: " + e;
            commandLine.getErr().println(message);
            TerminationMessage.write(message);
            e.printStackTrace(commandLine.getErr());
            return TrainerExitCodes.FAILURE;
        });
        return cli.execute(args);
    }

    /**
     * An error that the same command line would meet again: a bad value found by validation, a dataset that is not
     * there or not an image folder (or its shards are corrupt), a checkpoint that cannot be used (unreadable, corrupt, of another model). An I/O
     * error while reading them is not one (a volume may come back).
     */
    static boolean isConfigurationError(Exception e) {
        return e instanceof IllegalArgumentException || e instanceof ImageFolder.DatasetException
                || e instanceof ShardFormatException || e instanceof CheckpointException;
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return TrainerExitCodes.CONFIGURATION;
    }

    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = "MILAN pretraining (main_pretrain.py).")
    static final class Pretrain implements Callable<Integer> {
        @Mixin
        PretrainOptions options = new PretrainOptions();
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return new PretrainRun(options, originalArgs(spec), identity(RunShape.of(spec))).run().exitCode();
        }
    }

    @Command(name = "finetune", mixinStandardHelpOptions = true,
            description = "End-to-end fine-tuning of a ViT classifier (main_finetune.py), evaluated on val/ after"
                    + " every epoch.")
    static final class Finetune implements Callable<Integer> {
        @Mixin
        FinetuneOptions options = new FinetuneOptions();
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return new ClassifierRun(options, ClassifierRun.Mode.FINETUNE, originalArgs(spec),
                    identity(RunShape.of(spec, options.pooling))).run().exitCode();
        }
    }

    @Command(name = "linprobe", mixinStandardHelpOptions = true,
            description = "Linear probing of a frozen encoder (main_linprobe.py): cls token, BatchNorm without"
                    + " affine + linear head, LARS.")
    static final class Linprobe implements Callable<Integer> {
        @Mixin
        LinprobeOptions options = new LinprobeOptions();
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return new ClassifierRun(options, ClassifierRun.Mode.LINPROBE, originalArgs(spec),
                    identity(RunShape.of(spec, options.pooling))).run().exitCode();
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Evaluates a fine-tuned or linear-probe checkpoint (--resume FILE, or auto = newest in"
                    + " --output_dir) on val/: top-1/top-5 printed, appended to log.txt, and with --predictions"
                    + " FILE each image's top-5 classes and logits as CSV (main_finetune.py --eval).")
    static final class Eval implements Callable<Integer> {
        @Mixin
        FinetuneOptions options = new FinetuneOptions();
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            options.evalOnly = true;
            // Evaluation reads any checkpoint and writes none: no run identity.
            return new ClassifierRun(options, ClassifierRun.Mode.EVAL, originalArgs(spec), null).run().exitCode();
        }
    }

    /** The run this process trains: the operator's run UID and name from the environment, and its shape. */
    private static RunIdentity identity(java.util.Map<String, String> shape) {
        return RunIdentity.fromEnvironment(shape, System.getenv());
    }

    private static String[] originalArgs(CommandLine.Model.CommandSpec spec) {
        return spec.commandLine().getParseResult().originalArgs().toArray(new String[0]);
    }

    @Command(name = "init-encoder", mixinStandardHelpOptions = true,
            description = "Writes a randomly initialised encoder (reference initialisation) as a safetensors file"
                    + " usable as --teacher encoder: a random-feature teacher for smoke tests and baselines.")
    static final class InitEncoder implements Callable<Integer> {
        @CommandLine.Option(names = "--model", required = true, description = "Encoder size, e.g. vit_tiny.")
        String model;
        @Mixin
        CommonOptions common = new CommonOptions();
        @CommandLine.Option(names = "--output", required = true, description = "The .safetensors file to write.")
        java.nio.file.Path output;

        @Override
        public Integer call() throws Exception {
            EncoderFiles.writeRandom(PretrainRun.encoderConfig(model, common), common.seed, output);
            System.out.println("Wrote " + output);
            return 0;
        }
    }
}
