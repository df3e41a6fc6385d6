package io.milan.trainer.dist.c10d;

import com.sun.jna.Pointer;
import io.milan.trainer.torch.MilanTorchNative;
import java.time.Duration;

/**
 * A collective started by {@link C10dProcessGroup}: it runs on c10d's threads while the caller goes on, and
 * {@link #await()} blocks until it is done (then the tensor holds the result) or throws {@link C10dException}.
 * Close it when done with it (a try-with-resources block); closing does not cancel the collective.
 */
public final class C10dWork implements AutoCloseable {

    private Pointer handle;

    C10dWork(Pointer handle) {
        this.handle = handle;
    }

    /** Waits up to the group's timeout. */
    public void await() {
        await(Duration.ZERO);
    }

    /** Waits up to {@code timeout} (zero: the group's timeout); throws if the collective failed or timed out. */
    public synchronized void await(Duration timeout) {
        if (MilanTorchNative.milan_c10d_wait(live(), timeout.toMillis()) != 0) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
    }

    /** True once the collective finished, successfully or not; never blocks. */
    public synchronized boolean isCompleted() {
        return MilanTorchNative.milan_c10d_is_completed(live()) != 0;
    }

    @Override
    public synchronized void close() {
        if (handle != null) {
            MilanTorchNative.milan_c10d_work_free(handle);
            handle = null;
        }
    }

    private Pointer live() {
        if (handle == null) {
            throw new IllegalStateException("this c10d work was closed");
        }
        return handle;
    }
}
