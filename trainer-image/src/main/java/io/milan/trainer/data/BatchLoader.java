package io.milan.trainer.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
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
 * Multi-threaded loading of an {@link ImageFolder}: worker threads decode and augment samples straight into
 * float32 batch buffers, a bounded number of batches ({@code prefetchBatches}) is prepared ahead of the
 * consumer, and batches come out in order. Each sample's randomness comes from (seed, epoch, index), so
 * the output is the same for any number of workers.
 *
 * <p>Unreadable images are skipped: the slot is filled with the next sample of the epoch's order instead,
 * a warning names the file, and the epoch fails with {@link DataLoadingException} once the number of
 * skipped images exceeds {@code maxSkippedFraction} of the epoch's samples. Any other worker error ends
 * the epoch with a {@link DataLoadingException} naming the sample's file.
 */
public final class BatchLoader implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchLoader.class);
    /** How many following samples to try in place of an unreadable one before giving up. */
    private static final int MAX_SUBSTITUTES = 16;

    /**
     * @param dropLast drop a final partial batch (the reference's training loaders do)
     * @param maxSkippedFraction tolerated fraction of unreadable images per epoch, e.g. 0.01
     */
    public record Options(int batchSize, boolean dropLast, int workers, int prefetchBatches,
            double maxSkippedFraction, long seed) {
        public Options {
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

    private final ImageFolder dataset;
    private final SampleTransform transform;
    private final Options options;
    private final ExecutorService workers;
    private final int floatsPerImage;
    private final ConcurrentLinkedQueue<ByteBuffer> freeBuffers = new ConcurrentLinkedQueue<>();

    public BatchLoader(ImageFolder dataset, SampleTransform transform, Options options) {
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
     * Starts an epoch over {@code indices} (this rank's dataset indices in order, e.g. from
     * {@link DistributedSampler}). Close the returned iterator when done, also on early exit.
     */
    public EpochIterator epoch(int epoch, int[] indices) {
        return epoch(epoch, indices, 0);
    }

    /**
     * As {@link #epoch(int, int[])}, starting at batch {@code firstBatch} (a resume inside the epoch): the batches
     * before it are neither loaded nor yielded, the later ones are exactly those of a full pass.
     */
    public EpochIterator epoch(int epoch, int[] indices, int firstBatch) {
        for (int index : indices) {
            if (index < 0 || index >= dataset.size()) {
                throw new IllegalArgumentException("sample index " + index + " is outside the dataset of "
                        + dataset.size() + " images in " + dataset.root());
            }
        }
        return new EpochIterator(epoch, indices.clone(), firstBatch);
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
        private final int[] indices;
        private final int batches;
        private final int skipLimit;
        private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
        private final AtomicInteger skipped = new AtomicInteger();
        private final ConcurrentLinkedQueue<String> skippedExamples = new ConcurrentLinkedQueue<>();
        private volatile boolean cancelled;
        private int submitted;
        private int delivered;

        private EpochIterator(int epoch, int[] indices, int firstBatch) {
            this.epoch = epoch;
            this.indices = indices;
            this.batches = batchesPerEpoch(indices.length);
            if (firstBatch < 0 || firstBatch > batches) {
                throw new IllegalArgumentException("first batch " + firstBatch + " is outside epoch " + epoch
                        + " of " + batches + " batches");
            }
            this.submitted = firstBatch;
            this.delivered = firstBatch;
            int samples = Math.min(indices.length, batches * options.batchSize());
            this.skipLimit = (int) Math.floor(options.maxSkippedFraction() * samples);
            topUp();
        }

        /** Batches in this epoch (including any skipped by starting at a later batch). */
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
        }

        private void topUp() {
            while (!cancelled && submitted < batches && inFlight.size() < options.prefetchBatches()) {
                inFlight.add(submit(submitted++));
            }
        }

        private Pending submit(int number) {
            int first = number * options.batchSize();
            int size = Math.min(options.batchSize(), indices.length - first);
            Pending pending = new Pending(number, size, takeBuffer());
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
            for (int attempt = 0; attempt <= MAX_SUBSTITUTES; attempt++) {
                int index = indices[(position + attempt) % indices.length];
                ImageFolder.Sample sample = dataset.get(index);
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

        private void recordSkip(ImageDecoder.UnreadableImageException e) {
            int count = skipped.incrementAndGet();
            if (skippedExamples.size() < 5) {
                skippedExamples.add(e.getMessage());
            }
            LOG.warn("Skipping unreadable image ({} in epoch {}): {}", count, epoch, e.getMessage());
            if (count > skipLimit) {
                throw new DataLoadingException(count + " unreadable images in epoch " + epoch + " exceed the tolerated "
                        + options.maxSkippedFraction() * 100 + "% of " + Math.min(indices.length,
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
