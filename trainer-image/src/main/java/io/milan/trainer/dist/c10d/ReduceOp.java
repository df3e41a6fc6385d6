package io.milan.trainer.dist.c10d;

/** How {@link C10dProcessGroup#allReduce} combines the ranks' tensors (the shim's op codes, in order). */
public enum ReduceOp {
    SUM,
    /** The sum divided by the world size once it is complete (Gloo itself has no average). */
    AVG,
    MIN,
    MAX
}
