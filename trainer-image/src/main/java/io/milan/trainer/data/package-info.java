/**
 * Data: torchvision-equivalent ImageFolder reading, tar shards streamed instead ({@code data.shards}),
 * augmentation and sharding across ranks, a multi-threaded prefetching batch loader, and the Fashion-MNIST converter
 * ({@code prepare-fashion-mnist}).
 * <pre>{@code
 * ImageDataset train = ImageDataset.open(dataPath.resolve("train"));   // an ImageFolder, or shards (shards.json)
 * try (BatchLoader loader = new BatchLoader(train, TrainTransform.pretraining(224),
 *         new BatchLoader.Options(batchSize, true, workers, prefetch, maxBadImageFraction, seed))) {
 *     try (BatchLoader.EpochIterator batches = loader.shuffledEpoch(epoch, rank, worldSize, 0)) {
 *         while (batches.hasNext()) {
 *             try (Batch batch = batches.next()) {
 *                 NDList arrays = batch.toNDList(stepManager);   // images [B,3,H,W] f32, labels, indices i64
 *             }
 *         }
 *     }
 * }
 * }</pre>
 * Pixels match torchvision on PIL images: resizing reproduces Pillow's antialiased bicubic exactly
 * ({@link io.milan.trainer.data.PilResample}; training crops are resampled, flipped and normalised in C with AVX2,
 * {@link io.milan.trainer.data.NativeResample}, to the Java code's floats); JPEGs are decoded by the system's
 * libjpeg-turbo to Pillow's pixels ({@link io.milan.trainer.data.ImageDecoder}), training crops only their own
 * rectangle ({@link io.milan.trainer.data.JpegRegionDecoder}). Both native parts are one C library built from
 * {@code src/main/c}; without it the Java code runs.
 */
package io.milan.trainer.data;
