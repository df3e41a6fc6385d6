package io.milan.trainer.data.shards;

import io.milan.trainer.data.DataLoadingException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * One rank's samples of one epoch, in the shuffle buffer's order ({@link ShuffleOrder} over the plan's
 * {@link ShardEpochPlan.Segment}s). A background thread reads whole shards ahead (up to {@code prefetchShards}
 * waiting besides the one being read), so the consumer rarely waits for I/O; the data workers only decode.
 *
 * <p>Starting at emission {@code skip} (a resume) reads nothing for the segments before the earliest position still
 * to be emitted, and drops the samples already emitted: the rest of the epoch is exactly what an uninterrupted
 * stream would have given.
 */
public final class ShardStream implements AutoCloseable {

    private final ShardedDataset data;
    private final List<ShardEpochPlan.Segment> segments;
    private final int[] order;
    private final boolean[] emittedBefore;
    private final BlockingQueue<Object> loaded;
    private final Thread reader;
    private final Map<Integer, EncodedSample> available = new HashMap<>();
    private int next;
    private int nextPosition; // the stream position of the next loaded segment's first sample
    private volatile boolean closed;

    /** The end of the segments, in the queue. */
    private static final Object END = new Object();

    ShardStream(ShardedDataset data, List<ShardEpochPlan.Segment> segments, int[] order, int skip,
            int prefetchShards) {
        this.data = data;
        this.segments = List.copyOf(segments);
        this.order = order;
        this.next = skip;
        this.emittedBefore = new boolean[order.length];
        int earliest = order.length;
        for (int i = 0; i < order.length; i++) {
            if (i < skip) {
                emittedBefore[order[i]] = true;
            } else {
                earliest = Math.min(earliest, order[i]);
            }
        }
        // Segments that end before the earliest position still needed are not read at all.
        int first = 0;
        int position = 0;
        while (first < this.segments.size() && position + this.segments.get(first).length() <= earliest) {
            position += this.segments.get(first).length();
            first++;
        }
        this.nextPosition = position;
        this.loaded = new ArrayBlockingQueue<>(Math.max(1, prefetchShards));
        int from = first;
        this.reader = new Thread(() -> readFrom(from), "milan-shards");
        reader.setDaemon(true);
        reader.start();
    }

    /** Samples this stream yields in all (also those skipped by a resume). */
    public int length() {
        return order.length;
    }

    /** The next sample; throws {@link DataLoadingException} naming the shard when one cannot be read. */
    public EncodedSample next() {
        if (next >= order.length) {
            throw new NoSuchElementException("the stream's " + order.length + " samples are used up");
        }
        int position = order[next];
        while (!available.containsKey(position)) {
            takeSegment();
        }
        next++;
        return available.remove(position);
    }

    private void takeSegment() {
        Object item;
        try {
            item = loaded.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataLoadingException("interrupted while waiting for a shard of " + data.location(), e);
        }
        if (item instanceof Failure f) {
            throw new DataLoadingException(f.error().getMessage(), f.error());
        }
        if (item == END) {
            throw new IllegalStateException("shard stream ended before position " + order[next]);
        }
        @SuppressWarnings("unchecked")
        List<EncodedSample> samples = (List<EncodedSample>) item;
        for (EncodedSample s : samples) {
            if (!emittedBefore[nextPosition]) {
                available.put(nextPosition, s);
            }
            nextPosition++;
        }
    }

    private void readFrom(int first) {
        try {
            for (int k = first; k < segments.size() && !closed; k++) {
                ShardEpochPlan.Segment segment = segments.get(k);
                List<EncodedSample> whole = data.readShard(segment.shard());
                loaded.put(new ArrayList<>(whole.subList(segment.from(), segment.to())));
            }
            loaded.put(END);
        } catch (InterruptedException e) {
            // closed
        } catch (Exception e) {
            try {
                loaded.put(new Failure(e));
            } catch (InterruptedException ignored) {
                // closed
            }
        }
    }

    /** Stops the reader thread. */
    @Override
    public void close() {
        closed = true;
        reader.interrupt();
        loaded.clear();
        try {
            reader.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        available.clear();
    }

    private record Failure(Exception error) {
    }
}
