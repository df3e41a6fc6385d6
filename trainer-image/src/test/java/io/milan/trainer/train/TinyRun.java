package io.milan.trainer.train;

import io.milan.trainer.data.FashionMnistConverter;
import io.milan.trainer.model.ViTConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A small but real pretraining setup: Fashion-MNIST at 16 px, vit_tiny with patch 4, a random encoder teacher. */
final class TinyRun {
    static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    static final int SIZE = 16;
    static final int PATCH = 4;

    private TinyRun() {
    }

    /** 1% of Fashion-MNIST's training images (600, stratified) as train/ + val/ at 16 px. */
    static Path dataset(Path dir) throws IOException {
        if (!Files.isDirectory(FASHION_MNIST)) {
            throw new IllegalStateException(FASHION_MNIST + " is missing: apt-get install dataset-fashion-mnist"
                    + " (e2e/ensure-prereqs.sh does)");
        }
        Path out = dir.resolve("fashion-mnist");
        FashionMnistConverter.convert(FASHION_MNIST, out, SIZE, 0.01, 0);
        return out;
    }

    /** A randomly initialised vit_tiny encoder saved as a teacher checkpoint. */
    static Path randomTeacher(Path dir) throws IOException {
        ViTConfig base = ViTConfig.named("vit_tiny");
        Path file = dir.resolve("teacher.safetensors");
        EncoderFiles.writeRandom(new ViTConfig(SIZE, PATCH, 3, base.dim(), base.depth(), base.heads(), 4, 0), 1234,
                file);
        return file;
    }

    /** The pretrain command line of these tests. */
    static String[] pretrain(Path data, Path teacher, Path output, int epochs, String... extra) {
        List<String> args = new ArrayList<>(List.of("pretrain", "--model", "vit_tiny", "--input_size", "" + SIZE,
                "--patch_size", "" + PATCH, "--batch_size", "32", "--epochs", "" + epochs, "--warmup_epochs", "1",
                "--blr", "1e-3", "--mask_ratio", "0.75", "--use_clip", "--teacher", "encoder", "--teacher_path",
                teacher.toString(), "--change_decoder", "--attn_mask", "--decoder_embed_dim", "64",
                "--decoder_depth", "2", "--decoder_num_heads", "4", "--checkpoint_interval", "1", "--num_workers", "2",
                "--device", "cpu", "--data_path", data.toString(), "--output_dir", output.toString()));
        args.addAll(List.of(extra));
        return args.toArray(new String[0]);
    }
}
