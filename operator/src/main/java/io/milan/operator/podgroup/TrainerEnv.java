package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.milan.api.RunSpec;
import io.milan.api.TrainerExitCodes;
import io.milan.api.report.RunReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The environment of every trainer pod: rendezvous, attempt and the reporter's run reference. The pod runs
 * {@code milan-trainer launch}, which starts {@code NPROC_PER_NODE} trainer processes and gives each its own
 * {@code LOCAL_RANK} and {@code RANK = NODE_RANK x NPROC_PER_NODE + LOCAL_RANK}, as torchrun does: those differ
 * between the processes of one pod, so the operator never sets them.
 */
public final class TrainerEnv {
    public static final String MASTER_ADDR = "MASTER_ADDR";
    public static final String MASTER_PORT = "MASTER_PORT";
    public static final String WORLD_SIZE = "WORLD_SIZE";
    public static final String NNODES = "NNODES";
    public static final String NODE_RANK = "NODE_RANK";
    public static final String NPROC_PER_NODE = "NPROC_PER_NODE";
    public static final String RANK = "RANK";
    public static final String LOCAL_RANK = "LOCAL_RANK";
    public static final String LOCAL_WORLD_SIZE = "LOCAL_WORLD_SIZE";
    public static final String DJL_OFFLINE = "DJL_OFFLINE";
    /** The trainer pod's terminationGracePeriodSeconds when spec.terminationGracePeriodSeconds is unset. */
    public static final long TERMINATION_GRACE_SECONDS = 30;
    /** The Job controller writes each pod's completion index into this annotation. */
    public static final String COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";

    /** Names the launcher sets for each process it starts. */
    public static final Set<String> PER_PROCESS = Set.of(RANK, LOCAL_RANK, LOCAL_WORLD_SIZE);
    /** Names the operator or the launcher sets; spec.env may not override them. */
    public static final Set<String> RESERVED = reserved();

    private TrainerEnv() {
    }

    public static List<EnvVar> of(RenderInput in) {
        List<EnvVar> env = new ArrayList<>();
        env.add(value(MASTER_ADDR, in.names().masterAddress(in.attempt())));
        env.add(value(MASTER_PORT, String.valueOf(in.spec().masterPort)));
        // WORLD_SIZE counts trainer processes, as the launched processes see it: one per device of every pod.
        env.add(value(WORLD_SIZE, String.valueOf(in.spec().worldSize())));
        env.add(value(NNODES, String.valueOf(in.spec().nodes)));
        env.add(new EnvVarBuilder().withName(NODE_RANK).withNewValueFrom().withNewFieldRef()
                .withFieldPath("metadata.annotations['" + COMPLETION_INDEX_ANNOTATION + "']")
                .endFieldRef().endValueFrom().build());
        env.add(value(NPROC_PER_NODE, String.valueOf(in.spec().devicesPerNode())));
        env.add(value(RunReference.ENV_ATTEMPT, String.valueOf(in.attempt())));
        env.add(value(RunReference.ENV_KIND, in.kind().kind));
        env.add(value(RunReference.ENV_NAME, in.runName()));
        env.add(value(RunReference.ENV_NAMESPACE, in.namespace()));
        // Every checkpoint records the run's UID: a run recreated under the same name (a new UID) refuses the old
        // run's checkpoints instead of continuing them.
        String uid = in.run().getMetadata().getUid();
        if (uid != null) {
            env.add(value(RunReference.ENV_UID, uid));
        }
        env.addAll(RunIsolation.env(in));
        env.add(value(DJL_OFFLINE, "true"));
        env.add(value(TrainerExitCodes.GRACE_PERIOD_ENV, String.valueOf(gracePeriodSeconds(in.spec()))));
        env.addAll(ObjectStorageEnv.of(RunVolumes.outputObjectStorage(in.spec())));
        for (RunVolumes.Location l : RunVolumes.locations(in.spec(), in.pretrained())) {
            if (l.readOnly() && l.location().s3 != null) {
                env.addAll(ObjectStorageEnv.of(l.location().s3, l.role()));
            }
        }
        if (in.spec().env != null) {
            env.addAll(in.spec().env);
        }
        return env;
    }

    /**
     * The trainer pod's terminationGracePeriodSeconds, passed to the trainer as
     * {@link TrainerExitCodes#GRACE_PERIOD_ENV}: on SIGTERM it stops at the next step boundary and writes a checkpoint
     * only if it fits in this time.
     */
    public static long gracePeriodSeconds(RunSpec spec) {
        return spec.terminationGracePeriodSeconds != null ? spec.terminationGracePeriodSeconds
                : TERMINATION_GRACE_SECONDS;
    }

    private static Set<String> reserved() {
        Set<String> names = new java.util.TreeSet<>(Set.of(MASTER_ADDR, MASTER_PORT, WORLD_SIZE, NNODES, NODE_RANK,
                NPROC_PER_NODE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, DJL_OFFLINE, TrainerExitCodes.GRACE_PERIOD_ENV,
                RunReference.ENV_ATTEMPT, RunReference.ENV_KIND, RunReference.ENV_NAME, RunReference.ENV_NAMESPACE,
                RunReference.ENV_UID, RunIsolation.SECRET_FILE_ENV));
        names.addAll(ObjectStorageEnv.NAMES);
        return Set.copyOf(names);
    }

    private static EnvVar value(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }
}
