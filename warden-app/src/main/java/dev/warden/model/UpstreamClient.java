package dev.warden.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A thin OpenAI-compatible client: one request per call, no retries (the router's loop is the only
 * place a call is tried again), HTTP/1.1 on pooled keep-alive connections ({@link Http1}), a
 * connect timeout, and a read timeout that bounds the wait for the response and every later read
 * of its body or stream (a stalled upstream fails the attempt as {@code transient_network}).
 */
public final class UpstreamClient implements AutoCloseable {
    private final Http1 http;
    private final Map<URI, Http1.Target> chatTargets = new ConcurrentHashMap<>();

    public UpstreamClient(ModelsConfig.Timeouts timeouts) {
        this.http = new Http1(timeouts.connect(), timeouts.read());
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
        Http1.Response resp;
        try {
            Http1.Target target = chatTargets.computeIfAbsent(baseUrl, b -> Http1.Target.of(URI.create(b + "/chat/completions")));
            resp = http.send(target, "POST", headers(key, true), Json.MAPPER.writeValueAsBytes(body));
        } catch (IOException e) {
            return new Failed(new Failure(ErrorClass.TRANSIENT_NETWORK, 0, describe(e)));
        } catch (IllegalArgumentException e) {
            return new Failed(new Failure(ErrorClass.NON_TRANSIENT, 0, "bad base_url: " + e.getMessage()));
        }
        Http1.Body guard = resp.body;
        int status = resp.status;
        if (status / 100 != 2) {
            String detail;
            try {
                detail = errorMessage(readAll(guard, 64 * 1024));
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
            byte[] bytes = readAll(guard, 32 * 1024 * 1024);
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

    private static Map<String, String> headers(String key, boolean json) {
        if (key == null) {
            return json ? Map.of("Content-Type", "application/json") : Map.of();
        }
        return json ? Map.of("Content-Type", "application/json", "Authorization", "Bearer " + key) : Map.of("Authorization", "Bearer " + key);
    }

    /** GETs {@code <base_url>/models}: the probe of {@code warden models doctor}. */
    public Failure probe(URI baseUrl, String key) {
        try {
            Http1.Response resp = http.send(Http1.Target.of(URI.create(baseUrl + "/models")), "GET", headers(key, false), null);
            try (Http1.Body b = resp.body) {
                int status = resp.status;
                String detail = status / 100 == 2 ? "" : errorMessage(readAll(b, 64 * 1024));
                if (status / 100 == 2) {
                    readAll(b, 1024 * 1024); // to its end, so the connection can be reused
                }
                return status / 100 == 2 ? null : new Failure(ErrorClass.ofStatus(status), status, "HTTP " + status + " " + detail);
            }
        } catch (IOException e) {
            return new Failure(ErrorClass.TRANSIENT_NETWORK, 0, describe(e));
        } catch (IllegalArgumentException e) {
            return new Failure(ErrorClass.NON_TRANSIENT, 0, "bad base_url: " + e.getMessage());
        }
    }

    private static byte[] readAll(InputStream in, int max) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(1024);
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf, 0, buf.length)) >= 0) {
            out.write(buf, 0, n);
            if (out.size() > max) {
                throw new IOException("response larger than " + max + " bytes");
            }
        }
        return out.toByteArray();
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

    /** An open server-sent-events response: {@link #next} returns each {@code data:} payload, null at the end. */
    public static final class Stream implements Closeable {
        private final Http1.Body body;
        private final byte[] buf = new byte[2048];
        private final java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(512);
        private int pos;
        private int lim;
        private boolean skipLf;
        private boolean done;

        Stream(Http1.Body body) {
            this.body = body;
        }

        /** The next line (ended by LF, CRLF or CR, as SSE allows) without its end; null at the end of the body. */
        private String readLine() throws IOException {
            line.reset();
            boolean any = false;
            while (true) {
                if (pos == lim) {
                    int n = body.read(buf, 0, buf.length);
                    if (n < 0) {
                        return any ? line.toString(StandardCharsets.UTF_8) : null;
                    }
                    pos = 0;
                    lim = n;
                    continue;
                }
                byte b = buf[pos++];
                if (skipLf) {
                    skipLf = false;
                    if (b == '\n') {
                        continue;
                    }
                }
                if (b == '\n' || b == '\r') {
                    skipLf = b == '\r';
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
                any = true;
            }
        }

        /**
         * Whether a whole further event (up to its blank line) has already been received and
         * buffered, so that {@link #next} returns without waiting for the upstream.
         */
        public boolean eventBuffered() {
            int i = pos;
            boolean data = false;
            while (i < lim) {
                int start = i;
                while (i < lim && buf[i] != '\n' && buf[i] != '\r') {
                    i++;
                }
                if (i == lim) {
                    return false; // a line not yet ended
                }
                if (i == start) {
                    if (data) {
                        return true; // the blank line ending an event with data
                    }
                } else if (i - start >= 5 && buf[start] == 'd' && buf[start + 1] == 'a' && buf[start + 2] == 't'
                        && buf[start + 3] == 'a' && buf[start + 4] == ':') {
                    data = true;
                }
                i += buf[i] == '\r' && i + 1 < lim && buf[i + 1] == '\n' ? 2 : 1;
            }
            return false;
        }

        /** The next event's data, or null when the upstream sent {@code [DONE]} or ended the stream. */
        public String next() throws IOException {
            if (done) {
                return null;
            }
            StringBuilder data = null;
            String line;
            while ((line = readLine()) != null) {
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

        /**
         * After {@code [DONE]}, reads what is left of the response (its closing chunk) so the
         * connection is reused; otherwise closes the connection.
         */
        @Override
        public void close() {
            if (done) {
                try {
                    long total = lim - pos;
                    int n;
                    while (total < 64 * 1024 && (n = body.read(buf, 0, buf.length)) >= 0) {
                        total += n;
                    }
                } catch (IOException ignored) {
                    // not reusable: close() drops it
                }
            }
            body.close();
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
