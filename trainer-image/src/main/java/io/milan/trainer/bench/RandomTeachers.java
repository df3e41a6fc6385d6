package io.milan.trainer.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.model.ClipTeacher;
import io.milan.trainer.model.EncoderTeacher;
import io.milan.trainer.model.Teacher;
import io.milan.trainer.model.VitEncoder;
import io.milan.trainer.model.ViTConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Teachers with random weights for timing: nothing is downloaded, and the speed of a network does not depend on
 * its values. The CLIP teacher goes through the real loader ({@link ClipTeacher#load}) from a temporary file in
 * the Hugging Face layout, so the timed forward is exactly the one pretraining runs.
 */
public final class RandomTeachers {

    /** CLIP ViT-B/16's image tower: width 768, 12 layers (12 heads), MLP 3072, projection 512. */
    public static final int CLIP_WIDTH = 768;
    public static final int CLIP_LAYERS = 12;
    public static final int CLIP_MLP = 3072;
    public static final int CLIP_PROJECTION = 512;

    private static final String V = "vision_model.";

    private RandomTeachers() {
    }

    /**
     * A CLIP ViT-B/16-shaped tower at {@code imageSize} with {@code patchSize} patches (16 for the real one; the
     * student's, so their tokens correspond), weights N(0, 0.02²), LayerNorms 1/0.
     */
    public static ClipTeacher clip(NDManager manager, int imageSize, int patchSize, long seed) throws IOException {
        // tmpfs when there is one: the atomic write syncs 344 MB, which costs seconds on a disk.
        Path shm = Path.of("/dev/shm");
        Path file = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempFile(shm, "milan-bench-clip", ".safetensors")
                : Files.createTempFile("milan-bench-clip", ".safetensors");
        try (NDManager scratch = manager.newSubManager()) {
            scratch.getEngine().setRandomSeed((int) seed);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            clipShapes(imageSize, patchSize).forEach((name, shape) -> tensors.put(name, randomValue(scratch, name,
                    shape)));
            SafeTensors.write(file, tensors, Map.of("milan.kind", "random-clip"));
            return ClipTeacher.load(file, manager);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** A randomly initialised encoder of shape {@code config} as the teacher (what --teacher encoder loads). */
    public static EncoderTeacher encoder(NDManager manager, ViTConfig config, long seed) {
        VitEncoder random = VitEncoder.create(config, manager, seed);
        try {
            return EncoderTeacher.fromTensors(random.parameters().asMap(), config, manager, "random encoder");
        } finally {
            random.parameters().close();
        }
    }

    /** The image-tower tensors {@link ClipTeacher} reads, Hugging Face names and shapes. */
    static Map<String, Shape> clipShapes(int imageSize, int patchSize) {
        int w = CLIP_WIDTH;
        int grid = imageSize / patchSize;
        Map<String, Shape> s = new LinkedHashMap<>();
        s.put(V + "embeddings.class_embedding", new Shape(w));
        s.put(V + "embeddings.patch_embedding.weight", new Shape(w, 3, patchSize, patchSize));
        s.put(V + "embeddings.position_embedding.weight", new Shape(1 + (long) grid * grid, w));
        s.put(V + "pre_layrnorm.weight", new Shape(w));
        s.put(V + "pre_layrnorm.bias", new Shape(w));
        for (int i = 0; i < CLIP_LAYERS; i++) {
            String layer = V + "encoder.layers." + i;
            for (String proj : new String[] {"k_proj", "v_proj", "q_proj", "out_proj"}) {
                s.put(layer + ".self_attn." + proj + ".weight", new Shape(w, w));
                s.put(layer + ".self_attn." + proj + ".bias", new Shape(w));
            }
            s.put(layer + ".layer_norm1.weight", new Shape(w));
            s.put(layer + ".layer_norm1.bias", new Shape(w));
            s.put(layer + ".mlp.fc1.weight", new Shape(CLIP_MLP, w));
            s.put(layer + ".mlp.fc1.bias", new Shape(CLIP_MLP));
            s.put(layer + ".mlp.fc2.weight", new Shape(w, CLIP_MLP));
            s.put(layer + ".mlp.fc2.bias", new Shape(w));
            s.put(layer + ".layer_norm2.weight", new Shape(w));
            s.put(layer + ".layer_norm2.bias", new Shape(w));
        }
        s.put(V + "post_layernorm.weight", new Shape(w));
        s.put(V + "post_layernorm.bias", new Shape(w));
        s.put("visual_projection.weight", new Shape(CLIP_PROJECTION, w));
        return s;
    }

    private static NDArray randomValue(NDManager m, String name, Shape shape) {
        boolean norm = name.contains("norm") || name.contains("layrnorm");
        if (norm && name.endsWith(".weight")) {
            return m.ones(shape);
        }
        if (name.endsWith(".bias")) {
            return m.zeros(shape);
        }
        return m.randomNormal(0, 0.02f, shape, DataType.FLOAT32);
    }
}
