package io.milan.trainer.dist.c10d;

import ai.djl.ndarray.NDArray;
import com.sun.jna.Pointer;
import io.milan.trainer.torch.MilanTorchNative;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * DDP's gradient averaging: libtorch's {@code c10d::Reducer}, the engine under
 * {@code torch.nn.parallel.DistributedDataParallel}. It hooks the autograd accumulator of every parameter; during a
 * backward that follows {@link #prepareForBackward()}, each bucket of gradients is all-reduced as soon as autograd
 * has produced all of it, while the backward goes on through earlier layers. When the backward returns, every
 * parameter's gradient holds its mean over the ranks. A backward without {@code prepareForBackward()} only
 * accumulates locally (DDP's {@code no_sync()}, for gradient accumulation).
 *
 * <p>Buckets: the parameters in reverse order (the last layers' gradients are ready first), about
 * {@code bucketBytes} each; a parameter larger than that gets a bucket of its own. The layout depends only on the
 * names, shapes and order, so it is the same on every rank. Every parameter must receive a gradient in every
 * reducing backward (DDP's {@code find_unused_parameters=False}); otherwise the next prepareForBackward fails
 * naming the reduction that never finished.
 */
public final class C10dReducer implements AutoCloseable {

    /** PyTorch DDP's default bucket size. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final List<List<String>> layout;
    private Pointer handle;

    private C10dReducer(Pointer handle, List<List<String>> layout) {
        this.handle = handle;
        this.layout = layout;
    }

    /** A reducer over the parameters of {@code parameters} that require a gradient, in the map's order. */
    public static C10dReducer create(C10dProcessGroup group, Map<String, NDArray> parameters, long bucketBytes) {
        if (bucketBytes < 1) {
            throw new IllegalArgumentException("bucket size must be >= 1 byte, got " + bucketBytes);
        }
        List<String> names = new ArrayList<>();
        List<NDArray> arrays = new ArrayList<>();
        parameters.forEach((name, array) -> {
            if (array.hasGradient()) {
                names.add(name);
                arrays.add(array);
            }
        });
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no parameter requires a gradient: nothing to reduce");
        }
        List<List<Integer>> buckets = plan(arrays, bucketBytes);
        long[] tensors = new long[arrays.size()];
        for (int i = 0; i < tensors.length; i++) {
            tensors[i] = C10dProcessGroup.handleOf(arrays.get(i));
        }
        long[] sizes = new long[buckets.size()];
        long[] order = new long[arrays.size()];
        List<List<String>> layout = new ArrayList<>();
        int next = 0;
        for (int b = 0; b < buckets.size(); b++) {
            sizes[b] = buckets.get(b).size();
            List<String> bucketNames = new ArrayList<>();
            for (int index : buckets.get(b)) {
                order[next++] = index;
                bucketNames.add(names.get(index));
            }
            layout.add(List.copyOf(bucketNames));
        }
        Pointer handle = MilanTorchNative.milan_c10d_reducer_create(group.live(), tensors, String.join("\n", names),
                tensors.length, sizes, sizes.length, order, bucketBytes);
        if (handle == null) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
        return new C10dReducer(handle, Collections.unmodifiableList(layout));
    }

    /** The parameter names of each bucket, in all-reduce order. */
    public List<List<String>> layout() {
        return layout;
    }

    /** The next backward averages the gradients over the ranks. */
    public synchronized void prepareForBackward() {
        if (handle == null) {
            throw new IllegalStateException("this gradient reducer was closed");
        }
        if (MilanTorchNative.milan_c10d_reducer_prepare(handle) != 0) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
    }

    @Override
    public synchronized void close() {
        if (handle != null) {
            MilanTorchNative.milan_c10d_reducer_destroy(handle);
            handle = null;
        }
    }

    /** Parameter indices per bucket: last parameter first, buckets of about {@code bucketBytes}. */
    static List<List<Integer>> plan(List<NDArray> arrays, long bucketBytes) {
        List<List<Integer>> buckets = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        long bytes = 0;
        for (int i = arrays.size() - 1; i >= 0; i--) {
            long size = arrays.get(i).size() * arrays.get(i).getDataType().getNumOfBytes();
            if (!current.isEmpty() && bytes + size > bucketBytes) {
                buckets.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(i);
            bytes += size;
        }
        buckets.add(current);
        return buckets;
    }
}
