package io.milan.trainer.checkpoint.torchfile;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A file written by {@code torch.save}, read without Python: the zip format of PyTorch ≥ 1.6 ({@link ZipFormat})
 * or the legacy one ({@link LegacyFormat}). The object is unpickled by {@link Unpickler} (data only, never code;
 * unknown classes stay {@link OpaqueObject}s), its tensors are {@link TorchTensor} views whose values
 * {@link #read} fetches on demand, one tensor at a time.
 *
 * <pre>{@code
 * try (TorchFile f = TorchFile.open(Path.of("checkpoint-399.pth"))) {
 *     TorchFile.StateDict sd = f.stateDict();          // checkpoint['model'], or the file when it is a state_dict
 *     byte[] qkv = f.read("blocks.0.attn.qkv.weight", sd.tensors().get("blocks.0.attn.qkv.weight"));
 * }
 * }</pre>
 *
 * A malformed or hostile file gives a {@link TorchFileException} naming the file and the problem; sizes are
 * checked before memory is taken ({@link PickleLimits}; a storage must hold exactly its declared bytes, and a
 * tensor may not view more elements than its storage has).
 */
public final class TorchFile implements Closeable {

    /** The two layouts of {@code torch.save}. */
    public enum Format { ZIP, LEGACY }

    /** The largest tensor {@link #read} returns: Java arrays stop at 2 GiB. */
    static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 16;

    private final Path file;
    private final Format format;
    private final Object root;
    private final StorageSource storages;

    private TorchFile(Path file, Format format, Object root, StorageSource storages) {
        this.file = file;
        this.format = format;
        this.root = root;
        this.storages = storages;
    }

    /** Whether {@code file} starts like a {@code torch.save} file (zip or legacy); false if it is shorter. */
    public static boolean looksLikeTorchFile(Path file) throws IOException {
        return formatOf(file) != null;
    }

    private static Format formatOf(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(2 + LegacyFormat.MAGIC.length);
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return Format.ZIP;
        }
        // PROTO n, then the magic number as LONG1
        if (head.length == 2 + LegacyFormat.MAGIC.length && (head[0] & 0xff) == 0x80
                && Arrays.equals(head, 2, head.length, LegacyFormat.MAGIC, 0, LegacyFormat.MAGIC.length)) {
            return Format.LEGACY;
        }
        return null;
    }

    public static TorchFile open(Path file) throws IOException {
        return open(file, PickleLimits.DEFAULT);
    }

    /** Opens {@code file} and unpickles its object (storages are read later, by {@link #read}). */
    public static TorchFile open(Path file, PickleLimits limits) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "checkpoint file does not exist");
        }
        Format format = formatOf(file);
        if (format == null) {
            throw new TorchFileException(file, "not a torch.save file (neither a zip archive nor the legacy"
                    + " format's magic number)");
        }
        LoadedFile loaded = format == Format.ZIP ? ZipFormat.open(file, limits)
                : LegacyFormat.open(file, limits);
        return new TorchFile(file, format, loaded.root(), loaded.storages());
    }

    public Path file() {
        return file;
    }

    public Format format() {
        return format;
    }

    /**
     * The unpickled object: maps, lists, {@link PyTuple}s, scalars, {@link TorchTensor}s, {@link OpaqueObject}s.
     * It may nest deeply or contain cycles (a hostile file can make them): walk it with a depth bound.
     */
    public Object root() {
        return root;
    }

    /**
     * The weights: {@code checkpoint['model']} (MAE's and MILAN's layout: {@code model}, {@code optimizer},
     * {@code epoch}, {@code scaler}, {@code args}), or the whole object when it is a state_dict itself.
     */
    public StateDict stateDict() throws TorchFileException {
        if (!(root instanceof Map<?, ?> top)) {
            throw new TorchFileException(file, "holds a " + Unpickler.typeName(root) + ", not a dict of weights");
        }
        if (top.get("model") instanceof Map<?, ?> model) {
            return StateDict.of(file, model, "['model']");
        }
        if (top.values().stream().anyMatch(v -> v instanceof TorchTensor)) {
            return StateDict.of(file, top, "the top-level dict");
        }
        List<String> keys = top.keySet().stream().limit(20).map(String::valueOf).toList();
        throw new TorchFileException(file, "has no 'model' state_dict and is not a state_dict itself (its keys: "
                + keys + (top.size() > 20 ? ", ..." : "") + ")");
    }

    /** The tensors of a state_dict, in file order, and the names of entries that are not tensors. */
    public record StateDict(Map<String, TorchTensor> tensors, List<String> notTensors, String where) {
        static StateDict of(Path file, Map<?, ?> dict, String where) throws TorchFileException {
            Map<String, TorchTensor> tensors = new LinkedHashMap<>();
            List<String> other = new ArrayList<>();
            for (Map.Entry<?, ?> e : dict.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw new TorchFileException(file, where + " has a key of type "
                            + Unpickler.typeName(e.getKey()) + "; state_dict keys are str");
                }
                if (e.getValue() instanceof TorchTensor t) {
                    tensors.put(name, t);
                } else {
                    other.add(name);
                }
            }
            return new StateDict(tensors, other, where);
        }
    }

    /**
     * The values of tensor {@code name} (which only names it in messages) in row-major order, little-endian,
     * {@code numel × dtype.bytes()} bytes. Non-contiguous views are gathered; views that share a storage each get
     * their own copy.
     */
    public byte[] read(String name, TorchTensor t) throws TorchFileException {
        StorageRef s = t.storage();
        int es = s.dtype().bytes();
        long numel;
        long last = t.storageOffset();
        try {
            numel = t.numel();
            for (int i = 0; i < t.shape().length; i++) {
                if (t.shape()[i] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(t.shape()[i] - 1, t.stride()[i]));
                }
            }
        } catch (ArithmeticException e) {
            throw new TorchFileException(file, "tensor '" + name + "' has a shape or strides that overflow");
        }
        if (numel == 0) {
            return new byte[0];
        }
        if (last >= s.numel()) {
            throw new TorchFileException(file, "tensor '" + name + "' (" + t + ", offset " + t.storageOffset()
                    + ", strides " + Arrays.toString(t.stride()) + ") reaches element " + last + " of storage '"
                    + s.key() + "', which has " + s.numel());
        }
        if (numel > s.numel()) {
            throw new TorchFileException(file, "tensor '" + name + "' has " + numel + " elements, more than its"
                    + " storage's " + s.numel() + " (an expanded view); refused to keep memory bounded by the file");
        }
        long spanBytes = (last - t.storageOffset() + 1) * es;
        if (numel * es > MAX_TENSOR_BYTES || spanBytes > MAX_TENSOR_BYTES) {
            throw new TorchFileException(file, "tensor '" + name + "' spans " + spanBytes + " bytes; tensors over"
                    + " 2 GiB are not read");
        }
        byte[] span;
        try {
            span = storages.read(s, t.storageOffset() * es, (int) spanBytes);
        } catch (TorchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new TorchFileException(file, "cannot read tensor '" + name + "': " + e, e);
        }
        if (t.isContiguous()) {
            return span;
        }
        return StridedCopy.gather(span, t.shape(), t.stride(), es, (int) numel);
    }

    @Override
    public void close() throws IOException {
        storages.close();
    }
}
