package io.milan.operator.validation;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.milan.api.RunSpec;
import io.milan.api.StorageLocation;
import io.milan.operator.podgroup.ResolvedPretrained;
import io.milan.operator.podgroup.RunVolumes;
import io.milan.operator.podgroup.TrainerEnv;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks the CRD schema cannot express (they span fields, or depend on what the operator sets). Each error names
 * the field. The schema and its CEL rules catch the rest when the run is applied.
 */
public final class SpecValidator {
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");
    private static final Pattern EXTENDED_RESOURCE =
            Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
    private static final Set<String> PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");
    /** A Kubernetes quantity (resource.ParseQuantity): a number, then a binary, decimal or exponent suffix. */
    private static final Pattern QUANTITY =
            Pattern.compile("[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]+)?");

    private SpecValidator() {
    }

    /** @param pretrained the resolved encoder of a fine-tune (null for a pretrain, or while not resolved) */
    public static List<String> validate(RunSpec spec, ResolvedPretrained pretrained) {
        List<String> errors = new ArrayList<>();
        int patch = spec.patchSize != null ? spec.patchSize : spec.model.patchSize;
        if (spec.inputSize % patch != 0) {
            errors.add("spec.inputSize " + spec.inputSize + " must be a multiple of the patch size " + patch
                    + (spec.patchSize != null ? " (spec.patchSize)" : " (the default of " + spec.model.cliName
                    + "; set spec.patchSize)"));
        }
        if (spec.usesGpus() && (spec.gpuResourceName == null
                || !EXTENDED_RESOURCE.matcher(spec.gpuResourceName).matches())) {
            errors.add("spec.gpuResourceName '" + spec.gpuResourceName + "' must be a domain-qualified extended"
                    + " resource name such as nvidia.com/gpu");
        }
        if (spec.queueName != null && (spec.queueName.length() > 63
                || !LABEL_VALUE.matcher(spec.queueName).matches())) {
            errors.add("spec.queueName '" + spec.queueName + "' must be a valid label value (at most 63"
                    + " alphanumerics, '-', '_' or '.')");
        }
        if (spec.imagePullPolicy != null && !PULL_POLICIES.contains(spec.imagePullPolicy)) {
            errors.add("spec.imagePullPolicy '" + spec.imagePullPolicy + "' must be Always, IfNotPresent or Never");
        }
        if (spec.image != null && spec.image.isBlank()) {
            errors.add("spec.image must not be empty (leave it unset for the operator's default image)");
        }
        if (spec.shmSize != null) {
            shmSize(spec.shmSize).ifPresent(errors::add);
        }
        if (spec.env != null) {
            for (int i = 0; i < spec.env.size(); i++) {
                EnvVar e = spec.env.get(i);
                if (e.getName() != null && TrainerEnv.RESERVED.contains(e.getName())) {
                    String setter = TrainerEnv.PER_PROCESS.contains(e.getName())
                            ? "the trainer's launcher, per process," : "the operator";
                    errors.add("spec.env[" + i + "].name " + e.getName() + " is set by " + setter
                            + " and cannot be overridden");
                }
            }
        }
        Map<String, String> fieldByMountPath = new HashMap<>();
        for (RunVolumes.Location l : RunVolumes.locations(spec, pretrained)) {
            StorageLocation where = l.location();
            if (l.readOnly() && (where.s3 == null) == (where.path == null)) {
                errors.add(l.field() + " sets " + (where.s3 == null ? "neither path nor s3" : "both path and s3")
                        + "; an input is read from one of them");
            }
            if (!l.readOnly() && where.path == null) {
                errors.add(l.field() + ".path is required (with s3, the trainer's local working copy)");
            }
            if (l.hasClaim() && where.path == null) {
                errors.add(l.field() + ".claimName needs path, the claim's mount point");
            }
            boolean mounted = !l.readOnly() || (l.location().claimName != null && !l.location().claimName.isBlank());
            if (!mounted || where.path == null) {
                continue;
            }
            String other = fieldByMountPath.putIfAbsent(l.location().path, l.field());
            if (other != null) {
                errors.add(l.field() + ".path " + l.location().path + " is also the mount path of " + other
                        + "; each mounted location needs its own path");
            }
        }
        return errors;
    }

    private static Optional<String> shmSize(String size) {
        if (!QUANTITY.matcher(size).matches()) {
            return Optional.of("spec.shmSize '" + size + "' must be a Kubernetes quantity such as 8Gi or 512Mi");
        }
        if (Quantity.getAmountInBytes(new Quantity(size)).signum() <= 0) {
            return Optional.of("spec.shmSize '" + size + "' must be greater than zero");
        }
        return Optional.empty();
    }
}
