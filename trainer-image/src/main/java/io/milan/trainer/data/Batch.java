package io.milan.trainer.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.Consumer;

/**
 * One batch from {@link BatchLoader}: {@code size} images as float32 CHW in a reusable direct buffer, with
 * their class labels and dataset indices. Close it when done so the loader can reuse the buffer.
 */
public final class Batch implements AutoCloseable {

    private final int number;
    private final int size;
    private final int imageSize;
    private final ByteBuffer images;
    private final long[] labels;
    private final long[] indices;
    private final Consumer<ByteBuffer> release;
    private boolean closed;

    Batch(int number, int size, int imageSize, ByteBuffer images, long[] labels, long[] indices,
            Consumer<ByteBuffer> release) {
        this.number = number;
        this.size = size;
        this.imageSize = imageSize;
        this.images = images;
        this.labels = labels;
        this.indices = indices;
        this.release = release;
    }

    /** Position of this batch in the epoch, from 0. */
    public int number() {
        return number;
    }

    public int size() {
        return size;
    }

    public int imageSize() {
        return imageSize;
    }

    /** The images, {@code size × 3 × imageSize × imageSize} floats (read-only view). */
    public FloatBuffer images() {
        requireOpen();
        return images.duplicate().order(ByteOrder.nativeOrder()).limit(byteLength()).asFloatBuffer()
                .asReadOnlyBuffer();
    }

    public long[] labels() {
        return labels.clone();
    }

    public long[] indices() {
        return indices.clone();
    }

    /** The images' float32 [B, 3, H, W] values as native-order bytes: a view of this batch's (reused) memory. */
    public ByteBuffer imageBytes() {
        requireOpen();
        return images.duplicate().order(ByteOrder.nativeOrder()).limit(byteLength()).slice()
                .order(ByteOrder.nativeOrder());
    }

    /** The shape of {@link #imageBytes()}. */
    public Shape imageShape() {
        return new Shape(size, 3, imageSize, imageSize);
    }

    /**
     * The batch as arrays on {@code manager}: images float32 [B, 3, H, W], labels int64 [B], dataset
     * indices int64 [B]. The arrays own copies of the data, so this batch can be closed right after.
     */
    public NDList toNDList(NDManager manager) {
        ByteBuffer view = imageBytes();
        NDArray imageArray;
        // create(ByteBuffer) wraps a direct buffer without copying on CPU; this buffer is reused for later
        // batches, so give the array its own memory.
        try (NDArray wrapped = manager.create(view, imageShape(), DataType.FLOAT32)) {
            imageArray = wrapped.duplicate();
        }
        return new NDList(imageArray, manager.create(labels), manager.create(indices));
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release.accept(images);
        }
    }

    private int byteLength() {
        return size * 3 * imageSize * imageSize * Float.BYTES;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("batch " + number + " is closed");
        }
    }
}
