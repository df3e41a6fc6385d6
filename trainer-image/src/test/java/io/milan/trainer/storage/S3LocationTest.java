package io.milan.trainer.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** s3:// locations and the trainer's MILAN_S3_* settings: parsed, or refused with the flag or variable named. */
class S3LocationTest {

    @Test
    void aLocationIsABucketAndAPrefixWithoutStraySlashes() {
        S3Location l = S3Location.parse("--checkpoint_uri", "s3://milan-ckpt/runs/a/");
        assertEquals("milan-ckpt", l.bucket());
        assertEquals("runs/a", l.prefix());
        assertEquals("runs/a/checkpoints.json", l.key("checkpoints.json"));
        assertEquals("s3://milan-ckpt/runs/a/x", l.url("x"));
        assertEquals("s3://milan-ckpt/runs/a", l.toString());
        assertEquals("x", S3Location.parse("f", "s3://milan-ckpt").key("x"), "the bucket's root");
    }

    @Test
    void whatIsNotALocationIsRefusedNamingTheFlag() {
        IllegalArgumentException notS3 = assertThrows(IllegalArgumentException.class,
                () -> S3Location.parse("--checkpoint_uri", "/milan/output"));
        assertEquals("--checkpoint_uri '/milan/output' is not an s3://bucket/prefix location", notS3.getMessage());
        IllegalArgumentException badBucket = assertThrows(IllegalArgumentException.class,
                () -> S3Location.parse("--checkpoint_uri", "s3://My_Bucket/x"));
        assertTrue(badBucket.getMessage().startsWith("--checkpoint_uri 's3://My_Bucket/x': 'My_Bucket' is not a valid"),
                badBucket.getMessage());
    }

    @Test
    void settingsComeFromTheEnvironmentAndNeverShowTheSecret() {
        ObjectStoreConfig c = ObjectStoreConfig.fromEnvironment(Map.of(ObjectStoreConfig.ENDPOINT,
                "http://minio:9000", ObjectStoreConfig.ACCESS_KEY_ID, "milan", ObjectStoreConfig.SECRET_ACCESS_KEY,
                "s3cr3t-value"));
        assertEquals("http://minio:9000", c.endpoint().toString());
        assertEquals("us-east-1", c.region());
        assertTrue(c.pathStyle(), "path style by default with an endpoint");
        assertFalse(c.toString().contains("s3cr3t-value"), c.toString());

        ObjectStoreConfig aws = ObjectStoreConfig.fromEnvironment(Map.of(ObjectStoreConfig.REGION, "eu-west-1"));
        assertNull(aws.endpoint());
        assertFalse(aws.pathStyle());
        assertNull(aws.credentials(), "the default chain (IRSA, instance profile)");

        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> ObjectStoreConfig.fromEnvironment(Map.of(ObjectStoreConfig.ACCESS_KEY_ID, "milan")));
        assertTrue(half.getMessage().contains(ObjectStoreConfig.SECRET_ACCESS_KEY), half.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ObjectStoreConfig.fromEnvironment(Map.of(ObjectStoreConfig.ENDPOINT, "minio:9000")));
    }
}
