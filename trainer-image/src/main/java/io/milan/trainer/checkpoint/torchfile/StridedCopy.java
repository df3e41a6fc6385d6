package io.milan.trainer.checkpoint.torchfile;

/** Gathers a strided view into row-major order, element by element (elements of {@code elementSize} bytes). */
final class StridedCopy {
    private StridedCopy() {
    }

    /**
     * @param span   the view's bytes from its first element (storage offset) to its last
     * @param shape  the view's sizes; {@code stride} its strides in elements
     * @return the {@code numel × elementSize} bytes in row-major order
     */
    static byte[] gather(byte[] span, long[] shape, long[] stride, int elementSize, int numel) {
        byte[] out = new byte[numel * elementSize];
        int dims = shape.length;
        long[] index = new long[dims];
        long source = 0; // element offset of index in span
        for (int e = 0; e < numel; e++) {
            System.arraycopy(span, (int) (source * elementSize), out, e * elementSize, elementSize);
            // advance the odometer, last dimension fastest
            for (int d = dims - 1; d >= 0; d--) {
                if (++index[d] < shape[d]) {
                    source += stride[d];
                    break;
                }
                source -= (index[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
        return out;
    }
}
