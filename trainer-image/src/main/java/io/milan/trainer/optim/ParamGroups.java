package io.milan.trainer.optim;

import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds optimizer parameter groups from parameter names and shapes, with the reference's rules.
 *
 * <p>Inputs are the model's parameters in state_dict order (name → shape) and the set of trainable names;
 * frozen parameters (e.g. the fixed sin-cos {@code pos_embed} in pretraining) are left out of every group,
 * as PyTorch skips {@code requires_grad=False} parameters.
 */
public final class ParamGroups {

    /** Names MAE's fine-tuning ViT lists in {@code no_weight_decay()}. */
    public static final Set<String> VIT_NO_WEIGHT_DECAY = Set.of("pos_embed", "cls_token");

    private ParamGroups() {
    }

    /**
     * Pretraining groups: timm 0.3.2 {@code add_weight_decay(model, weight_decay)} with no skip list.
     * 1-D parameters and names ending in {@code .bias} get no decay; everything else (including the 3-D
     * {@code cls_token} and {@code mask_token}) is decayed. Group order as in timm: no-decay, then decay.
     */
    public static List<ParamGroup> pretrain(Map<String, Shape> shapes, Set<String> trainable, double weightDecay) {
        List<String> noDecay = new ArrayList<>();
        List<String> decay = new ArrayList<>();
        for (Map.Entry<String, Shape> e : shapes.entrySet()) {
            String name = e.getKey();
            if (!trainable.contains(name)) {
                continue;
            }
            if (e.getValue().dimension() == 1 || name.endsWith(".bias")) {
                noDecay.add(name);
            } else {
                decay.add(name);
            }
        }
        requireSomeTrainable(noDecay.size() + decay.size(), shapes);
        return List.of(new ParamGroup("no_decay", noDecay, 0.0, 1.0),
                new ParamGroup("decay", decay, weightDecay, 1.0));
    }

    /**
     * Fine-tuning groups: MAE's {@code util/lr_decay.param_groups_lrd} (BEiT style). No decay for 1-D
     * parameters and for {@code noWeightDecay} names; layer id from {@link #vitLayerId}, lr scale
     * {@code layerDecay^(numLayers − layerId)} with {@code numLayers = depth + 1}. Groups are named
     * {@code layer_<id>_<decay|no_decay>} and appear in the order their first parameter does.
     */
    public static List<ParamGroup> layerDecay(Map<String, Shape> shapes, Set<String> trainable, double weightDecay,
            double layerDecay, int depth, Set<String> noWeightDecay) {
        if (depth < 1) {
            throw new IllegalArgumentException("depth must be >= 1, got " + depth);
        }
        if (!(layerDecay > 0 && layerDecay <= 1)) {
            throw new IllegalArgumentException("layer decay must be in (0, 1], got " + layerDecay);
        }
        int numLayers = depth + 1;
        Map<String, List<String>> members = new LinkedHashMap<>();
        Map<String, double[]> settings = new LinkedHashMap<>();
        for (Map.Entry<String, Shape> e : shapes.entrySet()) {
            String name = e.getKey();
            if (!trainable.contains(name)) {
                continue;
            }
            boolean noDecay = e.getValue().dimension() == 1 || noWeightDecay.contains(name);
            int layerId = vitLayerId(name, numLayers);
            String group = "layer_" + layerId + "_" + (noDecay ? "no_decay" : "decay");
            members.computeIfAbsent(group, g -> new ArrayList<>()).add(name);
            settings.computeIfAbsent(group, g -> new double[] {noDecay ? 0.0 : weightDecay,
                    Math.pow(layerDecay, numLayers - layerId)});
        }
        requireSomeTrainable(members.values().stream().mapToInt(List::size).sum(), shapes);
        List<ParamGroup> groups = new ArrayList<>();
        for (Map.Entry<String, List<String>> g : members.entrySet()) {
            double[] s = settings.get(g.getKey());
            groups.add(new ParamGroup(g.getKey(), g.getValue(), s[0], s[1]));
        }
        return groups;
    }

    /** One group holding every trainable parameter (linear probing: LARS over the head). */
    public static List<ParamGroup> single(Map<String, Shape> shapes, Set<String> trainable, double weightDecay) {
        List<String> names = shapes.keySet().stream().filter(trainable::contains).toList();
        requireSomeTrainable(names.size(), shapes);
        return List.of(new ParamGroup("all", names, weightDecay, 1.0));
    }

    /**
     * MAE's {@code get_layer_id_for_vit}: 0 for {@code cls_token}, {@code pos_embed} and
     * {@code patch_embed.*}; {@code i + 1} for {@code blocks.i.*}; {@code numLayers} for everything else.
     */
    public static int vitLayerId(String name, int numLayers) {
        if (name.equals("cls_token") || name.equals("pos_embed") || name.startsWith("patch_embed")) {
            return 0;
        }
        if (name.startsWith("blocks")) {
            String[] parts = name.split("\\.");
            if (parts.length < 2) {
                throw new IllegalArgumentException("parameter name '" + name + "' has no block index");
            }
            try {
                return Integer.parseInt(parts[1]) + 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("parameter name '" + name + "' has no numeric block index", e);
            }
        }
        return numLayers;
    }

    private static void requireSomeTrainable(int count, Map<String, Shape> shapes) {
        if (count == 0) {
            throw new IllegalArgumentException("no trainable parameters among the " + shapes.size()
                    + " given; nothing to optimize");
        }
    }
}
