package io.milan.trainer.torch;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;

/**
 * libtorch ops that DJL 0.36 does not expose, called through libmilantorch ({@link MilanTorchNative}) on DJL's own
 * tensors, without copies: fused scaled-dot-product attention and the TF32 switches. Results are ordinary DJL
 * arrays (DJL frees them like its own) and take part in autograd like DJL's ops.
 */
public final class TorchOps {

    private TorchOps() {
    }

    /**
     * {@code torch.nn.functional.scaled_dot_product_attention(q, k, v)}: softmax(q·kᵀ·hd^-0.5)·v over the last two
     * axes, with libtorch's fused kernels (flash attention on the CPU; flash, memory-efficient or cuDNN on CUDA) and
     * no [.., Tq, Tk] weight matrix kept for backward. No mask, no dropout, not causal.
     *
     * @param q [N, H, Tq, hd]
     * @param k [N, H, Tk, hd]
     * @param v [N, H, Tk, hdv]
     * @return [N, H, Tq, hdv], owned by q's manager (DJL's rule: the first operand's)
     * @throws EngineException naming the op and the three shapes when libtorch refuses them
     */
    public static NDArray scaledDotProductAttention(NDArray q, NDArray k, NDArray v) {
        return scaledDotProductAttention(q, k, v, 0);
    }

    /** As {@link #scaledDotProductAttention(NDArray, NDArray, NDArray)} with the scale given (0 = hd^-0.5). */
    public static NDArray scaledDotProductAttention(NDArray q, NDArray k, NDArray v, double scale) {
        if (!(scale >= 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("scaled_dot_product_attention: scale must be finite and >= 0 (0 ="
                    + " 1/sqrt(head dim)), got " + scale);
        }
        long query = handleOf(q, "query");
        long key = handleOf(k, "key");
        long value = handleOf(v, "value");
        MilanTorchNative.requireLoaded();
        long out = MilanTorchNative.milan_torch_sdpa(query, key, value, scale);
        if (out == 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
        return new PtNDArray((PtNDManager) q.getManager(), out);
    }

    /**
     * {@code torch.softmax(x, axis)} through libtorch's dispatcher, without DJL's explicit dtype: any floating dtype
     * (DJL 0.36's own softmax aborts the JVM on bfloat16), and autocast's rule applies (float32 on CUDA, the input's
     * dtype on the CPU), as in PyTorch. In autograd's graph like DJL's ops; owned by x's manager.
     */
    public static NDArray softmax(NDArray x, int axis) {
        return softmax(x, axis, false);
    }

    /** {@code torch.log_softmax(x, axis)}, as {@link #softmax(NDArray, int)}. */
    public static NDArray logSoftmax(NDArray x, int axis) {
        return softmax(x, axis, true);
    }

    private static NDArray softmax(NDArray x, int axis, boolean log) {
        long input = handleOf(x, "softmax input");
        MilanTorchNative.requireLoaded();
        long out = MilanTorchNative.milan_torch_softmax(input, axis, log ? 1 : 0);
        if (out == 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
        return new PtNDArray((PtNDManager) x.getManager(), out);
    }

    /**
     * {@code x.to(dtype)} in autograd's graph (gradients flow back through the cast, in x's dtype), unlike DJL
     * 0.36's {@code toType}, which detaches. For float32, float64, float16 and bfloat16; x itself when it already
     * has the dtype.
     */
    public static NDArray cast(NDArray x, DataType dtype) {
        int code = switch (dtype) {
            case FLOAT16 -> 5;
            case FLOAT32 -> 6;
            case FLOAT64 -> 7;
            case BFLOAT16 -> 15;
            default -> throw new IllegalArgumentException("cast: only to float16/32/64 or bfloat16, not " + dtype);
        };
        if (dataType(x) == dtype) {
            return x;
        }
        long input = handleOf(x, "cast input");
        long out = MilanTorchNative.milan_torch_to_dtype(input, code);
        if (out == 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
        return new PtNDArray((PtNDManager) x.getManager(), out);
    }

    /** The process-wide TF32 switches of libtorch's context (they only matter on CUDA). */
    public record Tf32(boolean matmul, boolean cudnn) {
    }

    /**
     * Sets libtorch's TF32 switches: {@code matmul} is {@code torch.backends.cuda.matmul.allow_tf32} (i.e.
     * {@code torch.set_float32_matmul_precision("high")} when true, "highest" when false; PyTorch's default false),
     * {@code cudnn} is {@code torch.backends.cudnn.allow_tf32} (PyTorch's default true). CPU kernels ignore both.
     */
    public static void setTf32(boolean matmul, boolean cudnn) {
        MilanTorchNative.requireLoaded();
        MilanTorchNative.milan_torch_set_tf32(matmul ? 1 : 0, cudnn ? 1 : 0);
    }

    /** libtorch's TF32 switches now. */
    public static Tf32 tf32() {
        MilanTorchNative.requireLoaded();
        int bits = MilanTorchNative.milan_torch_tf32();
        return new Tf32((bits & 1) != 0, (bits & 2) != 0);
    }

    /**
     * {@code --tf32} for this process's device. On a GPU: matmuls may use TF32 exactly when {@code tf32} is set,
     * and cuDNN convolutions always may (PyTorch's defaults, with the matmul switch turned on by the flag). On the
     * CPU nothing is changed (TF32 is a CUDA tensor-core format).
     *
     * @return the switches in force on a GPU, or null on the CPU
     */
    public static Tf32 configureTf32(Device device, boolean tf32) {
        if (!device.isGpu()) {
            return null;
        }
        setTf32(tf32, true);
        return tf32();
    }

    /**
     * The tensor's dtype as libtorch sees it: DJL 0.36 maps bfloat16 to {@link DataType#UNKNOWN}, this returns
     * {@link DataType#BFLOAT16} for it (and DJL's answer for every other dtype).
     */
    public static DataType dataType(NDArray array) {
        DataType djl = array.getDataType();
        if (djl != DataType.UNKNOWN || !(array instanceof PtNDArray pt)) {
            return djl;
        }
        MilanTorchNative.requireLoaded();
        int code = MilanTorchNative.milan_torch_scalar_type(pt.getHandle());
        if (code < 0) {
            throw new EngineException(MilanTorchNative.milan_c10d_last_error());
        }
        return code == 15 ? DataType.BFLOAT16 : DataType.UNKNOWN; // c10::ScalarType::BFloat16
    }

    private static long handleOf(NDArray array, String what) {
        if (!(array instanceof PtNDArray pt)) {
            throw new IllegalArgumentException(what + " must be a PyTorch-engine"
                    + " NDArray, got " + (array == null ? "null" : array.getClass().getName()));
        }
        return pt.getHandle();
    }
}
