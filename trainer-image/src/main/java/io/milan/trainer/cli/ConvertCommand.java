package io.milan.trainer.cli;

import io.milan.trainer.checkpoint.TorchConversion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code milan-trainer convert IN.pth OUT.safetensors}: a PyTorch checkpoint's weights in the trainer's format,
 * without Python ({@link TorchConversion}). {@code --finetune} reads .pth files directly; converting is for
 * tools that want safetensors, and to read a checkpoint once instead of at every start.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Converts the weights of a torch.save checkpoint (checkpoint['model'] of the MAE/MILAN layout,"
                + " or a plain state_dict; zip or legacy format) to a safetensors file: same names and order,"
                + " floating-point tensors as float32. Nothing in the checkpoint is executed.")
public final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN.pth", description = "The torch.save file.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.safetensors", description = "The file to write (atomically).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException("no such checkpoint file '" + in + "'");
        }
        List<TorchConversion.Entry> entries = TorchConversion.convert(in, out);
        for (TorchConversion.Entry e : entries) {
            System.out.println(e.name() + "\t" + e.from() + " -> " + e.to() + "\t" + e.shape());
        }
        System.out.println("Wrote " + entries.size() + " tensors to " + out);
        return 0;
    }
}
