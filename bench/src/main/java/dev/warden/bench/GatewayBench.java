package dev.warden.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@code --warmup} seconds each, first closed loop with {@link #WARM_CONCURRENCY} requests in
 * flight, then open loop at the highest rate; each cell then runs unmeasured for
 * {@link #SETTLE_SECONDS} at its own rate first. Usage: {@code GatewayBench --cp CLASSPATH
 * [--rates 100,500,1000] [--seconds 10] [--warmup 15] [--out FILE]}; {@code CLASSPATH} is the
 * warden program's class path.
 */
public final class GatewayBench {
    static final String TOKEN_LINE = "wgw_";
    static final Pattern CONSOLE = Pattern.compile("console: http://127\\.0\\.0\\.1:(\\d+)/");
    /** Unmeasured seconds at a cell's own rate and mode right before it is measured. */
    static final int SETTLE_SECONDS = 3;
    /** Requests in flight during the first, closed-loop, warm-up round. */
    static final int WARM_CONCURRENCY = 4;

    record Result(String path, String mode, int rate, int sent, int errors, long p50Micros, long p99Micros, double achieved,
                  long upCpuMicrosPerRequest, long harnessCpuMicrosPerRequest) {
        Result withCpu(long up, long harness) {
            return new Result(path, mode, rate, sent, errors, p50Micros, p99Micros, achieved, up, harness);
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
        List<Target> targets = List.of(Target.of("direct", upstreamUrl, "sk-bench-upstream-key-0000000000", "bench-model"),
                Target.of("gateway", gateway, gwToken, "coder"));
        try {
            // Warm every path before the first measured cell: on two CPUs the JIT compiles the gateway path for
            // tens of seconds, and a cell measured while it does so measures the compiler, not the steady state.
            // The first round is closed loop (a few requests at a time): open loop, a cold process's first
            // stalls would have the client open hundreds of connections, which it then keeps.
            int warmRate = rates.stream().max(Integer::compare).orElse(500);
            for (int round = 0; round < 2; round++) {
                for (boolean stream : List.of(false, true)) {
                    for (Target t : targets) {
                        if (round == 0) {
                            closedLoop(t, stream, WARM_CONCURRENCY, warmup);
                        } else {
                            run(t, stream, warmRate, warmup);
                        }
                    }
                }
            }
            long self = ProcessHandle.current().pid();
            for (int rate : rates) {
                for (boolean stream : List.of(false, true)) {
                    for (Target t : targets) {
                        run(t, stream, rate, SETTLE_SECONDS);
                        long cpu0 = cpuMicros(up.pid());
                        long own0 = cpuMicros(self);
                        Result r = run(t, stream, rate, seconds);
                        long cpu1 = cpuMicros(up.pid());
                        long own1 = cpuMicros(self);
                        results.add(r.withCpu(cpu0 < 0 || cpu1 < 0 ? -1 : (cpu1 - cpu0) / r.sent(),
                                own0 < 0 || own1 < 0 ? -1 : (own1 - own0) / r.sent()));
                        System.err.println(results.get(results.size() - 1));
                    }
                }
            }
        } finally {
            up.destroy();
            up.waitFor(10, TimeUnit.SECONDS);
            upstream.stop(0);
            targets.forEach(t -> t.client().close());
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

    /** A path under test: the upstream directly, or the gateway; its client and its two requests. */
    record Target(String path, LoadClient client, byte[] plain, byte[] stream) {
        static Target of(String path, String base, String auth, String model) {
            URI uri = URI.create(base + "/chat/completions");
            return new Target(path, new LoadClient(uri), LoadClient.post(uri, auth, body(model, false)),
                    LoadClient.post(uri, auth, body(model, true)));
        }

        private static String body(String model, boolean stream) {
            return "{\"model\":\"" + model + "\",\"stream\":" + stream
                    + ",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]}";
        }

        byte[] request(boolean streamed) {
            return streamed ? stream : plain;
        }
    }

    /** {@code concurrency} clients each sending the request again as soon as the last answer is in, for {@code seconds}. */
    private static void closedLoop(Target t, boolean stream, int concurrency, int seconds) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        try (ExecutorService pool = Executors.newFixedThreadPool(concurrency)) {
            for (int i = 0; i < concurrency; i++) {
                pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        try {
                            t.client().send(t.request(stream));
                        } catch (IOException e) {
                            return; // a warm-up: errors show in the measured cells
                        }
                    }
                });
            }
        }
    }

    /**
     * Sends requests at {@code rate}/s for {@code seconds}, open loop, each on a thread of its own
     * (platform threads, pooled: blocking socket calls without a poller hand-off).
     */
    private static Result run(Target t, boolean stream, int rate, int seconds) throws InterruptedException {
        byte[] req = t.request(stream);
        int n = rate * seconds;
        long[] latencies = new long[n];
        AtomicInteger errors = new AtomicInteger();
        long periodNanos = 1_000_000_000L / rate;
        long start = System.nanoTime() + 20_000_000;
        try (ExecutorService pool = Executors.newCachedThreadPool()) {
            for (int i = 0; i < n; i++) {
                long scheduled = start + i * periodNanos;
                long wait = scheduled - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                int idx = i;
                pool.execute(() -> {
                    try {
                        LoadClient.Reply r = t.client().send(req);
                        String text = new String(r.body(), StandardCharsets.UTF_8);
                        if (r.status() != 200 || text.contains("\"error\"") || (stream && !text.contains("[DONE]"))) {
                            if (errors.incrementAndGet() == 1) {
                                System.err.println(t.path() + " error: HTTP " + r.status() + " " + text.substring(0, Math.min(400, text.length())));
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        if (errors.incrementAndGet() == 1) {
                            System.err.println(t.path() + " error: " + e);
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
        return new Result(t.path(), stream ? "stream" : "plain", rate, n, errors.get(), Stats.percentile(l, 50), Stats.percentile(l, 99),
                n / elapsed, -1, -1);
    }

    /** A minimal OpenAI-compatible upstream: a fixed completion, or a 3-token stream with usage. */
    static HttpServer upstream() throws IOException {
        // The JDK server closes a connection right after its response, without saying so, whenever 200 others are
        // idle (the open-loop client leaves that many after a hiccup): whoever reuses it next (the gateway's pool)
        // fails a call that a real provider would have served. Not what is being measured.
        System.setProperty("sun.net.httpserver.maxIdleConnections", "100000");
        System.setProperty("sun.net.httpserver.idleInterval", "600"); // seconds: idle connections are the client's to close
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

    private static String micros(long v) {
        return v < 0 ? "-" : String.valueOf(v);
    }

    static String report(List<Result> results, int seconds) {
        StringWriter sw = new StringWriter();
        PrintWriter w = new PrintWriter(sw);
        w.printf("Machine: %s%n%n", MachineInfo.hostSummary());
        w.printf("%d s per cell after a warm-up; latency from scheduled start to last byte, microseconds.%n%n", seconds);
        w.println("| rate (req/s) | mode | direct p50 | direct p99 | gateway p50 | gateway p99 | **added p50** | **added p99** | gateway achieved req/s | errors "
                + "| `warden up` CPU µs per gateway request | harness CPU µs per request, direct / gateway |");
        w.println("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for (int i = 0; i + 1 < results.size(); i += 2) {
            Result d = results.get(i);
            Result g = results.get(i + 1);
            w.printf(Locale.ROOT, "| %d | %s | %d | %d | %d | %d | **%d** | **%d** | %.0f | %d | %s | %s / %s |%n", d.rate(), d.mode(),
                    d.p50Micros(), d.p99Micros(), g.p50Micros(), g.p99Micros(), g.p50Micros() - d.p50Micros(), g.p99Micros() - d.p99Micros(),
                    g.achieved(), d.errors() + g.errors(), micros(g.upCpuMicrosPerRequest()), micros(d.harnessCpuMicrosPerRequest()),
                    micros(g.harnessCpuMicrosPerRequest()));
        }
        w.flush();
        return sw.toString();
    }
}
