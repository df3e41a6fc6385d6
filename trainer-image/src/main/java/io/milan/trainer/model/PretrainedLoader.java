package io.milan.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.PretrainedWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Starts fine-tuning or linear probing from a pretraining checkpoint, as {@code main_finetune.py} /
 * {@code main_linprobe.py} do (milan-reference.md §6):
 * <ol>
 *   <li>{@code head.weight} / {@code head.bias} of the checkpoint are dropped when their shape differs from the
 *   model's;</li>
 *   <li>{@code pos_embed} is resized bicubically when its patch grid differs ({@link PosEmbedInterpolation});</li>
 *   <li>{@code load_state_dict(strict=False)}: every model tensor present in the checkpoint is copied (a shape
 *   mismatch is an error, as in PyTorch), the others are reported missing, checkpoint tensors the model does
 *   not have (decoder, {@code mask_token}, {@code decoder_pos_embed}, and {@code norm.*} under global pooling)
 *   are reported unexpected and ignored.</li>
 * </ol>
 * Linear probing loads into the model as it is before the reference wraps the head into a Sequential
 * (names {@code head.weight/bias} = our {@code head.1.*}) and, like the reference's assert, requires the
 * missing keys to be exactly the head; the head keeps its MoCo v3 init.
 */
public final class PretrainedLoader {

    private static final Set<String> HEAD = Set.of("head.weight", "head.bias");

    private PretrainedLoader() {
    }

    /**
     * What loading did, in the terms of PyTorch's {@code load_state_dict(strict=False)} message.
     *
     * @param loaded      model keys copied from the checkpoint (model order)
     * @param missing     model keys the checkpoint lacks (model order)
     * @param unexpected  checkpoint keys the model lacks, ignored (checkpoint order)
     * @param removedHead checkpoint head keys dropped for their shape before loading
     * @param posEmbedGrids {@code [from, to]} when pos_embed was interpolated, else null
     */
    public record Report(String source, List<String> loaded, List<String> missing, List<String> unexpected,
            List<String> removedHead, int[] posEmbedGrids) {

        /** One line for the log, like the reference's {@code print(msg)}. */
        public String summary() {
            return source + ": loaded " + loaded.size() + " tensors; missing_keys=" + missing + "; "
                    + unexpected.size() + " unexpected keys ignored"
                    + (removedHead.isEmpty() ? "" : "; removed " + removedHead + " (shape differs)")
                    + (posEmbedGrids == null ? "" : "; pos_embed interpolated from " + posEmbedGrids[0] + "x"
                            + posEmbedGrids[0] + " to " + posEmbedGrids[1] + "x" + posEmbedGrids[1]);
        }

        /**
         * The reference's own line, {@code print(model.load_state_dict(checkpoint_model, strict=False))}:
         * {@code _IncompatibleKeys(missing_keys=['head.weight', ...], unexpected_keys=['mask_token', ...])}.
         */
        public String incompatibleKeys() {
            return "_IncompatibleKeys(missing_keys=" + pythonList(missing) + ", unexpected_keys="
                    + pythonList(unexpected) + ")";
        }

        private static String pythonList(List<String> keys) {
            return keys.stream().map(k -> "'" + k + "'").collect(java.util.stream.Collectors.joining(", ", "[", "]"));
        }
    }

    /**
     * Loads the checkpoint {@code file} (reference key names; safetensors, or a PyTorch .pth whose
     * {@code ['model']} is taken, see {@link PretrainedWeights}) into a fine-tuning classifier.
     */
    public static Report load(VitClassifier model, Path file) throws IOException {
        try (NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
            return load(model, PretrainedWeights.read(file, scratch), file.toString());
        }
    }

    /** As {@link #load(VitClassifier, Path)} from tensors already read; {@code source} names them in messages. */
    public static Report load(VitClassifier model, Map<String, NDArray> checkpoint, String source) {
        return loadStateDict(model.parameters().asMap(), model.config(), checkpoint, source);
    }

    /**
     * Loads a pretraining checkpoint into a linear probe's encoder. Fails, naming the keys, unless exactly
     * {@code head.weight} and {@code head.bias} are missing (the reference asserts this).
     */
    public static Report load(LinearProbeModel model, Path file) throws IOException {
        try (NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
            return load(model, PretrainedWeights.read(file, scratch), file.toString());
        }
    }

    /** As {@link #load(LinearProbeModel, Path)} from tensors already read. */
    public static Report load(LinearProbeModel model, Map<String, NDArray> checkpoint, String source) {
        // The reference loads before wrapping the head: its head.weight/bias are our head.1.*.
        Map<String, NDArray> target = new LinkedHashMap<>();
        model.parameters().asMap().forEach((name, array) -> {
            target.put(name.startsWith(LinearProbeModel.LINEAR + ".")
                    ? "head." + name.substring(LinearProbeModel.LINEAR.length() + 1) : name, array);
        });
        Report report = loadStateDict(target, model.config(), checkpoint, source);
        if (!Set.copyOf(report.missing()).equals(HEAD)) {
            throw new IllegalArgumentException(source + ": linear probing expects a pretraining checkpoint with all"
                    + " encoder tensors and no classification head of this shape, but the missing keys are "
                    + report.missing() + " (expected exactly [head.weight, head.bias])");
        }
        return report;
    }

    private static Report loadStateDict(Map<String, NDArray> model, ViTConfig config,
            Map<String, NDArray> checkpoint, String source) {
        Map<String, NDArray> ckpt = new LinkedHashMap<>(checkpoint);
        List<String> removedHead = new ArrayList<>();
        for (String key : List.of("head.weight", "head.bias")) {
            NDArray value = ckpt.get(key);
            NDArray mine = model.get(key);
            if (value != null && mine != null && !value.getShape().equals(mine.getShape())) {
                ckpt.remove(key);
                removedHead.add(key);
            }
        }
        try (NDManager scratch = NDManager.newBaseManager(Device.cpu())) {
            int[] grids = interpolatePosEmbed(ckpt, config, scratch, source);

            List<String> mismatched = new ArrayList<>();
            List<String> loaded = new ArrayList<>();
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, NDArray> e : model.entrySet()) {
                NDArray value = ckpt.get(e.getKey());
                if (value == null) {
                    missing.add(e.getKey());
                } else if (!value.getShape().equals(e.getValue().getShape())) {
                    mismatched.add("'" + e.getKey() + "': checkpoint " + value.getShape() + ", model "
                            + e.getValue().getShape());
                } else {
                    loaded.add(e.getKey());
                }
            }
            if (!mismatched.isEmpty()) {
                throw new IllegalArgumentException("cannot load " + source + ": size mismatch for "
                        + String.join(", ", mismatched));
            }
            List<String> unexpected = ckpt.keySet().stream().filter(k -> !model.containsKey(k)).toList();
            // set() replaces storage outside autograd; a Java array copies across devices and never aliases.
            try (GradMode ignored = GradMode.disabled()) {
                for (String name : loaded) {
                    model.get(name).set(toFloats(ckpt.get(name)));
                }
            }
            return new Report(source, List.copyOf(loaded), List.copyOf(missing), unexpected,
                    List.copyOf(removedHead), grids);
        }
    }

    /** Replaces the checkpoint's pos_embed by its resized version when the grids differ; returns them or null. */
    private static int[] interpolatePosEmbed(Map<String, NDArray> ckpt, ViTConfig config, NDManager scratch,
            String source) {
        NDArray pos = ckpt.get("pos_embed");
        if (pos == null) {
            return null;
        }
        Shape s = pos.getShape();
        if (s.dimension() != 3 || s.get(0) != 1) {
            throw new IllegalArgumentException(source + ": pos_embed has shape " + s + ", expected [1, 1 + L, D]");
        }
        int extra = 1;
        int from = PosEmbedInterpolation.gridOf(s.get(1) - extra, source + " pos_embed " + s);
        int to = config.gridSize();
        if (from == to) {
            return null;
        }
        int dim = (int) s.get(2);
        float[] resized = PosEmbedInterpolation.resize(toFloats(pos), extra, dim, from, to);
        ckpt.put("pos_embed", scratch.create(resized, new Shape(1, extra + (long) to * to, dim)));
        return new int[] {from, to};
    }

    private static float[] toFloats(NDArray a) {
        if (a.getDataType() == DataType.FLOAT32) {
            return a.toFloatArray();
        }
        try (NDArray f = a.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }
}
