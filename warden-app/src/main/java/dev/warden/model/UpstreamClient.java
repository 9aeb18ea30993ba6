package dev.warden.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A thin OpenAI-compatible client on {@link HttpClient}: one request per call, no retries (the
 * router's loop is the only place a call is tried again), HTTP/1.1, a connect timeout, and a read
 * timeout that also covers a stalled response body or stream.
 */
public final class UpstreamClient implements AutoCloseable {
    private final HttpClient http;
    private final Duration readTimeout;
    private final java.util.concurrent.ScheduledThreadPoolExecutor watchdog = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "upstream-read-timeout");
        t.setDaemon(true);
        return t;
    });

    {
        watchdog.setRemoveOnCancelPolicy(true); // a finished response's timer leaves the queue at once
    }

    public UpstreamClient(ModelsConfig.Timeouts timeouts) {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeouts.connect())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.readTimeout = timeouts.read();
    }

    /** A failed attempt: its class, the HTTP status (0 when there was none) and a short reason. */
    public record Failure(ErrorClass errorClass, int status, String message) {}

    /** The result of opening a call: a complete JSON response, an open stream, or a failure. */
    public sealed interface Result permits Completed, Streaming, Failed {}

    /** {@code raw} is the body as received, so a pass-through need not serialize it again. */
    public record Completed(JsonNode body, byte[] raw) implements Result {}

    public record Streaming(Stream stream) implements Result {}

    public record Failed(Failure failure) implements Result {}

    /** POSTs {@code body} to {@code <base_url>/chat/completions}; streams when {@code body.stream} is true. */
    public Result chat(URI baseUrl, String key, ObjectNode body) {
        boolean stream = body.path("stream").asBoolean(false);
        HttpResponse<InputStream> resp;
        try {
            resp = send(URI.create(baseUrl + "/chat/completions"), key, Json.write(body));
        } catch (IOException e) {
            return new Failed(new Failure(ErrorClass.TRANSIENT_NETWORK, 0, describe(e)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Failed(new Failure(ErrorClass.TRANSIENT_NETWORK, 0, "interrupted"));
        }
        Guard guard = new Guard(resp.body());
        int status = resp.statusCode();
        if (status / 100 != 2) {
            String detail;
            try {
                detail = errorMessage(guard.readAll(64 * 1024));
            } catch (IOException e) {
                detail = describe(e);
            } finally {
                guard.close();
            }
            return new Failed(new Failure(ErrorClass.ofStatus(status), status, "HTTP " + status + (detail.isEmpty() ? "" : ": " + detail)));
        }
        if (stream) {
            return new Streaming(new Stream(guard));
        }
        try (guard) {
            byte[] bytes = guard.readAll(32 * 1024 * 1024);
            JsonNode json;
            try {
                json = Json.MAPPER.readTree(bytes);
            } catch (IOException e) {
                return new Failed(new Failure(ErrorClass.NON_TRANSIENT, status, "malformed JSON in the response"));
            }
            if (json == null || !json.isObject() || !json.path("choices").isArray()) {
                return new Failed(new Failure(ErrorClass.NON_TRANSIENT, status, "the response is not a chat completion"));
            }
            return new Completed(json, bytes);
        } catch (IOException e) {
            return new Failed(new Failure(ErrorClass.TRANSIENT_NETWORK, status, describe(e)));
        }
    }

    /** GETs {@code <base_url>/models}: the probe of {@code warden models doctor}. */
    public Failure probe(URI baseUrl, String key) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + "/models")).timeout(readTimeout).GET();
            if (key != null) {
                b.header("Authorization", "Bearer " + key);
            }
            HttpResponse<InputStream> resp = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (Guard g = new Guard(resp.body())) {
                String detail = resp.statusCode() / 100 == 2 ? "" : errorMessage(g.readAll(64 * 1024));
                return resp.statusCode() / 100 == 2 ? null
                        : new Failure(ErrorClass.ofStatus(resp.statusCode()), resp.statusCode(), "HTTP " + resp.statusCode() + " " + detail);
            }
        } catch (IOException e) {
            return new Failure(ErrorClass.TRANSIENT_NETWORK, 0, describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Failure(ErrorClass.TRANSIENT_NETWORK, 0, "interrupted");
        }
    }

    private HttpResponse<InputStream> send(URI uri, String key, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(readTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    private static String errorMessage(byte[] body) {
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            String m = n.path("error").path("message").asText(n.path("message").asText(""));
            return m.length() > 300 ? m.substring(0, 300) + "…" : m;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    static String describe(IOException e) {
        String name = e.getClass().getSimpleName();
        return e.getMessage() == null ? name : name + ": " + e.getMessage();
    }

    /**
     * A response body whose reads are bounded by the read timeout: a stalled upstream has its
     * stream closed under the reader, which then fails with an {@link IOException}.
     */
    final class Guard implements Closeable {
        private final InputStream in;
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile long lastActivity = System.nanoTime();
        private volatile boolean timedOut;
        private volatile java.util.concurrent.ScheduledFuture<?> timer;

        Guard(InputStream in) {
            this.in = in;
            schedule(readTimeout.toNanos());
        }

        private void schedule(long delayNanos) {
            if (closed.get()) {
                return;
            }
            timer = watchdog.schedule(() -> {
                long idle = System.nanoTime() - lastActivity;
                if (closed.get()) {
                    return;
                }
                if (idle >= readTimeout.toNanos()) {
                    timedOut = true;
                    close();
                } else {
                    schedule(readTimeout.toNanos() - idle);
                }
            }, delayNanos, TimeUnit.NANOSECONDS);
        }

        int read(byte[] buf) throws IOException {
            try {
                int n = in.read(buf);
                lastActivity = System.nanoTime();
                return n;
            } catch (IOException e) {
                throw timedOut ? new java.net.http.HttpTimeoutException("no data from upstream for " + readTimeout.toMillis() + " ms") : e;
            }
        }

        byte[] readAll(int max) throws IOException {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = read(buf)) >= 0) {
                out.write(buf, 0, n);
                if (out.size() > max) {
                    throw new IOException("response larger than " + max + " bytes");
                }
            }
            return out.toByteArray();
        }

        InputStream asStream() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    int n = read(one, 0, 1);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    try {
                        int n = in.read(b, off, len);
                        lastActivity = System.nanoTime();
                        return n;
                    } catch (IOException e) {
                        throw timedOut ? new java.net.http.HttpTimeoutException("no data from upstream for "
                                + readTimeout.toMillis() + " ms") : e;
                    }
                }
            };
        }

        /**
         * Reads what is left of a response that ended properly (a stream's closing chunk), so the
         * connection goes back to the pool instead of being torn down; then closes.
         */
        void drainAndClose() {
            try {
                byte[] buf = new byte[8192];
                int total = 0;
                int n;
                while (!closed.get() && (n = read(buf)) >= 0 && (total += n) < 64 * 1024) {
                    // discard
                }
            } catch (IOException ignored) {
                // the connection is not reusable; close() below drops it
            }
            close();
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                java.util.concurrent.ScheduledFuture<?> t = timer;
                if (t != null) {
                    t.cancel(false);
                }
                try {
                    in.close();
                } catch (IOException ignored) {
                    // closing a broken connection
                }
            }
        }
    }

    /** An open server-sent-events response: {@link #next} returns each {@code data:} payload, null at the end. */
    public static final class Stream implements Closeable {
        private final Guard guard;
        private final BufferedReader reader;
        private boolean done;

        Stream(Guard guard) {
            this.guard = guard;
            this.reader = new BufferedReader(new InputStreamReader(guard.asStream(), StandardCharsets.UTF_8));
        }

        /** The next event's data, or null when the upstream sent {@code [DONE]} or ended the stream. */
        public String next() throws IOException {
            if (done) {
                return null;
            }
            StringBuilder data = null;
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) {
                        break;
                    }
                    continue;
                }
                if (line.startsWith("data:")) {
                    String part = line.substring(5).stripLeading();
                    data = data == null ? new StringBuilder(part) : data.append('\n').append(part);
                }
                // comments (":") and other fields (event:, id:, retry:) are ignored
            }
            if (data == null) {
                done = true;
                throw new IOException("the stream ended without [DONE]");
            }
            if (data.toString().equals("[DONE]")) {
                done = true;
                return null;
            }
            return data.toString();
        }

        @Override
        public void close() {
            if (done) {
                guard.drainAndClose();
            } else {
                guard.close();
            }
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        http.close();
    }
}
