package io.milan.trainer.dist;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The thread that writes frames to the ring successor, so that a rank sends while its calling thread receives
 * from the predecessor (full duplex). The caller queues chunks in order; each is copied into a direct buffer
 * and written in one go. It is the only writer of the successor connection, so an abort notice always lands
 * between two whole frames.
 */
final class FrameSender implements AutoCloseable {

    /** A chunk to send: elements {@code [start, start + count)} of {@code region}. */
    record Chunk(Frame.Op op, long seq, long total, Region region, int start, int count) {
    }

    private final Connection successor;
    private final Duration timeout;
    private final Consumer<DistributedException> onFailure;
    private final ByteBuffer staging;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Chunk> queue = new ArrayDeque<>();
    private long queued;
    private long written;
    private DistributedException failure;
    private AbortNotice abortNotice;
    private boolean finished;

    /**
     * @param onFailure told (on the sender thread) when a write fails, so the receiving thread can stop waiting
     */
    FrameSender(Connection successor, int rank, int maxPayloadBytes, Duration timeout,
            Consumer<DistributedException> onFailure) {
        this.successor = successor;
        this.timeout = timeout;
        this.onFailure = onFailure;
        this.staging = ByteBuffer.allocateDirect(Frame.HEADER_BYTES + maxPayloadBytes).order(ByteOrder.nativeOrder());
        this.thread = new Thread(this::run, "milan-dist-send-rank" + rank);
        thread.setDaemon(true);
        thread.start();
    }

    void send(Chunk chunk) {
        lock.lock();
        try {
            throwIfFailed();
            if (finished) {
                throw new IllegalStateException("the process group is closed");
            }
            queue.add(chunk);
            queued++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every queued chunk has been handed to the kernel, so the caller may reuse its buffer. Fails
     * with the write error, or when the sender makes no progress for the timeout.
     */
    void awaitWritten() {
        lock.lock();
        try {
            long lastWritten = written;
            long lastProgress = System.nanoTime();
            while (written < queued) {
                throwIfFailed();
                long remaining = timeout.toNanos() - (System.nanoTime() - lastProgress);
                if (remaining <= 0) {
                    // Backstop only: the write itself times out after the same period and reports first.
                    throw new DistributedException(successor.peer().rank(), DistributedException.Link.SUCCESSOR,
                            "sending to " + successor.peer() + " made no progress for "
                            + DistConfig.secondsText(timeout), null);
                }
                changed.awaitNanos(remaining);
                if (written != lastWritten) {
                    lastWritten = written;
                    lastProgress = System.nanoTime();
                }
            }
            throwIfFailed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DistributedException(DistributedException.NO_PEER, "interrupted while sending to "
                    + successor.peer());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops queued chunks and sends {@code notice} after the frame in flight, waiting at most the timeout.
     * Returns whether the notice was written; false when the successor link had already failed.
     */
    boolean abort(AbortNotice notice) {
        lock.lock();
        try {
            if (failure != null || finished) {
                return false;
            }
            queue.clear();
            abortNotice = notice;
            changed.signalAll();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!finished) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                changed.awaitNanos(remaining);
            }
            return failure == null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Stops the thread (after the frame in flight, or at once if the connection is closed under it). */
    @Override
    public void close() {
        lock.lock();
        try {
            finished = true;
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits (bounded) for the thread to end; called after the connection is closed. */
    void join(Duration bound) {
        try {
            thread.join(Math.max(1, bound.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (true) {
            Chunk chunk;
            AbortNotice notice;
            lock.lock();
            try {
                while (queue.isEmpty() && abortNotice == null && !finished) {
                    changed.awaitUninterruptibly();
                }
                if (finished) {
                    return;
                }
                notice = abortNotice;
                chunk = notice == null ? queue.poll() : null;
            } finally {
                lock.unlock();
            }
            try {
                if (notice != null) {
                    writeAbort(notice);
                } else {
                    writeChunk(chunk);
                }
            } catch (DistributedException e) {
                fail(e);
                return;
            }
            lock.lock();
            try {
                if (notice != null) {
                    finished = true;
                } else {
                    written++;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            if (notice != null) {
                return;
            }
        }
    }

    private void writeChunk(Chunk chunk) {
        int payloadBytes = chunk.count() * chunk.region().elementBytes();
        staging.clear();
        Frame.data(chunk.op(), chunk.seq(), chunk.total(), payloadBytes).writeTo(staging);
        chunk.region().copyOut(chunk.start(), chunk.count(), staging);
        staging.flip();
        successor.writeFully(staging);
    }

    private void writeAbort(AbortNotice notice) {
        byte[] payload = notice.encode();
        ByteBuffer frame = ByteBuffer.allocate(Frame.HEADER_BYTES + payload.length).order(ByteOrder.nativeOrder());
        new Frame(Frame.ABORT, 0, 0, 0, payload.length).writeTo(frame);
        frame.put(payload).flip();
        successor.writeFully(frame);
    }

    private void fail(DistributedException e) {
        lock.lock();
        try {
            failure = e;
            finished = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        onFailure.accept(e);
    }

    private void throwIfFailed() {
        if (failure != null) {
            throw failure;
        }
    }
}
