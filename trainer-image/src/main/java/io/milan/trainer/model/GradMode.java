package io.milan.trainer.model;

import ai.djl.pytorch.jni.JniUtils;

/**
 * {@code torch.no_grad()} for the current thread. Grad mode is thread-local in libtorch and ON in threads the
 * engine did not initialise, so frozen computations (teacher forward, weight copies, evaluation) and in-place
 * parameter updates (optimizers: autograd must not record them) switch it off explicitly. Restores the
 * previous mode on close.
 */
public final class GradMode implements AutoCloseable {

    private final boolean previous;

    private GradMode() {
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
    }

    /** Disables gradient recording until {@link #close()}. */
    public static GradMode disabled() {
        return new GradMode();
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
