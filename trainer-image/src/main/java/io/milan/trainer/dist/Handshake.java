package io.milan.trainer.dist;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;

/**
 * The small messages of the rendezvous: a worker's JOIN to rank 0, rank 0's WELCOME (every rank's address) or
 * REFUSED (why), and the RING_HELLO / RING_OK exchanged when a rank dials its ring successor. Each message is
 * {@code int length, int magic, int version, byte type, body} in big-endian (DataOutputStream) order.
 */
final class Handshake {

    static final int MAGIC = 0x4D494C4E; // "MILN"
    static final int VERSION = 1;
    private static final int MAX_MESSAGE_BYTES = 1 << 20;

    static final byte JOIN = 1;
    static final byte WELCOME = 2;
    static final byte REFUSED = 3;
    static final byte RING_HELLO = 4;
    static final byte RING_OK = 5;

    private Handshake() {
    }

    /** A received message: its type and a reader positioned at its body. */
    record Message(byte type, DataInputStream body) {
    }

    /** A worker asking rank 0 to join; {@code host:port} is where it listens for its ring predecessor. */
    record Join(int rank, int worldSize, int attempt, boolean littleEndian, String host, int port) {
    }

    /** Sent on a new ring connection so the acceptor can check who dialled. */
    record RingHello(int rank, int worldSize, int attempt) {
    }

    /** The bytes did not follow this protocol (a port scanner, a health probe, another program). */
    static final class MalformedException extends RuntimeException {
        MalformedException(String message) {
            super(message);
        }
    }

    static void sendJoin(Connection to, Join join) {
        send(to, JOIN, out -> {
            out.writeInt(join.rank());
            out.writeInt(join.worldSize());
            out.writeInt(join.attempt());
            out.writeBoolean(join.littleEndian());
            out.writeUTF(join.host());
            out.writeInt(join.port());
        });
    }

    static Join readJoin(Message message) {
        return decode(message, in -> new Join(in.readInt(), in.readInt(), in.readInt(), in.readBoolean(), in.readUTF(),
                in.readInt()));
    }

    static void sendWelcome(Connection to, Peer[] table) {
        send(to, WELCOME, out -> {
            out.writeInt(table.length);
            for (Peer peer : table) {
                out.writeUTF(peer.host());
                out.writeInt(peer.port());
            }
        });
    }

    static Peer[] readWelcome(Message message) {
        return decode(message, in -> {
            int n = in.readInt();
            if (n < 1 || n > 1_000_000) {
                throw new MalformedException("a welcome listing " + n + " ranks");
            }
            Peer[] table = new Peer[n];
            for (int rank = 0; rank < n; rank++) {
                table[rank] = new Peer(rank, in.readUTF(), in.readInt());
            }
            return table;
        });
    }

    static void sendRefused(Connection to, String reason) {
        send(to, REFUSED, out -> out.writeUTF(reason));
    }

    static String readRefused(Message message) {
        return decode(message, in -> in.readUTF());
    }

    static void sendRingHello(Connection to, RingHello hello) {
        send(to, RING_HELLO, out -> {
            out.writeInt(hello.rank());
            out.writeInt(hello.worldSize());
            out.writeInt(hello.attempt());
        });
    }

    static RingHello readRingHello(Message message) {
        return decode(message, in -> new RingHello(in.readInt(), in.readInt(), in.readInt()));
    }

    static void sendRingOk(Connection to) {
        send(to, RING_OK, out -> { });
    }

    static boolean nativeLittleEndian() {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    /** Reads one message; a peer silent for {@code inactivity} fails with the connection's timeout error. */
    static Message receive(Connection from, Duration inactivity) {
        ByteBuffer lengthBuffer = ByteBuffer.allocate(4);
        from.readFully(lengthBuffer, inactivity);
        int length = lengthBuffer.getInt(0);
        if (length < 9 || length > MAX_MESSAGE_BYTES) {
            throw new MalformedException("a message length of " + length + " bytes");
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        from.readFully(payload, inactivity);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload.array()));
        try {
            int magic = in.readInt();
            int version = in.readInt();
            if (magic != MAGIC) {
                throw new MalformedException(String.format("magic 0x%08x instead of 0x%08x", magic, MAGIC));
            }
            if (version != VERSION) {
                throw new MalformedException("protocol version " + version + " while this trainer speaks " + VERSION
                        + " (are all pods running the same trainer image?)");
            }
            return new Message(in.readByte(), in);
        } catch (IOException e) {
            throw new MalformedException("a truncated message header");
        }
    }

    private interface BodyWriter {
        void write(DataOutputStream out) throws IOException;
    }

    private interface BodyReader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static void send(Connection to, byte type, BodyWriter body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0); // length, patched below
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeByte(type);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
        ByteBuffer message = ByteBuffer.wrap(bytes.toByteArray());
        message.putInt(0, message.capacity() - 4);
        to.writeFully(message);
    }

    private static <T> T decode(Message message, BodyReader<T> reader) {
        try {
            return reader.read(message.body());
        } catch (IOException e) {
            throw new MalformedException("a truncated message of type " + message.type());
        }
    }
}
