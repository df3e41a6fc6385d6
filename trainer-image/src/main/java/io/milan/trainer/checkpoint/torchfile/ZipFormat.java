package io.milan.trainer.checkpoint.torchfile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The zip format of {@code torch.save} (PyTorch ≥ 1.6): one top-level folder (the archive name) holding
 * {@code data.pkl} (the object, its storages as persistent ids {@code ('storage', torch.FloatStorage, key,
 * location, numel)}), {@code data/<key>} (each storage's raw bytes, stored uncompressed), {@code byteorder}
 * ({@code little}; absent before PyTorch 2.1, when files were little-endian) and {@code version}.
 * A storage's entry must hold exactly its declared bytes.
 */
final class ZipFormat implements StorageSource {
    private final Path file;
    private final ZipFile zip;
    private final String prefix;
    private final long fileSize;
    private final Map<String, StorageRef> storages = new HashMap<>();

    private ZipFormat(Path file, ZipFile zip, String prefix) throws IOException {
        this.file = file;
        this.zip = zip;
        this.prefix = prefix;
        this.fileSize = Files.size(file);
    }

    /** Opens the archive and unpickles its {@code data.pkl}; returns the object. */
    static LoadedFile open(Path file, PickleLimits limits) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new TorchFileException(file, "not a readable zip archive (truncated or corrupt?): "
                    + e.getMessage(), e);
        }
        try {
            ZipFormat format = new ZipFormat(file, zip, archivePrefix(file, zip));
            Object root = format.unpickle(limits);
            return new LoadedFile(root, format);
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e instanceof TorchFileException t ? t : e instanceof IOException io
                    ? new TorchFileException(file, "cannot read the zip archive: " + io, io)
                    : new TorchFileException(file, "malformed zip archive: " + e, e);
        }
    }

    private static String archivePrefix(Path file, ZipFile zip) throws TorchFileException {
        String prefix = null;
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String name = entries.nextElement().getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (prefix != null) {
                    throw new TorchFileException(file, "the zip archive holds more than one data.pkl");
                }
                prefix = name.substring(0, slash + 1);
            }
        }
        if (prefix == null) {
            throw new TorchFileException(file, "a zip archive without <archive>/data.pkl: not a torch.save file");
        }
        return prefix;
    }

    private Object unpickle(PickleLimits limits) throws IOException {
        ZipEntry byteorder = zip.getEntry(prefix + "byteorder");
        if (byteorder != null) {
            String order = new String(readSmall(byteorder, 16), StandardCharsets.US_ASCII).trim();
            if (!order.equals("little")) {
                throw new TorchFileException(file, "byteorder is '" + order + "'; only little-endian files are read");
            }
        }
        ZipEntry pickle = zip.getEntry(prefix + "data.pkl");
        try (InputStream in = zip.getInputStream(pickle)) {
            long budget = Math.min(limits.maxPickleBytes(), pickle.getSize() >= 0 ? pickle.getSize() : fileSize);
            Unpickler unpickler = new Unpickler(file, prefix + "data.pkl", new PickleInput(in, 0, budget), limits,
                    this::storage);
            return unpickler.load();
        }
    }

    /** The persistent id {@code ('storage', storage_type, key, location, numel)}. */
    private StorageRef storage(Object pid) throws TorchFileException {
        PersistentIds.Storage id = PersistentIds.parse(file, pid, 5);
        StorageRef known = storages.get(id.key());
        if (known != null) {
            if (!known.equals(id.ref())) {
                throw new TorchFileException(file, "storage '" + id.key() + "' is declared twice, differently");
            }
            return known;
        }
        ZipEntry entry = zip.getEntry(prefix + "data/" + id.key());
        if (entry == null) {
            throw new TorchFileException(file, "storage '" + id.key() + "' has no entry " + prefix + "data/"
                    + id.key() + " in the archive");
        }
        if (entry.getMethod() != ZipEntry.STORED) {
            throw new TorchFileException(file, "storage entry " + entry.getName() + " is compressed; torch.save"
                    + " stores them uncompressed (was the archive repacked?)");
        }
        StorageRef ref = id.ref();
        if (entry.getSize() != ref.byteLength() || entry.getSize() > fileSize) {
            throw new TorchFileException(file, "storage '" + id.key() + "' declares " + ref.numel() + " "
                    + ref.dtype() + " elements (" + ref.byteLength() + " bytes) but its entry holds "
                    + entry.getSize() + " bytes");
        }
        storages.put(id.key(), ref);
        return ref;
    }

    @Override
    public byte[] read(StorageRef storage, long byteOffset, int length) throws IOException {
        ZipEntry entry = zip.getEntry(prefix + "data/" + storage.key());
        try (InputStream in = zip.getInputStream(entry)) {
            in.skipNBytes(byteOffset);
            byte[] bytes = in.readNBytes(length);
            if (bytes.length != length) {
                throw new TorchFileException(file, "storage entry " + entry.getName() + " ends early (truncated)");
            }
            return bytes;
        } catch (java.io.EOFException | ZipException e) {
            throw new TorchFileException(file, "storage entry " + entry.getName() + " is unreadable: " + e, e);
        }
    }

    private byte[] readSmall(ZipEntry entry, int max) throws IOException {
        try (InputStream in = zip.getInputStream(entry)) {
            return in.readNBytes(max);
        }
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
