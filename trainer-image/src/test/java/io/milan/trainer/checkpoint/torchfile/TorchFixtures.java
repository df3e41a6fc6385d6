package io.milan.trainer.checkpoint.torchfile;

import io.milan.trainer.checkpoint.SafeTensors;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The files of trainer-image/tools/make_torch_checkpoints.py (written by PyTorch 2.7.1) in
 * src/test/resources/checkpoint/torch, and the expected values PyTorch wrote beside them.
 */
public final class TorchFixtures {
    public static final String[] MAE = {"mae-tiny.pth", "mae-tiny-legacy.pth"};
    public static final String[] DTYPES = {"dtypes.pth", "dtypes-legacy.pth"};

    private TorchFixtures() {
    }

    public static Path file(String name) {
        try {
            return Path.of(TorchFixtures.class.getResource("/checkpoint/torch/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource checkpoint/torch/" + name + " is missing", e);
        }
    }

    /** A tensor of expected.safetensors: its dtype name, shape and raw little-endian bytes. */
    public record Expected(String dtype, long[] shape, byte[] bytes) {
    }

    /** The tensors of expected.safetensors whose names start with {@code prefix} ("mae/", "dtypes/"), unprefixed. */
    public static Map<String, Expected> expected(String prefix) throws IOException {
        Path file = file("expected.safetensors");
        SafeTensors.Header header = SafeTensors.readHeader(file);
        Map<String, Expected> out = new LinkedHashMap<>();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (SafeTensors.TensorInfo t : header.tensors().values()) {
                if (!t.name().startsWith(prefix)) {
                    continue;
                }
                ByteBuffer bytes = ByteBuffer.allocate((int) (t.end() - t.begin()));
                channel.read(bytes, header.dataStart() + t.begin());
                out.put(t.name().substring(prefix.length()), new Expected(t.dtype().name(), t.shape(), bytes.array()));
            }
        }
        return out;
    }
}
