package io.milan.trainer.dist;

import io.milan.trainer.dist.DistributedException.Link;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport under the collectives: a sender thread writing chunks to the successor, a reader on the calling
 * thread taking chunks from the predecessor, a sequence number per collective, and what happens on failure.
 *
 * <p>Failure: the first error (a dead peer, a silent one, a mismatch) is recorded, an abort notice is sent on to
 * the successor (which forwards it, so every rank learns the original cause), and both connections are closed
 * (so neighbours that were not even talking to the failed rank notice at once too). From then on every
 * collective throws. A rank whose successor vanished first listens briefly to its predecessor for a notice,
 * since the successor may have closed because it learned of a failure further round the ring.
 */
final class Ring implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Ring.class);
    private static final Duration MAX_NOTICE_GRACE = Duration.ofSeconds(5);

    private final int rank;
    private final int size;
    private final RingLinks links;
    private final Duration timeout;
    private final int chunkBytes;
    private final FrameSender sender;
    private final FrameReader reader;
    private final float[] scratchA;
    private final float[] scratchB;
    private volatile DistributedException sendFailure;
    private DistributedException failure;
    private long nextSeq;

    /** One collective's work, given its sequence number. */
    interface Body<T> {
        T run(long seq);
    }

    Ring(RingLinks links, int rank, Duration timeout, int chunkBytes) {
        this.rank = rank;
        this.size = links.peers().size();
        this.links = links;
        this.timeout = timeout;
        this.chunkBytes = chunkBytes;
        this.reader = new FrameReader(links.predecessor(), rank, chunkBytes);
        this.sender = new FrameSender(links.successor(), rank, chunkBytes, timeout, this::onSendFailure);
        this.scratchA = new float[chunkBytes / Float.BYTES];
        this.scratchB = new float[chunkBytes / Float.BYTES];
        links.predecessor().setInterruption(() -> sendFailure);
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    int chunkBytes() {
        return chunkBytes;
    }

    FrameReader reader() {
        return reader;
    }

    FrameSender sender() {
        return sender;
    }

    float[] scratchA() {
        return scratchA;
    }

    float[] scratchB() {
        return scratchB;
    }

    /** Runs one collective under the next sequence number; on any ring failure aborts and throws. */
    <T> T run(Frame.Op op, Body<T> body) {
        if (failure != null) {
            throw new DistributedException(failure.peerRank(), "rank " + rank + ": the process group already "
                    + "failed and cannot run " + op + ": " + failure.getMessage());
        }
        long seq = nextSeq++;
        String during = op + " #" + seq;
        try {
            return body.run(seq);
        } catch (AbortNotice.Received received) {
            throw abort(received.notice().toException(rank, during), received.notice(), during);
        } catch (DistributedException e) {
            DistributedException withContext = new DistributedException(e.peerRank(), e.link(),
                    e.getMessage() + " (during " + during + ")", e.getCause());
            throw abort(withContext, null, during);
        }
    }

    /** Sends elements {@code [from, to)} of {@code region} as chunks; at least one (empty) chunk. */
    void send(Frame.Op op, long seq, Region region, int from, int to) {
        int per = chunkBytes / region.elementBytes();
        int count = chunkCount(to - from, per);
        for (int c = 0; c < count; c++) {
            int start = from + c * per;
            sender.send(new FrameSender.Chunk(op, seq, region.length(), region, start, Math.min(per, to - start)));
        }
    }

    /**
     * Receives a whole region sent with {@link #send}, storing it in the region {@code destination} makes for
     * the announced length, and forwards each chunk to the successor when {@code forward}.
     *
     * @param expectedTotal the length this rank expects, or -1 if the sender decides
     */
    Region receive(Frame.Op op, long seq, long expectedTotal, IntFunction<Region> destination, boolean forward) {
        ByteBuffer payload = reader.expect(op, seq, expectedTotal, -1);
        int total = Math.toIntExact(reader.lastFrame().total());
        Region region = destination.apply(total);
        int per = chunkBytes / region.elementBytes();
        int count = chunkCount(total, per);
        for (int c = 0; c < count; c++) {
            int start = c * per;
            int length = Math.min(per, total - start);
            if (c > 0) {
                payload = reader.expect(op, seq, total, length * region.elementBytes());
            } else if (payload.remaining() != length * region.elementBytes()) {
                throw new DistributedException(predecessorRank(), "rank " + rank + " expected a first "
                        + "chunk of " + length * region.elementBytes() + " bytes in " + op + " #" + seq + " but got "
                        + payload.remaining() + " (do the ranks use the same chunk size?)");
            }
            region.copyIn(start, length, payload);
            if (forward) {
                sender.send(new FrameSender.Chunk(op, seq, total, region, start, length));
            }
        }
        return region;
    }

    static int chunkCount(int length, int perChunk) {
        return Math.max(1, (length + perChunk - 1) / perChunk);
    }

    int successorRank() {
        return (rank + 1) % size;
    }

    int predecessorRank() {
        return (rank - 1 + size) % size;
    }

    /** Closes the connections with a reset, without telling anyone: what a crash looks like (test hook). */
    void closeAbruptly() {
        failure = new DistributedException(DistributedException.NO_PEER, "rank " + rank + " was closed abruptly");
        sender.close();
        links.closeAbruptly();
    }

    @Override
    public void close() {
        if (failure == null) {
            failure = new DistributedException(DistributedException.NO_PEER, "rank " + rank + " is closed");
        }
        sender.close();
        links.close();
        sender.join(Duration.ofSeconds(1));
    }

    private void onSendFailure(DistributedException e) {
        sendFailure = e;
        links.predecessor().wakeup();
    }

    private DistributedException abort(DistributedException detected, AbortNotice received, String during) {
        DistributedException cause = detected;
        AbortNotice notice = received;
        if (notice == null && detected.link() == Link.SUCCESSOR) {
            links.predecessor().setInterruption(() -> null);
            Duration grace = timeout.compareTo(MAX_NOTICE_GRACE) < 0 ? timeout : MAX_NOTICE_GRACE;
            AbortNotice news = reader.awaitNotice(grace);
            if (news != null) {
                notice = news;
                cause = news.toException(rank, during);
            }
        }
        if (notice == null) {
            notice = new AbortNotice(rank, cause.peerRank(), cause.getMessage());
        }
        failure = cause;
        sender.abort(notice); // forwards the cause before closing; a no-op if the successor is the one gone
        sender.close();
        links.close();
        LOG.error(cause.getMessage());
        return cause;
    }
}
