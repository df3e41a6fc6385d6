package io.milan.trainer.dist;

import io.milan.api.TrainerExitCodes;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * The process's SIGTERM (the kubelet stopping the pod: preemption, eviction, node drain, a Kueue eviction, the
 * launcher passing one on). Once {@link #install()}ed, a SIGTERM runs the current listener instead of ending the
 * JVM: the training loop stops at its next step boundary, the launcher passes the signal to its processes and
 * waits for them. Without a listener (start-up, a command that does not train) it ends the process as the JVM
 * would, with exit code 143 after the shutdown hooks.
 */
public final class Sigterm {
    private static final AtomicReference<Runnable> LISTENER = new AtomicReference<>();
    private static boolean installed;

    private Sigterm() {
    }

    /**
     * Takes over SIGTERM from the JVM; once per process, from its main method (not in tests that run commands in
     * the test JVM: its SIGTERM must keep ending it). Leaves the JVM's handling when the signal is not available
     * (-Xrs).
     */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        try {
            Signal.handle(new Signal("TERM"), signal -> received());
            installed = true;
        } catch (IllegalArgumentException unavailable) {
            // The JVM keeps SIGTERM (it ends the process with 143): the operator counts that as a disruption too.
        }
    }

    /**
     * Until the returned handle is closed, SIGTERM runs {@code listener} (on the JVM's signal thread: it must
     * return quickly). One listener at a time.
     */
    public static Listening listen(Runnable listener) {
        if (!LISTENER.compareAndSet(null, listener)) {
            throw new IllegalStateException("SIGTERM already has a listener");
        }
        return () -> LISTENER.compareAndSet(listener, null);
    }

    /** A listener's registration; closing it gives SIGTERM back its default (end the process). */
    public interface Listening extends AutoCloseable {
        @Override
        void close();
    }

    private static void received() {
        Runnable listener = LISTENER.get();
        if (listener == null) {
            System.exit(TrainerExitCodes.SIGTERM); // what the JVM's own handler does
        } else {
            listener.run();
        }
    }
}
