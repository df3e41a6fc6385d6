package io.milan.trainer.checkpoint;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import io.milan.api.report.RunReference;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which run a checkpoint belongs to, recorded in every checkpoint so that {@code --resume auto} never continues
 * someone else's training: the Kubernetes run's UID ({@value RunReference#ENV_UID}, set by the operator; none
 * outside Kubernetes), the run's name for messages, and the run-shaping flags ({@code cli/RunShape}) with their
 * fingerprint.
 *
 * @param uid         {@code metadata.uid} of the MilanPretrain/MilanFinetune, or null outside Kubernetes
 * @param run         "MilanPretrain ns/name", or null outside Kubernetes
 * @param fingerprint the first 16 hex digits of the SHA-256 of {@code shape} as sorted JSON
 * @param shape       flag → value of every run-shaping flag (as the trainer parsed it, defaults included)
 */
public record RunIdentity(String uid, String run, String fingerprint, Map<String, String> shape) {
    /** Checkpoint metadata keys (reserved: only the store writes them). */
    public static final String UID = "milan.run_uid";
    public static final String RUN = "milan.run";
    public static final String FINGERPRINT = "milan.run_fingerprint";
    public static final String SHAPE = "milan.run_shape";
    static final Set<String> KEYS = Set.of(UID, RUN, FINGERPRINT, SHAPE);

    private static final Gson GSON = new Gson();

    public RunIdentity {
        uid = uid == null || uid.isBlank() ? null : uid;
        run = run == null || run.isBlank() ? null : run;
        Objects.requireNonNull(fingerprint, "fingerprint");
        shape = Collections.unmodifiableMap(new TreeMap<>(shape));
    }

    /** An identity with the fingerprint of {@code shape}. */
    public static RunIdentity of(String uid, String run, Map<String, String> shape) {
        return new RunIdentity(uid, run, fingerprintOf(shape), shape);
    }

    /** This process's run: the UID and name the operator put in {@code env} (none outside Kubernetes). */
    public static RunIdentity fromEnvironment(Map<String, String> shape, Map<String, String> env) {
        String run = RunReference.fromEnvironment(env).map(RunReference::toString).orElse(null);
        return of(env.get(RunReference.ENV_UID), run, shape);
    }

    /** The identity a checkpoint's metadata records; empty for a checkpoint written before identities existed. */
    static Optional<RunIdentity> recordedIn(Map<String, String> metadata) {
        String fingerprint = metadata.get(FINGERPRINT);
        if (fingerprint == null) {
            return Optional.empty();
        }
        Map<String, String> shape;
        try {
            shape = GSON.fromJson(metadata.getOrDefault(SHAPE, "{}"), new TypeToken<Map<String, String>>() { }.getType());
        } catch (JsonParseException e) {
            shape = null;
        }
        return Optional.of(new RunIdentity(metadata.get(UID), metadata.get(RUN), fingerprint,
                shape == null ? Map.of() : shape));
    }

    /** The metadata that records this identity in a checkpoint. */
    Map<String, String> metadata() {
        Map<String, String> meta = new LinkedHashMap<>();
        if (uid != null) {
            meta.put(UID, uid);
        }
        if (run != null) {
            meta.put(RUN, run);
        }
        meta.put(FINGERPRINT, fingerprint);
        meta.put(SHAPE, GSON.toJson(shape));
        return meta;
    }

    /**
     * Why a checkpoint recorded as {@code recorded} is not this run's, or empty when it is. The UIDs are compared
     * when both have one (a run deleted and recreated under its name has a new UID); outside Kubernetes, or for a
     * checkpoint written outside it, the fingerprint alone decides. The fingerprint is compared always.
     */
    Optional<String> differenceFrom(RunIdentity recorded) {
        List<String> why = new ArrayList<>();
        if (uid != null && recorded.uid != null && !uid.equals(recorded.uid)) {
            why.add("it was written by " + describe(recorded) + ", this is " + describe(this));
        }
        if (!fingerprint.equals(recorded.fingerprint)) {
            why.add("its run-shaping flags differ (fingerprint " + recorded.fingerprint + ", this run's "
                    + fingerprint + ")" + changedFlags(recorded));
        }
        return why.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", why));
    }

    private String changedFlags(RunIdentity recorded) {
        if (recorded.shape.isEmpty()) {
            return "";
        }
        Set<String> flags = new TreeSet<>(shape.keySet());
        flags.addAll(recorded.shape.keySet());
        List<String> changed = new ArrayList<>();
        for (String flag : flags) {
            String before = recorded.shape.get(flag);
            String now = shape.get(flag);
            if (!Objects.equals(before, now)) {
                changed.add(flag + " " + (before == null ? "(not recorded)" : before) + " in the checkpoint, "
                        + (now == null ? "(none)" : now) + " now");
            }
        }
        return changed.isEmpty() ? "" : ": " + String.join(", ", changed);
    }

    private static String describe(RunIdentity identity) {
        return identity.run != null ? identity.run + " (uid " + identity.uid + ")" : "the run with uid " + identity.uid;
    }

    private static String fingerprintOf(Map<String, String> shape) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(GSON.toJson(new TreeMap<>(shape)).getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
