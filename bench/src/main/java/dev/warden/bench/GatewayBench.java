package dev.warden.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gateway overhead: the latency of {@code POST /v1/chat/completions} through a real
 * {@code warden up} process minus the latency of the same request sent directly to the same
 * loopback upstream, in the same run, at fixed open-loop rates, plain and streamed.
 *
 * <p>Latency is measured from each request's scheduled start (so a client falling behind is
 * counted, not hidden) to the last byte of the response. Direct and gateway runs alternate per
 * rate and mode. Before the first measured cell, every path and mode is warmed up twice for
 * {@code --warmup} seconds each at the highest rate; each cell then runs unmeasured for
 * {@link #SETTLE_SECONDS} at its own rate first. Usage: {@code GatewayBench --cp CLASSPATH
 * [--rates 100,500,1000] [--seconds 10] [--warmup 15] [--out FILE]}; {@code CLASSPATH} is the
 * warden program's class path.
 */
public final class GatewayBench {
    static final String TOKEN_LINE = "wgw_";
    static final Pattern CONSOLE = Pattern.compile("console: http://127\\.0\\.0\\.1:(\\d+)/");
    /** Unmeasured seconds at a cell's own rate and mode right before it is measured. */
    static final int SETTLE_SECONDS = 3;

    record Result(String path, String mode, int rate, int sent, int errors, long p50Micros, long p99Micros, double achieved,
                  long upCpuMicrosPerRequest) {
        Result withCpu(long micros) {
            return new Result(path, mode, rate, sent, errors, p50Micros, p99Micros, achieved, micros);
        }
    }

    /** CPU time (user + system) the process has used so far, in microseconds, from /proc; -1 where unknown. */
    static long cpuMicros(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
            return ticks * 10_000; // USER_HZ is 100 on Linux
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    public static void main(String[] args) throws Exception {
        String cp = null;
        List<Integer> rates = List.of(100, 500, 1000);
        int seconds = 10;
        int warmup = 15;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cp" -> cp = args[++i];
                case "--rates" -> rates = java.util.Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (cp == null) {
            throw new IllegalArgumentException("--cp: the warden class path is required");
        }
        Path data = Files.createTempDirectory("warden-gw-bench");
        HttpServer upstream = upstream();
        String upstreamUrl = "http://127.0.0.1:" + upstream.getAddress().getPort() + "/v1";
        Files.writeString(data.resolve("warden.yaml"), """
                models:
                  providers: [{id: up, base_url: "%s", key: "env:BENCH_UPSTREAM_KEY"}]
                  models: [{id: m, provider: up, name: bench-model, price: {input_per_1m: 0.01, output_per_1m: 0.01}}]
                  routes: {coder: {primary: m}}
                  budget: {usd_per_day: 1000000}
                """.formatted(upstreamUrl));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process token = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp, "dev.warden.cli.Main", "--data-dir",
                data.toString(), "gateway", "token", "create", "bench", "--budget-usd-per-day", "100000", "--routes", "coder")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String gwToken = new String(token.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        token.waitFor();
        if (!gwToken.startsWith(TOKEN_LINE)) {
            throw new IllegalStateException("could not create a gateway token: " + gwToken);
        }
        List<String> upCmd = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"));
        String extra = System.getenv("BENCH_UP_JAVA_OPTS"); // e.g. a flight recording of the gateway process
        if (extra != null && !extra.isBlank()) {
            upCmd.addAll(List.of(extra.strip().split("\\s+")));
        }
        upCmd.addAll(List.of("-cp", cp, "dev.warden.cli.Main", "--data-dir", data.toString(), "up", "--port", "0", "--workers", "1"));
        ProcessBuilder upb = new ProcessBuilder(upCmd).redirectError(data.resolve("up.err").toFile());
        upb.environment().put("BENCH_UPSTREAM_KEY", "sk-bench-upstream-key-0000000000");
        Process up = upb.start();
        int port = consolePort(up);
        String gateway = "http://127.0.0.1:" + port + "/v1";
        List<Result> results = new ArrayList<>();
        try {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            // Warm every path before the first measured cell: on two CPUs the JIT compiles the gateway path for
            // tens of seconds, and a cell measured while it does so measures the compiler, not the steady state.
            int warmRate = rates.stream().max(Integer::compare).orElse(500);
            for (int round = 0; round < 2; round++) {
                for (boolean stream : List.of(false, true)) {
                    for (String path : List.of("direct", "gateway")) {
                        run(client, path.equals("direct") ? upstreamUrl : gateway,
                                path.equals("direct") ? "sk-bench-upstream-key-0000000000" : gwToken, stream, warmRate, warmup, path, null);
                    }
                }
            }
            for (int rate : rates) {
                for (boolean stream : List.of(false, true)) {
                    for (String path : List.of("direct", "gateway")) {
                        String base = path.equals("direct") ? upstreamUrl : gateway;
                        String auth = path.equals("direct") ? "sk-bench-upstream-key-0000000000" : gwToken;
                        run(client, base, auth, stream, rate, SETTLE_SECONDS, path, null);
                        long cpu0 = cpuMicros(up.pid());
                        Result r = run(client, base, auth, stream, rate, seconds, path, results);
                        long cpu1 = cpuMicros(up.pid());
                        results.add(cpu0 < 0 || cpu1 < 0 ? r : r.withCpu((cpu1 - cpu0) / r.sent()));
                        System.err.println(results.get(results.size() - 1));
                    }
                }
            }
        } finally {
            up.destroy();
            up.waitFor(10, TimeUnit.SECONDS);
            upstream.stop(0);
        }
        String report = report(results, seconds);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    private static int consolePort(Process up) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            Matcher m = CONSOLE.matcher(line);
            if (m.find()) {
                Thread.ofVirtual().start(() -> r.lines().forEach(l -> { }));
                return Integer.parseInt(m.group(1));
            }
        }
        throw new IllegalStateException("warden up ended without printing its console URL");
    }

    /** Sends requests at {@code rate}/s for {@code seconds}, open loop; null {@code into} means warm-up (not recorded). */
    private static Result run(HttpClient client, String base, String auth, boolean stream, int rate, int seconds, String path,
                              List<Result> into) throws InterruptedException {
        String body = "{\"model\":\"" + (path.equals("direct") ? "bench-model" : "coder") + "\",\"stream\":" + stream
                + ",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/chat/completions")).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + auth).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        int n = rate * seconds;
        long[] latencies = new long[n];
        AtomicInteger errors = new AtomicInteger();
        long periodNanos = 1_000_000_000L / rate;
        long start = System.nanoTime() + 20_000_000;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                long scheduled = start + i * periodNanos;
                long wait = scheduled - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                int idx = i;
                pool.submit(() -> {
                    try {
                        HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
                        byte[] got;
                        try (InputStream in = resp.body()) {
                            got = in.readAllBytes();
                        }
                        String text = new String(got, StandardCharsets.UTF_8);
                        if (resp.statusCode() != 200 || text.contains("\"error\"")) {
                            if (errors.incrementAndGet() == 1) {
                                System.err.println(path + " error: HTTP " + resp.statusCode() + " " + text.substring(0, Math.min(400, text.length())));
                            }
                        }
                    } catch (IOException | InterruptedException e) {
                        if (errors.incrementAndGet() == 1) {
                            System.err.println(path + " error: " + e);
                        }
                    }
                    latencies[idx] = (System.nanoTime() - scheduled) / 1000;
                });
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        List<Long> l = new ArrayList<>(n);
        for (long x : latencies) {
            l.add(x);
        }
        Collections.sort(l);
        return new Result(path, stream ? "stream" : "plain", rate, n, errors.get(), Stats.percentile(l, 50), Stats.percentile(l, 99),
                n / elapsed, -1);
    }

    /** A minimal OpenAI-compatible upstream: a fixed completion, or a 3-token stream with usage. */
    static HttpServer upstream() throws IOException {
        // The JDK server closes a connection right after its response, without saying so, whenever 200 others are
        // idle (the open-loop client leaves that many after a hiccup): whoever reuses it next (the gateway's pool)
        // fails a call that a real provider would have served. Not what is being measured.
        System.setProperty("sun.net.httpserver.maxIdleConnections", "100000");
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        byte[] plain = ("{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"bench-model\",\"choices\":[{\"index\":0,"
                + "\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\",\"content\":\"Hello, benchmark!\"}}],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4,\"total_tokens\":13}}").getBytes(StandardCharsets.UTF_8);
        StringBuilder sse = new StringBuilder();
        for (String t : List.of("Hello", ", bench", "mark!")) {
            sse.append("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\",\"choices\":[{\"index\":0,"
                    + "\"delta\":{\"content\":\"").append(t).append("\"},\"finish_reason\":null}]}\n\n");
        }
        sse.append("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench-model\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\ndata: [DONE]\n\n");
        byte[] stream = sse.toString().getBytes(StandardCharsets.UTF_8);
        s.createContext("/v1/chat/completions", (HttpExchange x) -> {
            String req = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            boolean streaming = req.contains("\"stream\":true");
            x.getResponseHeaders().add("Content-Type", streaming ? "text/event-stream" : "application/json");
            byte[] b = streaming ? stream : plain;
            x.sendResponseHeaders(200, b.length);
            try (OutputStream o = x.getResponseBody()) {
                o.write(b);
            }
        });
        s.start();
        return s;
    }

    static String report(List<Result> results, int seconds) {
        StringWriter sw = new StringWriter();
        PrintWriter w = new PrintWriter(sw);
        w.printf("Machine: %s%n%n", MachineInfo.hostSummary());
        w.printf("%d s per cell after a warm-up; latency from scheduled start to last byte, microseconds.%n%n", seconds);
        w.println("| rate (req/s) | mode | direct p50 | direct p99 | gateway p50 | gateway p99 | **added p50** | **added p99** | gateway achieved req/s | errors | `warden up` CPU µs per gateway request |");
        w.println("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (int i = 0; i + 1 < results.size(); i += 2) {
            Result d = results.get(i);
            Result g = results.get(i + 1);
            w.printf(Locale.ROOT, "| %d | %s | %d | %d | %d | %d | **%d** | **%d** | %.0f | %d | %s |%n", d.rate(), d.mode(), d.p50Micros(),
                    d.p99Micros(), g.p50Micros(), g.p99Micros(), g.p50Micros() - d.p50Micros(), g.p99Micros() - d.p99Micros(),
                    g.achieved(), d.errors() + g.errors(), g.upCpuMicrosPerRequest() < 0 ? "-" : String.valueOf(g.upCpuMicrosPerRequest()));
        }
        w.flush();
        return sw.toString();
    }
}
