package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.common.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secret planted in the worker's environment and in the data it touches, searched for in every
 * output afterwards: ledger, evidence, logs, console output. It must never be found.
 */
class SecretLeakTest {
    static final String SECRET = "sk-live-PLANTED-9d2c7e1f4a6b8c0d";

    @TempDir
    Path dir;

    @Test
    void plantedSecretIsInNoOutput() throws Exception {
        Path data = dir.resolve("data");
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.writeString(repo.resolve("leak.txt"), "TODO: remove hard-coded key " + SECRET + "\n");
        Files.createDirectories(data);
        Files.writeString(data.resolve("warden.yaml"), """
                worker: {tick_ms: 100, poll_ms: 20}
                policy: {paths: {read: [%s]}, repos: [%s], exec: {allow: [{path: /usr/bin/env}]}}
                """.formatted(dir, dir));
        for (String[] git : new String[][] {{"init", "-q"}, {"add", "."},
                {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "x"}}) {
            List<String> cmd = new java.util.ArrayList<>(List.of("git", "-C", repo.toString()));
            cmd.addAll(List.of(git));
            assertThat(new ProcessBuilder(cmd).start().waitFor()).isZero();
        }
        String ok = """
                {"kind":"repo_index","payload":{"repo":"%s","patterns":["TODO"]},
                 "policy":{"paths":{"read":["%s"]},"repos":["%s"]},"labels":{"why":"%s"},
                 "budgets":{"wall_time_s":30,"tool_calls":0,"output_bytes":100000}}
                """.formatted(repo, repo, repo, SECRET);
        // a repo whose name holds the secret and does not exist: the failure message carries the path
        Path missing = dir.resolve("gone-" + SECRET);
        String failing = """
                {"kind":"repo_index","payload":{"repo":"%s","patterns":["TODO"]},
                 "policy":{"paths":{"read":["%s"]},"repos":["%s"]},
                 "budgets":{"wall_time_s":30,"tool_calls":0,"output_bytes":100000}}
                """.formatted(missing, missing, missing);
        // a process the job runs prints its whole environment: the worker's secret must not be in it
        String printsEnv = """
                {"kind":"test_runner","payload":{"repo":"%s","argv":["env"]},
                 "policy":{"paths":{"read":["%s"]},"repos":["%s"],"exec":{"allow":[{"path":"/usr/bin/env"}]}},
                 "budgets":{"wall_time_s":60,"tool_calls":0,"output_bytes":100000}}
                """.formatted(repo, repo, repo);
        StringBuilder console = new StringBuilder();
        for (String spec : List.of(ok, failing, printsEnv)) {
            Path f = Files.writeString(dir.resolve("spec.json"), spec);
            console.append(run(data, "enqueue", "--json", f.toString()));
        }
        console.append(run(data, "worker", "--once"));
        console.append(run(data, "jobs", "list", "--json"));
        console.append(run(data, "ledger", "tail", "-n", "1000"));
        String jobs = run(data, "jobs", "list", "--json");
        for (var j : Json.parse(jobs)) {
            console.append(run(data, "jobs", "show", "--json", j.path("id").asText()));
        }

        assertThat(console.toString()).as("the run did something").contains("job.succeeded", "job.failed", "repo_missing", "[secret]",
                "\"exit_code\" : 0");
        assertThat(console.toString()).doesNotContain(SECRET);
        assertThat(Files.readString(data.resolve("logs/warden.log"))).contains("ended failed").doesNotContain(SECRET);
        String childEnv;
        try (Stream<Path> out = Files.walk(data.resolve("evidence"))) {
            childEnv = Files.readString(out.filter(f -> f.getFileName().toString().equals("stdout.txt")).findFirst().orElseThrow());
        }
        assertThat(childEnv).contains("PATH=/usr/local/bin:/usr/bin:/bin").doesNotContain("WARDEN_TEST_API_KEY", "[secret]");
        try (Stream<Path> files = Files.walk(data.resolve("evidence"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(f)).as(f.toString()).doesNotContain(SECRET);
            }
        }
    }

    private String run(Path data, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.warden.cli.Main",
                "--data-dir", data.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("WARDEN_TEST_API_KEY", SECRET);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }
}
