package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.milan.trainer.model.Layers;
import io.milan.trainer.model.Teacher;
import io.milan.trainer.model.TeacherOutput;
import io.milan.trainer.optim.GradScaler;
import io.milan.trainer.torch.Autocast;
import java.util.Locale;

/**
 * {@code --amp}: the reference's {@code torch.cuda.amp.autocast()} + {@code NativeScaler} as a run's policy. The
 * student's forward and loss (and the frozen teacher's forward, under no-grad) run under libtorch's autocast on the
 * training thread; float16 also scales the loss ({@link GradScaler}); bfloat16 needs no scaling (float32's
 * exponent range). Backward, the optimizer and the weights stay float32.
 *
 * @param mode off, fp16 or bf16 after resolving auto (fp16 on a GPU, off on the CPU)
 */
public record MixedPrecision(Mode mode, Device device) {

    public enum Mode {
        OFF, FP16, BF16
    }

    /** The flag's values. */
    static final String VALUES = "auto, fp16, bf16 or off";

    /** {@code --amp} for {@code device}: auto is fp16 on a GPU (the reference's default) and off on the CPU. */
    public static MixedPrecision resolve(String flag, Device device) {
        Mode mode = switch (flag.toLowerCase(Locale.ROOT)) {
            case "auto" -> device.isGpu() ? Mode.FP16 : Mode.OFF;
            case "fp16" -> Mode.FP16;
            case "bf16" -> Mode.BF16;
            case "off" -> Mode.OFF;
            default -> throw new IllegalArgumentException("--amp must be " + VALUES + ", got '" + flag + "'");
        };
        return new MixedPrecision(mode, device);
    }

    boolean enabled() {
        return mode != Mode.OFF;
    }

    /** The half dtype autocast runs in, or null when off. */
    DataType dtype() {
        return switch (mode) {
            case FP16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            case OFF -> null;
        };
    }

    /** Autocast for the calling thread until closed (a no-op when off). */
    public Region autocast() {
        if (!enabled()) {
            return () -> { };
        }
        Autocast a = Autocast.enable(device, dtype());
        return a::close;
    }

    /** A loss scaler with PyTorch's defaults (growth every {@code growthInterval} good steps) for fp16, else null. */
    GradScaler scaler(NDManager manager, int growthInterval) {
        return mode == Mode.FP16 ? new GradScaler(manager, device, GradScaler.INIT_SCALE, GradScaler.GROWTH_FACTOR,
                GradScaler.BACKOFF_FACTOR, growthInterval) : null;
    }

    /**
     * The frozen teacher's forward (no-grad, by the teacher), under autocast when on: its matmuls in half precision,
     * as the reference's teacher inside the autocast region. Targets and cls attention come back in float32.
     */
    public TeacherOutput teacherForward(Teacher teacher, NDArray images) {
        if (!enabled()) {
            return teacher.forward(images);
        }
        TeacherOutput raw;
        try (Autocast ignored = Autocast.enable(device, dtype())) {
            raw = teacher.forward(images);
        }
        NDArray targets = Layers.float32(raw.targets());
        NDArray attention = Layers.float32(raw.clsAttention());
        if (targets != raw.targets()) {
            raw.targets().close();
        }
        if (attention != raw.clsAttention()) {
            raw.clsAttention().close();
        }
        return new TeacherOutput(targets, attention);
    }

    /** For the log. */
    public String describe() {
        return switch (mode) {
            case OFF -> "off (float32)";
            case FP16 -> "float16 autocast with dynamic loss scaling";
            case BF16 -> "bfloat16 autocast, no loss scaling";
        };
    }

    /** AutoCloseable without a checked exception on close, for try-with-resources. */
    public interface Region extends AutoCloseable {
        @Override
        void close();
    }
}
