package io.milan.operator.events;

import io.fabric8.kubernetes.api.model.HasMetadata;
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


    /** Completes when the object was created or already existed (409); fails with the API server's Status. */
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
        return http.sendAsync(request, String.class).thenAccept(response -> {
            if (!response.isSuccessful() && response.code() != HttpURLConnection.HTTP_CONFLICT) {
                throw failure(client, object, response.code(), response.body());
            }
        });
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
