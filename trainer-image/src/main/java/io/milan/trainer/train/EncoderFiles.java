package io.milan.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.milan.trainer.checkpoint.SafeTensors;
import io.milan.trainer.model.DecoderConfig;
import io.milan.trainer.model.MilanPretrainModel;
import io.milan.trainer.model.PretrainConfig;
import io.milan.trainer.model.ViTConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Encoder weight files usable as {@code --teacher encoder}: reference key names, safetensors. */
public final class EncoderFiles {
    private EncoderFiles() {
    }

    /**
     * A randomly initialised encoder (the reference's initialisation, from {@code seed}): a random-feature
     * teacher for smoke tests and baselines.
     */
    public static void writeRandom(ViTConfig encoder, long seed, Path file) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                MilanPretrainModel model = MilanPretrainModel.create(
                        new PretrainConfig(encoder, new DecoderConfig(64, 1, 4, 4, encoder.dim(), true)), m, seed)) {
            Map<String, NDArray> weights = new LinkedHashMap<>();
            model.parameters().asMap().forEach((name, array) -> {
                if (MilanPretrainModel.ENCODER_PARAMETER.test(name)) {
                    weights.put(name, array);
                }
            });
            SafeTensors.write(file, weights, Map.of("milan.kind", "encoder"));
        }
    }
}
