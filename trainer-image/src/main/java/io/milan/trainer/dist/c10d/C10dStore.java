package io.milan.trainer.dist.c10d;

import com.sun.jna.Pointer;
import io.milan.trainer.torch.MilanTorchNative;
import java.time.Duration;

/**
 * A client of the job's TCPStore (served by rank 0 at MASTER_ADDR:MASTER_PORT) with its own short timeout, for
 * counters every rank can read: heartbeats and progress (see io.milan.trainer.dist.PeerLiveness).
 */
public final class C10dStore implements AutoCloseable {

    private Pointer handle;

    private C10dStore(Pointer handle) {
        this.handle = handle;
    }

    public static C10dStore connect(String masterAddr, int masterPort, Duration timeout) {
        MilanTorchNative.requireLoaded();
        Pointer handle = MilanTorchNative.milan_c10d_store_connect(masterAddr, masterPort, timeout.toMillis());
        if (handle == null) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
        return new C10dStore(handle);
    }

    /** Adds {@code delta} to the counter {@code key} (0 just reads it) and returns its new value. */
    public synchronized long add(String key, long delta) {
        if (handle == null) {
            throw new IllegalStateException("this store client was closed");
        }
        long value = MilanTorchNative.milan_c10d_store_add(handle, key, delta);
        if (value < 0) {
            throw new C10dException(MilanTorchNative.milan_c10d_last_error());
        }
        return value;
    }

    @Override
    public synchronized void close() {
        if (handle != null) {
            MilanTorchNative.milan_c10d_store_free(handle);
            handle = null;
        }
    }
}
