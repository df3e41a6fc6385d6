package io.milan.trainer.tensorboard;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PyTorch's {@code SummaryWriter(log_dir)} for scalars: one new event file per run in {@code logDir}. Buffered
 * records reach the file at {@link #flush()} (each epoch) and at least every {@link #FLUSH_SECONDS} seconds, so
 * TensorBoard shows a run while it trains. The event files are a side output: the first write failure is logged
 * once and turns the writer off; it never stops training.
 */
public final class SummaryWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SummaryWriter.class);

    /** The longest a scalar waits in the buffer (PyTorch's default flush_secs is 120). */
    public static final int FLUSH_SECONDS = 10;

    private final Path logDir;
    private final Clock clock;
    private EventFile events; // null once a write failed
    private double lastFlush;

    /** Wall-clock seconds since the epoch (event wall_time); a parameter so tests can drive the flush timer. */
    public interface Clock {
        double seconds();

        Clock SYSTEM = () -> System.currentTimeMillis() / 1000.0;
    }

    private SummaryWriter(Path logDir, Clock clock) {
        this.logDir = logDir;
        this.clock = clock;
        this.lastFlush = clock.seconds();
        try {
            this.events = EventFile.create(logDir, hostName(), lastFlush);
        } catch (IOException | RuntimeException e) {
            failed("create an event file", e);
        }
    }

    /** A writer for {@code logDir}; if the file cannot be created, a warning and a writer that writes nothing. */
    public static SummaryWriter open(Path logDir) {
        return new SummaryWriter(logDir, Clock.SYSTEM);
    }

    static SummaryWriter open(Path logDir, Clock clock) {
        return new SummaryWriter(logDir, clock);
    }

    /** The event file being written, or null when writing failed. */
    public Path file() {
        return events == null ? null : events.file();
    }

    /** {@code add_scalar(tag, value, step)}. */
    public void addScalar(String tag, double value, long step) {
        if (events == null) {
            return;
        }
        double now = clock.seconds();
        try {
            events.scalar(tag, value, step, now);
            if (now - lastFlush >= FLUSH_SECONDS) {
                events.flush();
                lastFlush = now;
            }
        } catch (IOException | RuntimeException e) {
            failed("write to " + events.file(), e);
        }
    }

    public void flush() {
        if (events == null) {
            return;
        }
        try {
            events.flush();
            lastFlush = clock.seconds();
        } catch (IOException | RuntimeException e) {
            failed("write to " + events.file(), e);
        }
    }

    @Override
    public void close() {
        if (events == null) {
            return;
        }
        try {
            events.close();
        } catch (IOException | RuntimeException e) {
            failed("close " + events.file(), e);
        }
        events = null;
    }

    private void failed(String what, Exception e) {
        LOG.warn("TensorBoard events in --log_dir {}: could not {} ({}); training goes on without them", logDir,
                what, e.toString());
        EventFile broken = events;
        events = null;
        if (broken != null) {
            try {
                broken.close();
            } catch (IOException | RuntimeException ignored) {
                // already reported the first failure
            }
        }
    }

    private static String hostName() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        }
        return host.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
