package io.milan.trainer.checkpoint.torchfile;

import java.util.Arrays;

/**
 * A tensor as the pickle describes it ({@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
 * stride, ...)}): a strided view of a storage that other tensors may share. Its values are read on demand by
 * {@link TorchFile#read(TorchTensor)}.
 */
public record TorchTensor(StorageRef storage, long storageOffset, long[] shape, long[] stride) {

    public TorchDtype dtype() {
        return storage.dtype();
    }

    /** Number of elements (the product of the shape; 1 for a 0-d tensor). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Whether the elements lie in row-major order without gaps (then the bytes are one slice of the storage). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    @Override
    public String toString() {
        return dtype() + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TorchTensor t && storage.equals(t.storage) && storageOffset == t.storageOffset
                && Arrays.equals(shape, t.shape) && Arrays.equals(stride, t.stride);
    }

    @Override
    public int hashCode() {
        return storage.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
