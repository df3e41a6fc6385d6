package io.milan.api;

/**
 * The names in a trainer pod that belong to the operator, as the CEL rules of the CRD refuse them in spec.env and
 * spec.podTemplate. They are compile-time strings because annotations hold them; the operator's tests check that
 * they match what it renders (TrainerEnv.RESERVED, naming/Labels, RunVolumes, SharedMemory).
 */
public final class ReservedNames {
    /** The trainer container; the names of extra containers and init containers share its namespace. */
    public static final String TRAINER_CONTAINER = "trainer";

    /** Env names the operator or the trainer's launcher sets (the rendezvous, the run reference, the attempt). */
    public static final String ENV_LIST = "['MASTER_ADDR', 'MASTER_PORT', 'WORLD_SIZE', 'NNODES', 'NODE_RANK',"
            + " 'NPROC_PER_NODE', 'RANK', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'DJL_OFFLINE',"
            + " 'MILAN_TERMINATION_GRACE_SECONDS', 'MILAN_ATTEMPT', 'MILAN_RUN_KIND', 'MILAN_RUN_NAME',"
            + " 'MILAN_RUN_NAMESPACE', 'MILAN_RUN_UID', 'MILAN_RENDEZVOUS_SECRET_FILE', 'MILAN_S3_ENDPOINT',"
            + " 'MILAN_S3_REGION', 'MILAN_S3_PATH_STYLE', 'MILAN_S3_ACCESS_KEY_ID', 'MILAN_S3_SECRET_ACCESS_KEY',"
            + " 'MILAN_S3_DATASET_ENDPOINT', 'MILAN_S3_DATASET_REGION', 'MILAN_S3_DATASET_PATH_STYLE',"
            + " 'MILAN_S3_DATASET_ACCESS_KEY_ID', 'MILAN_S3_DATASET_SECRET_ACCESS_KEY',"
            + " 'MILAN_S3_TEACHER_ENDPOINT', 'MILAN_S3_TEACHER_REGION', 'MILAN_S3_TEACHER_PATH_STYLE',"
            + " 'MILAN_S3_TEACHER_ACCESS_KEY_ID', 'MILAN_S3_TEACHER_SECRET_ACCESS_KEY',"
            + " 'MILAN_S3_PRETRAINED_ENDPOINT', 'MILAN_S3_PRETRAINED_REGION', 'MILAN_S3_PRETRAINED_PATH_STYLE',"
            + " 'MILAN_S3_PRETRAINED_ACCESS_KEY_ID', 'MILAN_S3_PRETRAINED_SECRET_ACCESS_KEY']";
    public static final String ENV_RULE = "self.all(e, !(e.name in " + ENV_LIST + "))";
    public static final String ENV_MESSAGE = "spec.env may not set MASTER_ADDR, MASTER_PORT, WORLD_SIZE, NNODES,"
            + " NODE_RANK, NPROC_PER_NODE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, DJL_OFFLINE or MILAN_ATTEMPT,"
            + " MILAN_RUN_KIND, MILAN_RUN_NAME, MILAN_RUN_NAMESPACE, MILAN_RUN_UID, MILAN_TERMINATION_GRACE_SECONDS,"
            + " MILAN_RENDEZVOUS_SECRET_FILE, MILAN_S3_*:"
            + " the operator or the trainer's launcher sets them";

    /** Volumes the operator may add to a trainer pod; milan- is kept for those it adds later. */
    public static final String VOLUME_LIST = "['dataset', 'teacher', 'pretrained', 'output', 'tmp', 'dshm',"
            + " 'rendezvous-secret']";
    public static final String VOLUME_RULE = "self.all(v, !(v.name in " + VOLUME_LIST
            + ") && !v.name.startsWith('milan-'))";
    public static final String VOLUME_MESSAGE = "spec.podTemplate.spec.volumes may not use the operator's volume"
            + " names dataset, teacher, pretrained, output, tmp, dshm, rendezvous-secret or milan-*";

    /** Pod label keys the operator (naming/Labels), the Job controller, Kueue and coscheduling set or read. */
    public static final String LABEL_RULE = "self.all(k, !(k.startsWith('milan.io/')"
            + " || k.startsWith('batch.kubernetes.io/') || k.startsWith('kueue.x-k8s.io/')"
            + " || k in ['app.kubernetes.io/name', 'app.kubernetes.io/managed-by', 'job-name', 'controller-uid',"
            + " 'scheduling.x-k8s.io/pod-group']))";
    public static final String LABELS_TEXT = "milan.io/*, batch.kubernetes.io/*, kueue.x-k8s.io/*,"
            + " app.kubernetes.io/name, app.kubernetes.io/managed-by, job-name, controller-uid,"
            + " scheduling.x-k8s.io/pod-group";
    public static final String LABEL_MESSAGE = "spec.podTemplate.metadata.labels may not set a key the operator or"
            + " the Job controller sets: " + LABELS_TEXT;

    /** Pod annotation keys the operator, the Job controller (the completion index), Kueue and Volcano set. */
    public static final String ANNOTATION_RULE = "self.all(k, !(k.startsWith('milan.io/')"
            + " || k.startsWith('batch.kubernetes.io/') || k.startsWith('kueue.x-k8s.io/')"
            + " || k == 'scheduling.k8s.io/group-name'))";
    public static final String ANNOTATIONS_TEXT = "milan.io/*, batch.kubernetes.io/*, kueue.x-k8s.io/*,"
            + " scheduling.k8s.io/group-name";
    public static final String ANNOTATION_MESSAGE = "spec.podTemplate.metadata.annotations may not set a key the"
            + " operator or the Job controller sets: " + ANNOTATIONS_TEXT;

    /** The trainer mounts of spec.podTemplate, and whether the run has any (CEL's has() needs each step). */
    static final String TRAINER_MOUNTS = "self.podTemplate.spec.trainer.volumeMounts";
    static final String HAS_TRAINER_MOUNTS = "has(self.podTemplate) && has(self.podTemplate.spec)"
            + " && has(self.podTemplate.spec.trainer) && has(self.podTemplate.spec.trainer.volumeMounts)";
    /** A mount at a location's path, when the operator mounts a claim there. */
    static final String NOT_AT_DATASET = "!(has(self.dataset.claimName) && m.mountPath == self.dataset.path)";
    /** The output is always mounted: its claim, or an emptyDir (at /milan/output when spec.output is unset). */
    static final String NOT_AT_OUTPUT = "m.mountPath != (has(self.output) && has(self.output.path) ? self.output.path"
            + " : '/milan/output')";
    static final String MOUNT_PATH_FIELD = ".podTemplate.spec.trainer.volumeMounts";
    static final String MOUNT_PATH_MESSAGE = "spec.podTemplate.spec.trainer.volumeMounts may not mount at a path"
            + " the operator mounts: spec.output.path (default /milan/output), or the path of an input with a"
            + " claimName (";

    private ReservedNames() {
    }
}
