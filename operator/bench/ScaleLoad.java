import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load driver of operator/bench/scale.sh (run as a single-file source program on the operator's own classpath):
 * creates N MilanPretrain runs at once from a template, watches (informers, no polling) until every run has its Job
 * and every run shows phase Running, waits for the operator to settle, then prints the timings, the operator's
 * reconcile-duration quantiles, the API requests per run, and the operator's heap and RSS.
 *
 * <p>Arguments: --kubeconfig F --namespace NS --template F (one MilanPretrain, its name is replaced) --runs N
 * --operator-metrics URL --operator-pid PID [--cluster-pids DIR] [--threads 16] [--timeout-s 900] [--settle-s 15]
 *
 * <p>--cluster-pids names the directory of the control plane's pid files (e2e/local-cluster.sh): their CPU time
 * over the load is printed next to the operator's, which tells the operator's own cost apart from the machine's.
 */
public final class ScaleLoad {
    private static final ResourceDefinitionContext PRETRAINS = new ResourceDefinitionContext.Builder()
            .withGroup("milan.io").withVersion("v1alpha1").withKind("MilanPretrain").withPlural("milanpretrains")
            .withNamespaced(true).build();

    /** Held so the level sticks: on this shared 2-core machine Vert.x would log every slow event-loop turn. */
    private static final java.util.logging.Logger BLOCKED_THREAD_LOG =
            java.util.logging.Logger.getLogger("io.vertx.core.impl.BlockedThreadChecker");

    private final Map<String, String> opts;
    private final String ns;
    private final int runs;
    private final long t0 = System.nanoTime();
    private final Map<String, Long> createdAt = new ConcurrentHashMap<>();
    private final Map<String, Long> jobSeenAt = new ConcurrentHashMap<>();
    private final Map<String, Long> runningAt = new ConcurrentHashMap<>();

    private ScaleLoad(Map<String, String> opts) {
        this.opts = opts;
        this.ns = need("namespace");
        this.runs = Integer.parseInt(need("runs"));
    }

    public static void main(String[] args) throws Exception {
        BLOCKED_THREAD_LOG.setLevel(java.util.logging.Level.OFF);
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        int status = 0;
        try {
            new ScaleLoad(opts).run();
        } catch (Throwable t) {
            t.printStackTrace();
            status = 1;
        }
        // The HTTP client's event loop threads would keep the JVM alive after an error.
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }

    private String need(String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    private long ms() {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private void run() throws Exception {
        Config config = Config.fromKubeconfig(Files.readString(Path.of(need("kubeconfig"))));
        config.setMaxConcurrentRequests(128);
        config.setMaxConcurrentRequestsPerHost(64);
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
            String template = Files.readString(Path.of(need("template")));
            MetricsText apiBefore = MetricsText.parse(client.raw("/metrics"));
            Snapshot before = Snapshot.of(apiBefore);
            Map<String, Double> cpuBefore = cpuSeconds();

            SharedIndexInformer<Job> jobs = client.batch().v1().jobs().inNamespace(ns)
                    .inform(handler(j -> true, jobSeenAt), 0);
            SharedIndexInformer<GenericKubernetesResource> pretrains = client.genericKubernetesResources(PRETRAINS)
                    .inNamespace(ns).inform(handler(ScaleLoad::isRunning, runningAt), 0);

            long start = ms();
            createAll(client, template);
            long created = ms();
            System.out.printf(Locale.ROOT, "created %d runs in %.2f s (%s threads)%n", runs, (created - start) / 1e3,
                    opts.getOrDefault("threads", "16"));

            long timeout = Long.parseLong(opts.getOrDefault("timeout-s", "900")) * 1000;
            long jobsAll = awaitCount(jobSeenAt, runs, timeout, "Jobs");
            long runningAll = awaitCount(runningAt, runs, timeout, "runs in phase Running");
            System.out.printf(Locale.ROOT, "all %d Jobs exist after      %7.2f s (from the first create)%n", runs,
                    (jobsAll - start) / 1e3);
            System.out.printf(Locale.ROOT, "all %d runs Running after    %7.2f s%n", runs, (runningAll - start) / 1e3);
            System.out.printf(Locale.ROOT, "per run, create -> Job:     p50 %.2f s  p99 %.2f s  max %.2f s%n",
                    latency(jobSeenAt, 0.5), latency(jobSeenAt, 0.99), latency(jobSeenAt, 1.0));
            System.out.printf(Locale.ROOT, "per run, create -> Running: p50 %.2f s  p99 %.2f s  max %.2f s%n",
                    latency(runningAt, 0.5), latency(runningAt, 0.99), latency(runningAt, 1.0));
            jobs.close();
            pretrains.close();

            settle();
            reportCpu(cpuBefore, cpuSeconds());
            MetricsText op = MetricsText.parse(httpGet(need("operator-metrics")));
            reportReconcile(op);
            reportRequests(before, Snapshot.of(MetricsText.parse(client.raw("/metrics"))));
            reportMemory(op);
        }
    }

    // ---- load ----

    private void createAll(KubernetesClient client, String template) throws Exception {
        int threads = Integer.parseInt(opts.getOrDefault("threads", "16"));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                String name = String.format(Locale.ROOT, "bench-%04d", i);
                done.add(pool.submit(() -> {
                    GenericKubernetesResource run = client.getKubernetesSerialization()
                            .unmarshal(template, GenericKubernetesResource.class);
                    run.getMetadata().setName(name);
                    run.getMetadata().setNamespace(ns);
                    createdAt.put(name, System.nanoTime());
                    client.genericKubernetesResources(PRETRAINS).inNamespace(ns).resource(run).create();
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    private static boolean isRunning(GenericKubernetesResource run) {
        Object status = run.getAdditionalProperties().get("status");
        return status instanceof Map<?, ?> s && "Running".equals(s.get("phase"));
    }

    /** Records, per run, the first time an object of it satisfies {@code when}; Jobs map to their run by name. */
    private <T extends HasMetadata> ResourceEventHandler<T> handler(Predicate<T> when, Map<String, Long> firstSeen) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                seen(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                seen(newObj);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            }

            private void seen(T obj) {
                if (when.test(obj)) {
                    String name = obj.getMetadata().getName();
                    String run = obj instanceof Job ? name.substring(0, name.lastIndexOf("-a")) : name;
                    firstSeen.putIfAbsent(run, System.nanoTime());
                }
            }
        };
    }

    private long awaitCount(Map<String, Long> seen, int n, long timeoutMs, String what) throws InterruptedException {
        while (seen.size() < n) {
            if (ms() > timeoutMs) {
                throw new IllegalStateException("after " + timeoutMs / 1000 + " s only " + seen.size() + " of " + n
                        + " " + what + " (raise --timeout-s or look at the operator log)");
            }
            Thread.sleep(50);
        }
        return (seen.values().stream().mapToLong(Long::longValue).max().orElseThrow() - t0) / 1_000_000;
    }

    /** Quantile q of (first seen - created) over all runs, in seconds (nearest rank). */
    private double latency(Map<String, Long> seen, double q) {
        double[] d = seen.entrySet().stream().mapToDouble(e -> (e.getValue() - createdAt.get(e.getKey())) / 1e9)
                .sorted().toArray();
        int i = (int) Math.ceil(q * d.length) - 1;
        return d[Math.max(0, Math.min(d.length - 1, i))];
    }

    // ---- settle, then the operator's figures ----

    /** Waits until the operator has not reconciled for --settle-s seconds (at most 180 s). */
    private void settle() throws Exception {
        long quiet = Long.parseLong(opts.getOrDefault("settle-s", "15")) * 1000;
        long deadline = ms() + 180_000;
        double last = -1;
        long since = ms();
        while (ms() < deadline) {
            double count = MetricsText.parse(httpGet(need("operator-metrics"))).sum("milan_reconcile_seconds_count",
                    Map.of());
            if (count != last) {
                last = count;
                since = ms();
            } else if (ms() - since >= quiet) {
                System.out.printf(Locale.ROOT, "settled: no reconcile for %d s (%.0f reconciles in all, %.2f per"
                        + " run)%n", quiet / 1000, count, count / runs);
                return;
            }
            Thread.sleep(1000);
        }
        System.out.println("not settled after 180 s: the operator still reconciles; figures below are taken anyway");
    }

    private void reportReconcile(MetricsText op) {
        Map<String, String> pretrain = Map.of("kind", "MilanPretrain");
        double count = op.sum("milan_reconcile_seconds_count", pretrain);
        double sum = op.sum("milan_reconcile_seconds_sum", pretrain);
        double max = op.sum("milan_reconcile_seconds_max", pretrain);
        System.out.printf(Locale.ROOT, "reconcile (milan_reconcile_seconds, %d reconciles): mean %.1f ms  p50 %.1f ms"
                + "  p90 %.1f ms  p99 %.1f ms  max (last window) %.1f ms%n", (long) count, 1e3 * sum / count,
                1e3 * op.quantile("milan_reconcile_seconds_bucket", pretrain, 0.5),
                1e3 * op.quantile("milan_reconcile_seconds_bucket", pretrain, 0.9),
                1e3 * op.quantile("milan_reconcile_seconds_bucket", pretrain, 0.99), 1e3 * max);
        // The operator SDK's own timer, when the Micrometer integration exports it.
        for (String family : op.families()) {
            if (family.startsWith("operator_sdk") && family.contains("execution") && family.endsWith("_count")) {
                System.out.printf(Locale.ROOT, "  (operator SDK: %s = %.0f)%n", family, op.sum(family, Map.of()));
            }
        }
    }

    private void reportRequests(Snapshot before, Snapshot after) {
        double operator = after.operator - before.operator;
        double all = after.total - before.total;
        System.out.printf(Locale.ROOT, "API requests of the operator (APF flow schema service-accounts):"
                + " %.0f = %.2f per run%n", operator, operator / runs);
        System.out.printf(Locale.ROOT, "API requests of all clients (apiserver_request_total delta): %.0f = %.2f per"
                + " run%n", all, all / runs);
        Map<String, Double> delta = new TreeMap<>();
        after.byVerb.forEach((k, v) -> {
            double d = v - before.byVerb.getOrDefault(k, 0.0);
            if (d >= runs / 10.0) {
                delta.put(k, d);
            }
        });
        System.out.println("  all clients by verb/resource (>= 0.1 per run), per run:");
        delta.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .forEach(e -> System.out.printf(Locale.ROOT, "    %-44s %6.2f%n", e.getKey(), e.getValue() / runs));
    }

    /** CPU seconds (user + system) of the operator and of each control-plane process, by name. */
    private Map<String, Double> cpuSeconds() throws IOException {
        Map<String, Double> cpu = new TreeMap<>();
        cpu.put("operator", cpuSecondsOf(need("operator-pid")));
        cpu.put("driver", cpuSecondsOf(String.valueOf(ProcessHandle.current().pid())));
        String dir = opts.get("cluster-pids");
        if (dir != null) {
            try (var files = Files.list(Path.of(dir))) {
                for (Path f : files.filter(f -> f.toString().endsWith(".pid")).sorted().toList()) {
                    String name = f.getFileName().toString().replace(".pid", "");
                    if (!name.equals("watchdog")) {
                        cpu.put(name, cpuSecondsOf(Files.readString(f).trim()));
                    }
                }
            }
        }
        return cpu;
    }

    private static double cpuSecondsOf(String pid) throws IOException {
        Path stat = Path.of("/proc", pid, "stat");
        if (!Files.exists(stat)) {
            return Double.NaN;
        }
        String s = Files.readString(stat);
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // USER_HZ is 100 on Linux
    }

    private void reportCpu(Map<String, Double> before, Map<String, Double> after) {
        StringBuilder line = new StringBuilder("CPU seconds (user+sys) from the first create until settled:");
        after.forEach((name, s) -> line.append(String.format(Locale.ROOT, " %s %.1f", name,
                s - before.getOrDefault(name, 0.0))));
        System.out.println(line);
    }

    private void reportMemory(MetricsText op) throws Exception {
        String pid = need("operator-pid");
        double heap = op.sum("jvm_memory_used_bytes", Map.of("area", "heap"));
        double nonHeap = op.sum("jvm_memory_used_bytes", Map.of("area", "nonheap"));
        System.out.printf(Locale.ROOT, "operator heap used %.0f MiB, non-heap %.0f MiB (jvm_memory_used_bytes), RSS"
                + " %s MiB (/proc/%s/status VmRSS)%n", heap / (1 << 20), nonHeap / (1 << 20), rssMiB(pid), pid);
        run("jcmd", pid, "GC.run"); // returns once the collection has finished: nothing to wait for
        String info = run("jcmd", pid, "GC.heap_info");
        Matcher m = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(info);
        long used = 0;
        long total = 0;
        while (m.find()) {
            total += Long.parseLong(m.group(1));
            used += Long.parseLong(m.group(2));
        }
        System.out.printf(Locale.ROOT, "after a full GC (jcmd GC.run): heap live %d MiB of %d MiB committed, RSS %s"
                + " MiB%n", used / 1024, total / 1024, rssMiB(pid));
    }

    private static String rssMiB(String pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
            if (line.startsWith("VmRSS:")) {
                return String.valueOf(Long.parseLong(line.replaceAll("\\D", "")) / 1024);
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/" + pid + "/status");
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    private static String httpGet(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("GET " + url + " answered " + r.statusCode());
        }
        return r.body();
    }

    /** Request counters of the API server at one moment. */
    private record Snapshot(double operator, double total, Map<String, Double> byVerb) {
        static Snapshot of(MetricsText m) {
            Map<String, Double> byVerb = new HashMap<>();
            for (MetricsText.Sample s : m.samples("apiserver_request_total")) {
                String key = s.labels().get("verb") + " " + s.labels().get("resource")
                        + (s.labels().getOrDefault("subresource", "").isEmpty() ? ""
                                : "/" + s.labels().get("subresource"));
                byVerb.merge(key, s.value(), Double::sum);
            }
            return new Snapshot(m.sum("apiserver_flowcontrol_dispatched_requests_total",
                    Map.of("flow_schema", "service-accounts")), m.sum("apiserver_request_total", Map.of()), byVerb);
        }
    }

    /** The Prometheus text format, just enough of it: samples with labels. */
    private static final class MetricsText {
        record Sample(String name, Map<String, String> labels, double value) {
        }

        private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+).*$");
        private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
        private final List<Sample> samples = new ArrayList<>();

        static MetricsText parse(String text) {
            MetricsText m = new MetricsText();
            for (String line : text.split("\n")) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                Matcher l = LINE.matcher(line);
                if (!l.matches()) {
                    continue;
                }
                Map<String, String> labels = new HashMap<>();
                if (l.group(3) != null) {
                    Matcher lab = LABEL.matcher(l.group(3));
                    while (lab.find()) {
                        labels.put(lab.group(1), lab.group(2));
                    }
                }
                m.samples.add(new Sample(l.group(1), labels, value(l.group(4))));
            }
            return m;
        }

        private static double value(String v) {
            return switch (v) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(v);
            };
        }

        List<Sample> samples(String name) {
            return samples.stream().filter(s -> s.name.equals(name)).toList();
        }

        List<String> families() {
            return samples.stream().map(Sample::name).distinct().toList();
        }

        double sum(String name, Map<String, String> match) {
            return samples(name).stream().filter(s -> s.labels.entrySet().containsAll(match.entrySet()))
                    .mapToDouble(Sample::value).sum();
        }

        /** Quantile from cumulative histogram buckets, interpolating linearly inside a bucket (histogram_quantile). */
        double quantile(String bucketName, Map<String, String> match, double q) {
            TreeMap<Double, Double> cumulative = new TreeMap<>();
            for (Sample s : samples(bucketName)) {
                if (s.labels.entrySet().containsAll(match.entrySet())) {
                    String le = s.labels.get("le");
                    cumulative.merge(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), s.value,
                            Double::sum);
                }
            }
            double total = cumulative.lastEntry().getValue();
            double rank = q * total;
            double lowerBound = 0;
            double lowerCount = 0;
            for (var e : cumulative.entrySet()) {
                if (e.getValue() >= rank) {
                    if (e.getKey().isInfinite()) {
                        return lowerBound;
                    }
                    double inBucket = e.getValue() - lowerCount;
                    return inBucket == 0 ? e.getKey()
                            : lowerBound + (e.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
                }
                lowerBound = e.getKey();
                lowerCount = e.getValue();
            }
            return lowerBound;
        }
    }
}
