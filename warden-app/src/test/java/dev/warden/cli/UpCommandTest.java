package dev.warden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.warden.common.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden up} as a real process: first start, the sample job, the token file, restart, SIGTERM. */
class UpCommandTest {
    static final Pattern CONSOLE = Pattern.compile("console: http://127\\.0\\.0\\.1:(\\d+)/");

    @TempDir
    Path dir;

    record Started(Process process, List<String> lines, int port) {}

    Started up() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.warden.cli.Main", "--data-dir", dir.resolve("data").toString(), "up", "--port", "0", "--workers", "2")
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("up.err").toFile())).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null) {
            lines.add(line);
            Matcher m = CONSOLE.matcher(line);
            if (m.find()) {
                String token = out.readLine();
                lines.add(token);
                Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
                return new Started(p, lines, Integer.parseInt(m.group(1)));
            }
        }
        throw new AssertionError("up exited without printing the console URL: " + lines + " / "
                + Files.readString(dir.resolve("up.err")));
    }

    static HttpResponse<String> get(int port, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (token != null) {
            b.header("X-Warden-Token", token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void firstStartCreatesTheDataDirTokenAndSampleJobThenStopsCleanly() throws Exception {
        Started s = up();
        try {
            Path data = dir.resolve("data");
            String token = Files.readString(data.resolve("console.token")).strip();
            assertThat(String.join("\n", s.lines())).contains("Enqueued sample job", "token:   " + token);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("console.token")))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).isEqualTo("rwx------");
            assertThat(get(s.port(), "/healthz", null).statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    Json.parse(get(s.port(), "/api/jobs?state=succeeded", token).body()).path("jobs").size() == 1);
            var job = Json.parse(get(s.port(), "/api/jobs", token).body()).path("jobs").get(0);
            assertThat(job.path("kind").asText()).isEqualTo("repo_index");
            assertThat(job.at("/result/matches").asInt()).isEqualTo(3);
        } finally {
            s.process().destroy(); // SIGTERM: graceful
            assertThat(s.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        Started again = up();
        try {
            String all = String.join("\n", again.lines());
            assertThat(all).doesNotContain("Enqueued sample job").contains("token:   in ");
            assertThat(all).doesNotContain(Files.readString(dir.resolve("data/console.token")).strip());
        } finally {
            again.process().destroy();
            again.process().waitFor(20, TimeUnit.SECONDS);
        }
    }
}
