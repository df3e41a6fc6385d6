package io.milan.trainer.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.checkpoint.torchfile.TorchFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code milan-trainer convert IN.pth OUT.safetensors}: the weights of a {@code torch.save} checkpoint
 * ({@code checkpoint['model']}, or the file when it is a state_dict) as a safetensors file in the trainer's
 * format, the same names in the same order, floating-point tensors as float32 (what the trainer writes), written
 * atomically. {@code safetensors.torch.load_file} reads the result, and so does {@code --finetune}.
 */
public final class TorchConversion {
    /** Metadata keys of the converted file: where it came from. */
    public static final String SOURCE = "milan.converted_from";
    public static final String SOURCE_FORMAT = "milan.source_format";

    private TorchConversion() {
    }

    /** One converted tensor: its name, type in the checkpoint and in the output, and shape. */
    public record Entry(String name, String from, String to, List<Long> shape) {
    }

    /** Converts {@code in} to {@code out} and returns what was written, in order. */
    public static List<Entry> convert(Path in, Path out) throws IOException {
        if (!TorchFile.looksLikeTorchFile(in)) {
            throw new IOException(in + ": not a torch.save file (neither a zip archive nor the legacy format)");
        }
        String format;
        Map<String, String> sourceTypes = new LinkedHashMap<>();
        try (TorchFile torch = TorchFile.open(in)) {
            format = torch.format() == TorchFile.Format.ZIP ? "torch.save zip" : "torch.save legacy";
            torch.stateDict().tensors().forEach((name, t) -> sourceTypes.put(name, t.dtype().toString()));
        }
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> tensors = PretrainedWeights.readTorch(in, manager);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");
            metadata.put(SOURCE, in.getFileName().toString());
            metadata.put(SOURCE_FORMAT, format);
            SafeTensors.write(out, tensors, metadata);
            List<Entry> entries = new ArrayList<>();
            tensors.forEach((name, a) -> {
                List<Long> shape = new ArrayList<>();
                for (long d : a.getShape().getShape()) {
                    shape.add(d);
                }
                entries.add(new Entry(name, sourceTypes.get(name), SafeTensors.Dtype.of(a.getDataType()).name(),
                        shape));
            });
            return entries;
        }
    }
}
