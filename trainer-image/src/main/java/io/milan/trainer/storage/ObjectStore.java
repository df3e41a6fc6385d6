package io.milan.trainer.storage;

import io.milan.trainer.checkpoint.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A small S3 client for the trainer's objects (checkpoints, manifests, dataset shards) over the AWS SDK for Java
 * v2: list, get (as a stream, bytes or a file), put (bytes or a file) and delete. Every object appears whole or
 * not at all: a file larger than one part goes up as a multipart upload that is completed only after its last
 * part, and aborted when anything fails, so a reader never sees a partial object.
 *
 * <p>Failures become {@link ObjectStoreException}s whose messages name the location and the cause a user can act
 * on (credentials refused, no such bucket, server unreachable) and never a secret.
 */
public final class ObjectStore implements AutoCloseable {

    /** Parts of a multipart upload: 16 MiB (S3 wants at least 5 MiB for all but the last). */
    public static final long DEFAULT_PART_SIZE = 16L << 20;
    static final long MIN_PART_SIZE = 5L << 20;

    private final S3Client s3;
    private final ObjectStoreConfig config;
    private final long partSize;
    private final IntConsumer afterPart;

    public ObjectStore(ObjectStoreConfig config) {
        this(config, DEFAULT_PART_SIZE, part -> { });
    }

    /** {@code afterPart} hears each completed part number of a multipart upload (tests interrupt uploads there). */
    public ObjectStore(ObjectStoreConfig config, long partSize, IntConsumer afterPart) {
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("part size must be >= 5 MiB, got " + partSize);
        }
        this.config = config;
        this.partSize = partSize;
        this.afterPart = afterPart;
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .region(Region.of(config.region()))
                .forcePathStyle(config.pathStyle())
                // Checksum headers only where S3 requires them: older S3-compatible servers refuse the newer
                // trailing checksums; integrity is checked end to end by the checkpoint manifest's SHA-256.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (config.endpoint() != null) {
            builder.endpointOverride(config.endpoint());
        }
        builder.credentialsProvider(config.credentials() == null ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(config.credentials().accessKeyId(),
                        config.credentials().secretAccessKey())));
        this.s3 = builder.build();
    }

    /** An object's key (relative to nothing: the whole key) and size in bytes. */
    public record ObjectInfo(String key, long size) {
    }

    /** Objects whose keys start with {@code location}'s prefix and a slash, in key order. */
    public List<ObjectInfo> list(S3Location location) throws ObjectStoreException {
        String prefix = location.prefix().isEmpty() ? "" : location.prefix() + "/";
        List<ObjectInfo> found = new ArrayList<>();
        try {
            String token = null;
            do {
                ListObjectsV2Response page = s3.listObjectsV2(ListObjectsV2Request.builder()
                        .bucket(location.bucket()).prefix(prefix).continuationToken(token).build());
                for (S3Object o : page.contents()) {
                    found.add(new ObjectInfo(o.key(), o.size()));
                }
                token = page.isTruncated() ? page.nextContinuationToken() : null;
            } while (token != null);
        } catch (SdkException e) {
            throw failure("list", location.toString(), location.bucket(), e);
        }
        return found;
    }

    /** The object's content as a stream (the caller closes it), or empty when there is no such object. */
    public Optional<InputStream> stream(String bucket, String key) throws ObjectStoreException {
        try {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key));
            return Optional.of(in);
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("read", url(bucket, key), bucket, e);
        }
    }

    /** An object being read: its content (the caller closes it), length and ETag (which changes with the content). */
    public record ObjectStream(InputStream content, long size, String etag) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            content.close();
        }
    }

    /** The object's content with its length and ETag, or empty when there is no such object. */
    public Optional<ObjectStream> open(String bucket, String key) throws ObjectStoreException {
        try {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key));
            GetObjectResponse r = in.response();
            return Optional.of(new ObjectStream(in, r.contentLength() == null ? -1 : r.contentLength(), r.eTag()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("read", url(bucket, key), bucket, e);
        }
    }

    /** The whole object, or empty when there is none (for small objects such as manifests). */
    public Optional<byte[]> getBytes(String bucket, String key) throws ObjectStoreException {
        Optional<InputStream> in = stream(bucket, key);
        if (in.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream s = in.get()) {
            return Optional.of(s.readAllBytes());
        } catch (IOException e) {
            throw new ObjectStoreException("cannot read " + url(bucket, key) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Downloads the object to {@code target} atomically (a temporary file renamed over it when complete);
     * false when there is no such object.
     */
    public boolean download(String bucket, String key, Path target) throws IOException {
        Optional<InputStream> in = stream(bucket, key);
        if (in.isEmpty()) {
            return false;
        }
        try (InputStream s = in.get()) {
            copy(s, bucket, key, target);
        }
        return true;
    }

    /** Writes {@code content}, the object's, to {@code target} atomically (a temporary file renamed when whole). */
    public void copy(InputStream content, String bucket, String key, Path target) throws IOException {
        try {
            AtomicFiles.write(target, channel -> {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = content.read(buf)) > 0; ) {
                    ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                    while (b.hasRemaining()) {
                        channel.write(b);
                    }
                }
            });
        } catch (UncheckedIOException e) {
            throw new ObjectStoreException("cannot read " + url(bucket, key) + ": " + e.getMessage(), e);
        } catch (SdkException e) {
            throw failure("read", url(bucket, key), bucket, e);
        }
    }

    /** Stores {@code bytes} as one object (a single PUT: visible whole or not at all). */
    public void putBytes(String bucket, String key, byte[] bytes) throws ObjectStoreException {
        try {
            s3.putObject(b -> b.bucket(bucket).key(key).contentLength((long) bytes.length),
                    RequestBody.fromBytes(bytes));
        } catch (SdkException e) {
            throw failure("write", url(bucket, key), bucket, e);
        }
    }

    /** Uploads {@code file}: one PUT up to the part size, else a multipart upload completed only when whole. */
    public void upload(Path file, String bucket, String key) throws IOException {
        long size = Files.size(file);
        if (size <= partSize) {
            try {
                s3.putObject(b -> b.bucket(bucket).key(key).contentLength(size), RequestBody.fromFile(file));
            } catch (SdkException e) {
                throw failure("write", url(bucket, key), bucket, e);
            }
            return;
        }
        String uploadId;
        try {
            uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
        } catch (SdkException e) {
            throw failure("write", url(bucket, key), bucket, e);
        }
        boolean completed = false;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            List<CompletedPart> parts = new ArrayList<>();
            byte[] buf = new byte[(int) partSize];
            int number = 0;
            for (long offset = 0; offset < size; offset += partSize) {
                int length = (int) Math.min(partSize, size - offset);
                ByteBuffer b = ByteBuffer.wrap(buf, 0, length);
                while (b.hasRemaining()) {
                    if (channel.read(b, offset + b.position()) < 0) {
                        throw new IOException(file + " shrank while it was uploaded");
                    }
                }
                int partNumber = ++number;
                String etag = s3.uploadPart(p -> p.bucket(bucket).key(key).uploadId(uploadId)
                        .partNumber(partNumber).contentLength((long) length),
                        RequestBody.fromBytes(length == buf.length ? buf : java.util.Arrays.copyOf(buf, length)))
                        .eTag();
                parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
                afterPart.accept(partNumber);
            }
            s3.completeMultipartUpload(c -> c.bucket(bucket).key(key).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)));
            completed = true;
        } catch (SdkException e) {
            throw failure("write", url(bucket, key), bucket, e);
        } finally {
            if (!completed) {
                abortQuietly(bucket, key, uploadId);
            }
        }
    }

    /** Deletes the objects (missing ones are no error). */
    public void delete(String bucket, List<String> keys) throws ObjectStoreException {
        for (String key : keys) {
            try {
                s3.deleteObject(b -> b.bucket(bucket).key(key));
            } catch (SdkException e) {
                throw failure("delete", url(bucket, key), bucket, e);
            }
        }
    }

    /** The endpoint requests go to, as messages name it. */
    public String describeEndpoint() {
        return config.describeEndpoint();
    }

    private void abortQuietly(String bucket, String key, String uploadId) {
        try {
            s3.abortMultipartUpload(a -> a.bucket(bucket).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            // The parts stay invisible (no object exists until completion); a bucket lifecycle rule for
            // incomplete multipart uploads reclaims them.
        }
    }

    /** A message the user can act on: which location, which endpoint, and what the server said. */
    private ObjectStoreException failure(String action, String location, String bucket, SdkException e) {
        String where = " (endpoint " + config.describeEndpoint() + ")";
        if (e instanceof S3Exception s) {
            String code = s.awsErrorDetails() == null ? "" : s.awsErrorDetails().errorCode();
            if ("NoSuchBucket".equals(code)) {
                return new ObjectStoreException("cannot " + action + " " + location + ": bucket '" + bucket
                        + "' does not exist" + where, e);
            }
            if ("InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code)
                    || "InvalidToken".equals(code) || "ExpiredToken".equals(code)) {
                return new ObjectStoreException("cannot " + action + " " + location + ": the server refused the"
                        + " credentials (" + code + ", " + describeCredentials() + ")" + where, e);
            }
            if (s.statusCode() == 403) {
                return new ObjectStoreException("cannot " + action + " " + location + ": access denied for "
                        + describeCredentials() + " (" + code + ")" + where, e);
            }
            return new ObjectStoreException("cannot " + action + " " + location + ": HTTP " + s.statusCode() + " "
                    + code + where, e);
        }
        return new ObjectStoreException("cannot " + action + " " + location + where + ": " + e.getMessage(), e);
    }

    private String describeCredentials() {
        return config.credentials() != null ? config.credentials().toString()
                : "the default AWS credentials chain";
    }

    private static String url(String bucket, String key) {
        return S3Location.SCHEME + bucket + "/" + key;
    }

    @Override
    public void close() {
        s3.close();
    }
}
