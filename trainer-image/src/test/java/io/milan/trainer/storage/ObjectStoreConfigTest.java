package io.milan.trainer.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.milan.api.ObjectStorage;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each location's variables: its role's when any is set, else the output's; messages name the variable. */
class ObjectStoreConfigTest {
    private static final Map<String, String> OUTPUT = Map.of("MILAN_S3_ENDPOINT", "http://minio:9000",
            "MILAN_S3_ACCESS_KEY_ID", "writer", "MILAN_S3_SECRET_ACCESS_KEY", "w-secret");

    @Test
    void anInputWithoutVariablesOfItsOwnUsesTheOutputs() {
        ObjectStoreConfig c = ObjectStoreConfig.fromEnvironment(OUTPUT, ObjectStorage.Role.DATASET);
        assertEquals("http://minio:9000", c.endpoint().toString());
        assertTrue(c.pathStyle(), "path style by default with an endpoint");
        assertEquals("writer", c.credentials().accessKeyId());
    }

    @Test
    void anInputWithItsOwnVariablesUsesOnlyThose() {
        Map<String, String> env = new java.util.HashMap<>(OUTPUT);
        env.put("MILAN_S3_DATASET_REGION", "eu-west-1"); // what the operator sets for an input without a Secret
        ObjectStoreConfig c = ObjectStoreConfig.fromEnvironment(env, ObjectStorage.Role.DATASET);
        assertNull(c.endpoint(), "AWS itself");
        assertEquals("eu-west-1", c.region());
        assertFalse(c.pathStyle());
        assertNull(c.credentials(), "the default chain, never the output's credentials");

        env.put("MILAN_S3_TEACHER_ACCESS_KEY_ID", "reader");
        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> ObjectStoreConfig.fromEnvironment(env, ObjectStorage.Role.TEACHER));
        assertTrue(half.getMessage().contains("MILAN_S3_TEACHER_SECRET_ACCESS_KEY"), half.getMessage());
        assertFalse(half.getMessage().contains("w-secret"));
    }
}
