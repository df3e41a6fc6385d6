package io.milan.operator.events;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.operator.status.Timestamps;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Kubernetes Events on a run, one per transition ({@code kubectl describe} shows them). Recording is best
 * effort and asynchronous: the reconcile does not wait for the API server, and a failed Event never fails it.
 */
public class RunEvents {
    public static final String NORMAL = "Normal";
    public static final String WARNING = "Warning";
    private static final String COMPONENT = "milan-operator";
    private static final Logger LOG = Logger.getLogger(RunEvents.class);
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final Clock clock;
    private final AsyncCreate creates;

    public RunEvents(Clock clock, AsyncCreate creates) {
        this.clock = clock;
        this.creates = creates;
    }

    public void record(KubernetesClient client, HasMetadata run, String type, String reason, String message) {
        var meta = run.getMetadata();
        String now = Timestamps.format(clock.instant());
        String prefix = meta.getName().length() > 200 ? meta.getName().substring(0, 200) : meta.getName();
        String name = prefix + "." + Long.toHexString(System.currentTimeMillis())
                + Long.toHexString(SEQUENCE.incrementAndGet());
        var event = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(meta.getNamespace()).endMetadata()
                .withNewInvolvedObject()
                    .withApiVersion(run.getApiVersion()).withKind(run.getKind())
                    .withName(meta.getName()).withNamespace(meta.getNamespace()).withUid(meta.getUid())
                .endInvolvedObject()
                .withType(type)
                .withReason(reason)
                .withMessage(message.length() > 1024 ? message.substring(0, 1024) : message)
                .withFirstTimestamp(now)
                .withLastTimestamp(now)
                .withCount(1)
                .withNewSource().withComponent(COMPONENT).endSource()
                .withReportingComponent(COMPONENT)
                .build();
        // Sent without waiting for the answer: an Event must not hold up the reconcile.
        creates.ifAbsent(client, event, AsyncCreate.Priority.BACKGROUND).exceptionally(e -> {
            LOG.debugf("event %s on %s/%s not recorded: %s", reason, meta.getNamespace(), meta.getName(), e);
            return null;
        });
    }
}
