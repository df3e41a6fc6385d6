package io.milan.trainer.storage;

/**
 * An {@code s3://bucket/prefix} location: a bucket and a key prefix ("" for the bucket's root; otherwise without
 * leading or trailing slashes). Keys under it are {@code prefix + "/" + name}.
 */
public record S3Location(String bucket, String prefix) {

    public static final String SCHEME = "s3://";

    public S3Location {
        if (bucket == null || !bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException("'" + bucket + "' is not a valid S3 bucket name (3 to 63 lower-case"
                    + " letters, digits, dots and hyphens)");
        }
        prefix = trimSlashes(prefix == null ? "" : prefix);
    }

    /** Whether {@code text} names an object storage location rather than a path. */
    public static boolean isS3(String text) {
        return text != null && text.startsWith(SCHEME);
    }

    /** Parses {@code s3://bucket[/prefix]}; the message names {@code what} (a flag or field) when it is not one. */
    public static S3Location parse(String what, String text) {
        if (!isS3(text)) {
            throw new IllegalArgumentException(what + " '" + text + "' is not an s3://bucket/prefix location");
        }
        String rest = text.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        try {
            return new S3Location(bucket, prefix);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " '" + text + "': " + e.getMessage(), e);
        }
    }

    /** The key of {@code name} under this prefix. */
    public String key(String name) {
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    /** The location one level down. */
    public S3Location resolve(String name) {
        return new S3Location(bucket, key(name));
    }

    /** {@code s3://bucket/key} of {@code name} under this prefix. */
    public String url(String name) {
        return SCHEME + bucket + "/" + key(name);
    }

    @Override
    public String toString() {
        return SCHEME + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }
}
