package io.milan.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;
import java.util.function.Predicate;

/**
 * MILAN pretraining (milan-reference.md §1): teacher cls attention → masking → encoder on cls + visible patches →
 * decoder → loss against the teacher's per-token features on all 1+L positions.
 *
 * <p>Parameters are the reference state_dict ({@link #parameters()}); all train except the two sin-cos tables.
 */
public final class MilanPretrainModel implements AutoCloseable {

    /** Names that belong to the encoder (what fine-tuning keeps). */
    public static final Predicate<String> ENCODER_PARAMETER = name -> !name.startsWith("decoder")
            && !name.equals("mask_token");

    private final PretrainConfig config;
    private final NamedParameters params;
    private final VitEncoder encoder;
    private final Decoder decoder;

    private MilanPretrainModel(PretrainConfig config, NamedParameters params) {
        this.config = config;
        this.params = params;
        this.encoder = new VitEncoder(config.encoder(), params);
        this.decoder = Decoder.of(config.decoder(), params);
    }

    /** A freshly initialised model on {@code manager}'s device; the same seed gives the same weights anywhere. */
    public static MilanPretrainModel create(PretrainConfig config, NDManager manager, long seed) {
        Random random = new Random(seed);
        NamedParameters.Builder b = NamedParameters.builder(manager);
        VitEncoder.addParameters(b, config.encoder(), random);
        Decoder.addParameters(b, config.decoder(), config.encoder(), random);
        return new MilanPretrainModel(config, b.build());
    }

    /**
     * One pretraining forward.
     *
     * @param images        [N, C, H, W], ImageNet-normalised, on this model's device
     * @param teacher       the teacher's output for the same images; null = no loss (predictions only)
     * @param maskRatio     fraction of patches masked (0.75)
     * @param semantic      semantic-aware masking from the teacher's cls attention (--attn_mask), else random
     * @param random        draws the masking
     */
    public Output forward(NDArray images, TeacherOutput teacher, double maskRatio, boolean semantic,
            Random random) {
        int n = (int) images.getShape().get(0);
        int patches = config.encoder().numPatches();
        Masking masking;
        if (semantic) {
            if (teacher == null) {
                throw new IllegalArgumentException("semantic-aware masking needs the teacher's attention");
            }
            NDArray importance = teacher.importance();
            if (importance.getShape().get(1) != patches) {
                throw new IllegalArgumentException("teacher attention covers " + importance.getShape().get(1)
                        + " patches but the encoder sees " + patches);
            }
            masking = Masking.semantic(importance, maskRatio, random);
        } else {
            masking = Masking.random(images.getManager(), n, patches, maskRatio, random);
        }
        return forward(images, teacher, masking);
    }

    /** One pretraining forward with a given masking (tests, golden values). */
    public Output forward(NDArray images, TeacherOutput teacher, Masking masking) {
        if (masking.numPatches() != config.encoder().numPatches()) {
            throw new IllegalArgumentException("masking covers " + masking.numPatches() + " patches but the encoder"
                    + " sees " + config.encoder().numPatches());
        }
        NDArray latent = encoder.forwardMasked(images, masking);
        NDArray pred = decoder.forward(latent, masking);
        NDArray loss = teacher == null ? null : FeatureLoss.cosine(pred, teacher.targets());
        return new Output(loss, pred, masking);
    }

    /**
     * @param loss    scalar, or null without a teacher
     * @param pred    [N, 1+L, outDim], cls first
     * @param masking the masking used; {@code masking.mask()} is [N, L], 1 = masked
     */
    public record Output(NDArray loss, NDArray pred, Masking masking) {
        public NDArray mask() {
            return masking.mask();
        }
    }

    public PretrainConfig config() {
        return config;
    }

    /** All tensors by reference name; trainable ones require gradients. */
    public NamedParameters parameters() {
        return params;
    }

    public VitEncoder encoder() {
        return encoder;
    }

    public Decoder decoder() {
        return decoder;
    }

    @Override
    public void close() {
        params.close();
    }
}
