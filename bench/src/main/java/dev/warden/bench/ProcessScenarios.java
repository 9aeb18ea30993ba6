package dev.warden.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scenarios that run the real program through the launcher script ({@code ./warden}): start-up to
 * a healthy {@code /healthz}, memory of {@code warden up} idle and under a burst, and CLI wall time.
 */
final class ProcessScenarios {
    private static final Pattern CONSOLE = Pattern.compile("console: http://127\\.0\\.0\\.1:(\\d+)/");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The JVM flags the launcher adds for short CLI commands (kept in step with the {@code warden} script). */
    static final List<String> LAUNCHER_CLI_FLAGS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private final Path root;
    private final Path launcher;
    private final Path tmpRoot;
    private HttpClient http;

    ProcessScenarios(Path root, Path tmpRoot) {
        this.root = root;
        this.launcher = root.resolve("warden");
        this.tmpRoot = tmpRoot;
    }

    Path launcher() {
        return launcher;
    }

    Path tmpRoot() {
        return tmpRoot;
    }

    Path jar() {
        return root.resolve("warden-app/target/warden.jar");
    }

    Path appCdsArchive() {
        return root.resolve("warden-app/target/warden.jsa");
    }

    private Path frozenJar;

    /**
     * A private copy of the jar, for the diagnostic runs: the launcher's jar can be rebuilt while
     * the benchmark runs, and a copy taken mid-build is broken, so the copy is checked and retried.
     */
    synchronized Path frozenJar() throws Exception {
        if (frozenJar != null) {
            return frozenJar;
        }
        Path dir = Files.createDirectories(tmpRoot.resolve("jar-copy"));
        Path copy = dir.resolve("warden.jar");
        for (int attempt = 0; attempt < 10; attempt++) {
            Files.copy(jar(), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(copy.toFile())) {
                if (z.getEntry("dev/warden/cli/Main.class") != null) {
                    frozenJar = copy;
                    return copy;
                }
            } catch (IOException e) {
                // copied while being rewritten: try again
            }
            Thread.sleep(3000);
        }
        throw new IllegalStateException("could not take a consistent copy of " + jar());
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * {@code java} with the launcher's flags for {@code up} (full JIT) and an AppCDS archive of its
     * own, created by one {@code up} run that is stopped with SIGTERM (the archive is written at exit).
     */
    List<String> upWithFreshCds() throws Exception {
        Path jarCopy = frozenJar();
        Path jsa = jarCopy.resolveSibling("up.jsa");
        List<String> cmd = List.of(javaBin(), "-XX:+UseSerialGC", "-XX:SharedArchiveFile=" + jsa,
                "-XX:+AutoCreateSharedArchive", "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar", jarCopy.toString());
        if (!Files.exists(jsa)) {
            Path dir = Files.createTempDirectory(tmpRoot, "cds-training-");
            Up up = startUp(cmd, dir);
            Thread.sleep(1000);
            stop(up);
            Files2.deleteTree(dir);
        }
        return cmd;
    }

    // ------------------------------------------------------------------ warden up

    /** A running {@code warden up}. {@code pid} is the java process: the launcher execs java. */
    record Up(Process process, int port, double portMs, double healthyMs, Path dataDir, List<String> stdout) {
        long pid() {
            return process.pid();
        }
    }

    Up startUp(Path dataDir) throws Exception {
        return startUp(List.of(launcher.toString()), dataDir);
    }

    /** Starts {@code <command...> --data-dir DIR up --port 0}; returns once /healthz answers 200. */
    Up startUp(List<String> command, Path dataDir) throws Exception {
        List<String> argv = new ArrayList<>(command);
        argv.addAll(List.of("--data-dir", dataDir.toString(), "up", "--port", "0"));
        ProcessBuilder pb = new ProcessBuilder(argv)
                .directory(tmpRoot.toFile())
                .redirectError(stderrFile(dataDir).toFile());
        CompletableFuture<Integer> port = new CompletableFuture<>();
        List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        Process p = pb.start();
        Thread.ofVirtual().start(() -> pumpStdout(p.getInputStream(), port, lines));
        int bound;
        try {
            bound = port.get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("warden up did not print its console port: " + e.getMessage()
                    + " (see " + tmpRoot.resolve(dataDir.getFileName() + ".stderr") + ")", e);
        }
        double portMs = Stats.elapsedMs(t0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (httpStatus(bound, "/healthz") != 200) {
            if (System.nanoTime() > deadline || !p.isAlive()) {
                p.destroyForcibly();
                throw new IllegalStateException("warden up never answered GET /healthz with 200");
            }
            Thread.sleep(5);
        }
        return new Up(p, bound, portMs, Stats.elapsedMs(t0), dataDir, lines);
    }

    private Path stderrFile(Path dataDir) {
        return tmpRoot.resolve(dataDir.getFileName() + ".stderr");
    }

    /**
     * Modification times of the jar and the launcher's CDS archive: when they change across a run,
     * the launcher (or a concurrent build) rebuilt the jar or the archive inside that run.
     */
    List<Object> buildState() {
        List<Object> l = new ArrayList<>();
        for (Path p : List.of(jar(), appCdsArchive())) {
            try {
                l.add(Files.exists(p) ? Files.getLastModifiedTime(p) : "missing");
            } catch (IOException e) {
                l.add("unreadable");
            }
        }
        return l;
    }

    /** The launcher prints this when it rebuilds a stale jar (sources newer than the jar) before running. */
    static boolean launcherBuilt(String stderr) {
        return stderr.contains("warden: building");
    }

    private static void pumpStdout(InputStream in, CompletableFuture<Integer> port, List<String> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                Matcher m = CONSOLE.matcher(line);
                if (!port.isDone() && m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            // the process went away; handled below
        }
        port.completeExceptionally(new IllegalStateException("stdout closed before the console line"));
    }

    /** SIGTERM (Process.destroy), then wait for exit; returns how long the stop took, in ms. */
    double stop(Up up) throws InterruptedException {
        long t = System.nanoTime();
        up.process().destroy();
        if (!up.process().waitFor(60, TimeUnit.SECONDS)) {
            up.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return Stats.elapsedMs(t);
    }

    /** A minimal HTTP/1.1 GET over a plain socket: status code, or -1 when nothing answers. */
    static int httpStatus(int port, String path) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (status == null) {
                return -1;
            }
            String[] parts = status.split(" ");
            return parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        }
        return http;
    }

    JsonNode health(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    // ------------------------------------------------------------------ start-up

    record StartupRun(double portMs, double healthyMs, double stopMs) {}

    /**
     * One start-up of {@code command} on {@code dir} (a new directory: first start; an existing
     * one: restart), then SIGTERM. A run in which the launcher first rebuilt a stale jar is repeated.
     */
    StartupRun startupOnce(List<String> command, Path dir) throws Exception {
        for (int attempt = 0; ; attempt++) {
            List<Object> before = buildState();
            Up up = startUp(command, dir);
            double stopMs = stop(up);
            boolean rebuilt = launcherBuilt(Files.readString(stderrFile(dir))) || !before.equals(buildState());
            if (!rebuilt || attempt >= 3) {
                return new StartupRun(up.portMs(), up.healthyMs(), stopMs);
            }
        }
    }

    // ------------------------------------------------------------------ where start-up time goes

    /** A milestone: when (JVM uptime, ms) a marker class was first loaded, from -Xlog:class+load. */
    record Milestone(String what, double atMs) {}

    /** Marker classes, in start-up order; each is first loaded when that phase begins. */
    static final List<String[]> MARKERS = List.of(
            new String[] {"dev.warden.cli.Main", "JVM booted, main class loaded"},
            new String[] {"dev.warden.config.ConfigLoader", "picocli command model built and parsed; WardenApp.open starts"},
            new String[] {"dev.warden.store.sqlite.SqliteStore", "config loaded (Jackson set up); opening the store"},
            new String[] {"org.sqlite.core.NativeDB", "sqlite-jdbc native library extracted and loaded"},
            new String[] {"dev.warden.ledger.Ledger", "store open (writer connection, migrations checked)"},
            new String[] {"io.javalin.Javalin", "app wired; HTTP server set-up starts"},
            new String[] {"dev.warden.app.SampleJob", "Javalin/Jetty started"},
            new String[] {"com.networknt.schema.SchemaRegistry", "JSON Schema validator first used"},
            new String[] {"com.networknt.schema.JsonSchemaFactory", "JSON Schema validator first used"});

    /**
     * Runs {@code command} {@code repeats} times with {@code -Xlog:class+load} (inserted before
     * {@code -jar}) and returns, per marker, the median JVM uptime at which it was first loaded;
     * {@code up} is stopped once healthy.
     */
    List<Milestone> milestones(List<String> command, List<String> args, boolean up, int repeats) throws Exception {
        Map<String, List<Double>> at = new java.util.LinkedHashMap<>();
        for (int i = 0; i < repeats; i++) {
            milestonesOnce(command, args, up).forEach((k, v) -> at.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        List<Milestone> out = new ArrayList<>();
        at.forEach((k, v) -> out.add(new Milestone(k, Stats.median(v))));
        out.sort(java.util.Comparator.comparingDouble(Milestone::atMs));
        return out;
    }

    private Map<String, Double> milestonesOnce(List<String> command, List<String> args, boolean up) throws Exception {
        Path log = Files.createTempFile(tmpRoot, "classload-", ".log");
        List<String> cmd = new ArrayList<>(command);
        cmd.add(cmd.indexOf("-jar"), "-Xlog:class+load:file=" + log + ":uptime");
        if (up) {
            Path dir = Files.createTempDirectory(tmpRoot, "phases-");
            Up u = startUp(cmd, dir);
            stop(u);
            Files2.deleteTree(dir);
        } else {
            List<String> argv = new ArrayList<>(cmd);
            argv.addAll(args);
            time(argv, 1, Map.of());
        }
        Map<String, Double> first = new java.util.HashMap<>();
        double last = 0;
        Pattern line = Pattern.compile("^\\[(\\d+\\.\\d+)s\\] (\\S+) ");
        for (String l : Files.readAllLines(log)) {
            Matcher m = line.matcher(l);
            if (m.find()) {
                double t = Double.parseDouble(m.group(1)) * 1000;
                first.putIfAbsent(m.group(2), t);
                last = t;
            }
        }
        Files.deleteIfExists(log);
        Map<String, Double> out = new java.util.LinkedHashMap<>();
        for (String[] mk : MARKERS) {
            if (first.containsKey(mk[0])) {
                out.putIfAbsent(mk[1] + " (`" + mk[0].substring(mk[0].lastIndexOf('.') + 1) + "`)", first.get(mk[0]));
            }
        }
        if (!up) {
            out.put("last class loaded (command ran, JVM exiting)", last);
        }
        return out;
    }

    // ------------------------------------------------------------------ memory

    record Memory(long idleRssKib, long idleHwmKib, long burstPeakRssKib, long burstHwmKib, long afterRssKib,
                  int jobs, double postMs, double burstMs, int workers, String pidCheck) {}

    /**
     * Starts {@code warden up} on {@code dataDir}, lets it idle, then POSTs {@code jobs} noop jobs
     * with {@code clients} concurrent HTTP clients and waits until all are finished, sampling
     * VmRSS every 50 ms. Leaves the data directory (with the jobs) for the CLI scenario.
     */
    Memory memory(Path dataDir, Duration idle, int jobs, int clients) throws Exception {
        Up up = startUp(dataDir);
        try {
            long pid = up.pid();
            String comm = Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
            Thread.sleep(idle.toMillis());
            Map<String, Long> idleStatus = procStatus(pid);
            int workers = -1;
            synchronized (up.stdout()) {
                for (String l : up.stdout()) {
                    Matcher m = Pattern.compile("(\\d+) workers").matcher(l);
                    if (m.find()) {
                        workers = Integer.parseInt(m.group(1));
                    }
                }
            }

            AtomicLong peak = new AtomicLong();
            var sampling = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                while (sampling.get()) {
                    try {
                        long rss = procStatus(pid).getOrDefault("VmRSS", -1L);
                        peak.accumulateAndGet(rss, Math::max);
                        Thread.sleep(50);
                    } catch (Exception e) {
                        return;
                    }
                }
            });

            String token = Files.readString(dataDir.resolve("console.token")).strip();
            HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + up.port() + "/api/jobs"))
                    .timeout(Duration.ofSeconds(30)).header("X-Warden-Token", token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(QueueScenarios.NOOP)).build();
            long before = doneCount(health(up.port()));
            AtomicInteger next = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            long t0 = System.nanoTime();
            List<Thread> senders = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                senders.add(Thread.ofVirtual().start(() -> {
                    while (next.getAndIncrement() < jobs) {
                        try {
                            HttpResponse<Void> r = http().send(post, HttpResponse.BodyHandlers.discarding());
                            if (r.statusCode() != 201) {
                                failures.incrementAndGet();
                            }
                        } catch (Exception e) {
                            failures.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread t : senders) {
                t.join();
            }
            double postMs = Stats.elapsedMs(t0);
            if (failures.get() > 0) {
                throw new IllegalStateException(failures.get() + " of " + jobs + " POST /api/jobs did not return 201");
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (true) {
                JsonNode h = health(up.port());
                JsonNode q = h.path("queue");
                if (doneCount(h) - before >= jobs && q.path("queued").asLong(0) == 0 && q.path("running").asLong(0) == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("burst not finished after 5 minutes: " + h);
                }
                Thread.sleep(50);   // each /healthz counts jobs by state: do not poll harder
            }
            double burstMs = Stats.elapsedMs(t0);
            sampling.set(false);
            sampler.join();
            Map<String, Long> after = procStatus(pid);
            peak.accumulateAndGet(after.getOrDefault("VmRSS", -1L), Math::max);
            return new Memory(idleStatus.getOrDefault("VmRSS", -1L), idleStatus.getOrDefault("VmHWM", -1L),
                    peak.get(), after.getOrDefault("VmHWM", -1L), after.getOrDefault("VmRSS", -1L), jobs, postMs,
                    burstMs, workers, comm);
        } finally {
            stop(up);
        }
    }

    private static long doneCount(JsonNode health) {
        JsonNode q = health.path("queue");
        return q.path("succeeded").asLong(0) + q.path("failed").asLong(0) + q.path("dead").asLong(0)
                + q.path("cancelled").asLong(0);
    }

    /** VmRSS, VmHWM, … from /proc/PID/status, in KiB. */
    static Map<String, Long> procStatus(long pid) throws IOException {
        Map<String, Long> m = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Vm") && line.endsWith(" kB")) {
                String[] kv = line.split(":\\s+");
                m.put(kv[0], Long.parseLong(kv[1].replace(" kB", "").strip()));
            }
        }
        return m;
    }

    // ------------------------------------------------------------------ CLI

    record Timed(List<Double> ms) {
        double median() {
            return Stats.median(ms);
        }
    }

    /** Runs {@code argv} {@code runs} times (output discarded), each must exit 0; wall time per run in ms. */
    Timed time(List<String> argv, int runs, Map<String, String> envOverrides) throws Exception {
        List<Double> out = new ArrayList<>();
        int rebuilds = 0;
        for (int i = 0; i < runs; i++) {
            ProcessBuilder pb = new ProcessBuilder(argv).directory(tmpRoot.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.PIPE);
            envOverrides.forEach((k, v) -> {
                if (v == null) {
                    pb.environment().remove(k);
                } else {
                    pb.environment().put(k, v);
                }
            });
            List<Object> before = buildState();
            long t = System.nanoTime();
            Process p = pb.start();
            byte[] err = p.getErrorStream().readAllBytes();
            int code = p.waitFor();
            double ms = Stats.elapsedMs(t);
            if (code != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " exited " + code + ": "
                        + new String(err, StandardCharsets.UTF_8));
            }
            boolean rebuilt = launcherBuilt(new String(err, StandardCharsets.UTF_8)) || !before.equals(buildState());
            if (rebuilt && rebuilds++ < 3) {
                i--;            // the jar or CDS archive was rebuilt inside this run: run it again
                continue;
            }
            out.add(ms);
        }
        return new Timed(out);
    }

    /** Runs a command once and returns stdout+stderr. */
    String capture(List<String> argv, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(tmpRoot.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return s;
    }
}
