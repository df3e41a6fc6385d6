package io.milan.trainer.dist;

import io.milan.trainer.dist.DistributedException.Link;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One TCP connection to a peer, in non-blocking mode with its own selector so that every read and write has a
 * deadline: it fails when no byte moves for {@code timeout} (an inactivity timeout, not a deadline for the whole
 * transfer, so a 400 MB all-reduce is fine as long as bytes keep flowing). Failures are
 * {@link DistributedException}s naming this rank, the peer and the connection's role.
 *
 * <p>Used by one thread at a time; {@link #wakeup()} and {@link #close()} may come from another thread.
 */
final class Connection implements AutoCloseable {

    /**
     * SO_SNDBUF/SO_RCVBUF in bytes; 0 keeps Linux's autotuning (which grows to net.ipv4.tcp_rmem's maximum,
     * while an explicit value is capped at net.core.rmem_max). Override with -Dmilan.dist.socketBuffer=BYTES.
     */
    static final int SOCKET_BUFFER_BYTES = Integer.getInteger("milan.dist.socketBuffer", 0);

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final int localRank;
    private final Peer peer;
    private final Link link;
    private final Duration timeout;
    private volatile Supplier<DistributedException> interruption = () -> null;

    private Connection(SocketChannel channel, int localRank, Peer peer, Link link, Duration timeout)
            throws IOException {
        this.channel = channel;
        this.localRank = localRank;
        this.peer = peer;
        this.link = link;
        this.timeout = timeout;
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        applyBufferSizes(channel);
        this.selector = Selector.open();
        this.key = channel.register(selector, 0);
    }

    /** Wraps a connected channel; on failure the channel is closed. */
    static Connection wrap(SocketChannel channel, int localRank, Peer peer, Link link, Duration timeout) {
        try {
            return new Connection(channel, localRank, peer, link, timeout);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new DistributedException(peer.rank(), link,
                    "rank " + localRank + " could not set up its connection to " + peer + ": " + e, e);
        }
    }

    /** Sets the configured socket buffer sizes (on a listener they are inherited by accepted sockets). */
    static void applyBufferSizes(NetworkChannel channel) throws IOException {
        if (SOCKET_BUFFER_BYTES > 0) {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            if (channel instanceof SocketChannel) {
                channel.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            }
        }
    }

    Peer peer() {
        return peer;
    }

    /** A check run whenever a wait wakes up; a non-null result is thrown (another thread saw a failure). */
    void setInterruption(Supplier<DistributedException> check) {
        this.interruption = check;
    }

    void readFully(ByteBuffer dst) {
        readFully(dst, timeout);
    }

    /** Fills {@code dst}, failing on end of stream, on an error, or when no byte arrives for {@code inactivity}. */
    void readFully(ByteBuffer dst, Duration inactivity) {
        long lastProgress = System.nanoTime();
        while (dst.hasRemaining()) {
            int n;
            try {
                n = channel.read(dst);
            } catch (IOException | RuntimeException e) {
                throw lostOr(e);
            }
            if (n < 0) {
                throw lost("end of stream: the peer closed the connection (its process exited, crashed or gave up)",
                        null);
            }
            if (n > 0) {
                lastProgress = System.nanoTime();
            } else {
                await(SelectionKey.OP_READ, lastProgress, inactivity, "received no bytes from");
            }
        }
    }

    /** Sends all of {@code src}, failing on an error or when no byte can be sent for the timeout. */
    void writeFully(ByteBuffer src) {
        long lastProgress = System.nanoTime();
        while (src.hasRemaining()) {
            int n;
            try {
                n = channel.write(src);
            } catch (IOException | RuntimeException e) {
                throw lostOr(e);
            }
            if (n > 0) {
                lastProgress = System.nanoTime();
            } else {
                await(SelectionKey.OP_WRITE, lastProgress, timeout, "could not send any bytes to");
            }
        }
    }

    /** Makes a wait in progress re-check its interruption now. */
    void wakeup() {
        selector.wakeup();
    }

    InetSocketAddress localAddress() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    @Override
    public void close() {
        closeQuietly(channel);
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing: nothing left to do
        }
    }

    /** Closes with a TCP reset instead of a graceful FIN, as a crashed host would look (used by tests). */
    void closeAbruptly() {
        try {
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException ignored) {
            // already closed
        }
        close();
    }

    private void await(int op, long lastProgress, Duration inactivity, String verb) {
        checkInterruption();
        long remainingNanos = inactivity.toNanos() - (System.nanoTime() - lastProgress);
        if (remainingNanos <= 0) {
            throw new DistributedException(peer.rank(), link, "rank " + localRank + " " + verb + " " + peer
                    + ", its " + role() + ", for " + DistConfig.secondsText(inactivity)
                    + " (--dist_timeout / MILAN_DIST_TIMEOUT): the peer hung, is far behind, or the network dropped",
                    null);
        }
        try {
            key.interestOps(op);
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remainingNanos)));
            selector.selectedKeys().clear();
        } catch (IOException | RuntimeException e) {
            throw lostOr(e);
        }
        checkInterruption();
    }

    private void checkInterruption() {
        DistributedException pending = interruption.get();
        if (pending != null) {
            throw pending;
        }
    }

    /** The interruption if one is pending (we were closed because of it), else a lost-connection error. */
    private DistributedException lostOr(Exception e) {
        DistributedException pending = interruption.get();
        if (pending != null) {
            return pending;
        }
        String detail = e instanceof ClosedSelectorException || e instanceof ClosedChannelException
                ? "the connection was closed locally" : e.getClass().getSimpleName() + ": " + e.getMessage();
        return lost(detail, e);
    }

    private DistributedException lost(String detail, Throwable cause) {
        return new DistributedException(peer.rank(), link,
                "rank " + localRank + " lost its connection to " + peer + ", its " + role() + ": " + detail, cause);
    }

    private String role() {
        return switch (link) {
            case PREDECESSOR -> "ring predecessor";
            case SUCCESSOR -> "ring successor";
            case OTHER -> "rendezvous peer";
        };
    }

    static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing after a failure: the first error is the one reported
        }
    }
}
