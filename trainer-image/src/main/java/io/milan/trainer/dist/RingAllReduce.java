package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Ring all-reduce (mean) of float32 values: reduce-scatter then all-gather, each N-1 steps, as in Baidu's
 * ring-allreduce and NCCL's ring algorithm.
 *
 * <p>The buffer is cut into N segments (sizes differ by at most one element). In reduce-scatter step s, rank r
 * sends segment r-s to its successor and adds segment r-s-1 from its predecessor into its own copy; after N-1
 * steps it holds the full sum of segment r+1, divides it by N, and the all-gather passes the finished segments
 * round the ring. Each rank sends and receives 2(N-1)/N of the buffer, whatever N is.
 *
 * <p>Segments travel in chunks and every received chunk is forwarded as soon as it is reduced, so a large buffer
 * streams through the ring instead of moving segment by segment. Each segment is reduced and divided by exactly
 * one rank, so every rank ends with bit-identical results (replicas must never drift apart); the summation
 * order differs from a serial sum, hence results equal the exact mean only up to float rounding.
 */
final class RingAllReduce {

    private RingAllReduce() {
    }

    static void mean(Ring ring, long seq, FloatBuffer data) {
        Region.Floats region = new Region.Floats(data);
        FloatBuffer values = region.data();
        int n = ring.size();
        int total = values.limit();
        Segments segments = new Segments(total, n, ring.chunkBytes() / Float.BYTES);
        int r = ring.rank();

        ring.send(Frame.Op.ALL_REDUCE_MEAN, seq, region, segments.start(r), segments.end(r));
        int steps = 2 * (n - 1);
        for (int step = 0; step < steps; step++) {
            boolean reducing = step < n - 1;
            int segment = reducing ? Math.floorMod(r - step - 1, n) : Math.floorMod(r - (step - (n - 1)), n);
            int divisor = step == n - 2 ? n : 1; // the last reduction completes the sum: make it the mean
            boolean forward = step < steps - 1;
            for (int c = 0; c < segments.chunks(segment); c++) {
                int start = segments.chunkStart(segment, c);
                int count = segments.chunkLength(segment, c);
                ByteBuffer payload = ring.reader().expect(Frame.Op.ALL_REDUCE_MEAN, seq, total, count * Float.BYTES);
                if (reducing) {
                    add(values, start, count, payload, divisor, ring);
                } else {
                    region.copyIn(start, count, payload);
                }
                if (forward) {
                    ring.sender().send(new FrameSender.Chunk(Frame.Op.ALL_REDUCE_MEAN, seq, total, region, start,
                            count));
                }
            }
        }
        ring.sender().awaitWritten();
    }

    /** values[start..start+count) = (values + incoming) / divisor. */
    private static void add(FloatBuffer values, int start, int count, ByteBuffer payload, int divisor, Ring ring) {
        float[] incoming = ring.scratchA();
        payload.asFloatBuffer().get(incoming, 0, count);
        float[] mine;
        int offset;
        if (values.hasArray()) {
            mine = values.array();
            offset = values.arrayOffset() + start;
        } else {
            mine = ring.scratchB();
            offset = 0;
            values.get(start, mine, 0, count);
        }
        if (divisor == 1) {
            for (int i = 0; i < count; i++) {
                mine[offset + i] += incoming[i];
            }
        } else {
            float n = divisor;
            for (int i = 0; i < count; i++) {
                mine[offset + i] = (mine[offset + i] + incoming[i]) / n;
            }
        }
        if (!values.hasArray()) {
            values.put(start, mine, 0, count);
        }
    }

    /** Segment and chunk boundaries, computed identically on every rank. */
    private record Segments(int total, int n, int perChunk) {

        int start(int segment) {
            return (int) ((long) segment * total / n);
        }

        int end(int segment) {
            return start(segment + 1);
        }

        int chunks(int segment) {
            return Ring.chunkCount(end(segment) - start(segment), perChunk);
        }

        int chunkStart(int segment, int chunk) {
            return start(segment) + chunk * perChunk;
        }

        int chunkLength(int segment, int chunk) {
            return Math.min(perChunk, end(segment) - chunkStart(segment, chunk));
        }
    }
}
