package io.milan.trainer.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import io.milan.trainer.data.shards.EncodedSample;
import io.milan.trainer.data.shards.ShardStream;
import io.milan.trainer.data.shards.ShardedDataset;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multi-threaded loading of an {@link ImageDataset}: worker threads decode and augment samples straight into
 * float32 batch buffers, a bounded number of batches ({@code prefetchBatches}) is prepared ahead of the
 * consumer, and batches come out in order. Each sample's randomness comes from (seed, epoch, index), so
 * the output is the same for any number of workers. An {@link ImageFolder}'s files are read by the workers in
 * the order of the indices given ({@link DistributedSampler}); a {@link ShardedDataset} is streamed
 * ({@link ShardStream}: whole shards read ahead on a thread of its own, a shuffle buffer) and the workers only
 * decode. {@link #shuffledEpoch} and {@link #orderedEpoch} pick the right one, so a training loop does not ask.
 *
 * <p>Unreadable images are skipped: the slot is filled with the next sample of the epoch's order instead,
 * a warning names the file, and the epoch fails with {@link DataLoadingException} once the number of
 * skipped images exceeds {@code maxSkippedFraction} of the epoch's samples. (Streamed shards: the slot is filled
 * with the next sample of the same batch, re-augmented.) Any other worker error ends
 * the epoch with a {@link DataLoadingException} naming the sample's file.
 */
public final class BatchLoader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchLoader.class);
    /** How many following samples to try in place of an unreadable one before giving up. */
    private static final int MAX_SUBSTITUTES = 16;

    /**
     * @param dropLast drop a final partial batch (the reference's training loaders do)
     * @param maxSkippedFraction tolerated fraction of unreadable images per epoch, e.g. 0.01
     * @param shuffleBuffer samples in the shuffle buffer when streaming shards ({@code --shuffle_buffer})
     */
    public record Options(int batchSize, boolean dropLast, int workers, int prefetchBatches,
            double maxSkippedFraction, long seed, int shuffleBuffer) {

        /** The default {@code --shuffle_buffer}. */
        public static final int DEFAULT_SHUFFLE_BUFFER = 1000;

        public Options(int batchSize, boolean dropLast, int workers, int prefetchBatches, double maxSkippedFraction,
                long seed) {
            this(batchSize, dropLast, workers, prefetchBatches, maxSkippedFraction, seed, DEFAULT_SHUFFLE_BUFFER);
        }

        public Options withShuffleBuffer(int samples) {
            return new Options(batchSize, dropLast, workers, prefetchBatches, maxSkippedFraction, seed, samples);
        }

        public Options {
            if (shuffleBuffer < 0) {
                throw new IllegalArgumentException("shuffle buffer must be >= 0 samples, got " + shuffleBuffer);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
            }
            if (workers < 1) {
                throw new IllegalArgumentException("number of data workers must be >= 1, got " + workers);
            }
            if (prefetchBatches < 1) {
                throw new IllegalArgumentException("prefetch depth must be >= 1 batch, got " + prefetchBatches);
            }
            if (!(maxSkippedFraction >= 0 && maxSkippedFraction <= 1)) {
                throw new IllegalArgumentException("tolerated fraction of unreadable images must be in [0, 1], got "
                        + maxSkippedFraction);
            }
        }
    }

    private final ImageDataset dataset;
    private final SampleTransform transform;
    private final Options options;
    private final ExecutorService workers;
    private final int floatsPerImage;
    private final ConcurrentLinkedQueue<ByteBuffer> freeBuffers = new ConcurrentLinkedQueue<>();

    public BatchLoader(ImageDataset dataset, SampleTransform transform, Options options) {
        ImageDecoder.ensureLoaded(); // fail before starting threads if OpenCV's native library cannot load
        this.dataset = dataset;
        this.transform = transform;
        this.options = options;
        this.floatsPerImage = 3 * transform.size() * transform.size();
        AtomicInteger threadNumber = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "milan-data-" + threadNumber.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
        this.workers = Executors.newFixedThreadPool(options.workers(), factory);
    }

    /** Batches in an epoch over {@code samples} samples. */
    public int batchesPerEpoch(int samples) {
        return options.dropLast() ? samples / options.batchSize()
                : (samples + options.batchSize() - 1) / options.batchSize();
    }

    /**
     * Starts an epoch of an ImageFolder over {@code indices} (this rank's dataset indices in order, e.g. from
     * {@link DistributedSampler}). Close the returned iterator when done, also on early exit.
     */
    public EpochIterator epoch(int epoch, int[] indices) {
        return epoch(epoch, indices, 0);
    }

    /**
     * As {@link #epoch(int, int[])}, starting at batch {@code startBatch} (a resume inside the epoch): the batches
     * before it are neither loaded nor yielded, the later ones are exactly those of a full pass.
     */
    public EpochIterator epoch(int epoch, int[] indices, int startBatch) {
        if (!(dataset instanceof ImageFolder folder)) {
            throw new IllegalStateException(dataset.location() + " is streamed; it has no random access by index");
        }
        if (startBatch < 0 || startBatch > batchesPerEpoch(indices.length)) {
            throw new IllegalArgumentException("first batch " + startBatch + " is outside epoch " + epoch + " of "
                    + batchesPerEpoch(indices.length) + " batches");
        }
        for (int index : indices) {
            if (index < 0 || index >= folder.size()) {
                throw new IllegalArgumentException("sample index " + index + " is outside the dataset of "
                        + folder.size() + " images in " + folder.root());
            }
        }
        return new EpochIterator(epoch, indices.clone(), null, startBatch);
    }

    /**
     * Rank {@code rank}'s share of a training epoch, shuffled by (seed, epoch), from batch {@code startBatch} (a
     * resume inside the epoch; 0 otherwise): an ImageFolder as PyTorch's DistributedSampler (shuffle, padding),
     * shards as {@link ShardedDataset#stream}. Every rank gets the same number of batches. Close it when done.
     */
    public EpochIterator shuffledEpoch(int epoch, int rank, int world, int startBatch) {
        int samples = DistributedSampler.samplesPerRank(dataset.size(), world, false);
        if (startBatch < 0 || startBatch > batchesPerEpoch(samples)) {
            throw new IllegalArgumentException("start batch " + startBatch + " is outside epoch " + epoch + "'s "
                    + batchesPerEpoch(samples) + " batches");
        }
        if (dataset instanceof ShardedDataset shards) {
            return new EpochIterator(epoch, null, shards.stream(epoch, options.seed(), world, rank, true,
                    options.shuffleBuffer(), startBatch * options.batchSize()), startBatch);
        }
        return epoch(epoch, DistributedSampler.indices(dataset.size(), world, rank, epoch, options.seed(), true,
                false), startBatch);
    }

    /**
     * Every sample in dataset order ({@code world} 1), or rank {@code rank}'s share of them split as
     * DistributedSampler without shuffling (padding included); for evaluation.
     */
    public EpochIterator orderedEpoch(int rank, int world) {
        if (dataset instanceof ShardedDataset shards) {
            return new EpochIterator(0, null, shards.stream(0, 0, world, rank, false, 0, 0), 0);
        }
        return epoch(0, DistributedSampler.indices(dataset.size(), world, rank, 0, 0, false, false), 0);
    }

    /** Where the data stands before batch {@code batch} of {@code epoch}, for a checkpoint's metadata. */
    public DataPosition position(int epoch, int batch, int world) {
        return position(dataset, options, epoch, batch, world);
    }

    /** {@link #position(int, int, int)} of a loader of {@code dataset} with {@code options}, before it exists. */
    public static DataPosition position(ImageDataset dataset, Options options, int epoch, int batch, int world) {
        return new DataPosition(epoch, batch, options.batchSize(), world, options.seed(), options.shuffleBuffer(),
                dataset.fingerprint());
    }

    /** Stops the worker threads; outstanding epochs should be closed first. */
    @Override
    public void close() {
        workers.shutdownNow();
        try {
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("Data worker threads did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        freeBuffers.clear();
    }

    private ByteBuffer takeBuffer() {
        ByteBuffer buffer = freeBuffers.poll();
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(options.batchSize() * floatsPerImage * Float.BYTES)
                    .order(ByteOrder.nativeOrder());
        }
        return buffer;
    }

    private void returnBuffer(ByteBuffer buffer) {
        // Keep enough for the prefetch window plus the batch the consumer holds; let the rest be collected.
        if (freeBuffers.size() < options.prefetchBatches() + 1) {
            freeBuffers.add(buffer);
        }
    }

    /** The batches of one epoch, in order. */
    public final class EpochIterator implements Iterator<Batch>, AutoCloseable {

        private final int epoch;
        private final int[] indices; // an ImageFolder's, or null
        private final ShardStream stream; // streamed shards, or null
        private final int length;
        private final int batches;
        private final int skipLimit;
        private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
        private final AtomicInteger skipped = new AtomicInteger();
        private final ConcurrentLinkedQueue<String> skippedExamples = new ConcurrentLinkedQueue<>();
        private volatile boolean cancelled;
        private int submitted;
        private int delivered;

        private EpochIterator(int epoch, int[] indices, ShardStream stream, int startBatch) {
            this.epoch = epoch;
            this.indices = indices;
            this.stream = stream;
            this.length = indices != null ? indices.length : stream.length();
            this.batches = batchesPerEpoch(length);
            int samples = Math.min(length, batches * options.batchSize());
            this.skipLimit = (int) Math.floor(options.maxSkippedFraction() * samples);
            this.submitted = startBatch;
            this.delivered = startBatch;
            try {
                topUp();
            } catch (RuntimeException e) {
                close(); // the caller never gets this iterator to close
                throw e;
            }
        }

        /** Batches in this epoch (a resumed one yields those from its start batch on). */
        public int batches() {
            return batches;
        }

        /** Unreadable images skipped so far in this epoch. */
        public int skippedImages() {
            return skipped.get();
        }

        @Override
        public boolean hasNext() {
            return delivered < batches && !cancelled;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has no more batches");
            }
            Pending pending = inFlight.poll();
            try {
                pending.done.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                returnBuffer(pending.buffer);
                close();
                throw new DataLoadingException("interrupted while waiting for batch " + pending.number, e);
            } catch (ExecutionException e) {
                returnBuffer(pending.buffer);
                close();
                Throwable cause = e.getCause();
                if (cause instanceof DataLoadingException d) {
                    throw new DataLoadingException(d.getMessage(), d);
                }
                throw new DataLoadingException("loading batch " + pending.number + " of epoch " + epoch + " failed: "
                        + cause, cause);
            }
            delivered++;
            topUp();
            return new Batch(pending.number, pending.size, transform.size(), pending.buffer, pending.labels,
                    pending.indices, BatchLoader.this::returnBuffer);
        }

        /** Cancels work not started yet and waits for running tasks, so no buffer is written afterwards. */
        @Override
        public void close() {
            cancelled = true;
            while (!inFlight.isEmpty()) {
                Pending pending = inFlight.poll();
                try {
                    pending.done.handle((v, e) -> null).get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (ExecutionException e) {
                    // handled above; cannot happen
                }
                returnBuffer(pending.buffer);
            }
            if (stream != null) {
                stream.close();
            }
        }

        private void topUp() {
            while (!cancelled && submitted < batches && inFlight.size() < options.prefetchBatches()) {
                inFlight.add(submit(submitted++));
            }
        }

        private Pending submit(int number) {
            int first = number * options.batchSize();
            int size = Math.min(options.batchSize(), length - first);
            Pending pending = new Pending(number, size, takeBuffer());
            if (stream != null) {
                // The stream is read here, on the consumer's thread, in order; the workers only decode.
                pending.encoded = new EncodedSample[size];
                for (int slot = 0; slot < size; slot++) {
                    pending.encoded[slot] = stream.next();
                }
            }
            List<CompletableFuture<Void>> samples = new ArrayList<>(size);
            for (int slot = 0; slot < size; slot++) {
                int s = slot;
                samples.add(CompletableFuture.runAsync(() -> load(pending, s, first + s), workers));
            }
            pending.done = CompletableFuture.allOf(samples.toArray(CompletableFuture[]::new));
            return pending;
        }

        /** Fills one slot with the sample at {@code position} of the epoch order (or a substitute). */
        private void load(Pending pending, int slot, int position) {
            if (cancelled) {
                return;
            }
            if (pending.encoded != null) {
                loadEncoded(pending, slot);
                return;
            }
            ImageFolder folder = (ImageFolder) dataset;
            for (int attempt = 0; attempt <= MAX_SUBSTITUTES; attempt++) {
                int index = indices[(position + attempt) % indices.length];
                ImageFolder.Sample sample = folder.get(index);
                try {
                    byte[] encoded = ImageDecoder.read(sample.file());
                    FloatBuffer out = pending.buffer.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
                    out.position(slot * floatsPerImage);
                    // The transform decodes: a training crop decodes only its region.
                    transform.decodeAndApply(sample.file(), encoded,
                            SampleRandom.forSample(options.seed(), epoch, index, attempt), out);
                } catch (ImageDecoder.UnreadableImageException e) {
                    recordSkip(e);
                    continue;
                } catch (RuntimeException e) {
                    throw new DataLoadingException("transforming " + sample.file() + " (sample " + index + ") failed: "
                            + e, e);
                }
                pending.labels[slot] = sample.label();
                pending.indices[slot] = index;
                return;
            }
            throw new DataLoadingException(MAX_SUBSTITUTES + 1 + " consecutive images from position " + position
                    + " of epoch " + epoch + " are unreadable: " + String.join("; ", skippedExamples));
        }

        /** A streamed slot: its own sample, or in its place (unreadable) the next ones of the same batch. */
        private void loadEncoded(Pending pending, int slot) {
            int size = pending.encoded.length;
            for (int attempt = 0; attempt < Math.min(size, MAX_SUBSTITUTES + 1); attempt++) {
                EncodedSample sample = pending.encoded[(slot + attempt) % size];
                Path name = Path.of(sample.name());
                try {
                    FloatBuffer out = pending.buffer.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
                    out.position(slot * floatsPerImage);
                    transform.decodeAndApply(name, sample.bytes(),
                            SampleRandom.forSample(options.seed(), epoch, sample.index(), attempt), out);
                } catch (ImageDecoder.UnreadableImageException e) {
                    recordSkip(e);
                    continue;
                } catch (RuntimeException e) {
                    throw new DataLoadingException("transforming " + sample.name() + " (sample " + sample.index()
                            + ") failed: " + e, e);
                }
                pending.labels[slot] = sample.label();
                pending.indices[slot] = sample.index();
                return;
            }
            throw new DataLoadingException("no image of batch " + pending.number + " of epoch " + epoch
                    + " is readable in place of slot " + slot + ": " + String.join("; ", skippedExamples));
        }

        private void recordSkip(ImageDecoder.UnreadableImageException e) {
            int count = skipped.incrementAndGet();
            if (skippedExamples.size() < 5) {
                skippedExamples.add(e.getMessage());
            }
            LOG.warn("Skipping unreadable image ({} in epoch {}): {}", count, epoch, e.getMessage());
            if (count > skipLimit) {
                throw new DataLoadingException(count + " unreadable images in epoch " + epoch + " exceed the tolerated "
                        + options.maxSkippedFraction() * 100 + "% of " + Math.min(length,
                                batches * options.batchSize()) + " samples; e.g. " + String.join("; ",
                                skippedExamples));
            }
        }
    }

    /** A batch being prepared. */
    private static final class Pending {
        final int number;
        final int size;
        final ByteBuffer buffer;
        final long[] labels;
        final long[] indices;
        EncodedSample[] encoded; // streamed samples, or null
        CompletableFuture<Void> done;

        Pending(int number, int size, ByteBuffer buffer) {
            this.number = number;
            this.size = size;
            this.buffer = buffer;
            this.labels = new long[size];
            this.indices = new long[size];
        }
    }
}
