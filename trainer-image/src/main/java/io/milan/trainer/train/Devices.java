package io.milan.trainer.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.ArrayList;
import java.util.List;

/** Which devices this process drives: every visible GPU, or the CPU. */
public final class Devices {
    private Devices() {
    }

    /**
     * @param flag     --device: cpu, cuda or auto
     * @param expected NPROC_PER_NODE from the operator (GPUs per pod; 1 on CPU)
     */
    public static List<Device> resolve(String flag, int expected) {
        int gpus = Engine.getInstance().getGpuCount();
        if (flag.equals("cpu") || (flag.equals("auto") && gpus == 0)) {
            return List.of(Device.cpu());
        }
        if (gpus == 0) {
            // DJL silently falls back to CPU when only the CPU libtorch is found; say so rather than train slowly.
            throw new IllegalStateException("--device cuda: no GPU visible to libtorch (is the CUDA trainer image"
                    + " and PYTORCH_FLAVOR=cu128 in use?)");
        }
        if (expected > 1 && gpus < expected) {
            throw new IllegalStateException("NPROC_PER_NODE=" + expected + " but libtorch sees only " + gpus
                    + " GPUs");
        }
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < gpus; i++) {
            devices.add(Device.gpu(i));
        }
        return devices;
    }
}
