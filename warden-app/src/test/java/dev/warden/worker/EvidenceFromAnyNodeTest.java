package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.job.JobState;
import dev.warden.store.JobRow;
import dev.warden.testing.S3ProxyServer;
import dev.warden.testing.TestPostgres;
import dev.warden.testing.TestWarden;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With PostgreSQL, a job's evidence (artifacts included) is served by a node that did not run it:
 * its files kept in the store, or in an S3-compatible object store when one is configured.
 */
class EvidenceFromAnyNodeTest {
    @TempDir
    Path nodeA;

    @TempDir
    Path nodeB;

    @TempDir
    Path repo;

    String url;

    @AfterEach
    void drop() {
        TestPostgres.drop(url);
    }

    @Test
    void anotherNodeServesTheBundleWithItsArtifacts() throws Exception {
        String[] job = runOnNodeA("");
        Path bundle = evidenceOnNodeB(job[0]);
        assertThat(bundle.resolve("artifacts/index.jsonl")).hasContent(job[1].strip());
        assertThat(storedInPostgres(job[0])).isPositive();
    }

    @Test
    void withAnObjectStoreTheArtifactsAreKeptThereAndTheKeysNeverShow() throws Exception {
        String secret = "s3-secret-" + java.util.UUID.randomUUID();
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(keys.resolve("s3")), "warden-node", secret)) {
            dev.warden.evidence.S3EvidenceFilesTest.createBucket(s3, "evidence");
            Path id = keyFile("id", s3.accessKey());
            Path key = keyFile("secret", s3.secretKey());
            String store = "evidence_store: {s3: {endpoint: '%s', bucket: evidence, prefix: 'cluster/', access_key_id: 'file:%s', secret_access_key: 'file:%s'}}\n"
                    .formatted(s3.endpoint(), id, key);
            Files.writeString(nodeB.resolve("warden.yaml"), store);
            String[] job = runOnNodeA(store);
            Path bundle = evidenceOnNodeB(job[0]);
            assertThat(bundle.resolve("artifacts/index.jsonl")).hasContent(job[1].strip());
            assertThat(storedInPostgres(job[0])).isZero();
            StringWriter doctor = new StringWriter();
            dev.warden.cli.Main.execute(new String[] {"--data-dir", nodeB.toString(), "--store", url, "doctor"},
                    new PrintWriter(doctor), new PrintWriter(new StringWriter()));
            assertThat(doctor.toString()).containsPattern("PASS +evidence +evidence files in s3://evidence/cluster/ at .*, reachable");
            try (var admin = dev.warden.evidence.S3EvidenceFilesTest.admin(s3)) {
                assertThat(admin.listObjectsV2(r -> r.bucket("evidence").prefix("cluster/" + job[0] + "/")).contents())
                        .extracting(o -> o.key()).contains("cluster/" + job[0] + "/artifacts/index.jsonl");
            }
            try (java.util.stream.Stream<Path> files = Files.walk(nodeA); java.util.stream.Stream<Path> more = Files.walk(nodeB)) {
                for (Path f : java.util.stream.Stream.concat(files, more).filter(Files::isRegularFile).toList()) {
                    assertThat(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1)).as(f.toString()).doesNotContain(secret);
                }
            }
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // a worker that started anyway would run until stopped
    void aWorkerWhoseObjectStoreCannotBeUsedDoesNotStart() throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.start(Files.createDirectories(keys.resolve("s3")), "warden-node", "the-secret-1234567")) {
            Files.writeString(nodeA.resolve("warden.yaml"), ("evidence_store: {s3: {endpoint: '%s', bucket: missing-bucket, "
                    + "access_key_id: 'file:%s', secret_access_key: 'file:%s'}}\n").formatted(s3.endpoint(),
                    keyFile("id", s3.accessKey()), keyFile("secret", s3.secretKey())));
            StringWriter err = new StringWriter();
            int code = dev.warden.cli.Main.execute(new String[] {"--data-dir", nodeA.toString(), "worker"},
                    new PrintWriter(new StringWriter()), new PrintWriter(err));
            assertThat(code).isEqualTo(1);
            assertThat(err.toString()).contains("s3://missing-bucket/", "HTTP 404", "Warden does not create it")
                    .doesNotContain("the-secret-1234567");
            StringWriter doctor = new StringWriter();
            assertThat(dev.warden.cli.Main.execute(new String[] {"--data-dir", nodeA.toString(), "doctor"},
                    new PrintWriter(doctor), new PrintWriter(new StringWriter()))).isEqualTo(20);
            assertThat(doctor.toString()).containsPattern("FAIL +evidence +evidence store s3://missing-bucket/ at .*HTTP 404")
                    .doesNotContain("the-secret-1234567");
        }
    }

    @TempDir
    Path keys;

    private Path keyFile(String name, String value) throws Exception {
        Path f = keys.resolve(name);
        Files.writeString(f, value);
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private long storedInPostgres(String jobId) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:" + url);
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM evidence_files WHERE job_id = ?")) {
            ps.setString(1, jobId);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Runs a repo_index job on node A (config {@code extra} added); returns its id and artifact. */
    private String[] runOnNodeA(String extra) throws Exception {
        url = TestPostgres.freshDatabase();
        Files.writeString(repo.resolve("a.txt"), "TODO one\nTODO two\n");
        String cfg = "policy: {paths: {read: [%s]}, repos: [%s]}\n".formatted(repo, repo) + extra;
        String jobId;
        String artifact;
        try (WardenApp a = TestWarden.open(nodeA, Clock.systemUTC(), Optional.of(url), cfg)) {
            ObjectNode spec = Json.object().put("kind", "repo_index");
            spec.putObject("payload").put("repo", repo.toString()).putArray("patterns").add("TODO");
            ObjectNode pol = spec.putObject("policy");
            pol.putObject("paths").putArray("read").add(repo.toString());
            pol.putArray("repos").add(repo.toString());
            spec.putObject("budgets").put("wall_time_s", 30).put("tool_calls", 0).put("output_bytes", 100_000);
            JobRow job = a.queue().enqueue(a.parser().parse(spec), "test").job();
            WorkerPool pool = a.newWorkerPool(1);
            pool.drainOnce();
            pool.shutdown(Duration.ZERO);
            assertThat(a.queue().get(job.id()).state()).isEqualTo(JobState.succeeded);
            jobId = job.id();
            artifact = Files.readString(a.evidence().artifacts(jobId).resolve("index.jsonl"));
        }
        return new String[] {jobId, artifact};
    }

    /** {@code warden evidence ID} on node B; asserts the bundle is whole and returns its path. */
    private Path evidenceOnNodeB(String jobId) {
        StringWriter out = new StringWriter();
        int code = dev.warden.cli.Main.execute(new String[] {"--data-dir", nodeB.toString(), "--store", url, "evidence", jobId},
                new PrintWriter(out), new PrintWriter(new StringWriter()));
        assertThat(code).isZero();
        Path bundle = Path.of(out.toString().strip());
        assertThat(bundle).startsWith(nodeB);
        assertThat(bundle.resolve("summary.md")).content().contains("succeeded", "index.jsonl");
        assertThat(bundle.resolve("events.jsonl")).content().contains("job.succeeded", "artifact.written");
        return bundle;
    }
}
