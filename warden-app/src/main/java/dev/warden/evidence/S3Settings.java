package dev.warden.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * {@code evidence_store.s3}: an S3-compatible object store for evidence files (AWS S3, MinIO,
 * Ceph, Garage, SeaweedFS, …), addressed path-style ({@code ENDPOINT/BUCKET/KEY}). Objects are
 * {@code PREFIX<job_id>/artifacts/<file>} and {@code PREFIX<job_id>/content/<sha256>}. The keys
 * are references ({@code env:NAME} or {@code file:PATH}, as a model provider's key), resolved
 * when the store is first used; their values never appear in the config, argv or any output.
 */
public record S3Settings(URI endpoint, String region, String bucket, String prefix, String accessKeyIdRef,
                         String secretAccessKeyRef) {
    /** S3's bucket naming rule (the JSON Schema checks only the length). */
    static final java.util.regex.Pattern BUCKET = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** The settings under {@code evidence_store.s3}, or empty; semantic problems go to {@code errors}, each naming its field. */
    public static Optional<S3Settings> parse(JsonNode s3, List<String> errors) {
        if (s3 == null || s3.isMissingNode() || s3.isNull()) {
            return Optional.empty();
        }
        String at = "evidence_store.s3";
        URI endpoint = null;
        String raw = s3.path("endpoint").asText();
        try {
            endpoint = URI.create(raw.replaceAll("/+$", ""));
            if (endpoint.getHost() == null || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https"))) {
                throw new IllegalArgumentException("no host");
            }
            if (endpoint.getRawUserInfo() != null || endpoint.getRawQuery() != null) {
                errors.add(at + ".endpoint: must not carry credentials or a query (use access_key_id and secret_access_key)");
            }
        } catch (IllegalArgumentException e) {
            errors.add(at + ".endpoint: '" + raw + "' is not a valid http(s) URL");
        }
        String bucket = s3.path("bucket").asText();
        if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
            errors.add(at + ".bucket: '" + bucket + "' is not a valid bucket name (3-63 characters: a-z, 0-9, '.', '-')");
        }
        String prefix = s3.path("prefix").asText("");
        if (!prefix.isEmpty() && (!prefix.endsWith("/") || prefix.startsWith("/") || prefix.contains("//"))) {
            errors.add(at + ".prefix: '" + prefix + "' must be empty or end with '/' (and not start with '/' or hold '//')");
        }
        for (String key : List.of("access_key_id", "secret_access_key")) {
            String ref = s3.path(key).asText();
            if (ref.startsWith("file:")) {
                dev.warden.model.ModelsConfig.checkKeyFile(java.nio.file.Path.of(ref.substring(5)), at + "." + key, errors);
            }
        }
        return Optional.of(new S3Settings(endpoint, s3.path("region").asText("us-east-1"), bucket, prefix,
                s3.path("access_key_id").asText(), s3.path("secret_access_key").asText()));
    }

    /** {@code s3://bucket/prefix at endpoint}: what messages show. */
    public String describe() {
        return "s3://" + bucket + "/" + prefix + " at " + endpoint;
    }
}
