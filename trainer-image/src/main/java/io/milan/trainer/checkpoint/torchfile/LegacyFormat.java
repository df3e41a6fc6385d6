package io.milan.trainer.checkpoint.torchfile;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The legacy format of {@code torch.save} ({@code _use_new_zipfile_serialization=False}, the default before
 * PyTorch 1.6): five pickles in a row (the magic number, the protocol version 1001, a sys_info dict, the object
 * with storage ids {@code ('storage', type, key, location, numel, view)}, and the list of storage keys), then
 * for each key in that order an int64 element count and the storage's bytes.
 */
final class LegacyFormat implements StorageSource {
    /** The first pickle of every legacy file: {@code 0x1950a86a20f9469cfc6c} as LONG1, little-endian. */
    static final byte[] MAGIC = {(byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a,
            (byte) 0xa8, 0x50, 0x19};
    private static final BigInteger MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long PROTOCOL_VERSION = 1001;

    private final Path file;
    private final FileChannel channel;
    private final Map<String, StorageRef> storages = new HashMap<>();
    private final Map<String, StorageRef> views = new HashMap<>();
    private final Map<String, Long> dataOffsets = new HashMap<>();

    private LegacyFormat(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    static LoadedFile open(Path file, PickleLimits limits) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            LegacyFormat format = new LegacyFormat(file, channel);
            Object root = format.load(limits);
            return new LoadedFile(root, format);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e instanceof TorchFileException t ? t : new TorchFileException(file, "malformed legacy torch.save"
                    + " file: " + e, e);
        }
    }

    private Object load(PickleLimits limits) throws IOException {
        long size = Files.size(file);
        InputStream in = new BufferedInputStream(java.nio.channels.Channels.newInputStream(channel.position(0)));
        long[] position = {0};
        Object magic = pickle(in, position, size, limits, "the magic-number pickle", null);
        if (!(magic instanceof BigInteger m && m.equals(MAGIC_NUMBER))) {
            throw new TorchFileException(file, "wrong magic number: not a legacy torch.save file");
        }
        Object protocol = pickle(in, position, size, limits, "the protocol-version pickle", null);
        if (!Long.valueOf(PROTOCOL_VERSION).equals(protocol)) {
            throw new TorchFileException(file, "protocol version " + protocol + " (this reader knows 1001)");
        }
        Object sysInfo = pickle(in, position, size, limits, "the sys_info pickle", null);
        if (sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"))) {
            throw new TorchFileException(file, "written on a big-endian machine; only little-endian files are read");
        }
        Object root = pickle(in, position, size, limits, "the object pickle", this::storage);
        Object keys = pickle(in, position, size, limits, "the storage-key pickle", null);
        locateStorages(keys, position[0], size);
        return root;
    }

    private Object pickle(InputStream in, long[] position, long fileSize, PickleLimits limits, String what,
            Unpickler.PersistentLoader persistent) throws TorchFileException {
        PickleInput input = new PickleInput(in, position[0], Math.min(limits.maxPickleBytes(),
                fileSize - position[0]));
        Object value = new Unpickler(file, what, input, limits, persistent != null ? persistent : pid -> {
            throw new TorchFileException(file, what + " refers to a storage");
        }).load();
        position[0] = input.position();
        return value;
    }

    /** The persistent id {@code ('storage', storage_type, root_key, location, numel, view_metadata)}. */
    private StorageRef storage(Object pid) throws TorchFileException {
        PersistentIds.Storage id = PersistentIds.parse(file, pid, 6);
        StorageRef known = storages.get(id.key());
        if (known != null && (known.dtype() != id.ref().dtype() || known.numel() != id.ref().numel())) {
            throw new TorchFileException(file, "storage '" + id.key() + "' is declared twice, differently");
        }
        StorageRef root = known != null ? known : id.ref();
        storages.putIfAbsent(id.key(), root);
        if (id.view() == null) {
            return root;
        }
        // (view_key, offset, view_size) of files from before PyTorch 1.0: a slice of the root storage.
        PyTuple v = id.view();
        if (v.size() != 3 || !(v.get(0) instanceof String viewKey) || !(v.get(1) instanceof Long offset)
                || !(v.get(2) instanceof Long viewSize) || offset < 0 || viewSize < 0
                || offset > root.numel() - viewSize) {
            throw new TorchFileException(file, "storage '" + id.key() + "' has an invalid view " + v);
        }
        return views.computeIfAbsent(viewKey, k -> new StorageRef(id.key(), root.dtype(), viewSize, offset));
    }

    /** Walks the data sections after the pickles, checking each storage's element count against its id. */
    private void locateStorages(Object keys, long start, long fileSize) throws TorchFileException {
        if (!(keys instanceof List<?> list)) {
            throw new TorchFileException(file, "the storage-key pickle holds a " + Unpickler.typeName(keys)
                    + ", not a list");
        }
        long position = start;
        for (Object k : list) {
            StorageRef storage = k instanceof String key ? storages.get(key) : null;
            if (storage == null) {
                throw new TorchFileException(file, "the storage-key list names " + k + ", which no tensor uses");
            }
            if (dataOffsets.containsKey(storage.key())) {
                throw new TorchFileException(file, "the storage-key list names '" + storage.key() + "' twice");
            }
            long count = readCount(position, fileSize, storage.key());
            if (count != storage.numel()) {
                throw new TorchFileException(file, "storage '" + storage.key() + "' declares " + storage.numel()
                        + " elements but its data section holds " + count);
            }
            long dataStart = position + 8;
            if (storage.byteLength() > fileSize - dataStart) {
                throw new TorchFileException(file, "storage '" + storage.key() + "' runs past the end of the file"
                        + " (" + storage.byteLength() + " bytes from byte " + dataStart + " of " + fileSize
                        + "): truncated");
            }
            dataOffsets.put(storage.key(), dataStart);
            position = dataStart + storage.byteLength();
        }
        for (String key : storages.keySet()) {
            if (!dataOffsets.containsKey(key)) {
                throw new TorchFileException(file, "storage '" + key + "' is used but has no data section");
            }
        }
    }

    private long readCount(long position, long fileSize, String key) throws TorchFileException {
        if (fileSize - position < 8) {
            throw new TorchFileException(file, "the file ends before storage '" + key + "' (truncated)");
        }
        ByteBuffer count = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (count.hasRemaining()) {
                if (channel.read(count, position + count.position()) < 0) {
                    throw new TorchFileException(file, "the file ends before storage '" + key + "' (truncated)");
                }
            }
        } catch (TorchFileException e) {
            throw e;
        } catch (IOException e) {
            throw new TorchFileException(file, "cannot read storage '" + key + "': " + e, e);
        }
        return count.flip().getLong();
    }

    @Override
    public byte[] read(StorageRef storage, long byteOffset, int length) throws IOException {
        long at = dataOffsets.get(storage.key()) + storage.elementOffset() * storage.dtype().bytes() + byteOffset;
        ByteBuffer bytes = ByteBuffer.allocate(length);
        while (bytes.hasRemaining()) {
            if (channel.read(bytes, at + bytes.position()) < 0) {
                throw new TorchFileException(file, "storage '" + storage.key() + "' ends early (truncated)");
            }
        }
        return bytes.array();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
