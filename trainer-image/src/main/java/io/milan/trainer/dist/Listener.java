package io.milan.trainer.dist;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** A listening socket whose {@link #accept} waits only until a deadline. */
final class Listener implements AutoCloseable {

    private final ServerSocketChannel channel;
    private final Selector selector;

    private Listener(ServerSocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    /**
     * Listens on {@code address:port} ({@code address} null = every interface, {@code port} 0 = any free port).
     *
     * @param what names the socket in the error, e.g. "rank 0 cannot listen on MASTER_PORT"
     */
    static Listener open(InetAddress address, int port, String what) {
        ServerSocketChannel channel = null;
        try {
            channel = ServerSocketChannel.open();
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            Connection.applyBufferSizes(channel);
            channel.bind(new InetSocketAddress(address, port), 128);
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            channel.register(selector, SelectionKey.OP_ACCEPT);
            return new Listener(channel, selector);
        } catch (IOException e) {
            Connection.closeQuietly(channel);
            String where = (address == null ? "*" : address.getHostAddress()) + ":" + port;
            throw new DistributedException(DistributedException.NO_PEER, what + " " + where + ": " + e);
        }
    }

    int port() {
        return channel.socket().getLocalPort();
    }

    /** The next incoming connection; throws {@code onTimeout.get()} once {@code deadlineNanos} has passed. */
    SocketChannel accept(long deadlineNanos, Supplier<DistributedException> onTimeout) {
        try {
            while (true) {
                SocketChannel accepted = channel.accept();
                if (accepted != null) {
                    return accepted;
                }
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    throw onTimeout.get();
                }
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            throw new DistributedException(DistributedException.NO_PEER,
                    "accepting a connection on port " + port() + " failed: " + e);
        }
    }

    @Override
    public void close() {
        Connection.closeQuietly(channel);
        Connection.closeQuietly(selector);
    }
}
