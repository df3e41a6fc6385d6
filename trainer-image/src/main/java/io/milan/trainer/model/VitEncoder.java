package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.concatTokens;
import static io.milan.trainer.model.Layers.expand;
import static io.milan.trainer.model.Layers.gatherTokens;
import static io.milan.trainer.model.Layers.layerNorm;
import static io.milan.trainer.model.Layers.slice;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The ViT encoder of MAE/MILAN (milan-reference.md §1.1): conv patch embedding, fixed 2-D sin-cos position
 * embedding (frozen), learned cls token, pre-norm blocks, final LayerNorm.
 *
 * <p>Parameters (reference names): cls_token [1,1,D], pos_embed [1,1+L,D] (frozen), patch_embed.proj.{weight,bias},
 * blocks.{i}.*, norm.{weight,bias}. The encoder reads them by name from a {@link NamedParameters} it may share
 * with a decoder.
 */
public final class VitEncoder {

    private final ViTConfig config;
    private final NamedParameters p;
    private final List<TransformerBlock> blocks = new ArrayList<>();

    public VitEncoder(ViTConfig config, NamedParameters params) {
        this.config = config;
        this.p = params;
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new TransformerBlock(params, "blocks." + i, config.heads(), config.dropPathRate(i)));
        }
    }

    /** A standalone encoder with freshly initialised parameters on {@code manager} (and its device). */
    public static VitEncoder create(ViTConfig config, NDManager manager, long seed) {
        NamedParameters.Builder b = NamedParameters.builder(manager);
        addParameters(b, config, new Random(seed));
        return new VitEncoder(config, b.build());
    }

    /**
     * Adds the encoder's parameters with MAE's initialisation: conv weight xavier_uniform viewed as [D, C·p·p],
     * conv bias PyTorch's default U(±1/sqrt(C·p·p)), cls_token N(0, 0.02²), blocks as {@link TransformerBlock}.
     */
    static void addParameters(NamedParameters.Builder b, ViTConfig c, Random r) {
        addParameters(b, c, r, EncoderVariant.PRETRAINING);
    }

    /**
     * Adds the encoder's parameters as {@code variant} says. With timm's init (the fine-tuning ViT of
     * models_vit.py): cls_token trunc_normal(0.02), Linear weights trunc_normal(0.02), the conv keeps PyTorch's
     * default U(±1/sqrt(C·p·p)) for weight and bias. pos_embed always starts as the sin-cos table.
     */
    static void addParameters(NamedParameters.Builder b, ViTConfig c, Random r, EncoderVariant variant) {
        int d = c.dim();
        int fanIn = c.inChannels() * c.patchSize() * c.patchSize();
        boolean timm = variant.timmInit();
        boolean trainable = variant.trainable();
        b.add("cls_token", new Shape(1, 1, d), timm ? Init.truncNormal(r, 0.02, d) : Init.normal(r, 0.02, d),
                trainable);
        b.add("pos_embed", new Shape(1, 1 + c.numPatches(), d),
                PositionEmbedding.sinCos2d(d, c.gridSize(), true), trainable && variant.learnablePosEmbed());
        b.add("patch_embed.proj.weight", new Shape(d, c.inChannels(), c.patchSize(), c.patchSize()),
                timm ? Init.uniform(r, 1 / Math.sqrt(fanIn), (long) d * fanIn) : Init.xavierUniform(r, d, fanIn),
                trainable);
        b.add("patch_embed.proj.bias", new Shape(d), Init.uniform(r, 1 / Math.sqrt(fanIn), d), trainable);
        Init.MatrixInit weights = timm ? Init.MatrixInit.TIMM : Init.MatrixInit.XAVIER;
        for (int i = 0; i < c.depth(); i++) {
            TransformerBlock.addParameters(b, "blocks." + i, d, c.mlpHidden(), r, weights, trainable);
        }
        if (variant.finalNorm()) {
            TransformerBlock.addLayerNorm(b, "norm", d, trainable);
        }
    }

    public ViTConfig config() {
        return config;
    }

    public NamedParameters parameters() {
        return p;
    }

    /**
     * MAE's forward_encoder: embed all patches (+pos), keep the visible ones ({@code masking.idsKeep}), prepend
     * cls (+its zero pos row), blocks, norm. images [N,C,H,W] → latent [N, 1+K, D].
     */
    public NDArray forwardMasked(NDArray images, Masking masking) {
        NDArray patches = embedPatches(images);
        NDArray visible = gatherTokens(patches, masking.idsKeep());
        NDArray x = concatTokens(clsTokens(visible), visible);
        for (TransformerBlock block : blocks) {
            NDArray in = x;
            x = Layers.scoped(() -> block.forward(in, null), in);
            in.close();
        }
        return layerNorm(x, p, "norm", TransformerBlock.EPS);
    }

    /**
     * All tokens, as fine-tuning and the encoder teacher use them: [N, 1+L, D].
     *
     * @param applyNorm  apply the final norm (false for global-pool fine-tuning, which has its own fc_norm)
     * @param dropPath   drives stochastic depth; null = evaluation (no drop path)
     */
    public NDArray forwardAll(NDArray images, boolean applyNorm, Random dropPath) {
        NDArray patches = embedPatches(images);
        NDArray x = concatTokens(clsTokens(patches), patches);
        for (TransformerBlock block : blocks) {
            NDArray in = x;
            x = Layers.scoped(() -> block.forward(in, dropPath), in);
            in.close();
        }
        return applyNorm ? layerNorm(x, p, "norm", TransformerBlock.EPS) : x;
    }

    /** Normed tokens [N,1+L,D] and the last block's head-averaged cls attention row [N,1+L] (teacher use). */
    TransformerBlock.Output forwardWithClsAttention(NDArray images) {
        NDArray patches = embedPatches(images);
        NDArray x = concatTokens(clsTokens(patches), patches);
        for (int i = 0; i < blocks.size() - 1; i++) {
            x = blocks.get(i).forward(x, null);
        }
        TransformerBlock.Output last = blocks.get(blocks.size() - 1).forwardWithClsAttention(x);
        return new TransformerBlock.Output(layerNorm(last.tokens(), p, "norm", TransformerBlock.EPS),
                last.clsAttention());
    }

    /** Conv patch embedding, row-major patches, plus pos_embed[:, 1:]: [N,C,H,W] → [N, L, D]. */
    private NDArray embedPatches(NDArray images) {
        Layers.checkImages(images, config.inChannels(), config.imageSize(), p.get("cls_token"), "images");
        int ps = config.patchSize();
        NDArray x = Conv2d.conv2d(images, p.get("patch_embed.proj.weight"), p.get("patch_embed.proj.bias"),
                new Shape(ps, ps)).singletonOrThrow();
        long n = images.getShape().get(0);
        x = x.reshape(n, config.dim(), config.numPatches()).transpose(0, 2, 1);
        return x.add(slice(p.get("pos_embed"), ":, 1:", x));
    }

    /** cls_token + pos_embed[:, :1] (zeros), one per sample: [N, 1, D]. */
    private NDArray clsTokens(NDArray like) {
        NDArray cls = slice(p.get("pos_embed"), ":, :1", like).add(p.get("cls_token"));
        return expand(cls, new Shape(like.getShape().get(0), 1, config.dim()), like);
    }
}
