package io.milan.trainer.checkpoint.torchfile;

import java.util.List;

/**
 * A Python tuple. Its {@code toString} does not descend into the items (a hostile file can nest them deeply or,
 * through lists, in a cycle); equality and hashing do, which only dict keys use, and those are checked to hold
 * plain values only ({@link Unpickler}).
 */
public record PyTuple(List<Object> items) {
    public PyTuple {
        items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items));
    }

    public static PyTuple of(Object... items) {
        return new PyTuple(java.util.Arrays.asList(items));
    }

    public int size() {
        return items.size();
    }

    public Object get(int i) {
        return items.get(i);
    }

    @Override
    public String toString() {
        return "tuple of " + items.size();
    }
}
