package io.milan.operator.events;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpRequest;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * POSTs a namespaced object without holding a thread while the API server answers (the Fabric8 DSL's create()
 * blocks its caller). A reconcile can so send independent creates at once, and Events without waiting: under load
 * (docs/benchmarks.md, Operator) the reconciler threads spent nearly all their time blocked in one create after
 * another. Uses the client's own HTTP client, so authentication and retries are the DSL's.
 *
 * <p>At most {@link #IN_FLIGHT} creates are sent at once, the rest wait in a queue (holding no thread): the
 * client's HTTP/1.1 pool opens a connection per concurrent request (up to 8,192), and a burst of 1,000 runs would
 * otherwise cost the API server thousands of TLS handshakes instead of reusing a few dozen connections. Waiting
 * creates start by {@link Priority}: finishing a started pod group before beginning the next one, Events last.
 * One instance serves the whole operator (RunLifecycle holds it), so the bound is the operator's.
 */
public final class AsyncCreate {
    /** Fabric8's own default for maxConcurrentRequests. */
    static final int IN_FLIGHT = 64;

    private final AtomicInteger sending = new AtomicInteger();
    private final List<Queue<Runnable>> waiting =
            Stream.generate(() -> (Queue<Runnable>) new ConcurrentLinkedQueue<Runnable>())
                    .limit(Priority.values().length).toList();

    /** Which waiting create starts first. */
    public enum Priority {
        /** The later steps of a pod group whose first creates are done. */
        CONTINUE,
        /** The first creates of a pod group. */
        START,
        /** Events: best effort, after the work. */
        BACKGROUND
    }


    /**
     * Completes when the object was created or already existed (409) under the same controller: an object that has
     * a controller owner reference is only "already there" when the existing one is controlled by the same owner
     * UID. Fails with the API server's Status, or with a 409 {@link #isForeignOwner foreign-owner} failure.
     */
    public CompletableFuture<Void> ifAbsent(KubernetesClient client, HasMetadata object, Priority priority) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        waiting.get(priority.ordinal()).add(() -> {
            CompletableFuture<Void> sent;
            try {
                sent = send(client, object);
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            sent.whenComplete((ok, failure) -> {
                sending.decrementAndGet();
                drain();
                if (failure == null) {
                    result.complete(null);
                } else {
                    result.completeExceptionally(failure);
                }
            });
        });
        drain();
        return result;
    }

    /** Starts waiting creates while fewer than IN_FLIGHT are out; called after every enqueue and completion. */
    private void drain() {
        while (waiting.stream().anyMatch(q -> !q.isEmpty())) {
            int n = sending.get();
            if (n >= IN_FLIGHT) {
                return;
            }
            if (sending.compareAndSet(n, n + 1)) {
                Runnable next = waiting.stream().map(Queue::poll).filter(r -> r != null).findFirst().orElse(null);
                if (next == null) {
                    sending.decrementAndGet();
                } else {
                    next.run();
                }
            }
        }
    }

    private static CompletableFuture<Void> send(KubernetesClient client, HasMetadata object) {
        // The URL and the API server need it; the model classes (Service, Role, Event, ...) carry it by default.
        if (object.getApiVersion() == null) {
            object.setApiVersion(HasMetadata.getApiVersion(object.getClass()));
        }
        var http = client.getHttpClient();
        HttpRequest request = http.newHttpRequestBuilder()
                .uri(collectionUrl(client, object))
                .post("application/json", client.getKubernetesSerialization().asJson(object))
                .build();
        return http.sendAsync(request, String.class).thenCompose(response -> {
            if (response.code() == HttpURLConnection.HTTP_CONFLICT) {
                return checkOwner(client, object);
            }
            if (!response.isSuccessful()) {
                throw failure(client, object, response.code(), response.body());
            }
            return CompletableFuture.completedFuture(null);
        });
    }

    /** Reason of the Status of a create that found an object of its name controlled by someone else. */
    public static final String FOREIGN_OWNER = "ForeignOwner";

    /** Whether a create failed because an object of its name belongs to another owner (or to none). */
    public static boolean isForeignOwner(Throwable failure) {
        return failure instanceof KubernetesClientException k && k.getStatus() != null
                && FOREIGN_OWNER.equals(k.getStatus().getReason());
    }

    /** The controller owner reference of an object, or null. */
    public static OwnerReference controller(HasMetadata object) {
        List<OwnerReference> owners = object.getMetadata().getOwnerReferences();
        return owners == null ? null
                : owners.stream().filter(o -> Boolean.TRUE.equals(o.getController())).findFirst().orElse(null);
    }

    /**
     * After a 409: the object of that name exists. Without a controller reference of our own, that is enough (an
     * Event, say); with one, the existing object must be controlled by the same UID, else it is someone else's
     * (a same-named run of another kind, or the children of a deleted run that the garbage collector has not
     * removed yet) and must not be adopted.
     */
    private static CompletableFuture<Void> checkOwner(KubernetesClient client, HasMetadata object) {
        OwnerReference ours = controller(object);
        if (ours == null) {
            return CompletableFuture.completedFuture(null);
        }
        var http = client.getHttpClient();
        HttpRequest get = http.newHttpRequestBuilder()
                .uri(collectionUrl(client, object) + "/" + object.getMetadata().getName()).build();
        return http.sendAsync(get, String.class).thenAccept(response -> {
            if (response.code() == HttpURLConnection.HTTP_NOT_FOUND) {
                // Gone in between: the create is sent again by the next reconcile.
                throw failure(client, object, HttpURLConnection.HTTP_CONFLICT, "deleted while being created");
            }
            if (!response.isSuccessful()) {
                throw failure(client, object, response.code(), response.body());
            }
            requireSameController(object,
                    client.getKubernetesSerialization().unmarshal(response.body(), GenericKubernetesResource.class));
        });
    }

    /**
     * Throws a 409 {@link #isForeignOwner foreign-owner} failure unless {@code existing} (found under the name of
     * {@code ours}) has the same controller owner UID; an object without a controller reference of its own is
     * adopted as is.
     */
    public static void requireSameController(HasMetadata ours, HasMetadata existing) {
        OwnerReference mine = controller(ours);
        if (mine == null) {
            return;
        }
        OwnerReference theirs = controller(existing);
        if (theirs == null || !mine.getUid().equals(theirs.getUid())) {
            Status status = new Status();
            status.setCode(HttpURLConnection.HTTP_CONFLICT);
            status.setReason(FOREIGN_OWNER);
            status.setMessage(ours.getKind() + " " + ours.getMetadata().getName()
                    + " already exists and is not owned by this " + mine.getKind() + " (uid " + mine.getUid()
                    + "); its controller is " + (theirs == null ? "none"
                            : theirs.getKind() + " " + theirs.getName() + " (uid " + theirs.getUid() + ")"));
            throw new KubernetesClientException(status);
        }
    }

    private static String collectionUrl(KubernetesClient client, HasMetadata object) {
        String apiVersion = object.getApiVersion();
        String root = apiVersion.contains("/") ? "apis/" : "api/";
        String base = client.getMasterUrl().toString();
        return (base.endsWith("/") ? base : base + "/") + root + apiVersion + "/namespaces/"
                + object.getMetadata().getNamespace() + "/" + HasMetadata.getPlural(object.getClass());
    }

    private static KubernetesClientException failure(KubernetesClient client, HasMetadata object, int code,
            String body) {
        Status status;
        try {
            status = client.getKubernetesSerialization().unmarshal(body, Status.class);
        } catch (RuntimeException notAStatus) {
            status = null;
        }
        if (status == null || status.getCode() == null) {
            status = new Status();
            status.setCode(code);
            status.setMessage("creating " + object.getKind() + " " + object.getMetadata().getName() + ": HTTP " + code
                    + (body == null || body.isBlank() ? "" : ": " + body));
        }
        return new KubernetesClientException(status);
    }
}
