package dev.warden.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A real S3-compatible server for the tests: S3Proxy (Maven Central) over jclouds' filesystem-nio2
 * blob store, on 127.0.0.1 only, checking AWS signatures (V2 or V4) against one access key.
 *
 * <p>S3Proxy 2.6.0 does not know the {@code x-amz-checksum-*} headers that current AWS SDKs send by
 * default (on DeleteObjects even with checksums "when required"), so it is told to ignore unknown
 * {@code x-amz-} headers: it neither rejects nor verifies them. It does not enforce
 * {@code If-None-Match} on PUT either.
 *
 * <p>It runs in a child JVM because S3Proxy is built on Jetty 11 and the app (Javalin 7) on Jetty
 * 12: the two cannot share one classpath. The module {@code testing/s3proxy} copies S3Proxy and its
 * dependencies to {@code testing/s3proxy/target/lib/}; the root build makes it before warden-app, so
 * a missing directory is a failure (build that module), never a skip.
 */
public final class S3ProxyServer implements AutoCloseable {
    // ~1.5 s on an idle machine, ~11 s on two busy CPUs
    private static final long START_TIMEOUT_MILLIS = 60_000;
    private static final int ATTEMPTS = 3;

    private final Process process;
    private final Thread killOnExit;
    private final URI endpoint;
    private final String accessKey;
    private final String secretKey;

    private S3ProxyServer(Process process, URI endpoint, String accessKey, String secretKey) {
        this.process = process;
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        // should a test forget close(), the server still goes when the test JVM exits
        this.killOnExit = new Thread(process::destroyForcibly, "s3proxy-stop");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /**
     * Starts S3Proxy keeping its buckets under {@code dataDir/blobs}, with its output in
     * {@code dataDir/s3proxy.log}; returns once it listens.
     */
    public static S3ProxyServer start(Path dataDir, String accessKey, String secretKey) {
        Path lib = libDir();
        Path log = dataDir.resolve("s3proxy.log");
        try {
            Path blobs = Files.createDirectories(dataDir.resolve("blobs"));
            // S3Proxy's Logback logs every request at DEBUG by default
            Path logback = dataDir.resolve("s3proxy-logback.xml");
            Files.writeString(logback, """
                    <configuration>
                      <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                        <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
                      </appender>
                      <root level="INFO"><appender-ref ref="out"/></root>
                    </configuration>
                    """);
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                Path props = dataDir.resolve("s3proxy.properties");
                Properties p = new Properties();
                p.setProperty("s3proxy.endpoint", "http://127.0.0.1:" + port);
                p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
                p.setProperty("s3proxy.identity", accessKey);
                p.setProperty("s3proxy.credential", secretKey);
                p.setProperty("s3proxy.ignore-unknown-headers", "true");
                // filesystem-nio2, not the deprecated filesystem, which lists a "dir/" entry for each "dir/key"
                p.setProperty("jclouds.provider", "filesystem-nio2");
                p.setProperty("jclouds.identity", accessKey); // required, unused by this provider
                p.setProperty("jclouds.credential", secretKey);
                p.setProperty("jclouds.filesystem.basedir", blobs.toString());
                try (Writer w = Files.newBufferedWriter(props, StandardCharsets.UTF_8)) {
                    p.store(w, "written by " + S3ProxyServer.class.getName());
                }
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dlogback.configurationFile=" + logback));
                if (Runtime.version().feature() >= 23) {
                    cmd.add("--sun-misc-unsafe-memory-access=allow"); // Guava's, otherwise warned about on JDK 24+
                }
                cmd.addAll(List.of("-cp", lib + "/*", "org.gaul.s3proxy.Main", "--properties", props.toString()));
                Process process = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
                if (awaitStarted(process, log, port)) {
                    return new S3ProxyServer(process, URI.create("http://127.0.0.1:" + port), accessKey, secretKey);
                }
                process.destroyForcibly().waitFor();
                // the free port may have been taken between our probe and S3Proxy's bind: try another
                boolean portTaken = tail(log).contains("Failed to bind to /127.0.0.1:" + port);
                if (!portTaken || attempt == ATTEMPTS) {
                    throw new AssertionError("S3Proxy did not start on 127.0.0.1:" + port + " (attempt " + attempt
                            + "); the end of " + log + ":\n" + tail(log));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("S3Proxy did not start; see " + log, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while starting S3Proxy", e);
        }
    }

    public URI endpoint() {
        return endpoint;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** True until {@link #close()} (or a crash) ends the child JVM. */
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException e) {
            // the JVM is already exiting; the hook is harmless
        }
    }

    /** {@code testing/s3proxy/target/lib} of the repository holding the working directory. */
    private static Path libDir() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("testing/s3proxy/pom.xml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new AssertionError("no testing/s3proxy/pom.xml above " + Path.of("").toAbsolutePath());
        }
        Path lib = dir.resolve("testing/s3proxy/target/lib");
        try (var jars = Files.list(lib)) {
            if (jars.anyMatch(j -> j.getFileName().toString().startsWith("s3proxy-"))) {
                return lib;
            }
        } catch (IOException e) {
            // reported below
        }
        throw new AssertionError("S3Proxy's jars are not in " + lib + ": build the module testing/s3proxy first"
                + " (mvn -B -q -pl testing/s3proxy install, or mvn verify from the repository root)");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /**
     * True once S3Proxy's Jetty says it listens on the port (a connection alone could reach someone
     * who took the port meanwhile); false if the process ends or the deadline passes first.
     */
    private static boolean awaitStarted(Process process, Path log, int port) throws InterruptedException, IOException {
        String started = "{127.0.0.1:" + port + "}";
        long deadline = System.nanoTime() + START_TIMEOUT_MILLIS * 1_000_000;
        while (process.isAlive() && System.nanoTime() < deadline) {
            try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
                if (lines.anyMatch(l -> l.contains("Started ServerConnector") && l.contains(started))) {
                    return process.isAlive();
                }
            }
            Thread.sleep(50);
        }
        return false;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
