package io.milan.trainer.optim;

import ai.djl.pytorch.jni.JniUtils;

/**
 * {@code torch.no_grad()} for the current thread: in-place updates of parameters that require gradients
 * must not be recorded by autograd. Grad mode is thread-local in libtorch and is ON in threads the engine
 * did not initialise, so optimizers set it explicitly. Restores the previous mode on close.
 */
public final class NoGrad implements AutoCloseable {

    private final boolean previous;

    private NoGrad() {
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
    }

    /** Disables gradient recording until {@link #close()}. */
    public static NoGrad enter() {
        return new NoGrad();
    }

    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
