package io.milan.trainer.storage;

import io.milan.api.ObjectStorage;
import java.util.EnumMap;
import java.util.Map;

/**
 * The process's clients, one per role ({@link ObjectStorage.Role}: the output, the dataset, the teacher, the
 * pretrained checkpoint), each configured from that role's {@code MILAN_S3_*} variables. A client holds only idle
 * connections, so each lives as long as the process.
 */
public final class ObjectStores {
    private static final Map<ObjectStorage.Role, ObjectStore> CLIENTS = new EnumMap<>(ObjectStorage.Role.class);

    private ObjectStores() {
    }

    /** The client for {@code role}, made on first use from the process's environment. */
    public static synchronized ObjectStore forRole(ObjectStorage.Role role) {
        return CLIENTS.computeIfAbsent(role,
                r -> new ObjectStore(ObjectStoreConfig.fromEnvironment(System.getenv(), r)));
    }
}
