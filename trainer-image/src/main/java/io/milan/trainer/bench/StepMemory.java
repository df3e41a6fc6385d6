package io.milan.trainer.bench;

import ai.djl.Device;
import com.sun.jna.Library;
import com.sun.jna.Native;
import io.milan.trainer.torch.MilanTorchNative;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The peak memory one training step adds to what the process holds when it starts (weights, gradients, optimizer
 * state): the activations saved for the backward, the teacher's targets, the input and temporaries.
 *
 * <p>On a GPU: the CUDA caching allocator's own statistics (torch.cuda.reset_peak_memory_stats, then
 * max_memory_allocated minus memory_allocated at the start), through libmilantorch_cuda. On the CPU, where libtorch
 * keeps no statistics: the process's peak resident set (VmHWM, reset through /proc/self/clear_refs) minus the
 * resident set at the start, an estimate that is only as good as the C allocator's return of freed memory: run with
 * {@code MALLOC_MMAP_THRESHOLD_=65536} (bench/step-memory.sh does) so that every tensor above 64 KiB is its own mapping,
 * unmapped when freed; otherwise memory freed before the step and reused inside it is not counted.
 */
public final class StepMemory {
    /** The statistics function of libmilantorch_cuda (src/main/cpp/milan_c10d_nccl.cpp). */
    interface CudaMemory extends Library {
        int milan_cuda_memory(int device, int resetPeak, long[] out, byte[] error, long errorSize);
    }

    private final Device device;
    private final CudaMemory cuda;
    private long atStart = -1;

    private StepMemory(Device device, CudaMemory cuda) {
        this.device = device;
        this.cuda = cuda;
    }

    /** Measures on that device; on a GPU the CUDA image's libmilantorch_cuda must be on the classpath. */
    public static StepMemory on(Device device) {
        if (!device.isGpu()) {
            return new StepMemory(device, null);
        }
        String library = MilanTorchNative.cudaLibraryPath();
        if (library == null) {
            throw new IllegalStateException("measuring GPU memory needs libmilantorch_cuda.so on the classpath (the"
                    + " CUDA image's milantorch-cuda.jar)");
        }
        return new StepMemory(device, Native.load(library, CudaMemory.class));
    }

    /** Starts a step: resets the peak and records what is held now. */
    public void start() {
        if (cuda != null) {
            atStart = cudaStats(true)[0];
        } else {
            resetPeakResidentSet();
            atStart = procStatusKb("VmRSS") * 1024;
        }
    }

    /** Bytes above the start at the step's peak. */
    public long peakAboveStart() {
        if (atStart < 0) {
            throw new IllegalStateException("start() was not called");
        }
        long peak = cuda != null ? cudaStats(false)[1] : procStatusKb("VmHWM") * 1024;
        return Math.max(0, peak - atStart);
    }

    /** How the figure was measured, for the report. */
    public String method() {
        return cuda != null ? "CUDA caching allocator, peak allocated above the step's start"
                : "peak resident set above the step's start (VmHWM), MALLOC_MMAP_THRESHOLD_="
                        + System.getenv().getOrDefault("MALLOC_MMAP_THRESHOLD_", "unset (an underestimate)");
    }

    private long[] cudaStats(boolean resetPeak) {
        long[] out = new long[3];
        byte[] error = new byte[512];
        if (cuda.milan_cuda_memory(device.getDeviceId(), resetPeak ? 1 : 0, out, error, error.length) != 0) {
            throw new IllegalStateException("CUDA memory statistics of " + device + ": " + Native.toString(error));
        }
        return out;
    }

    private static void resetPeakResidentSet() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException e) {
            throw new UncheckedIOException("resetting the peak resident set (/proc/self/clear_refs)", e);
        }
    }

    /** A "Name:   123 kB" line of /proc/self/status, in kB. */
    static long procStatusKb(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith(name + ":")) {
                    return Long.parseLong(line.substring(name.length() + 1).replace("kB", "").trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading /proc/self/status", e);
        }
        throw new IllegalStateException("/proc/self/status has no " + name);
    }
}
