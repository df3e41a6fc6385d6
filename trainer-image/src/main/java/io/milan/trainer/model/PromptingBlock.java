package io.milan.trainer.model;

import static io.milan.trainer.model.Layers.attention;
import static io.milan.trainer.model.Layers.layerNorm;
import static io.milan.trainer.model.Layers.linear;
import static io.milan.trainer.model.Layers.mergeHeads;
import static io.milan.trainer.model.Layers.mlp;
import static io.milan.trainer.model.Layers.splitHeads;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Random;

/**
 * One block of the prompting decoder (reference Block_fordecoder / Attention_fordecoder):
 * {@code x = x + proj(attn(q(norm1(x)), kv([cls, unshuffle(cat(visible, norm1(x)))]))); x = x + mlp(norm2(x))}
 * where x holds only the mask tokens. Note the reference's asymmetry, kept: the prompts enter the keys/values
 * un-normalised, the mask tokens as norm1(x). Parameters: {prefix}.norm1, .attn.q [Dd,Dd], .attn.kv [2Dd,Dd]
 * (first Dd outputs = keys), .attn.proj, .norm2, .mlp.fc1, .mlp.fc2.
 */
final class PromptingBlock {

    private final NamedParameters p;
    private final String prefix;
    private final int heads;

    PromptingBlock(NamedParameters p, String prefix, int heads) {
        this.p = p;
        this.prefix = prefix;
        this.heads = heads;
    }

    static void addParameters(NamedParameters.Builder b, String prefix, int dim, int mlpHidden, Random r) {
        TransformerBlock.addLayerNorm(b, prefix + ".norm1", dim);
        TransformerBlock.addLinear(b, prefix + ".attn.q", dim, dim, r);
        TransformerBlock.addLinear(b, prefix + ".attn.kv", dim, 2 * dim, r);
        TransformerBlock.addLinear(b, prefix + ".attn.proj", dim, dim, r);
        TransformerBlock.addLayerNorm(b, prefix + ".norm2", dim);
        TransformerBlock.addLinear(b, prefix + ".mlp.fc1", dim, mlpHidden, r);
        TransformerBlock.addLinear(b, prefix + ".mlp.fc2", mlpHidden, dim, r);
    }

    /** x: the mask tokens [N, L−K, Dd] → updated mask tokens. */
    NDArray forward(NDArray x, PromptingDecoder.Prompts prompts) {
        NDArray h = layerNorm(x, p, prefix + ".norm1", TransformerBlock.EPS);
        NDArray q = splitHeads(linear(h, p, prefix + ".attn.q"), heads);
        NDList kv = linear(prompts.assemble(h), p, prefix + ".attn.kv").split(2, 2);
        // Cross-attention of the mask tokens (queries) over the whole sequence (keys/values): no mask is needed,
        // the prompts are simply not among the queries.
        NDArray attended = mergeHeads(attention(q, splitHeads(kv.get(0), heads), splitHeads(kv.get(1), heads)));
        x = x.add(linear(attended, p, prefix + ".attn.proj"));
        return x.add(mlp(layerNorm(x, p, prefix + ".norm2", TransformerBlock.EPS), p, prefix + ".mlp"));
    }
}
