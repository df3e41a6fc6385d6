package io.milan.operator.events;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpRequest;
import java.net.HttpURLConnection;
import java.util.concurrent.CompletableFuture;

/**
 * POSTs a namespaced object without holding a thread while the API server answers (the Fabric8 DSL's create()
 * blocks its caller). A reconcile can so send independent creates at once, and Events without waiting: under load
 * (docs/benchmarks.md, Operator) the reconciler threads spent nearly all their time blocked in one create after
 * another. Uses the client's own HTTP client, so authentication and retries are the DSL's.
 */
public final class AsyncCreate {
    private AsyncCreate() {
    }

    /** Completes when the object was created or already existed (409); fails with the API server's Status. */
    public static CompletableFuture<Void> ifAbsent(KubernetesClient client, HasMetadata object) {
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
