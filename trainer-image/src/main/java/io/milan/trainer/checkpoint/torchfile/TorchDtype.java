package io.milan.trainer.checkpoint.torchfile;

import java.util.Arrays;
import java.util.Optional;

/**
 * The tensor element types this reader knows, by the names a {@code torch.save} pickle uses for them: the
 * storage classes of the persistent ids ({@code torch.FloatStorage}...) and the dtypes ({@code torch.float32}).
 * Bytes are little-endian (the reader refuses big-endian files).
 */
public enum TorchDtype {
    FLOAT32("FloatStorage", "float32", 4, "F32"),
    FLOAT64("DoubleStorage", "float64", 8, "F64"),
    FLOAT16("HalfStorage", "float16", 2, "F16"),
    BFLOAT16("BFloat16Storage", "bfloat16", 2, "BF16"),
    INT64("LongStorage", "int64", 8, "I64"),
    INT32("IntStorage", "int32", 4, "I32"),
    INT16("ShortStorage", "int16", 2, "I16"),
    INT8("CharStorage", "int8", 1, "I8"),
    UINT8("ByteStorage", "uint8", 1, "U8"),
    BOOL("BoolStorage", "bool", 1, "BOOL");

    private final String storageClass;
    private final String dtypeName;
    private final int bytes;
    private final String safetensorsName;

    TorchDtype(String storageClass, String dtypeName, int bytes, String safetensorsName) {
        this.storageClass = storageClass;
        this.dtypeName = dtypeName;
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The name of this type in the safetensors format ({@code F32}, {@code BF16}...). */
    public String safetensorsName() {
        return safetensorsName;
    }

    public boolean isFloatingPoint() {
        return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
    }

    /**
     * The type of a storage class named in a persistent id: {@code torch.FloatStorage} and the like, and
     * {@code torch.UntypedStorage} (bytes).
     */
    static Optional<TorchDtype> ofStorageClass(PyGlobal g) {
        if ((g.module().equals("torch") || g.module().equals("torch.storage")) && g.name().equals("UntypedStorage")) {
            return Optional.of(UINT8);
        }
        if (!g.module().equals("torch")) {
            return Optional.empty();
        }
        return Arrays.stream(values()).filter(t -> t.storageClass.equals(g.name())).findFirst();
    }

    /** The type a {@code torch.float32}-style global names. */
    static Optional<TorchDtype> ofDtypeGlobal(PyGlobal g) {
        if (!g.module().equals("torch")) {
            return Optional.empty();
        }
        return Arrays.stream(values()).filter(t -> t.dtypeName.equals(g.name())).findFirst();
    }

    @Override
    public String toString() {
        return dtypeName;
    }
}
