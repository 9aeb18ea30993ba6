package dev.warden.evidence;

import dev.warden.common.ErrorCode;
import dev.warden.common.WardenException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Evidence files in an S3-compatible object store ({@link S3Settings}), through the AWS SDK for
 * Java with the JDK's own HTTP client. The client is built on first use, with the keys resolved
 * then and only from their references: the SDK's default credential chain, which would also ask
 * the cloud instance metadata service over the network, is never used. Checksums are sent only
 * where S3 requires them, which every S3-compatible server accepts.
 */
public final class S3EvidenceFiles implements EvidenceFiles {
    /** Names a bundle file may have: one file under artifacts/ or content/ (what the worker publishes). */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("(artifacts|content)/[^/]+");

    private final S3Settings settings;
    private final Function<Optional<String>, Optional<String>> keys;
    private S3Client client;

    /** {@code keys} resolves a key reference ({@code env:NAME} or {@code file:PATH}) and registers the value as a secret. */
    public S3EvidenceFiles(S3Settings settings, Function<Optional<String>, Optional<String>> keys) {
        this.settings = settings;
        this.keys = keys;
    }

    @Override
    public boolean enabled() {
        return true;
    }

    /**
     * Makes sure the bucket can be reached with the configured keys; a process that runs jobs
     * calls it before it claims any, so an unusable evidence store stops it at start.
     */
    @Override
    public void check() {
        call("reach the bucket", s3 -> s3.headBucket(HeadBucketRequest.builder().bucket(settings.bucket()).build()));
    }

    @Override
    public void put(String jobId, String name, byte[] content) {
        call("store " + name + " of " + jobId, s3 -> s3.putObject(PutObjectRequest.builder().bucket(settings.bucket())
                .key(key(jobId) + name).contentType("application/octet-stream").build(), RequestBody.fromBytes(content)));
    }

    @Override
    public Map<String, byte[]> get(String jobId) {
        String prefix = key(jobId);
        return call("read the files of " + jobId, s3 -> {
            Map<String, byte[]> out = new LinkedHashMap<>();
            for (S3Object o : s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(settings.bucket())
                    .prefix(prefix).build()).contents()) {
                String name = o.key().substring(prefix.length());
                if (NAME.matcher(name).matches()) {
                    out.put(name, s3.getObjectAsBytes(GetObjectRequest.builder().bucket(settings.bucket()).key(o.key()).build())
                            .asByteArray());
                }
            }
            return out;
        });
    }

    @Override
    public String describe() {
        return settings.describe();
    }

    /** The key prefix of a job's files. */
    private String key(String jobId) {
        return settings.prefix() + jobId + "/";
    }

    private <T> T call(String what, Function<S3Client, T> action) {
        try {
            return action.apply(client());
        } catch (S3Exception e) {
            String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
            throw new WardenException(ErrorCode.FAILURE, "evidence store " + describe() + ": cannot " + what + ": HTTP "
                    + e.statusCode() + (code == null || code.isBlank() ? "" : " " + code) + hint(e.statusCode()));
        } catch (SdkException e) {
            throw new WardenException(ErrorCode.FAILURE, "evidence store " + describe() + ": cannot " + what + ": "
                    + e.getMessage());
        }
    }

    private String hint(int status) {
        return switch (status) {
            case 403 -> " (the keys of evidence_store.s3 were refused)";
            case 404 -> " (is there a bucket '" + settings.bucket() + "'? Warden does not create it)";
            default -> "";
        };
    }

    private synchronized S3Client client() {
        if (client == null) {
            String id = resolve(settings.accessKeyIdRef(), "access_key_id");
            String secret = resolve(settings.secretAccessKeyRef(), "secret_access_key");
            client = S3Client.builder()
                    .endpointOverride(settings.endpoint())
                    .region(Region.of(settings.region()))
                    .forcePathStyle(true)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    .httpClientBuilder(UrlConnectionHttpClient.builder()
                            .connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(30)))
                    .overrideConfiguration(c -> c.apiCallTimeout(Duration.ofSeconds(120)))
                    .build();
        }
        return client;
    }

    private String resolve(String ref, String field) {
        return keys.apply(Optional.of(ref)).orElseThrow(() -> WardenException.badInput("evidence_store.s3." + field + ": "
                + ref + (ref.startsWith("env:") ? " is not set or empty" : " is missing, empty, or readable by group or others")));
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
