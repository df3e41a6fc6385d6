package io.milan.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.torchfile.TorchDtype;
import io.milan.trainer.checkpoint.torchfile.TorchFile;
import io.milan.trainer.checkpoint.torchfile.TorchTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Weights to start from ({@code --finetune}, {@code spec.pretrained}): a safetensors file (ours, or converted),
 * or a {@code torch.save} checkpoint such as the authors' {@code checkpoint-399.pth}, told apart by their first
 * bytes, not their names. Of a PyTorch checkpoint only the weights are taken: {@code checkpoint['model']}, or the
 * whole file when it is a state_dict. Floating-point tensors become float32 (fp16 and bf16 exactly, fp64
 * rounded), as the trainer computes in float32; integer and boolean tensors keep their type, except int16,
 * widened to int32.
 */
public final class PretrainedWeights {
    private static final Logger LOG = LoggerFactory.getLogger(PretrainedWeights.class);

    private PretrainedWeights() {
    }

    /** The tensors of {@code file} (reference state_dict names, file order) on {@code manager}. */
    public static Map<String, NDArray> read(Path file, NDManager manager) throws IOException {
        if (TorchFile.looksLikeTorchFile(file)) {
            return readTorch(file, manager);
        }
        return SafeTensors.read(file, manager).tensors();
    }

    /** The state_dict of a {@code torch.save} file as arrays; on any error nothing stays allocated. */
    public static Map<String, NDArray> readTorch(Path file, NDManager manager) throws IOException {
        try (TorchFile torch = TorchFile.open(file)) {
            TorchFile.StateDict sd = torch.stateDict();
            if (!sd.notTensors().isEmpty()) {
                LOG.warn("{}: ignoring {} entries of {} that are not tensors: {}", file, sd.notTensors().size(),
                        sd.where(), sd.notTensors());
            }
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            boolean complete = false;
            try {
                for (Map.Entry<String, TorchTensor> e : sd.tensors().entrySet()) {
                    arrays.put(e.getKey(), toArray(e.getValue(), torch.read(e.getKey(), e.getValue()), manager));
                }
                complete = true;
            } finally {
                if (!complete) {
                    arrays.values().forEach(NDArray::close);
                }
            }
            LOG.info("Read {} tensors from {} of {} ({} format)", arrays.size(), sd.where(), file,
                    torch.format() == TorchFile.Format.ZIP ? "torch.save zip" : "torch.save legacy");
            return Collections.unmodifiableMap(arrays);
        }
    }

    /** The trainer's array for a tensor's little-endian row-major bytes. */
    static NDArray toArray(TorchTensor tensor, byte[] bytes, NDManager manager) {
        ByteBuffer raw = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.LITTLE_ENDIAN).put(bytes).flip();
        TorchDtype dtype = tensor.dtype();
        ByteBuffer data = switch (dtype) {
            case FLOAT16 -> Float16.halfToFloat32(raw);
            case BFLOAT16 -> Float16.bfloat16ToFloat32(raw);
            case FLOAT64 -> Float16.float64ToFloat32(raw);
            case INT16 -> Float16.int16ToInt32(raw);
            default -> raw;
        };
        // As SafeTensors: the array gets its own native memory, independent of the Java buffer.
        try (NDArray wrapped = manager.create(data, new Shape(tensor.shape()), loadedAs(dtype))) {
            return wrapped.duplicate();
        }
    }

    /** The DJL type a tensor of {@code dtype} becomes. */
    static DataType loadedAs(TorchDtype dtype) {
        return switch (dtype) {
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> DataType.FLOAT32;
            case INT64 -> DataType.INT64;
            case INT32 -> DataType.INT32;
            case INT16 -> DataType.INT32; // DJL's PyTorch engine aborts the JVM on int16 arrays
            case INT8 -> DataType.INT8;
            case UINT8 -> DataType.UINT8;
            case BOOL -> DataType.BOOLEAN;
        };
    }
}
