package io.milan.trainer.model;

import java.util.Locale;

/**
 * Shape of a ViT encoder. The named sizes are the reference's (milan-reference.md §1.1); every field can be set
 * so tests and the CPU demo can use tiny models.
 *
 * @param imageSize  input height = width in pixels
 * @param patchSize  patch side in pixels
 * @param inChannels image channels (3)
 * @param dim        token width D
 * @param depth      number of blocks
 * @param heads      attention heads per block
 * @param mlpRatio   MLP hidden width / D
 * @param dropPath   stochastic-depth rate of the last block (linspace(0, dropPath, depth)); 0 in pretraining
 */
public record ViTConfig(int imageSize, int patchSize, int inChannels, int dim, int depth, int heads,
                        double mlpRatio, double dropPath) {

    public ViTConfig {
        require(imageSize > 0 && patchSize > 0 && imageSize % patchSize == 0,
                "imageSize (" + imageSize + ") must be a positive multiple of patchSize (" + patchSize + ")");
        require(inChannels > 0, "inChannels must be positive, got " + inChannels);
        require(dim > 0 && dim % 4 == 0, "dim must be a positive multiple of 4 (2-D sin-cos table), got " + dim);
        require(depth > 0, "depth must be positive, got " + depth);
        require(heads > 0 && dim % heads == 0, "heads (" + heads + ") must divide dim (" + dim + ")");
        require(mlpRatio > 0, "mlpRatio must be positive, got " + mlpRatio);
        require(dropPath >= 0 && dropPath < 1, "dropPath must be in [0, 1), got " + dropPath);
    }

    /** A reference size at 224 px: vit_small|vit_base|vit_large (patch 16), vit_huge (patch 14). */
    public static ViTConfig named(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "vit_micro": // not in the reference: 6 blocks of 128, for CPU experiments and the CPU demo
                return new ViTConfig(224, 16, 3, 128, 6, 4, 4, 0);
            case "vit_tiny": // DeiT-Ti width; not in the reference, offered for small GPUs
                return new ViTConfig(224, 16, 3, 192, 12, 3, 4, 0);
            case "vit_small":
                return new ViTConfig(224, 16, 3, 384, 12, 6, 4, 0);
            case "vit_base":
                return new ViTConfig(224, 16, 3, 768, 12, 12, 4, 0);
            case "vit_large":
                return new ViTConfig(224, 16, 3, 1024, 24, 16, 4, 0);
            case "vit_huge":
                return new ViTConfig(224, 14, 3, 1280, 32, 16, 4, 0);
            default:
                throw new IllegalArgumentException("unknown encoder '" + name
                        + "'; expected vit_micro, vit_tiny, vit_small, vit_base, vit_large or vit_huge");
        }
    }

    public int gridSize() {
        return imageSize / patchSize;
    }

    /** L, the number of patches. */
    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return dim / heads;
    }

    /** timm: int(dim * mlp_ratio). */
    public int mlpHidden() {
        return (int) (dim * mlpRatio);
    }

    /** Stochastic-depth rate of block {@code i}: torch.linspace(0, dropPath, depth)[i]. */
    public double dropPathRate(int block) {
        return depth == 1 ? 0 : dropPath * block / (depth - 1);
    }

    public ViTConfig withDropPath(double rate) {
        return new ViTConfig(imageSize, patchSize, inChannels, dim, depth, heads, mlpRatio, rate);
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
