package io.milan.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.model.GradMode;
import java.util.Map;
import java.util.TreeSet;

/** Restoring saved optimizer state, with checks that name what does not fit. */
final class OptimizerStates {

    private OptimizerStates() {
    }

    static void requireKind(OptimizerState saved, String kind) {
        if (!kind.equals(saved.kind())) {
            throw new IllegalArgumentException("saved optimizer state is for '" + saved.kind() + "', not '" + kind
                    + "'");
        }
        if (saved.step() < 0) {
            throw new IllegalArgumentException("saved optimizer step must be >= 0, got " + saved.step());
        }
    }

    /**
     * Replaces every live state array in {@code live} by a copy of the saved tensor of the same name, made
     * on the live array's device and owned by {@code manager}; the replaced arrays are closed. The name sets
     * must be equal and shapes and types must match; nothing changes unless everything fits.
     */
    static void restore(OptimizerState saved, Map<String, NDArray> live, NDManager manager) {
        if (!saved.tensors().keySet().equals(live.keySet())) {
            TreeSet<String> missing = new TreeSet<>(live.keySet());
            missing.removeAll(saved.tensors().keySet());
            TreeSet<String> unexpected = new TreeSet<>(saved.tensors().keySet());
            unexpected.removeAll(live.keySet());
            throw new IllegalArgumentException("saved optimizer state does not match the parameter groups: missing "
                    + abbreviate(missing) + ", unexpected " + abbreviate(unexpected));
        }
        for (Map.Entry<String, NDArray> e : live.entrySet()) {
            NDArray source = saved.tensors().get(e.getKey());
            if (!source.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException("saved optimizer tensor '" + e.getKey() + "' has shape "
                        + source.getShape() + ", the parameter needs " + e.getValue().getShape());
            }
            if (source.getDataType() != e.getValue().getDataType()) {
                throw new IllegalArgumentException("saved optimizer tensor '" + e.getKey() + "' has data type "
                        + source.getDataType() + ", the parameter needs " + e.getValue().getDataType());
            }
        }
        try (GradMode ignored = GradMode.disabled()) {
            for (Map.Entry<String, NDArray> e : live.entrySet()) {
                // A real copy (not NDArray.set(buffer), which on CPU makes the tensor alias a Java buffer).
                NDArray copy = saved.tensors().get(e.getKey()).toDevice(e.getValue().getDevice(), true);
                copy.attach(manager);
                e.getValue().close();
                e.setValue(copy);
            }
        }
    }

    private static String abbreviate(TreeSet<String> names) {
        if (names.isEmpty()) {
            return "none";
        }
        return names.size() <= 5 ? names.toString()
                : names.stream().limit(5).toList() + " and " + (names.size() - 5) + " more";
    }
}
