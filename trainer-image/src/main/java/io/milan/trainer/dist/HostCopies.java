package io.milan.trainer.dist;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Copies between NDArrays (on any device) and host byte buffers, writing back <em>in place</em>.
 *
 * <p>In place matters: a gradient handle from {@code getGradient()} shares storage with the parameter's
 * {@code .grad}, and a weight is referenced by the optimizer. {@code NDArray.set(Buffer)} would not do: on CPU
 * DJL re-points the tensor's storage at the given buffer (so a reused bucket would later overwrite it). We
 * instead wrap the host bytes as a temporary array on the target's device and copy with
 * {@code target.stopGradient().set("...", values)}: a plain in-place copy (detached, so allowed on weights
 * that require gradients, from any thread).
 */
final class HostCopies {

    private static final NDIndex ALL = new NDIndex("...");

    private HostCopies() {
    }

    /** Number of bytes {@code array} occupies on the host. */
    static long byteSize(NDArray array) {
        return array.size() * array.getDataType().getNumOfBytes();
    }

    /** Appends {@code array}'s values to {@code out} (which advances). A device array is first copied to the CPU. */
    static void toHost(NDArray array, ByteBuffer out) {
        if (array.size() == 0) {
            return;
        }
        NDArray onCpu = array.getDevice().equals(Device.cpu()) ? array : array.toDevice(Device.cpu(), false);
        try {
            out.put(onCpu.toByteBuffer(true)); // on the CPU: a view of the tensor's memory, no extra copy
        } finally {
            if (onCpu != array) {
                onCpu.close();
            }
        }
    }

    /** Overwrites {@code target}'s values, in place, with the next bytes of {@code in} (which advances). */
    static void fromHost(ByteBuffer in, NDArray target) {
        if (target.size() == 0) {
            return;
        }
        int bytes = Math.toIntExact(byteSize(target));
        ByteBuffer source = in.slice(in.position(), bytes).order(ByteOrder.nativeOrder());
        in.position(in.position() + bytes);
        try (NDManager scratch = target.getManager().newSubManager(target.getDevice());
                NDArray detached = target.stopGradient()) {
            // On the CPU this wraps the host bytes without copying; on a GPU it uploads them.
            NDArray values = scratch.create(source, target.getShape(), target.getDataType());
            detached.set(ALL, values);
        }
    }

    /** {@code target := source}, in place; {@code source} may live on another device. */
    static void copyInto(NDArray source, NDArray target) {
        NDArray moved = source.getDevice().equals(target.getDevice()) ? source
                : source.toDevice(target.getDevice(), false);
        try (NDArray detached = target.stopGradient()) {
            detached.set(ALL, moved);
        } finally {
            if (moved != source) {
                moved.close();
            }
        }
    }

    /** {@code target := 0}, in place. */
    static void zero(NDArray target) {
        try (NDArray detached = target.stopGradient()) {
            detached.set(ALL, 0f);
        }
    }
}
