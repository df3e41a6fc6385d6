package io.milan.trainer.checkpoint.torchfile;

/**
 * Bounds on what one pickle may make the reader do, so that a hostile file ends in an error rather than an
 * out-of-memory crash. Every opcode creates at most one object, so {@code maxOps} bounds the objects; a
 * length read from the file is checked against the bytes that are left before anything is allocated.
 * The defaults are far above what checkpoints need: the data.pkl of a checkpoint with the keys of MAE's ViT-L/16
 * checkpoint-399.pth (model, AdamW state for every parameter, scaler, args) is 135 KB, 47,600 opcodes and 11,221
 * memo entries (trainer-image/tools/make_torch_checkpoints.py --count-vit-large; sizes do not change it).
 *
 * @param maxPickleBytes the pickle's own bytes (not the storages)
 * @param maxOps         opcodes executed
 * @param maxStack       values on the stack at once, marks included
 * @param maxMemo        memo entries
 * @param maxIntBytes    bytes of one Python int (LONG1/LONG4, or digits of a text INT/LONG)
 * @param maxTextLine    bytes of one text line of protocol 0 (a str, a global's name)
 */
public record PickleLimits(long maxPickleBytes, long maxOps, int maxStack, int maxMemo, int maxIntBytes,
        int maxTextLine) {

    public static final PickleLimits DEFAULT = new PickleLimits(64L << 20, 4_000_000, 1_000_000, 1_000_000, 64,
            1 << 20);
}
