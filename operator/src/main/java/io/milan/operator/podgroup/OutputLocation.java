package io.milan.operator.podgroup;

import io.milan.api.RunSpec;
import io.milan.api.StorageLocation;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Where a run's checkpoints really live: a directory on a PersistentVolumeClaim, i.e. the claim and the sub-path
 * mounted at {@code spec.output.path} ({@code path} itself is only the mount point inside the container, so two
 * runs with different paths on one claim and sub-path write the same directory). An output without a claim is an
 * emptyDir of the pod: it is never shared and has no location here.
 *
 * @param claimName the claim
 * @param subPath   the sub-path normalised ("" for the claim's root; no leading, trailing or doubled slashes,
 *                  no "." segments), so that spellings of one directory compare equal
 */
public record OutputLocation(String claimName, String subPath) {

    /** The run's output location, or empty when it writes to an emptyDir. */
    public static Optional<OutputLocation> of(RunSpec spec) {
        StorageLocation out = RunVolumes.output(spec);
        if (out.claimName == null || out.claimName.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new OutputLocation(out.claimName, normalise(out.subPath)));
    }

    /** "claim C" or "claim C, subPath S", as a message names it. */
    public String describe() {
        return "claim " + claimName + (subPath.isEmpty() ? "" : ", subPath " + subPath);
    }

    static String normalise(String subPath) {
        if (subPath == null) {
            return "";
        }
        return Arrays.stream(subPath.split("/")).filter(s -> !s.isEmpty() && !s.equals("."))
                .collect(Collectors.joining("/"));
    }
}
