package io.milan.trainer.data.shards;

/**
 * One sample as stored: the image file's bytes (not decoded yet), its class index, its global index (position in
 * the manifest's order, which seeds its augmentation as a file's index does for an ImageFolder) and a name for
 * messages ({@code <shard file>:<entry>}).
 */
public record EncodedSample(long index, String name, byte[] bytes, int label) {
}
