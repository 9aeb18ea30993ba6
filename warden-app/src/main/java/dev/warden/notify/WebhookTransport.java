package dev.warden.notify;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** How a payload leaves the machine. */
public interface WebhookTransport extends AutoCloseable {
    /** The outcome of one POST: a 2xx is delivered; anything else failed, with a short reason (never the URL). */
    record Result(boolean delivered, int status, long latencyMs, String error) {}

    Result post(URI url, String json);

    @Override
    default void close() {}

    /** {@code java.net.http}: HTTP/1.1, short timeouts, no redirects (a redirect could carry the payload elsewhere). */
    final class Http implements WebhookTransport {
        public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);
        public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();

        @Override
        public Result post(URI url, String json) {
            long t0 = System.nanoTime();
            HttpRequest req = HttpRequest.newBuilder(url).timeout(REQUEST_TIMEOUT)
                    .header("Content-Type", "application/json").header("User-Agent", "warden-notify/1")
                    .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build();
            try {
                HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
                long ms = (System.nanoTime() - t0) / 1_000_000;
                boolean ok = r.statusCode() / 100 == 2;
                return new Result(ok, r.statusCode(), ms, ok ? "" : "HTTP " + r.statusCode());
            } catch (HttpTimeoutException e) {
                return new Result(false, 0, (System.nanoTime() - t0) / 1_000_000, "timeout");
            } catch (IOException e) {
                String cls = e.getClass().getSimpleName();
                return new Result(false, 0, (System.nanoTime() - t0) / 1_000_000,
                        e instanceof java.net.ConnectException ? "connection refused" : cls);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Result(false, 0, (System.nanoTime() - t0) / 1_000_000, "interrupted");
            }
        }

        @Override
        public void close() {
            http.close();
        }
    }
}
