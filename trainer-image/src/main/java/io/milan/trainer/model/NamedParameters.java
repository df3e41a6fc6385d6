package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A model's tensors by their PyTorch state_dict names, in state_dict order, plus which of them train.
 *
 * <p>This is the contract with the optimizer and checkpoint code: {@link #asMap()} is what gets saved and
 * loaded, {@link #trainable()} is what the optimizer updates. Frozen tensors (the sin-cos position tables,
 * a teacher's weights) do not require gradients.
 */
public final class NamedParameters implements AutoCloseable {

    private final Map<String, NDArray> arrays;
    private final Set<String> trainable;

    private NamedParameters(Map<String, NDArray> arrays, Set<String> trainable) {
        this.arrays = Collections.unmodifiableMap(arrays);
        this.trainable = Collections.unmodifiableSet(trainable);
    }

    /** Starts a parameter set whose arrays live on {@code manager} (and its device). */
    public static Builder builder(NDManager manager) {
        return new Builder(manager);
    }

    /** The tensor called {@code name}; fails naming it when there is none. */
    public NDArray get(String name) {
        NDArray a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "' (the model has " + arrays.size()
                    + " parameters)");
        }
        return a;
    }

    /** The tensor called {@code name}, or null. */
    public NDArray find(String name) {
        return arrays.get(name);
    }

    public boolean contains(String name) {
        return arrays.containsKey(name);
    }

    /** All tensors, name → array, in state_dict order (read-only view). */
    public Map<String, NDArray> asMap() {
        return arrays;
    }

    /** The trainable tensors only, in state_dict order. */
    public Map<String, NDArray> trainable() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        arrays.forEach((name, array) -> {
            if (trainable.contains(name)) {
                out.put(name, array);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** Names of the trainable tensors, in state_dict order. */
    public Set<String> trainableNames() {
        Set<String> out = new LinkedHashSet<>();
        for (String name : arrays.keySet()) {
            if (trainable.contains(name)) {
                out.add(name);
            }
        }
        return Collections.unmodifiableSet(out);
    }

    public boolean isTrainable(String name) {
        get(name);
        return trainable.contains(name);
    }

    /** Shapes by name, in state_dict order. */
    public Map<String, Shape> shapes() {
        Map<String, Shape> out = new LinkedHashMap<>();
        arrays.forEach((name, array) -> out.put(name, array.getShape()));
        return Collections.unmodifiableMap(out);
    }

    /** Number of scalars in all tensors. */
    public long numel() {
        return numel(name -> true);
    }

    /** Number of scalars in the trainable tensors. */
    public long numelTrainable() {
        return numel(trainable::contains);
    }

    /** Number of scalars in the tensors whose name passes {@code filter}. */
    public long numel(Predicate<String> filter) {
        long n = 0;
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            if (filter.test(e.getKey())) {
                n += e.getValue().size();
            }
        }
        return n;
    }

    /**
     * Overwrites every tensor with the value of the same name in {@code source} (any device, float type).
     * All names must be present with equal shapes, else nothing is copied and the error names the culprits.
     *
     * @return the source names that were not used (e.g. decoder weights when loading an encoder), sorted as given
     */
    public List<String> copyFrom(Map<String, NDArray> source) {
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            NDArray src = source.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!src.getShape().equals(e.getValue().getShape())) {
                mismatched.add("'" + e.getKey() + "' expected " + e.getValue().getShape() + " but got "
                        + src.getShape());
            }
        }
        if (!missing.isEmpty() || !mismatched.isEmpty()) {
            throw new IllegalArgumentException("cannot copy parameters: "
                    + (missing.isEmpty() ? "" : "missing " + missing + (mismatched.isEmpty() ? "" : "; "))
                    + (mismatched.isEmpty() ? "" : "shape mismatch " + mismatched));
        }
        // set() replaces the storage outside autograd; going through a Java array also copies across devices and
        // never aliases the source's memory (a direct-buffer set() on CPU would).
        try (GradMode ignored = GradMode.disabled()) {
            for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
                NDArray src = source.get(e.getKey());
                float[] values = src.getDataType() == DataType.FLOAT32
                        ? src.toFloatArray()
                        : toFloats(src);
                e.getValue().set(values);
            }
        }
        List<String> unused = new ArrayList<>();
        for (String name : source.keySet()) {
            if (!arrays.containsKey(name)) {
                unused.add(name);
            }
        }
        return unused;
    }

    private static float[] toFloats(NDArray src) {
        try (NDArray f = src.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }

    @Override
    public void close() {
        arrays.values().forEach(NDArray::close);
    }

    /** Collects parameters; {@link #build()} puts them into PyTorch's state_dict order. */
    public static final class Builder {
        private final NDManager manager;
        private final Map<String, NDArray> arrays = new LinkedHashMap<>();
        private final Set<String> trainable = new LinkedHashSet<>();
        private boolean allFrozen;

        private Builder(NDManager manager) {
            this.manager = manager;
        }

        public NDManager manager() {
            return manager;
        }

        /** Every tensor added from now on is frozen, whatever add() is told (teachers). */
        public Builder frozen() {
            allFrozen = true;
            return this;
        }

        /** Adds a float32 tensor of {@code shape} holding {@code values} (row-major). */
        public Builder add(String name, Shape shape, float[] values, boolean trainable) {
            boolean isTrainable = trainable && !allFrozen;
            if (arrays.containsKey(name)) {
                throw new IllegalArgumentException("parameter '" + name + "' defined twice");
            }
            if (values.length != shape.size()) {
                throw new IllegalArgumentException("parameter '" + name + "': " + values.length
                        + " values for shape " + shape);
            }
            NDArray a = manager.create(values, shape);
            a.setName(name);
            a.setRequiresGradient(isTrainable);
            arrays.put(name, a);
            if (isTrainable) {
                this.trainable.add(name);
            }
            return this;
        }

        /**
         * PyTorch's state_dict lists a module's own tensors before those of its submodules, so the model's own
         * tensors (names without a dot, e.g. cls_token, pos_embed, mask_token) come first, then the rest in the
         * order they were added.
         */
        public NamedParameters build() {
            Map<String, NDArray> ordered = new LinkedHashMap<>();
            arrays.forEach((name, a) -> {
                if (!name.contains(".")) {
                    ordered.put(name, a);
                }
            });
            ordered.putAll(arrays);
            return new NamedParameters(ordered, trainable);
        }
    }
}
