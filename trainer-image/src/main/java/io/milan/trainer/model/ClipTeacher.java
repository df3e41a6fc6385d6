package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.attention;
import static io.milan.trainer.model.Layers.attentionWeights;
import static io.milan.trainer.model.Layers.concatTokens;
import static io.milan.trainer.model.Layers.layerNorm;
import static io.milan.trainer.model.Layers.linear;
import static io.milan.trainer.model.Layers.mergeHeads;
import static io.milan.trainer.model.Layers.quickGelu;
import static io.milan.trainer.model.Layers.splitHeads;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The CLIP ViT-B/16 image tower as MILAN's teacher (milan-reference.md §2), read from the Hugging Face layout of
 * openai/clip-vit-base-patch16 (model.safetensors; the text tower's tensors are ignored).
 *
 * <p>conv patch embedding without bias → prepend class_embedding → + learned position_embedding → pre_layrnorm →
 * blocks (pre-LN, separate q/k/v projections with bias, QuickGELU MLP, LayerNorm eps 1e-5) → post_layernorm on
 * EVERY token (stock CLIP normalises only cls) → visual_projection (no bias) → targets [N, 1+L, 512]. The last
 * block's head-averaged attention row of the cls query is returned for semantic-aware masking (that block's
 * attention runs on the explicit path; the others use libtorch's fused scaled_dot_product_attention). This is the
 * reference's intended teacher (build_clip_model(..., finetune=False)), not its released bug (see docs/model.md).
 */
public final class ClipTeacher implements Teacher {

    static final float EPS = 1e-5f;
    private static final String V = "vision_model.";

    private final Config config;
    private final NamedParameters p;

    /**
     * Shape of the tower, inferred from the weights.
     *
     * @param heads OpenAI's rule is width / 64 (12 for ViT-B); HF files do not record it
     */
    public record Config(int imageSize, int patchSize, int width, int layers, int heads, int mlpHidden,
                         int projectionDim) {

        public int numPatches() {
            return (imageSize / patchSize) * (imageSize / patchSize);
        }
    }

    private ClipTeacher(Config config, NamedParameters params) {
        this.config = config;
        this.p = params;
    }

    /** Loads {@code path} (a .safetensors file or a directory holding model.safetensors) with heads = width/64. */
    public static ClipTeacher load(Path path, NDManager manager) throws IOException {
        return load(path, manager, 0);
    }

    /** As {@link #load(Path, NDManager)} with an explicit head count (0 = width/64), for small test towers. */
    public static ClipTeacher load(Path path, NDManager manager, int heads) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("model.safetensors") : path;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("CLIP teacher weights not found: " + file);
        }
        Map<String, NDArray> all = SafeTensors.read(file, manager).tensors();
        try {
            Config config = inferConfig(all, file, heads);
            NamedParameters.Builder b = NamedParameters.builder(manager).frozen();
            expectedShapes(config).forEach((name, shape) -> b.add(name, shape, Init.constant(0, shape.size()), false));
            NamedParameters params = b.build();
            try {
                params.copyFrom(all); // the rest (text tower, logit_scale, position_ids) is ignored
            } catch (IllegalArgumentException e) {
                params.close();
                throw new IllegalArgumentException(file + ": not a CLIP vision tower in the Hugging Face layout: "
                        + e.getMessage(), e);
            }
            return new ClipTeacher(config, params);
        } finally {
            all.values().forEach(NDArray::close);
        }
    }

    @Override
    public TeacherOutput forward(NDArray images) {
        Layers.checkImages(images, 3, config.imageSize, p.get(V + "pre_layrnorm.weight"), "teacher images");
        try (GradMode ignored = GradMode.disabled()) {
            NDArray x = embed(images);
            x = layerNorm(x, p, V + "pre_layrnorm", EPS);
            NDManager owner = x.getManager();
            NDArray[] clsAttention = new NDArray[1];
            for (int i = 0; i < config.layers; i++) {
                NDArray in = x;
                int layer = i;
                // Each layer's temporaries (q, k, v, the [N, H, T, T] weights, the MLP's hidden) are freed when
                // it returns, so the next layer reuses their memory instead of faulting in fresh pages.
                x = Layers.scoped(() -> layer(in, layer, clsAttention, owner), in);
            }
            NDArray tokens = layerNorm(x, p, V + "post_layernorm", EPS);
            return new TeacherOutput(linear(tokens, p, "visual_projection"), clsAttention[0]);
        }
    }

    /** One pre-LN layer; the last one also leaves its head-averaged cls attention row in {@code clsAttention}. */
    private NDArray layer(NDArray x, int i, NDArray[] clsAttention, NDManager owner) {
        String layer = V + "encoder.layers." + i;
        NDArray h = layerNorm(x, p, layer + ".layer_norm1", EPS);
        NDArray q = splitHeads(linear(h, p, layer + ".self_attn.q_proj"), config.heads);
        NDArray k = splitHeads(linear(h, p, layer + ".self_attn.k_proj"), config.heads);
        NDArray v = splitHeads(linear(h, p, layer + ".self_attn.v_proj"), config.heads);
        NDArray attended;
        if (i == config.layers - 1) { // the explicit path: semantic masking wants the weights' cls row
            NDArray weights = attentionWeights(q, k);
            clsAttention[0] = weights.get(":, :, 0, :").mean(new int[] {1});
            clsAttention[0].attach(owner); // outlives the layer's scope
            attended = weights.matMul(v);
        } else {
            attended = attention(q, k, v);
        }
        x = x.add(linear(mergeHeads(attended), p, layer + ".self_attn.out_proj"));
        h = layerNorm(x, p, layer + ".layer_norm2", EPS);
        return x.add(linear(quickGelu(linear(h, p, layer + ".mlp.fc1")), p, layer + ".mlp.fc2"));
    }

    /** Patches (conv, no bias, row-major) after the class embedding, plus position_embedding: [N, 1+L, W]. */
    private NDArray embed(NDArray images) {
        int ps = config.patchSize;
        NDArray x = Conv2d.conv2d(images, p.get(V + "embeddings.patch_embedding.weight"), null,
                new Shape(ps, ps)).singletonOrThrow();
        long n = images.getShape().get(0);
        x = x.reshape(n, config.width, config.numPatches()).transpose(0, 2, 1);
        NDArray cls = x.getManager().zeros(new Shape(n, 1, config.width), DataType.FLOAT32, x.getDevice())
                .add(p.get(V + "embeddings.class_embedding"));
        return concatTokens(cls, x).add(p.get(V + "embeddings.position_embedding.weight"));
    }

    public Config config() {
        return config;
    }

    @Override
    public int dim() {
        return config.projectionDim;
    }

    @Override
    public int numPatches() {
        return config.numPatches();
    }

    @Override
    public NamedParameters parameters() {
        return p;
    }

    /** The vision-tower tensors this teacher reads, with their Hugging Face names and shapes. */
    static Map<String, Shape> expectedShapes(Config c) {
        Map<String, Shape> s = new LinkedHashMap<>();
        int w = c.width;
        s.put(V + "embeddings.class_embedding", new Shape(w));
        s.put(V + "embeddings.patch_embedding.weight", new Shape(w, 3, c.patchSize, c.patchSize));
        s.put(V + "embeddings.position_embedding.weight", new Shape(1 + c.numPatches(), w));
        s.put(V + "pre_layrnorm.weight", new Shape(w));
        s.put(V + "pre_layrnorm.bias", new Shape(w));
        for (int i = 0; i < c.layers; i++) {
            String layer = V + "encoder.layers." + i;
            for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                s.put(layer + ".self_attn." + proj + ".weight", new Shape(w, w));
                s.put(layer + ".self_attn." + proj + ".bias", new Shape(w));
            }
            s.put(layer + ".layer_norm1.weight", new Shape(w));
            s.put(layer + ".layer_norm1.bias", new Shape(w));
            s.put(layer + ".mlp.fc1.weight", new Shape(c.mlpHidden, w));
            s.put(layer + ".mlp.fc1.bias", new Shape(c.mlpHidden));
            s.put(layer + ".mlp.fc2.weight", new Shape(w, c.mlpHidden));
            s.put(layer + ".mlp.fc2.bias", new Shape(w));
            s.put(layer + ".layer_norm2.weight", new Shape(w));
            s.put(layer + ".layer_norm2.bias", new Shape(w));
        }
        s.put(V + "post_layernorm.weight", new Shape(w));
        s.put(V + "post_layernorm.bias", new Shape(w));
        s.put("visual_projection.weight", new Shape(c.projectionDim, w));
        return s;
    }

    private static Config inferConfig(Map<String, NDArray> all, Path file, int heads) {
        Shape conv = require(all, V + "embeddings.patch_embedding.weight", file).getShape();
        Shape pos = require(all, V + "embeddings.position_embedding.weight", file).getShape();
        Shape fc1 = require(all, V + "encoder.layers.0.mlp.fc1.weight", file).getShape();
        Shape proj = require(all, "visual_projection.weight", file).getShape();
        int width = (int) conv.get(0);
        int patch = (int) conv.get(2);
        int grid = (int) Math.round(Math.sqrt(pos.get(0) - 1));
        if (grid * grid != pos.get(0) - 1) {
            throw new IllegalArgumentException(file + ": position_embedding has " + pos.get(0)
                    + " rows, not 1 + a square number of patches");
        }
        int layers = 0;
        while (all.containsKey(V + "encoder.layers." + layers + ".layer_norm1.weight")) {
            layers++;
        }
        int h = heads > 0 ? heads : width / 64;
        if (h < 1 || width % h != 0) {
            throw new IllegalArgumentException(file + ": " + h + " heads do not divide the width " + width);
        }
        return new Config(grid * patch, patch, width, layers, h, (int) fc1.get(0), (int) proj.get(0));
    }

    private static NDArray require(Map<String, NDArray> all, String name, Path file) {
        NDArray a = all.get(name);
        if (a == null) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' is missing; expected the Hugging Face"
                    + " layout of openai/clip-vit-base-patch16 (model.safetensors)");
        }
        return a;
    }
}
