package io.milan.trainer.bench;

import io.milan.trainer.dist.Launcher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** iperf3 on loopback: the machine's raw TCP throughput, the yardstick of the all-reduce benchmark. */
public final class Iperf3 {

    private Iperf3() {
    }

    /**
     * Raw loopback TCP throughput in GB/s from iperf3: {@code pairs} server/client pairs run at once (each a
     * bounded {@code -t seconds} run, odd pairs in reverse), and the mean per pair is returned; null if iperf3
     * is missing or fails. One pair is the classic single-stream figure; two pairs in opposite directions load
     * the machine like a ring does (every rank sends and receives at once). iperf3 3.12's own --bidir runs both
     * directions on one thread, so it would measure iperf3 rather than the machine. Used by
     * {@code dist.c10d.C10dAllReduceBench}.
     */
    public static Double iperf(int pairs, int seconds, Path logDir) throws IOException, InterruptedException {
        List<Process> servers = new ArrayList<>();
        List<Process> clients = new ArrayList<>();
        List<Path> reports = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < pairs; i++) {
                int port = Launcher.freeLoopbackPort();
                ports.add(port);
                Path log = logDir.resolve("iperf3-" + pairs + "x-server" + i + ".log");
                try {
                    servers.add(new ProcessBuilder("iperf3", "-s", "-B", "127.0.0.1", "-p", String.valueOf(port), "-1",
                            "--forceflush").redirectErrorStream(true).redirectOutput(log.toFile()).start());
                } catch (IOException e) {
                    System.out.println("iperf3 is not installed (apt-get install iperf3): " + e.getMessage());
                    return null;
                }
                if (!awaitListening(log, Duration.ofSeconds(10))) {
                    System.out.println("iperf3 server did not start listening on 127.0.0.1:" + port);
                    return null;
                }
            }
            for (int i = 0; i < pairs; i++) {
                Path json = logDir.resolve("iperf3-" + pairs + "x-client" + i + ".json");
                reports.add(json);
                List<String> command = new ArrayList<>(List.of("iperf3", "-c", "127.0.0.1", "-p",
                        String.valueOf(ports.get(i)), "-t", String.valueOf(seconds), "-J"));
                if (i % 2 == 1) {
                    command.add("-R");
                }
                clients.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(json.toFile())
                        .start());
            }
            double sum = 0;
            for (int i = 0; i < pairs; i++) {
                Process client = clients.get(i);
                if (!client.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
                    System.out.println("iperf3 client did not finish within " + (seconds + 30) + " s");
                    return null;
                }
                String report = Files.readString(reports.get(i), StandardCharsets.UTF_8);
                Matcher received = Pattern.compile("\"sum_received\"\\s*:\\s*\\{[^}]*\"bits_per_second\"\\s*:"
                        + "\\s*([0-9.eE+]+)").matcher(report);
                if (client.exitValue() != 0 || !received.find()) {
                    System.out.println("iperf3 client failed (exit " + client.exitValue() + "); see " + reports.get(i));
                    return null;
                }
                sum += Double.parseDouble(received.group(1));
            }
            return sum / pairs / 8 / 1e9;
        } finally {
            clients.forEach(Process::destroyForcibly);
            servers.forEach(Process::destroyForcibly);
        }
    }



    /** Polls the server's log (a probe connection would use up its one-off session). */
    private static boolean awaitListening(Path serverLog, Duration bound) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(serverLog) && Files.readString(serverLog).contains("Server listening")) {
                return true;
            }
            Thread.sleep(50); // poll interval while iperf3 starts
        }
        return false;
    }

}
