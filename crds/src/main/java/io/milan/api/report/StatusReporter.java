package io.milan.api.report;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.milan.api.CheckpointStatus;
import io.milan.api.EvalStatus;
import io.milan.api.Progress;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Rank 0's progress reporter. Keeps the latest snapshot of the trainer-owned status fields and applies it to the
 * run's status: at most once per {@code minInterval} for plain progress, at once at an epoch end or a new
 * checkpoint. Writes happen on a background thread, so a slow or unreachable API server never stalls training;
 * a failed write is logged and the next report supersedes it. Outside Kubernetes (no {@code MILAN_RUN_NAME})
 * every call does nothing.
 */
public class StatusReporter implements AutoCloseable {
    public static final Duration DEFAULT_MIN_INTERVAL = Duration.ofSeconds(5);
    static final int LOSS_DIGITS = 4;
    private static final Logger LOG = Logger.getLogger(StatusReporter.class.getName());

    private final RunReference run;
    private final StatusSink sink;
    private final Duration minInterval;
    private final Clock clock;
    private final ExecutorService writer;
    private final AutoCloseable client;

    // Guarded by this.
    private TrainerFields latest = TrainerFields.NONE;
    private boolean dirty;
    private boolean writeQueued;
    private Instant lastWrite = Instant.MIN;
    // Only touched by the writer thread.
    private boolean seeded;

    /**
     * @param writer runs the writes, one at a time (a single-thread executor; tests may pass a direct one)
     */
    public StatusReporter(RunReference run, StatusSink sink, Duration minInterval, Clock clock,
            ExecutorService writer) {
        this(run, sink, minInterval, clock, writer, null);
    }

    private StatusReporter(RunReference run, StatusSink sink, Duration minInterval, Clock clock,
            ExecutorService writer, AutoCloseable client) {
        this.run = run;
        this.sink = sink;
        this.minInterval = minInterval;
        this.clock = clock;
        this.writer = writer;
        this.client = client;
    }

    /** A reporter for the run named by this process's environment, or a no-op one outside Kubernetes. */
    public static StatusReporter fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    static StatusReporter fromEnvironment(Map<String, String> env) {
        return RunReference.fromEnvironment(env)
                .map(run -> forRun(run, new KubernetesClientBuilder().build(), DEFAULT_MIN_INTERVAL))
                .orElseGet(StatusReporter::disabled);
    }

    /** A reporter for {@code run} that writes with {@code client} (closed with the reporter). */
    public static StatusReporter forRun(RunReference run, KubernetesClient client, Duration minInterval) {
        ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "milan-status-reporter");
            t.setDaemon(true);
            return t;
        });
        return new StatusReporter(run, new KubernetesStatusSink(client), minInterval, Clock.systemUTC(), writer,
                client);
    }

    /** A reporter that reports nothing. */
    public static StatusReporter disabled() {
        return new StatusReporter(null, null, DEFAULT_MIN_INTERVAL, Clock.systemUTC(), null, null);
    }

    public boolean isEnabled() {
        return run != null;
    }

    /** Progress within an epoch; written when the last write is at least {@code minInterval} old. */
    public synchronized void progress(Progress progress) {
        update(latest.withProgress(forStatus(progress)), false);
    }

    /** End of an epoch, with its evaluation when there is one (null otherwise); written at once. */
    public synchronized void epochEnd(Progress progress, EvalStatus eval) {
        TrainerFields next = latest.withProgress(forStatus(progress));
        update(eval == null ? next : next.withEval(eval), true);
    }

    /** A checkpoint was written; written at once. */
    public synchronized void checkpoint(CheckpointStatus checkpoint) {
        update(latest.withCheckpoint(checkpoint), true);
    }

    /** Writes a report held back by the rate limit, if any, and waits (bounded) for pending writes. */
    public void flush(Duration timeout) {
        if (!isEnabled()) {
            return;
        }
        synchronized (this) {
            if (dirty) {
                queueWrite();
            }
        }
        try {
            // A no-op task queued behind the writes: when it has run, they have too.
            writer.submit(() -> { }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warning("status reports to " + run + " not flushed within " + timeout + ": " + e);
        }
    }

    /** Flushes (waiting up to 10 s) and stops the writer. */
    @Override
    public void close() {
        if (!isEnabled()) {
            return;
        }
        flush(Duration.ofSeconds(10));
        writer.shutdownNow();
        if (client != null) {
            try {
                client.close();
            } catch (Exception e) {
                LOG.log(Level.FINE, "closing the Kubernetes client failed", e);
            }
        }
    }

    /**
     * The report as status shows it: trainLoss to {@value #LOSS_DIGITS} significant digits, because kubectl prints
     * the Loss column as stored (0.43213987731933594). The caller's object is left as it is.
     */
    static Progress forStatus(Progress progress) {
        if (progress == null || progress.trainLoss == null || !Double.isFinite(progress.trainLoss)) {
            return progress;
        }
        Progress rounded = progress.copy();
        rounded.trainLoss = BigDecimal.valueOf(progress.trainLoss).round(new MathContext(LOSS_DIGITS)).doubleValue();
        return rounded;
    }

    private void update(TrainerFields next, boolean force) {
        if (!isEnabled()) {
            return;
        }
        latest = next;
        dirty = true;
        if (force || !clock.instant().isBefore(lastWrite.plus(minInterval))) {
            queueWrite();
        }
    }

    /** Queues one write of whatever is latest when it runs; reports arriving meanwhile join it. */
    private void queueWrite() {
        if (writeQueued) {
            return;
        }
        writeQueued = true;
        lastWrite = clock.instant();
        try {
            writer.execute(this::writeLatest);
        } catch (RuntimeException e) {
            writeQueued = false;
            LOG.warning("status report to " + run + " not queued: " + e);
        }
    }

    private void writeLatest() {
        try {
            TrainerFields earlier = seeded ? null : sink.read(run);
            TrainerFields snapshot;
            synchronized (this) {
                if (earlier != null) {
                    // Keep what an earlier attempt reported until this attempt reports its own.
                    latest = new TrainerFields(latest.progress(),
                            latest.eval() != null ? latest.eval() : earlier.eval(),
                            latest.checkpoint() != null ? latest.checkpoint() : earlier.checkpoint());
                }
                snapshot = latest;
                dirty = false;
                writeQueued = false;
            }
            seeded = true;
            sink.apply(run, snapshot);
        } catch (Exception e) {
            synchronized (this) {
                writeQueued = false;
                dirty = true; // flush() or the next report retries it
            }
            // Training matters more than its report: log and carry on; the next report supersedes this one.
            // The client's messages name the request, never the token.
            LOG.warning("status report to " + run + " failed: " + e);
        }
    }
}
