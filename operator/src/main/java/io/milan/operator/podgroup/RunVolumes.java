package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.milan.api.MilanPretrainSpec;
import io.milan.api.ObjectStorage;
import io.milan.api.RunSpec;
import io.milan.api.StorageLocation;
import java.util.ArrayList;
import java.util.List;

/**
 * The storage locations of a run and how each reaches the trainer container: a claim mounted at the location's
 * path (read-only for inputs), an emptyDir for an output without a claim, or nothing for a path that exists in the
 * image or an input in object storage (the trainer reads it with its own variables, {@link ObjectStorageEnv}).
 */
public final class RunVolumes {
    /** Output directory when spec.output is unset. */
    public static final String DEFAULT_OUTPUT_PATH = "/milan/output";
    /** The only writable place besides the output: the root filesystem is read-only (JVM and DJL temp files). */
    static final String SCRATCH_VOLUME = "tmp";
    static final String SCRATCH_PATH = "/tmp";
    static final String OUTPUT_VOLUME = "output";

    /**
     * One location of the run.
     *
     * @param volume volume name in the pod
     * @param field the spec field it comes from, for error messages
     */
    public record Location(String volume, String field, StorageLocation location, boolean readOnly) {
        public boolean hasClaim() {
            return location.claimName != null && !location.claimName.isBlank();
        }

        /** Which variables reach this location's object storage (docs/storage.md). */
        public ObjectStorage.Role role() {
            return switch (volume) {
                case "dataset" -> ObjectStorage.Role.DATASET;
                case "teacher" -> ObjectStorage.Role.TEACHER;
                case "pretrained" -> ObjectStorage.Role.PRETRAINED;
                default -> ObjectStorage.Role.OUTPUT;
            };
        }

        /** What the trainer's flag names: the object storage URL, or the path in the container. */
        public String trainerPath() {
            return readOnly && location.s3 != null ? location.s3.url : location.path;
        }
    }

    private RunVolumes() {
    }

    /** Every location of the run, inputs first. */
    public static List<Location> locations(RunSpec spec, ResolvedPretrained pretrained) {
        List<Location> all = new ArrayList<>();
        all.add(new Location("dataset", "spec.dataset", spec.dataset, true));
        if (spec instanceof MilanPretrainSpec p && p.teacher != null && p.teacher.weights != null) {
            all.add(new Location("teacher", "spec.teacher.weights", p.teacher.weights, true));
        }
        if (pretrained != null && pretrained.mount() != null) {
            all.add(new Location("pretrained", "spec.pretrained", pretrained.mount(), true));
        }
        all.add(new Location(OUTPUT_VOLUME, "spec.output", output(spec), false));
        return all;
    }

    /** Where checkpoints and log.txt go. */
    public static StorageLocation output(RunSpec spec) {
        return spec.output != null ? spec.output : new StorageLocation(DEFAULT_OUTPUT_PATH, null);
    }

    /** The object storage copy of the run's checkpoints (spec.output.s3), or null. */
    public static ObjectStorage outputObjectStorage(RunSpec spec) {
        return output(spec).s3;
    }

    /**
     * Without a claim or object storage the output is only an emptyDir: checkpoints do not survive a gang
     * restart.
     */
    public static boolean outputIsEphemeral(RunSpec spec) {
        StorageLocation out = output(spec);
        return (out.claimName == null || out.claimName.isBlank()) && out.s3 == null;
    }

    /**
     * One pod volume per claim: locations on the same claim (dataset and teacher side by side, say) share the
     * volume of the first of them. A pod naming one claim in two volumes never starts (the kubelet mounts the
     * claim once and waits forever for the second). The shared volume is writable if any of its locations is;
     * each mount keeps its own read-only flag.
     */
    public static List<Volume> volumes(List<Location> locations) {
        List<Volume> volumes = new ArrayList<>();
        for (Location l : locations) {
            if (l.hasClaim()) {
                if (volumeOf(l, locations).equals(l.volume())) {
                    boolean readOnly = locations.stream().filter(o -> sameClaim(o, l)).allMatch(Location::readOnly);
                    volumes.add(new VolumeBuilder().withName(l.volume())
                            .withNewPersistentVolumeClaim(l.location().claimName, readOnly).build());
                }
            } else if (!l.readOnly()) {
                volumes.add(new VolumeBuilder().withName(l.volume()).withNewEmptyDir().endEmptyDir().build());
            }
        }
        volumes.add(new VolumeBuilder().withName(SCRATCH_VOLUME).withNewEmptyDir().endEmptyDir().build());
        return volumes;
    }

    public static List<VolumeMount> mounts(List<Location> locations) {
        List<VolumeMount> mounts = new ArrayList<>();
        for (Location l : locations) {
            if (l.hasClaim() || !l.readOnly()) {
                mounts.add(new VolumeMountBuilder().withName(volumeOf(l, locations))
                        .withMountPath(l.location().path)
                        .withSubPath(l.hasClaim() ? l.location().subPath : null)
                        .withReadOnly(l.readOnly() ? Boolean.TRUE : null)
                        .build());
            }
        }
        mounts.add(new VolumeMountBuilder().withName(SCRATCH_VOLUME).withMountPath(SCRATCH_PATH).build());
        return mounts;
    }

    /** The pod volume that carries {@code l}: its own, or that of the first location on the same claim. */
    private static String volumeOf(Location l, List<Location> locations) {
        return l.hasClaim() ? locations.stream().filter(o -> sameClaim(o, l)).findFirst().orElse(l).volume()
                : l.volume();
    }

    private static boolean sameClaim(Location a, Location b) {
        return a.hasClaim() && b.hasClaim() && a.location().claimName.equals(b.location().claimName);
    }
}
