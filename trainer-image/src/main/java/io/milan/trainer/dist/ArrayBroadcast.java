package io.milan.trainer.dist;

import ai.djl.ndarray.NDArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Gives every rank rank 0's values of named arrays (initial or resumed weights, optimizer state), in place.
 * Call it on every rank with the same names, shapes and dtypes; that is checked first, and a difference fails
 * on every rank with the same message naming the array. Arrays travel in name order, so the maps' own iteration
 * orders may differ between ranks (an immutable {@code Map.copyOf} iterates in a per-JVM random order).
 */
public final class ArrayBroadcast {

    private ArrayBroadcast() {
    }

    /** Overwrites each array with rank 0's values (any dtype, any device). */
    public static void fromPrimary(ProcessGroup group, Map<String, NDArray> unordered) {
        if (group.worldSize() == 1) {
            return;
        }
        Map<String, NDArray> arrays = new TreeMap<>(unordered);
        checkSameLayout(group, arrays);
        long largest = arrays.values().stream().mapToLong(HostCopies::byteSize).max().orElse(0);
        if (largest > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("an array of " + largest + " bytes is too large to broadcast");
        }
        ByteBuffer host = ByteBuffer.allocateDirect((int) largest).order(ByteOrder.nativeOrder());
        for (NDArray array : arrays.values()) {
            host.clear().limit((int) HostCopies.byteSize(array));
            if (group.isPrimary()) {
                HostCopies.toHost(array, host);
                host.flip();
            }
            group.broadcast(host);
            if (!group.isPrimary()) {
                host.rewind();
                HostCopies.fromHost(host, array);
            }
        }
    }

    private static void checkSameLayout(ProcessGroup group, Map<String, NDArray> arrays) {
        StringBuilder layout = new StringBuilder();
        for (Map.Entry<String, NDArray> entry : arrays.entrySet()) {
            NDArray array = entry.getValue();
            layout.append(entry.getKey()).append(' ').append(array.getDataType()).append(' ')
                    .append(array.getShape()).append('\n');
        }
        byte[][] all = group.allGather(layout.toString().getBytes(StandardCharsets.UTF_8));
        String[] primary = new String(all[0], StandardCharsets.UTF_8).split("\n", -1);
        for (int rank = 1; rank < all.length; rank++) {
            String[] theirs = new String(all[rank], StandardCharsets.UTF_8).split("\n", -1);
            for (int i = 0; i < Math.max(primary.length, theirs.length); i++) {
                String expected = i < primary.length ? primary[i] : "(nothing)";
                String actual = i < theirs.length ? theirs[i] : "(nothing)";
                if (!expected.equals(actual)) {
                    throw new IllegalStateException("cannot broadcast: array " + i + " is '" + actual + "' on rank "
                            + rank + " but '" + expected + "' on rank 0; every rank must pass the same names, dtypes"
                            + " and shapes in the same order");
                }
            }
        }
    }
}
