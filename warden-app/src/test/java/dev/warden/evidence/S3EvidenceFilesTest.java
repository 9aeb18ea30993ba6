package dev.warden.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.testing.S3ProxyServer;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** Evidence files in a real S3-compatible server (S3Proxy, with AWS Signature V4 checked). */
public class S3EvidenceFilesTest {
    static final String ACCESS = "warden-test-access";
    static final String SECRET = "s3-secret-" + java.util.UUID.randomUUID();

    @TempDir
    static Path data;

    static S3ProxyServer server;

    @BeforeAll
    static void startServer() {
        server = S3ProxyServer.start(data, ACCESS, SECRET);
        createBucket(server, "evidence");
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** Creates a bucket as an operator would (Warden never creates one). */
    public static void createBucket(S3ProxyServer s, String bucket) {
        try (S3Client admin = admin(s)) {
            admin.createBucket(b -> b.bucket(bucket));
        }
    }

    /** A plain SDK client of the server's operator, to look at what Warden stored. */
    public static S3Client admin(S3ProxyServer s) {
        return S3Client.builder().endpointOverride(s.endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(s.accessKey(), s.secretKey())))
                .httpClientBuilder(UrlConnectionHttpClient.builder()).build();
    }

    /** Key references resolved from a fixed table ({@code env:NAME}), recording what was resolved. */
    static final class Keys implements Function<Optional<String>, Optional<String>> {
        final Map<String, String> env;
        final List<String> resolved = new ArrayList<>();

        Keys(Map<String, String> env) {
            this.env = env;
        }

        @Override
        public Optional<String> apply(Optional<String> ref) {
            Optional<String> v = ref.filter(r -> r.startsWith("env:")).map(r -> env.get(r.substring(4)));
            v.ifPresent(resolved::add);
            return v;
        }
    }

    static S3Settings settings(URI endpoint, String bucket, String prefix) {
        return new S3Settings(endpoint, "us-east-1", bucket, prefix, "env:S3_ID", "env:S3_SECRET");
    }

    static S3EvidenceFiles files(S3Settings s, String secret) {
        return new S3EvidenceFiles(s, new Keys(Map.of("S3_ID", ACCESS, "S3_SECRET", secret)));
    }

    @Test
    void storesAndReadsBackEveryFileOfAJobAndNoOtherJobs() {
        try (S3EvidenceFiles f = files(settings(server.endpoint(), "evidence", "warden/node-a/"), SECRET)) {
            f.check();
            byte[] binary = new byte[70_000];
            new java.util.Random(7).nextBytes(binary);
            f.put("job-1", "artifacts/index.jsonl", "{\"n\":1}\n".getBytes(StandardCharsets.UTF_8));
            f.put("job-1", "content/abc123", binary);
            f.put("job-10", "artifacts/other.txt", "not job-1's".getBytes(StandardCharsets.UTF_8));
            Map<String, byte[]> got = f.get("job-1");
            assertThat(got).containsOnlyKeys("artifacts/index.jsonl", "content/abc123");
            assertThat(new String(got.get("artifacts/index.jsonl"), StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}\n");
            assertThat(got.get("content/abc123")).isEqualTo(binary);
            assertThat(f.get("job-2")).isEmpty();
            assertThat(f.enabled()).isTrue();
            assertThat(f.describe()).isEqualTo("s3://evidence/warden/node-a/ at " + server.endpoint()).doesNotContain(SECRET);
        }
    }

    @Test
    void aMissingBucketIsNamedAndNothingIsCreated() {
        try (S3EvidenceFiles f = files(settings(server.endpoint(), "no-such-bucket", ""), SECRET)) {
            assertThatThrownBy(f::check).isInstanceOf(WardenException.class)
                    .hasMessageContaining("s3://no-such-bucket/").hasMessageContaining("HTTP 404")
                    .hasMessageContaining("Warden does not create it");
            assertThatThrownBy(() -> f.put("job-1", "artifacts/a", new byte[1])).isInstanceOf(WardenException.class)
                    .hasMessageContaining("cannot store artifacts/a of job-1");
        }
    }

    @Test
    void refusedKeysAreSaidWithoutShowingThem() {
        String wrong = "wrong-secret-" + java.util.UUID.randomUUID();
        try (S3EvidenceFiles f = files(settings(server.endpoint(), "evidence", ""), wrong)) {
            assertThatThrownBy(f::check).isInstanceOf(WardenException.class).hasMessageContaining("HTTP 403")
                    .hasMessageContaining("keys of evidence_store.s3 were refused")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrong).doesNotContain(SECRET));
        }
    }

    @Test
    void anUnsetKeyVariableIsNamedAndNoRequestIsMade() {
        Keys keys = new Keys(Map.of("S3_ID", ACCESS));
        try (S3EvidenceFiles f = new S3EvidenceFiles(settings(server.endpoint(), "evidence", ""), keys)) {
            assertThatThrownBy(f::check).isInstanceOf(WardenException.class)
                    .hasMessage("evidence_store.s3.secret_access_key: env:S3_SECRET is not set or empty");
        }
    }

    @Test
    void anUnreachableEndpointFailsWithTheReason() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (S3EvidenceFiles f = files(settings(URI.create("http://127.0.0.1:" + closed), "evidence", ""), SECRET)) {
            assertThatThrownBy(f::check).isInstanceOf(WardenException.class)
                    .hasMessageStartingWith("evidence store s3://evidence/ at http://127.0.0.1:" + closed + ": cannot reach the bucket: ");
        }
    }

    @Test
    void theConfigIsCheckedFieldByFieldAndEveryProblemIsListed() {
        ObjectNode s3 = Json.object().put("endpoint", "http://user:pw@127.0.0.1:9000").put("bucket", "Bad_Bucket")
                .put("prefix", "/abs").put("access_key_id", "env:A").put("secret_access_key", "env:B");
        List<String> errors = new ArrayList<>();
        S3Settings.parse(s3, errors);
        assertThat(errors).containsExactly(
                "evidence_store.s3.endpoint: must not carry credentials or a query (use access_key_id and secret_access_key)",
                "evidence_store.s3.bucket: 'Bad_Bucket' is not a valid bucket name (3-63 characters: a-z, 0-9, '.', '-')",
                "evidence_store.s3.prefix: '/abs' must be empty or end with '/' (and not start with '/' or hold '//')");
        errors.clear();
        S3Settings ok = S3Settings.parse(s3.put("endpoint", "https://s3.example:9000/").put("bucket", "warden-evidence")
                .put("prefix", "team/a/"), errors).orElseThrow();
        assertThat(errors).isEmpty();
        assertThat(ok).isEqualTo(new S3Settings(URI.create("https://s3.example:9000"), "us-east-1", "warden-evidence", "team/a/",
                "env:A", "env:B"));
        assertThat(S3Settings.parse(Json.object().path("s3"), errors)).isEmpty();
    }
}
