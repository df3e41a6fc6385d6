package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.milan.api.RunSpec;
import java.util.List;
import java.util.Optional;

/**
 * The pod's /dev/shm. Container runtimes give a container 64 MiB there, too little for NCCL, which keeps its
 * intra-node buffers there (GPUs without a peer-to-peer path talk through it). A memory-backed emptyDir replaces it
 * (the restricted Pod Security profile allows emptyDir). GPU pods always get one, of spec.shmSize or
 * {@value #DEFAULT_GPU_SIZE}; CPU pods only when spec.shmSize is set.
 */
public final class SharedMemory {
    public static final String PATH = "/dev/shm";
    public static final String DEFAULT_GPU_SIZE = "8Gi";
    static final String VOLUME = "dshm";

    private SharedMemory() {
    }

    /** The size limit of the pod's /dev/shm, or empty when the pod keeps the runtime's own. */
    public static Optional<Quantity> size(RunSpec spec) {
        if (spec.shmSize != null) {
            return Optional.of(new Quantity(spec.shmSize));
        }
        return spec.usesGpus() ? Optional.of(new Quantity(DEFAULT_GPU_SIZE)) : Optional.empty();
    }

    static List<Volume> volumes(RunSpec spec) {
        return size(spec).map(size -> List.of(new VolumeBuilder().withName(VOLUME)
                .withNewEmptyDir().withMedium("Memory").withSizeLimit(size).endEmptyDir().build()))
                .orElse(List.of());
    }

    static List<VolumeMount> mounts(RunSpec spec) {
        return size(spec).map(size -> List.of(new VolumeMountBuilder().withName(VOLUME).withMountPath(PATH).build()))
                .orElse(List.of());
    }
}
