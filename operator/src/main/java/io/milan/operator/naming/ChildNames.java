package io.milan.operator.naming;

import io.milan.operator.reconcile.RunKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Deterministic names of a run's children. Run names may be 253-character DNS subdomains (dots, leading digits),
 * but a Service name must be a DNS-1035 label (at most 63, starting with a letter) and an Indexed Job's pods use
 * {@code <job>-<index>} as their hostname, which must be a 63-character label too. So every child name derives
 * from a <em>base</em> of at most {@value #MAX_BASE} characters: the run name itself when it already fits, else a
 * sanitised prefix plus 8 hex digits of the full name's SHA-256 (distinct runs keep distinct names).
 *
 * <p>A MilanPretrain and a MilanFinetune may share a name, so a fine-tune's base ends in {@value #FINETUNE_SUFFIX}
 * (a pretrain's is unchanged, so upgrading the operator renames nothing that runs). A pretrain literally named
 * {@code x-ft} still collides with a fine-tune {@code x}: children are therefore matched by their controller owner
 * UID, and a create that finds an object of the name owned by someone else is refused with a status message.
 */
public final class ChildNames {
    /** Job = base + "-a" + attempt (up to 6 digits) = 58; its pods' hostnames add "-" + index (up to 4 digits). */
    public static final int MAX_BASE = 50;
    public static final int MAX_JOB_NAME = 58;
    private static final Pattern DNS_1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final int HASH_LENGTH = 8;
    /** Ends the base of a MilanFinetune's children, so that they differ from a same-named MilanPretrain's. */
    public static final String FINETUNE_SUFFIX = "-ft";

    private final String base;

    private ChildNames(String base) {
        this.base = base;
    }

    /** Names of a MilanPretrain's children. */
    public static ChildNames of(String runName) {
        return new ChildNames(base(runName, ""));
    }

    /** Names of the children of a run of that kind: a fine-tune's carry {@value #FINETUNE_SUFFIX}. */
    public static ChildNames of(RunKind kind, String runName) {
        return new ChildNames(base(runName, kind == RunKind.FINETUNE ? FINETUNE_SUFFIX : ""));
    }

    /** The base: also the value of the {@code milan.io/run} label (labels hold at most 63 characters). */
    public String base() {
        return base;
    }

    /** Headless Service; the pods' subdomain. */
    public String service() {
        return base;
    }

    /** ServiceAccount, Role and RoleBinding of the trainer. */
    public String trainerAccount() {
        return base + "-trainer";
    }

    /** Volcano / coscheduling PodGroup. */
    public String podGroup() {
        return base;
    }

    /** The Job of one attempt (1-based): names are never reused across attempts. */
    public String job(int attempt) {
        if (attempt < 1 || attempt > 999_999) {
            throw new IllegalArgumentException("attempt must be in [1, 999999], got " + attempt);
        }
        return base + "-a" + attempt;
    }

    /** The Secret that the ranks of one attempt prove to each other at the rendezvous. */
    public String rendezvousSecret(int attempt) {
        return rendezvousSecretOf(job(attempt));
    }

    /** The rendezvous Secret of the attempt whose Job is called {@code jobName}. */
    public static String rendezvousSecretOf(String jobName) {
        return jobName + "-rendezvous";
    }

    /** The NetworkPolicy that admits only the run's own pods to its trainer pods. */
    public String networkPolicy() {
        return base;
    }

    /** Rank 0's stable DNS name within the namespace: the MASTER_ADDR of every pod. */
    public String masterAddress(int attempt) {
        return job(attempt) + "-0." + service();
    }

    static String base(String runName) {
        return base(runName, "");
    }

    static String base(String runName, String suffix) {
        if (runName.length() + suffix.length() <= MAX_BASE && DNS_1035_LABEL.matcher(runName).matches()) {
            return runName + suffix;
        }
        String cleaned = runName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        if (cleaned.isEmpty() || !Character.isLetter(cleaned.charAt(0))) {
            cleaned = "r-" + cleaned;
        }
        int room = MAX_BASE - HASH_LENGTH - 1 - suffix.length();
        if (cleaned.length() > room) {
            cleaned = cleaned.substring(0, room);
        }
        cleaned = cleaned.replaceAll("-+$", "");
        return cleaned + "-" + hash(runName) + suffix;
    }

    private static String hash(String s) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, HASH_LENGTH);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
