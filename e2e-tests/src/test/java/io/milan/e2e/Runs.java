package io.milan.e2e;

import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.ObjectStorage;
import io.milan.api.PretrainedSource;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.testsupport.Await;
import java.time.Duration;
import java.util.List;

/**
 * Builds the suite's runs from the CPU quickstart examples, sized for a small cluster, and reads their state.
 *
 * <p>The data: claim {@value #DATA_CLAIM}, filled once per namespace by a pod of the trainer image with a class
 * balanced subset of the image's Fashion-MNIST (16 px; {@code -Dmilan.e2e.trainPerClass}, default 150, and
 * {@code -Dmilan.e2e.valPerClass}, default 50 images per class), so an epoch is a dozen steps of 2 x 64 images and
 * the dataset reaches the pods over a volume, as on a real cluster. The teacher is the one the image ships, as in
 * the example.
 */
final class Runs {
    static final String DATA_CLAIM = "e2e-data";
    static final String TRAINER_IMAGE = System.getProperty("milan.e2e.trainerImage", "milan/trainer:0.1.0");
    /** CPU request of each trainer pod: two pods plus the control plane fit a 2-core Kind node. */
    static final String CPU_REQUEST = System.getProperty("milan.e2e.cpuRequest", "500m");
    /** Memory request of each trainer pod. */
    static final String MEMORY_REQUEST = "1Gi";
    /** Memory limit of each trainer pod (3Gi was OOMKilled on rank 0 of the quickstart model). */
    static final String MEMORY_LIMIT = System.getProperty("milan.e2e.memoryLimit", "5Gi");
    static final Duration RUN_TIMEOUT = Duration.ofMinutes(Long.getLong("milan.e2e.runMinutes", 30));
    static final int TRAIN_PER_CLASS = Integer.getInteger("milan.e2e.trainPerClass", 150);
    static final int VAL_PER_CLASS = Integer.getInteger("milan.e2e.valPerClass", 50);

    private final KubernetesClient client;
    private final E2ECluster cluster;

    Runs(KubernetesClient client, E2ECluster cluster) {
        this.client = client;
        this.cluster = cluster;
    }

    /**
     * A ReadWriteMany claim of the cluster's default StorageClass: a run's ranks on different nodes share its data and
     * checkpoints (on Kind, local-path on a directory every node mounts; on a real cluster, NFS, CephFS, Filestore).
     */
    void claim(String name, String size) {
        client.persistentVolumeClaims().resource(new PersistentVolumeClaimBuilder().withNewMetadata().withName(name)
                .endMetadata().withNewSpec().withAccessModes("ReadWriteMany").withNewResources()
                .addToRequests("storage", new Quantity(size)).endResources().endSpec().build()).create();
    }

    /** Fills {@value #DATA_CLAIM} with the dataset subset and waits for the pod to complete. */
    void prepareData() {
        claim(DATA_CLAIM, "1Gi");
        String script = String.join("\n",
                "set -eu",
                "rm -rf /data/fashion-mnist",
                subsetCommand("/data/fashion-mnist"));
        Pod pod = new PodBuilder(trainerPod("e2e-data-prep", script)).editSpec().editFirstContainer()
                .addNewVolumeMount().withName("data").withMountPath("/data").endVolumeMount().endContainer()
                .addNewVolume().withName("data").withNewPersistentVolumeClaim(DATA_CLAIM, false).endVolume()
                .endSpec().build();
        String log = runToCompletion(pod, "preparing the data");
        if (!log.strip().endsWith(subsetSummary())) {
            throw new AssertionError("the data preparation copied a wrong number of images (expected \""
                    + subsetSummary() + "\"); pod log:\n" + log);
        }
    }

    /**
     * Writes the suite's subset of Fashion-MNIST as WebDataset shards ({@code milan-trainer shard}, {@code shardSize}
     * samples each) to {@code url}/train and {@code url}/val on the S3 server {@code endpoint}, with the credentials
     * of the Secret {@code secret} (keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); returns the pod's log.
     */
    String prepareShards(String url, String endpoint, String secret, int shardSize) {
        String script = String.join("\n",
                "set -eu",
                subsetCommand("/tmp/fashion-mnist"),
                "milan-trainer shard --from /tmp/fashion-mnist/train --to " + url + "/train --shard-size " + shardSize,
                "milan-trainer shard --from /tmp/fashion-mnist/val --to " + url + "/val --shard-size " + shardSize);
        Pod pod = new PodBuilder(trainerPod("e2e-shards", script)).editSpec().editFirstContainer()
                .addNewEnv().withName(ObjectStorage.ENV_ENDPOINT).withValue(endpoint).endEnv()
                .addNewEnv().withName(ObjectStorage.ENV_ACCESS_KEY_ID).withNewValueFrom()
                .withNewSecretKeyRef(ObjectStorage.ACCESS_KEY_ID_KEY, secret, false).endValueFrom().endEnv()
                .addNewEnv().withName(ObjectStorage.ENV_SECRET_ACCESS_KEY).withNewValueFrom()
                .withNewSecretKeyRef(ObjectStorage.SECRET_ACCESS_KEY_KEY, secret, false).endValueFrom().endEnv()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount().endContainer()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().build();
        String log = runToCompletion(pod, "sharding the data into " + url);
        if (!log.contains(subsetSummary())) {
            throw new AssertionError("the shard pod's subset has a wrong number of images (expected \""
                    + subsetSummary() + "\"); pod log:\n" + log);
        }
        return log;
    }

    private static String subsetCommand(String to) {
        return "milan-trainer subset --from /opt/milan/datasets/fashion-mnist --to " + to
                + " --per-class train=" + TRAIN_PER_CLASS + ",val=" + VAL_PER_CLASS;
    }

    /** The last line {@code milan-trainer subset} prints for the suite's subset. */
    private static String subsetSummary() {
        return "train " + 10 * TRAIN_PER_CLASS + " images, val " + 10 * VAL_PER_CLASS + " images";
    }

    /** A pod of the trainer image that runs {@code script} once, as the restricted Pod Security profile wants. */
    static Pod trainerPod(String name, String script) {
        return new PodBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec()
                .withRestartPolicy("Never")
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(10001L).withRunAsGroup(10001L)
                .withFsGroup(10001L).withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .addNewContainer().withName("main").withImage(TRAINER_IMAGE).withImagePullPolicy("IfNotPresent")
                .withCommand("sh", "-c", script)
                .withResources(new ResourceRequirementsBuilder().addToRequests("cpu", new Quantity("100m"))
                        .addToLimits("memory", new Quantity("2Gi")).build())
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withNewCapabilities().withDrop("ALL")
                .endCapabilities().endSecurityContext()
                .endContainer()
                .endSpec().build();
    }

    /** Creates the pod, waits until it Succeeded (else fails with {@code what} and its log), returns its log. */
    String runToCompletion(Pod pod, String what) {
        String name = pod.getMetadata().getName();
        client.pods().resource(pod).create();
        Pod done = Await.until(what + " (pod " + name + ") to finish", Duration.ofMinutes(10),
                () -> client.pods().withName(name).get(),
                p -> p != null && p.getStatus() != null
                        && List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()));
        String log = client.pods().withName(name).getLog();
        if (!"Succeeded".equals(done.getStatus().getPhase())) {
            throw new AssertionError(what + " failed; pod log:\n" + log);
        }
        return log;
    }

    /** examples/quickstart-cpu-pretrain.yaml on the prepared data, with its own output claim. */
    MilanPretrain pretrain(String name, int epochs) {
        claim(name + "-output", "1Gi");
        return pretrain(name, epochs, preparedData(), new StorageLocation("/output", name + "-output"));
    }

    /** examples/quickstart-cpu-pretrain.yaml sized for the suite, reading {@code dataset}, writing {@code output}. */
    MilanPretrain pretrain(String name, int epochs, StorageLocation dataset, StorageLocation output) {
        MilanPretrain run = client.resources(MilanPretrain.class)
                .load(cluster.repoPath("examples/quickstart-cpu-pretrain.yaml").toFile()).item();
        run.getMetadata().setName(name);
        run.getSpec().epochs = epochs;
        run.getSpec().dataset = dataset;
        run.getSpec().output = output;
        run.getSpec().numWorkers = 1;
        run.getSpec().resources = sized();
        return run;
    }

    /** What {@link #prepareData} made: the subset on {@value #DATA_CLAIM}. */
    static StorageLocation preparedData() {
        StorageLocation data = new StorageLocation("/milan/data", DATA_CLAIM);
        data.subPath = "fashion-mnist";
        return data;
    }

    /** examples/quickstart-cpu-finetune.yaml from the pretrain {@code pretrainName}, on the prepared data. */
    MilanFinetune finetune(String name, String pretrainName, int epochs) {
        claim(name + "-output", "1Gi");
        return finetune(name, pretrainName, epochs, preparedData(), new StorageLocation("/output", name + "-output"));
    }

    /** examples/quickstart-cpu-finetune.yaml sized for the suite, from the pretrain {@code pretrainName}. */
    MilanFinetune finetune(String name, String pretrainName, int epochs, StorageLocation dataset,
            StorageLocation output) {
        MilanFinetune run = client.resources(MilanFinetune.class)
                .load(cluster.repoPath("examples/quickstart-cpu-finetune.yaml").toFile()).item();
        run.getMetadata().setName(name);
        run.getSpec().pretrained = new PretrainedSource();
        run.getSpec().pretrained.pretrainRef = new PretrainedSource.PretrainRef(pretrainName);
        run.getSpec().epochs = epochs;
        run.getSpec().dataset = dataset;
        run.getSpec().output = output;
        run.getSpec().numWorkers = 1;
        run.getSpec().resources = sized();
        return run;
    }

    private static io.fabric8.kubernetes.api.model.ResourceRequirements sized() {
        return new ResourceRequirementsBuilder().addToRequests("cpu", new Quantity(CPU_REQUEST))
                .addToRequests("memory", new Quantity(MEMORY_REQUEST))
                .addToLimits("memory", new Quantity(MEMORY_LIMIT)).build();
    }

    RunStatus pretrainStatus(String name) {
        MilanPretrain run = client.resources(MilanPretrain.class).withName(name).get();
        return run == null ? null : run.getStatus();
    }

    RunStatus finetuneStatus(String name) {
        MilanFinetune run = client.resources(MilanFinetune.class).withName(name).get();
        return run == null ? null : run.getStatus();
    }

    /** The run's trainer pods (every attempt), by the operator's run label. */
    List<Pod> pods(String run) {
        return client.pods().withLabel("milan.io/run", run).list().getItems();
    }

    List<Job> jobs(String run) {
        return client.batch().v1().jobs().withLabel("milan.io/run", run).list().getItems();
    }

    /** Logs of the run's pods, for failure messages. */
    /** A pod's whole log. */
    String fullLog(Pod pod) {
        return client.pods().withName(pod.getMetadata().getName()).getLog();
    }

    String podLogs(String run) {
        StringBuilder s = new StringBuilder();
        for (Pod p : pods(run)) {
            String log;
            try {
                log = client.pods().withName(p.getMetadata().getName()).tailingLines(30).getLog();
            } catch (RuntimeException e) {
                log = "(no log: " + e.getMessage() + ")";
            }
            s.append("--- pod ").append(p.getMetadata().getName()).append(" (")
                    .append(p.getStatus() == null ? "?" : p.getStatus().getPhase()).append(")\n").append(log);
        }
        return s.toString();
    }
}
