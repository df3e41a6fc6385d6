package io.milan.trainer.dist;

import io.milan.trainer.dist.DistributedException.Link;
import io.milan.trainer.dist.Handshake.Join;
import io.milan.trainer.dist.Handshake.MalformedException;
import io.milan.trainer.dist.Handshake.Message;
import io.milan.trainer.dist.Handshake.RingHello;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forms the ring. Rank 0 listens on MASTER_PORT; every other rank dials it (retrying until the timeout: pods
 * start at different times and rank 0's DNS name may resolve late), says who it is and where it listens, and
 * gets back everyone's address, or a refusal when its attempt, world size or rank does not fit. Then each rank
 * dials its successor (rank + 1, rank 0's successor being rank 1 and rank N-1's being rank 0 on MASTER_PORT)
 * and accepts its predecessor. Every wait ends at a deadline of one timeout per phase.
 */
final class Rendezvous {

    private static final Logger LOG = LoggerFactory.getLogger(Rendezvous.class);
    /** How long an accepted connection may take to say who it is before it is dropped. */
    private static final Duration HELLO_WAIT = Duration.ofSeconds(10);
    private static final long MAX_BACKOFF_MILLIS = 1000;

    /** Test hook: told about each failed attempt to reach a peer. */
    interface Events {
        Events NONE = (peer, attempt, error) -> { };

        void connectFailed(Peer peer, int attempt, String error);
    }

    private final DistConfig config;
    private final Events events;
    private final int rank;
    private final int worldSize;

    private Rendezvous(DistConfig config, Events events) {
        this.config = config;
        this.events = events;
        this.rank = config.rank();
        this.worldSize = config.worldSize();
    }

    /** Joins the group described by {@code config} (WORLD_SIZE > 1) and returns this rank's ring links. */
    static RingLinks establish(DistConfig config, Events events) {
        Rendezvous rendezvous = new Rendezvous(config, events);
        return config.rank() == 0 ? rendezvous.asRankZero() : rendezvous.asWorker();
    }

    private RingLinks asRankZero() {
        long deadline = deadlineFromNow();
        Peer self = new Peer(0, config.masterAddr(), config.masterPort());
        try (Listener listener = Listener.open(loopbackOrWildcard(config.masterAddr()), config.masterPort(),
                "rank 0 cannot listen on MASTER_PORT")) {
            Peer[] table = new Peer[worldSize];
            table[0] = self;
            Map<Integer, Connection> joined = new TreeMap<>();
            try {
                while (joined.size() < worldSize - 1) {
                    SocketChannel channel = listener.accept(deadline, () -> new DistributedException(
                            firstMissing(table), "rank 0 (attempt " + config.attempt() + ", MASTER_PORT "
                            + config.masterPort() + "): " + missingRanks(table) + " did not join within "
                            + config.timeoutText()));
                    admit(channel, table, joined);
                }
                for (Connection worker : joined.values()) {
                    Handshake.sendWelcome(worker, table);
                }
            } catch (RuntimeException e) {
                for (Connection worker : joined.values()) {
                    tryRefuse(worker, "rank 0 gave up forming the group: " + e.getMessage());
                }
                throw e;
            } finally {
                joined.values().forEach(Connection::close);
            }
            LOG.info("rank 0: all {} ranks joined (attempt {}), forming the ring", worldSize, config.attempt());
            return formRing(listener, table);
        }
    }

    /** Reads a join from {@code channel}; adds it to the table, refuses it, or fails rank 0 when it cannot fit. */
    private void admit(SocketChannel channel, Peer[] table, Map<Integer, Connection> joined) {
        Connection visitor = Connection.wrap(channel, 0, visitorPeer(channel), Link.OTHER, config.timeout());
        Message message;
        try {
            message = Handshake.receive(visitor, shorter(HELLO_WAIT, config.timeout()));
        } catch (DistributedException | MalformedException e) {
            LOG.warn("rank 0: dropping a connection from {} that sent no valid join: {}", visitor.peer().host(),
                    e.getMessage());
            visitor.close();
            return;
        }
        if (message.type() != Handshake.JOIN) {
            refuse(visitor, "rank 0 expected a join message while the group forms, got message type "
                    + message.type());
            return;
        }
        Join join = Handshake.readJoin(message);
        String who = "rank " + join.rank() + " (attempt " + join.attempt() + ", from " + join.host() + ")";
        if (join.attempt() < config.attempt()) {
            // A pod of an older gang attempt still running: turn it away and keep waiting for the real one.
            refuse(visitor, who + " is from an older attempt: rank 0 runs attempt " + config.attempt());
            LOG.warn("rank 0: refused stale {}", who);
            return;
        }
        String problem = null;
        if (join.attempt() > config.attempt()) {
            problem = who + " is from a newer attempt than rank 0 (attempt " + config.attempt()
                    + "): this rank 0 is stale";
        } else if (join.worldSize() != worldSize) {
            problem = who + " has WORLD_SIZE " + join.worldSize() + " but rank 0 has WORLD_SIZE " + worldSize;
        } else if (join.rank() < 1 || join.rank() >= worldSize) {
            problem = who + " has a NODE_RANK outside [1, " + worldSize + ")";
        } else if (table[join.rank()] != null) {
            problem = who + " joined twice: rank " + join.rank() + " already joined from " + table[join.rank()];
        } else if (join.littleEndian() != Handshake.nativeLittleEndian()) {
            problem = who + " has a different byte order than rank 0";
        }
        if (problem != null) {
            refuse(visitor, "refused by rank 0: " + problem);
            throw new DistributedException(join.rank(), "rank 0 refused " + problem);
        }
        table[join.rank()] = new Peer(join.rank(), join.host(), join.port());
        joined.put(join.rank(), visitor);
        LOG.info("rank 0: {} joined ({}/{})", table[join.rank()], joined.size() + 1, worldSize);
    }

    private RingLinks asWorker() {
        long deadline = deadlineFromNow();
        Peer master = new Peer(0, config.masterAddr(), config.masterPort());
        try (Connection toMaster = connect(master, Link.OTHER, deadline)) {
            // Listen on the address this host uses to reach rank 0: the pod IP in Kubernetes, loopback in tests.
            InetAddress local = toMaster.localAddress().getAddress();
            try (Listener listener = Listener.open(local, 0, "rank " + rank + " cannot listen on")) {
                Handshake.sendJoin(toMaster, new Join(rank, worldSize, config.attempt(),
                        Handshake.nativeLittleEndian(), local.getHostAddress(), listener.port()));
                // Rank 0 decides by its own deadline (one timeout after it started, before we joined) plus at
                // most one HELLO_WAIT spent on a visitor; waiting that long here means we always hear the verdict.
                Message reply = Handshake.receive(toMaster, config.timeout().plus(HELLO_WAIT));
                if (reply.type() == Handshake.REFUSED) {
                    throw new DistributedException(0, "rank " + rank + " (attempt " + config.attempt()
                            + ", WORLD_SIZE " + worldSize + ") was refused by rank 0 at " + master.host() + ":"
                            + master.port() + ": " + Handshake.readRefused(reply));
                }
                if (reply.type() != Handshake.WELCOME) {
                    throw new MalformedException("message type " + reply.type() + " instead of a welcome");
                }
                Peer[] table = Handshake.readWelcome(reply);
                if (table.length != worldSize) {
                    throw new DistributedException(0, "rank 0 described " + table.length + " ranks but WORLD_SIZE is "
                            + worldSize);
                }
                toMaster.close();
                return formRing(listener, table);
            }
        } catch (IOException e) {
            throw new DistributedException(0, "rank " + rank + " failed to join rank 0: " + e);
        } catch (MalformedException e) {
            throw new DistributedException(0, "rank " + rank + " got a malformed reply from rank 0 at "
                    + master.host() + ":" + master.port() + ": " + e.getMessage());
        }
    }

    /** Dials the successor, accepts the predecessor, and checks both are who the table says. */
    private RingLinks formRing(Listener listener, Peer[] table) {
        long deadline = deadlineFromNow();
        Peer successor = table[(rank + 1) % worldSize];
        Peer predecessor = table[(rank - 1 + worldSize) % worldSize];
        Connection out = connect(successor, Link.SUCCESSOR, deadline);
        Connection in = null;
        try {
            // Dialling first cannot deadlock: connections complete in the peer's backlog before it accepts.
            Handshake.sendRingHello(out, new RingHello(rank, worldSize, config.attempt()));
            in = acceptPredecessor(listener, predecessor, deadline);
            Message reply = Handshake.receive(out, config.timeout());
            if (reply.type() == Handshake.REFUSED) {
                throw new DistributedException(successor.rank(), "rank " + rank + " was refused by its ring successor "
                        + successor + ": " + Handshake.readRefused(reply));
            }
            if (reply.type() != Handshake.RING_OK) {
                throw new DistributedException(successor.rank(), "rank " + rank + " got message type " + reply.type()
                        + " from its ring successor " + successor + " instead of an acknowledgement");
            }
            LOG.info("rank {}: ring formed (sends to {}, receives from {})", rank, successor, predecessor);
            return new RingLinks(List.of(table), out, in);
        } catch (RuntimeException e) {
            out.close();
            Connection.closeQuietly(in);
            if (e instanceof MalformedException) {
                throw new DistributedException(successor.rank(), "rank " + rank + " got a malformed message while "
                        + "forming the ring: " + e.getMessage());
            }
            throw e;
        }
    }

    private Connection acceptPredecessor(Listener listener, Peer predecessor, long deadline) {
        while (true) {
            SocketChannel channel = listener.accept(deadline, () -> new DistributedException(predecessor.rank(),
                    "rank " + rank + ": its ring predecessor " + predecessor + " did not connect within "
                    + config.timeoutText()));
            Connection in = Connection.wrap(channel, rank, predecessor, Link.PREDECESSOR, config.timeout());
            Message message;
            try {
                message = Handshake.receive(in, shorter(HELLO_WAIT, config.timeout()));
            } catch (DistributedException | MalformedException e) {
                LOG.warn("rank {}: dropping a connection that sent no valid ring hello: {}", rank, e.getMessage());
                in.close();
                continue;
            }
            if (message.type() == Handshake.JOIN) {
                Join late = Handshake.readJoin(message);
                refuse(in, "rank " + late.rank() + " (attempt " + late.attempt() + ") came too late: the group of "
                        + "attempt " + config.attempt() + " has already formed");
                continue;
            }
            if (message.type() != Handshake.RING_HELLO) {
                refuse(in, "expected a ring hello, got message type " + message.type());
                continue;
            }
            RingHello hello = Handshake.readRingHello(message);
            if (hello.attempt() != config.attempt()) {
                refuse(in, "rank " + rank + " runs attempt " + config.attempt() + ", not " + hello.attempt());
                continue;
            }
            if (hello.rank() != predecessor.rank() || hello.worldSize() != worldSize) {
                String problem = "rank " + rank + " expected its predecessor rank " + predecessor.rank()
                        + " of " + worldSize + " but rank " + hello.rank() + " of " + hello.worldSize() + " dialled";
                refuse(in, problem);
                throw new DistributedException(hello.rank(), problem);
            }
            Handshake.sendRingOk(in);
            return in;
        }
    }

    /** Dials {@code peer}, retrying until {@code deadline} while it is not up or its name does not resolve. */
    private Connection connect(Peer peer, Link link, long deadline) {
        long backoffMillis = 50;
        String lastError;
        for (int attempt = 1; ; attempt++) {
            SocketChannel channel = null;
            try {
                InetSocketAddress address = new InetSocketAddress(peer.host(), peer.port()); // resolves anew
                if (address.isUnresolved()) {
                    throw new UnknownHostException(peer.host() + " does not resolve (yet)");
                }
                channel = SocketChannel.open();
                channel.configureBlocking(false);
                Connection.applyBufferSizes(channel);
                if (!channel.connect(address)) {
                    finishConnect(channel, deadline);
                }
                return Connection.wrap(channel, rank, peer, link, config.timeout());
            } catch (IOException e) {
                Connection.closeQuietly(channel);
                lastError = e.toString();
                events.connectFailed(peer, attempt, lastError);
            }
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis) - deadline >= 0) {
                throw new DistributedException(peer.rank(), link, "rank " + rank + " could not connect to " + peer
                        + " within " + config.timeoutText() + " (" + attempt + " attempts); last error: "
                        + lastError, null);
            }
            pause(backoffMillis);
            backoffMillis = Math.min(2 * backoffMillis, MAX_BACKOFF_MILLIS);
        }
    }

    private static void finishConnect(SocketChannel channel, long deadline) throws IOException {
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_CONNECT);
            long remaining = Math.min(deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(5));
            if (remaining > 0) {
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
            }
            if (!channel.finishConnect()) {
                throw new IOException("connect timed out");
            }
        }
    }

    private void pause(long millis) {
        try {
            Thread.sleep(millis); // retry back-off while a peer is not up yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DistributedException(DistributedException.NO_PEER, "rank " + rank
                    + " was interrupted while joining the group");
        }
    }

    private void refuse(Connection visitor, String reason) {
        tryRefuse(visitor, reason);
        visitor.close();
    }

    private static void tryRefuse(Connection visitor, String reason) {
        try {
            Handshake.sendRefused(visitor, reason);
        } catch (RuntimeException ignored) {
            // the visitor is gone already; nothing to tell
        }
    }

    /**
     * Rank 0 listens on MASTER_ADDR itself when that is a loopback address (local runs and tests stay on
     * loopback), else on every interface: in Kubernetes MASTER_ADDR names this very pod, and its DNS record
     * may not exist yet when rank 0 starts.
     */
    private static InetAddress loopbackOrWildcard(String masterAddr) {
        try {
            InetAddress address = InetAddress.getByName(masterAddr);
            return address.isLoopbackAddress() ? address : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private Peer visitorPeer(SocketChannel channel) {
        String host = "?";
        int port = 0;
        try {
            InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
            host = remote.getAddress().getHostAddress();
            port = remote.getPort();
        } catch (IOException | RuntimeException ignored) {
            // reported as "?" below
        }
        return new Peer(DistributedException.NO_PEER, host, port);
    }

    private long deadlineFromNow() {
        return System.nanoTime() + config.timeout().toNanos();
    }

    private static Duration shorter(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String missingRanks(Peer[] table) {
        List<Integer> missing = new ArrayList<>();
        for (int r = 0; r < table.length; r++) {
            if (table[r] == null) {
                missing.add(r);
            }
        }
        return (missing.size() == 1 ? "rank " : "ranks ") + missing.toString().replaceAll("[\\[\\]]", "");
    }

    private static int firstMissing(Peer[] table) {
        return Arrays.asList(table).indexOf(null);
    }
}
