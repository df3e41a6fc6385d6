package io.milan.trainer.checkpoint.torchfile;

/**
 * A storage a tensor views: the key its bytes are filed under ({@code archive/data/<key>} in the zip format, a
 * section after the pickle in the legacy one), its element type and length in elements. {@code elementOffset}
 * is non-zero only for the storage views of very old legacy files.
 */
public record StorageRef(String key, TorchDtype dtype, long numel, long elementOffset) {
    public long byteLength() {
        return numel * dtype.bytes();
    }
}
