import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Loads DJL's PyTorch engine and runs one small tensor operation.
 *
 * <p>trainer-image/Dockerfile runs it at build time with DJL_CACHE_DIR=/opt/djl, so DJL extracts libtorch from
 * the pytorch-native jar into the image once. images/build.sh runs it again in a read-only container to show
 * that a start finds everything in place and extracts nothing. Launched as a source file ({@code java -cp ...
 * DjlWarmup.java}); the JRE carries the compiler module.
 */
public final class DjlWarmup {
    public static void main(String[] args) {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager manager = engine.newBaseManager()) {
            NDArray x = manager.arange(6f).reshape(2, 3);
            float sum = x.sum().getFloat();
            if (sum != 15f) {
                throw new IllegalStateException("libtorch computed sum(0..5) = " + sum + ", expected 15");
            }
        }
        System.out.println("DjlWarmup: PyTorch " + engine.getVersion() + " works; DJL_CACHE_DIR="
                + System.getenv("DJL_CACHE_DIR") + ", devices " + engine.getGpuCount() + " GPU");
    }
}
