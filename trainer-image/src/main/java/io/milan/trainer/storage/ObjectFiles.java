package io.milan.trainer.storage;

import io.milan.api.ObjectStorage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Local copies of single objects the trainer reads as files (a teacher's weights, a pretrained checkpoint): each
 * downloaded once into a cache directory (the pod's {@code /tmp}, an emptyDir), atomically, then read as a local
 * file is. The processes of one pod share the copy: a file lock lets one download while the others wait, and a
 * copy whose recorded ETag still matches the object's is used again.
 */
public final class ObjectFiles {
    private final ObjectStore store;
    private final Path cache;

    public ObjectFiles(ObjectStore store, Path cache) {
        this.store = store;
        this.cache = cache;
    }

    /**
     * {@code pathOrUri} as a local file: the path itself, or for an {@code s3://} location its local copy
     * ({@link #localCopy}) through {@code role}'s client, cached in {@link #defaultCache()}.
     */
    public static Path local(String what, String pathOrUri, ObjectStorage.Role role, String fileInPrefix)
            throws IOException {
        if (!S3Location.isS3(pathOrUri)) {
            return Path.of(pathOrUri);
        }
        return new ObjectFiles(ObjectStores.forRole(role), defaultCache()).localCopy(what, pathOrUri, fileInPrefix);
    }

    /** The default cache: {@code <java.io.tmpdir>/milan-s3-cache}. */
    public static Path defaultCache() {
        return Path.of(System.getProperty("java.io.tmpdir"), "milan-s3-cache");
    }

    /**
     * A local copy of the object at {@code uri} or, when there is none and {@code fileInPrefix} is not null, of
     * {@code uri/fileInPrefix} (a "directory" holding, say, model.safetensors). {@code what} (a flag or field) names
     * it in errors.
     */
    public Path localCopy(String what, String uri, String fileInPrefix) throws IOException {
        S3Location location = S3Location.parse(what, uri);
        if (location.prefix().isEmpty()) {
            throw new IllegalArgumentException(what + " '" + uri + "' names a bucket, not an object");
        }
        String hash = hash(location.toString());
        Files.createDirectories(cache);
        try (FileChannel lockFile = FileChannel.open(cache.resolve(hash + ".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
            String key = location.prefix();
            Optional<ObjectStore.ObjectStream> object = store.open(location.bucket(), key);
            if (object.isEmpty() && fileInPrefix != null) {
                key = location.key(fileInPrefix);
                object = store.open(location.bucket(), key);
            }
            if (object.isEmpty()) {
                throw new ObjectStoreException(what + ": there is no object " + uri + (fileInPrefix == null ? ""
                        : " nor " + location.url(fileInPrefix)) + " (endpoint " + store.describeEndpoint() + ")",
                        null);
            }
            String url = S3Location.SCHEME + location.bucket() + "/" + key;
            try (ObjectStore.ObjectStream in = object.get()) {
                // One copy per object (however it was named) and server.
                Path target = cache.resolve(hash(url)).resolve(key.substring(key.lastIndexOf('/') + 1));
                Files.createDirectories(target.getParent());
                Path etagFile = target.resolveSibling(target.getFileName() + ".etag");
                String etag = in.etag() == null ? "" : in.etag();
                if (Files.isRegularFile(target) && Files.isRegularFile(etagFile) && !etag.isEmpty()
                        && etag.equals(Files.readString(etagFile, StandardCharsets.UTF_8))
                        && Files.size(target) == in.size()) {
                    return target; // another process of this pod (or an earlier run) brought it
                }
                Files.deleteIfExists(etagFile);
                System.out.println("Downloading " + url + " (" + in.size() + " bytes) to " + target);
                store.copy(in.content(), location.bucket(), key, target);
                long got = Files.size(target);
                if (in.size() >= 0 && got != in.size()) {
                    Files.delete(target);
                    throw new ObjectStoreException("cannot read " + url + ": got " + got + " of its " + in.size()
                            + " bytes", null);
                }
                io.milan.trainer.checkpoint.AtomicFiles.write(etagFile, etag.getBytes(StandardCharsets.UTF_8));
                return target;
            }
        }
    }

    /** A short name for {@code url} on this client's server. */
    private String hash(String url) {
        String text = store.describeEndpoint() + " " + url;
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
