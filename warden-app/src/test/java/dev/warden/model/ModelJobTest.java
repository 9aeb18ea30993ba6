package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.common.Json;
import dev.warden.testing.FakeOpenAi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job calling a model through {@code JobContext.model}, run by real {@code warden} processes:
 * the model pass of {@code doc_compactor}, its cost in the ledger and summary, its prompt and
 * response in {@code content/}, a token budget ending a job, and two planted provider keys (one
 * in the environment, one in a key file, both echoed back by the upstream) searched for in every
 * output afterwards.
 */
class ModelJobTest {
    static final String ENV_KEY = "sk-env-planted-1111aaaa2222bbbb3333";
    static final String FILE_KEY = "sk-file-planted-4444cccc5555dddd6666";

    @TempDir
    Path dir;

    @Test
    void docCompactorUsesTheModelAndEveryOutputIsFreeOfKeys() throws Exception {
        try (FakeOpenAi up = new FakeOpenAi(); FakeOpenAi other = new FakeOpenAi()) {
            up.otherwise(body -> FakeOpenAi.reply("# Notes\n- decision: ship on Friday (echo " + ENV_KEY + ")"));
            other.otherwise(body -> new FakeOpenAi.Status(500, "leaky error " + FILE_KEY));
            Path data = Files.createDirectories(dir.resolve("data"));
            Path docs = Files.createDirectories(dir.resolve("docs"));
            StringBuilder doc = new StringBuilder("# Notes\n\n");
            for (int i = 0; i < 40; i++) {
                doc.append("Paragraph ").append(i).append(": the team discussed the release at length and agreed again.\n\n");
            }
            doc.append("Decision: ship on Friday.\n");
            Files.writeString(docs.resolve("notes.md"), doc);
            Path key = dir.resolve("other.key");
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, FILE_KEY);
            Files.writeString(data.resolve("warden.yaml"), """
                    worker: {tick_ms: 100, poll_ms: 20}
                    policy: {paths: {read: [%s]}}
                    models:
                      providers:
                        - {id: other, base_url: "%s", key: "file:%s"}
                        - {id: main, base_url: "%s", key: "env:WARDEN_TEST_MODEL_KEY"}
                      models:
                        - {id: m-other, provider: other, name: o, price: {input_per_1m: 5, output_per_1m: 5}}
                        - {id: m-main, provider: main, name: compactor-1, price: {input_per_1m: 0.5, output_per_1m: 1.5}}
                      routes:
                        doc_compactor: {primary: m-other, fallbacks: [m-main], caps: {max_output_tokens: 200}}
                      budget: {usd_per_job: 1, usd_per_day: 10}
                    """.formatted(docs, other.baseUrl(), key, up.baseUrl()));
            String spec = """
                    {"kind":"doc_compactor","payload":{"inputs":["%s"],"target_bytes":400},
                     "policy":{"paths":{"read":["%s"]}},
                     "budgets":{"wall_time_s":60,"tool_calls":0,"output_bytes":100000,"tokens":%d,"usd":0.5}}
                    """;
            StringBuilder console = new StringBuilder();
            Path ok = Files.writeString(dir.resolve("ok.json"), spec.formatted(docs.resolve("notes.md"), docs, 100000));
            Path poor = Files.writeString(dir.resolve("poor.json"), spec.formatted(docs.resolve("notes.md"), docs, 20));
            String okId = Json.parse(run(data, console, "enqueue", "--json", ok.toString())).path("id").asText();
            String poorId = Json.parse(run(data, console, "enqueue", "--json", poor.toString())).path("id").asText();
            run(data, console, "worker", "--once");
            JsonNode okJob = Json.parse(run(data, console, "jobs", "show", "--json", okId));
            JsonNode poorJob = Json.parse(run(data, console, "jobs", "show", "--json", poorId));

            assertThat(okJob.path("state").asText()).isEqualTo("succeeded");
            JsonNode result = okJob.path("result");
            assertThat(result.path("mode").asText()).isEqualTo("model");
            assertThat(result.path("model_pass").path("model").asText()).isEqualTo("m-main");
            // the upstream was asked for the route's cap at most, under its own model name
            JsonNode sent = up.received().get(0).body();
            assertThat(sent.path("model").asText()).isEqualTo("compactor-1");
            assertThat(sent.path("max_tokens").asInt()).isLessThanOrEqualTo(200);
            assertThat(poorJob.path("state").asText()).isEqualTo("failed");
            assertThat(poorJob.path("error").path("code").asText()).isEqualTo("budget_exceeded:tokens");

            Path bundle = data.resolve("evidence").resolve(okId);
            String summary = Files.readString(bundle.resolve("summary.md"));
            assertThat(summary).contains("## Model calls").contains("m-other transient_server, m-main ok").contains("| model tokens | 15 |");
            List<Path> content;
            try (Stream<Path> s = Files.list(bundle.resolve("content"))) {
                content = s.toList();
            }
            assertThat(content).hasSize(2);
            String contentText = Files.readString(content.get(0)) + Files.readString(content.get(1));
            assertThat(contentText).contains("Paragraph 0: the team discussed").contains("decision: ship on Friday (echo [secret])");
            String events = Files.readString(bundle.resolve("events.jsonl"));
            assertThat(events).contains("\"event\":\"model.call\"").contains("\"fallback_used\":true").doesNotContain("ship on Friday");
            assertThat(Files.readString(bundle.resolve("artifacts/compacted.md"))).startsWith("# Notes\n- decision");

            console.append(run(data, console, "ledger", "tail", "-n", "1000"));
            String status = run(data, console, "models", "status");
            assertThat(status).contains("sk-…3333").contains("sk-…6666").contains("transient_server");
            String doctor = run(data, console, "models", "doctor");
            assertThat(doctor).contains("main").contains("OK").contains("other");
            run(data, console, "models", "status", "--json");
            run(data, console, "gateway", "token", "create", "agent", "--budget-usd-per-day", "1", "--routes", "doc_compactor");
            run(data, console, "gateway", "token", "list");
            run(data, console, "evidence", okId);
            assertThat(console.toString()).doesNotContain(ENV_KEY).doesNotContain(FILE_KEY);
            List<Path> written = new ArrayList<>();
            try (Stream<Path> files = Files.walk(data)) {
                files.filter(Files::isRegularFile).forEach(written::add);
            }
            assertThat(written).anyMatch(f -> f.toString().endsWith("warden.log"));
            for (Path f : written) {
                String name = f.getFileName().toString();
                if (name.startsWith("warden.db")) {
                    continue; // the database is searched through the CLI's ledger and job output above
                }
                assertThat(Files.readString(f)).as(f.toString()).doesNotContain(ENV_KEY).doesNotContain(FILE_KEY);
            }
            byte[] db = Files.readAllBytes(data.resolve("warden.db"));
            assertThat(new String(db, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(ENV_KEY).doesNotContain(FILE_KEY);
        }
    }

    private String run(Path data, StringBuilder console, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.warden.cli.Main",
                "--data-dir", data.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.txt").toFile());
        pb.environment().put("WARDEN_TEST_MODEL_KEY", ENV_KEY);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        String err = Files.readString(dir.resolve("stderr.txt"));
        console.append(out).append(err);
        return out;
    }
}
