package io.milan.trainer.dist;

import io.milan.trainer.dist.c10d.C10dStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The attempt's rendezvous secret. c10d's TCPStore accepts any client that reaches rank 0's port, so once the group
 * has met, every rank proves that it holds the secret the operator mounted for this attempt (an HMAC of its rank,
 * never the secret itself, goes through the store); rank 0 checks each proof and announces the verdict, and a rank
 * that cannot prove it (a pod of an older attempt, of another run, or not of this run at all) makes every rank
 * fail with its rank named, before any gradient is exchanged. The NetworkPolicy the operator renders keeps
 * strangers from reaching the port in the first place; this check holds where no CNI enforces it.
 */
public final class RendezvousAuth {
    /** Path of the file holding the attempt's secret, set by the operator; without it there is no check. */
    public static final String SECRET_FILE_ENV = "MILAN_RENDEZVOUS_SECRET_FILE";

    private static final String PROOF_KEY = "milan/auth/proof/";
    private static final String VERDICT_KEY = "milan/auth/verdict";
    private static final long ACCEPTED = 1;
    private static final long REFUSED = 2;
    private static final Duration POLL = Duration.ofMillis(20);

    private final byte[] secret; // null: no check

    private RendezvousAuth(byte[] secret) {
        this.secret = secret;
    }

    /** No check: a local run, or a pod group whose operator mounts no secret. */
    public static RendezvousAuth none() {
        return new RendezvousAuth(null);
    }

    public static RendezvousAuth of(byte[] secret) {
        if (secret.length < 16) {
            throw new IllegalArgumentException("the rendezvous secret must have at least 16 bytes, got "
                    + secret.length);
        }
        return new RendezvousAuth(secret.clone());
    }

    /** The secret named by {@value #SECRET_FILE_ENV}, or no check without that variable. */
    public static RendezvousAuth fromEnv(Map<String, String> env) {
        String file = env.get(SECRET_FILE_ENV);
        if (file == null || file.isBlank()) {
            return none();
        }
        try {
            return of(Files.readAllBytes(Path.of(file)));
        } catch (IOException e) {
            throw new IllegalArgumentException(SECRET_FILE_ENV + "=" + file + ": cannot read the attempt's"
                    + " rendezvous secret (" + e.getMessage() + ")", e);
        }
    }

    public boolean enabled() {
        return secret != null;
    }

    /**
     * Every rank sends its proof; rank 0 checks them all (each within the group's timeout) and every rank returns
     * or throws by its verdict.
     */
    void verify(DistConfig config, C10dStore store) {
        if (!enabled()) {
            return;
        }
        store.add(PROOF_KEY + config.rank(), proof(config.attempt(), config.rank()));
        long deadline = System.nanoTime() + config.timeout().toNanos();
        if (config.rank() == 0) {
            List<Integer> refused = new ArrayList<>();
            for (int rank = 0; rank < config.worldSize(); rank++) {
                long sent = awaitNonZero(store, PROOF_KEY + rank, deadline);
                if (!sameProof(sent, proof(config.attempt(), rank))) {
                    refused.add(rank);
                }
            }
            store.add(VERDICT_KEY, refused.isEmpty() ? ACCEPTED : REFUSED);
            if (!refused.isEmpty()) {
                throw refusal("rank" + (refused.size() > 1 ? "s " : " ") + refused.toString().replaceAll("[\\[\\]]",
                        ""), config);
            }
        } else if (awaitNonZero(store, VERDICT_KEY, deadline) != ACCEPTED) {
            throw refusal("a rank", config);
        }
    }

    /** The proof of {@code rank}: 62 bits of HMAC-SHA256(secret, attempt and rank), never 0 (0 means "not sent"). */
    long proof(int attempt, int rank) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            byte[] h = mac.doFinal(("milan-rendezvous/v1/attempt=" + attempt + "/rank=" + rank)
                    .getBytes(StandardCharsets.UTF_8));
            return (ByteBuffer.wrap(h).getLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 1L;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static boolean sameProof(long a, long b) {
        return MessageDigest.isEqual(ByteBuffer.allocate(8).putLong(a).array(), ByteBuffer.allocate(8).putLong(b)
                .array());
    }

    private static long awaitNonZero(C10dStore store, String key, long deadlineNanos) {
        while (true) {
            long value = store.add(key, 0);
            if (value != 0) {
                return value;
            }
            if (System.nanoTime() > deadlineNanos) {
                return 0;
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DistributedException("interrupted while checking the rendezvous secret", e);
            }
        }
    }

    private static DistributedException refusal(String who, DistConfig config) {
        return new DistributedException(who + " did not prove this attempt's rendezvous secret (" + SECRET_FILE_ENV
                + "), on rank " + config.rank() + " of " + config.worldSize() + ": a pod of another attempt or run,"
                + " or not of this run, reached rank 0 at " + config.masterAddr() + ":" + config.masterPort());
    }
}
