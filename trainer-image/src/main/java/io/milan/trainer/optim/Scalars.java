package io.milan.trainer.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The constants of one optimizer step as 0-dim float32 CPU tensors, made once per step instead of once per op.
 *
 * <p>Why: DJL's {@code NDArray.mul(Number)} (and the other scalar overloads) copies the number into a fresh Java
 * direct buffer and wraps it in a tensor on every call; at ~8 such calls per parameter that bookkeeping cost
 * more than the arithmetic itself in the optimizer step. A libtorch-owned CPU scalar tensor behaves like a
 * Python number in a PyTorch op (no type promotion; allowed with tensors on any device), so the math is
 * unchanged. Closing this releases them all.
 */
final class Scalars implements AutoCloseable {

    private final NDManager manager;

    Scalars(NDManager parent) {
        this.manager = parent.newSubManager(Device.cpu());
    }

    /** {@code value} rounded to float32, as PyTorch rounds a Python number used with a float32 tensor. */
    NDArray of(double value) {
        return manager.full(new Shape(), (float) value, DataType.FLOAT32);
    }

    @Override
    public void close() {
        manager.close();
    }
}
