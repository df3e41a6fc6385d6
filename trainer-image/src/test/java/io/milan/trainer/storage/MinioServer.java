package io.milan.trainer.storage;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real MinIO server (built from its Go module by e2e/build-minio.sh) on loopback, on a free port, with a data
 * directory of the caller's and fresh random credentials. {@link #kill} stops it at once (SIGKILL, as a crash);
 * {@link #start} starts it again on the same port and data, as a restarted server.
 */
public final class MinioServer implements AutoCloseable {
    private static final Duration READY_BOUND = Duration.ofSeconds(90);

    private final Path binary;
    private final Path dataDir;
    private final Path log;
    private final int port;
    private final String accessKey = "milan-" + UUID.randomUUID().toString().substring(0, 8);
    private final String secretKey = UUID.randomUUID().toString();
    private Process process;

    private MinioServer(Path binary, Path dataDir, int port) {
        this.binary = binary;
        this.dataDir = dataDir;
        this.log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        this.port = port;
    }

    /** Starts a server storing its objects in {@code dataDir} (created if missing). */
    public static MinioServer start(Path dataDir) throws Exception {
        Files.createDirectories(dataDir);
        MinioServer server = new MinioServer(binary(), dataDir, freePort());
        server.start();
        return server;
    }

    /** (Re)starts the server process on the same port and data directory and waits until it serves. */
    public void start() throws Exception {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("MinIO is already running");
        }
        ProcessBuilder builder = new ProcessBuilder(binary.toString(), "server", dataDir.toString(), "--address",
                "127.0.0.1:" + port, "--console-address", "127.0.0.1:" + freePort(), "--quiet")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("MINIO_ROOT_USER", accessKey);
        builder.environment().put("MINIO_ROOT_PASSWORD", secretKey);
        builder.environment().put("MINIO_BROWSER", "off");
        builder.environment().put("MINIO_UPDATE", "off");
        process = builder.start();
        long deadline = System.nanoTime() + READY_BOUND.toNanos();
        while (!live()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("MinIO exited during start-up (" + process.exitValue() + "): "
                        + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("MinIO did not serve within " + READY_BOUND + ": "
                        + Files.readString(log));
            }
            Thread.sleep(100); // poll the health endpoint
        }
    }

    /** SIGKILL: the server dies mid-request, as on a crash or a lost node. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** CPU time the server process has used so far (for benchmarks that count the server's share). */
    public long cpuNanos() {
        return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Client settings with the server's credentials. */
    public ObjectStoreConfig config() {
        return new ObjectStoreConfig(endpoint(), "us-east-1", true,
                new ObjectStoreConfig.Credentials(accessKey, secretKey));
    }

    /** The credentials as the trainer's environment names them (what the operator renders from a Secret). */
    public java.util.Map<String, String> environment() {
        return java.util.Map.of(ObjectStoreConfig.ENDPOINT, endpoint().toString(), ObjectStoreConfig.REGION,
                "us-east-1", ObjectStoreConfig.ACCESS_KEY_ID, accessKey, ObjectStoreConfig.SECRET_ACCESS_KEY,
                secretKey);
    }

    public String secretKey() {
        return secretKey;
    }

    /** Creates a bucket (administration the trainer itself never does). */
    public void createBucket(String name) {
        try (S3Client s3 = S3Client.builder().httpClientBuilder(UrlConnectionHttpClient.builder())
                .region(Region.US_EAST_1).forcePathStyle(true).endpointOverride(endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey,
                        secretKey))).build()) {
            s3.createBucket(b -> b.bucket(name));
        }
    }

    private boolean live() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(endpoint() + "/minio/health/live").toURL()
                    .openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(1000);
            try {
                return c.getResponseCode() == 200;
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            kill();
        }
    }

    /** $MILAN_MINIO, else what e2e/build-minio.sh builds (cached; run-tests.sh builds it first). */
    static Path binary() throws IOException, InterruptedException {
        String override = System.getenv("MILAN_MINIO");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        Path script = repoRoot().resolve("e2e/build-minio.sh");
        Process build = new ProcessBuilder("bash", script.toString()).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String out = new String(build.getInputStream().readAllBytes()).strip();
        if (build.waitFor() != 0 || out.isEmpty()) {
            throw new IllegalStateException(script + " failed (exit status " + build.exitValue() + ")");
        }
        List<String> lines = out.lines().toList();
        return Path.of(lines.get(lines.size() - 1));
    }

    private static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("e2e/build-minio.sh"))) {
                return p;
            }
        }
        throw new IllegalStateException("no e2e/build-minio.sh above " + Path.of("").toAbsolutePath());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
