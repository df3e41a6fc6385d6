package io.milan.trainer.checkpoint.torchfile;

import java.nio.file.Path;

/**
 * The storage persistent ids of {@code torch.save}: {@code ('storage', storage_type, key, location, numel[, view])}.
 */
final class PersistentIds {
    private PersistentIds() {
    }

    /** A parsed id; {@code view} is the legacy format's {@code (view_key, offset, view_size)} or null. */
    record Storage(String key, StorageRef ref, PyTuple view) {
    }

    /** Parses {@code pid}, a tuple of {@code size} items (5 in the zip format, 6 in the legacy one). */
    static Storage parse(Path file, Object pid, int size) throws TorchFileException {
        if (!(pid instanceof PyTuple t) || t.size() != size || !"storage".equals(t.get(0))) {
            String what = pid instanceof PyTuple t && t.size() > 0 && t.get(0) instanceof String s
                    ? "'" + s + "' (saved modules with their source code are not read)"
                    : Unpickler.typeName(pid);
            throw new TorchFileException(file, "a persistent id " + what + " where a storage id ('storage', type,"
                    + " key, location, numel) was expected");
        }
        if (!(t.get(1) instanceof PyGlobal type)) {
            throw new TorchFileException(file, "a storage id whose type is a " + Unpickler.typeName(t.get(1)));
        }
        TorchDtype dtype = TorchDtype.ofStorageClass(type).orElseThrow(() -> new TorchFileException(file,
                "storage type " + type + " is not supported (known: torch.FloatStorage, DoubleStorage, HalfStorage,"
                        + " BFloat16Storage, LongStorage, IntStorage, ShortStorage, CharStorage, ByteStorage,"
                        + " BoolStorage, UntypedStorage)"));
        if (!(t.get(2) instanceof String key) || key.isEmpty() || key.length() > 256 || key.contains("/")
                || key.contains("\\") || key.contains("..")) {
            throw new TorchFileException(file, "a storage id with an invalid key");
        }
        if (!(t.get(4) instanceof Long numel) || numel < 0) {
            throw new TorchFileException(file, "storage '" + key + "' has an invalid length " + t.get(4));
        }
        if (numel > Long.MAX_VALUE / dtype.bytes()) {
            throw new TorchFileException(file, "storage '" + key + "' declares " + numel + " elements");
        }
        PyTuple view = size > 5 && t.get(5) instanceof PyTuple v ? v : null;
        return new Storage(key, new StorageRef(key, dtype, numel, 0), view);
    }
}
