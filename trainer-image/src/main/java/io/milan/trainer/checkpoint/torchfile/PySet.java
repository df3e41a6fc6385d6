package io.milan.trainer.checkpoint.torchfile;

import java.util.List;

/** A Python set or frozenset, kept as the list of its items (not hashed: they may be anything). */
public record PySet(List<Object> items, boolean frozen) {
    @Override
    public String toString() {
        return (frozen ? "frozenset" : "set") + " of " + items.size();
    }
}
