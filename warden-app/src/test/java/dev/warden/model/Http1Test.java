package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class Http1Test {
    /** A raw HTTP/1.1 server: {@code reply} gives the response bytes for the n-th request on a connection; null closes it. */
    static final class RawServer implements AutoCloseable {
        final ServerSocket server;
        final AtomicInteger connections = new AtomicInteger();
        /** Connections the client closed (end of stream where a request would start). */
        final AtomicInteger closedByClient = new AtomicInteger();

        RawServer(Function<Integer, String> reply) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        connections.incrementAndGet();
                        Thread.ofVirtual().start(() -> serve(s, reply, closedByClient));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private static void serve(Socket s, Function<Integer, String> reply, AtomicInteger closedByClient) {
            try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1))) {
                OutputStream out = s.getOutputStream();
                for (int n = 0; ; n++) {
                    String line = in.readLine();
                    if (line == null) {
                        closedByClient.incrementAndGet();
                        return;
                    }
                    int length = 0;
                    while (!(line = in.readLine()).isEmpty()) {
                        if (line.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).strip());
                        }
                    }
                    in.skip(length);
                    String r = reply.apply(n);
                    if (r == null) {
                        return;
                    }
                    out.write(r.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    if (r.contains("X-Close-After: 1")) {
                        return; // closes without saying so: the client finds out when it next uses the connection
                    }
                }
            } catch (IOException ignored) {
                // the client went away
            }
        }

        Http1.Target target() {
            return Http1.Target.of(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/v1/chat/completions"));
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static String body(Http1 http, Http1.Target t) throws IOException {
        Http1.Response r = http.send(t, "POST", Map.of("Content-Type", "application/json"), "{}".getBytes(StandardCharsets.UTF_8));
        try (Http1.Body b = r.body) {
            return new String(b.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Http1 client() {
        return new Http1(Duration.ofSeconds(2), Duration.ofSeconds(2));
    }

    @Test
    void reusesAKeptAliveConnectionAndDecodesChunksWithExtensionsAndTrailers() throws Exception {
        try (RawServer s = new RawServer(n -> n % 2 == 0 ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n");
             Http1 http = client()) {
            assertThat(body(http, s.target())).isEqualTo("hello");
            assertThat(body(http, s.target())).isEqualTo("abcde");
            assertThat(body(http, s.target())).isEqualTo("hello");
            assertThat(s.connections.get()).isEqualTo(1);
        }
    }

    @Test
    void anIdleConnectionTheServerClosedIsNotUsedForTheNextRequest() throws Exception {
        try (RawServer s = new RawServer(n -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Close-After: 1\r\n\r\nok");
             Http1 http = client()) {
            assertThat(body(http, s.target())).isEqualTo("ok");
            Thread.sleep(100); // the server's FIN arrives
            assertThat(body(http, s.target())).isEqualTo("ok");
            assertThat(s.connections.get()).isEqualTo(2);
        }
    }

    @Test
    void connectionCloseAndAShortKeepAliveTimeoutAreHonoured() throws Exception {
        try (RawServer close = new RawServer(n -> "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na");
             RawServer brief = new RawServer(n -> "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 1\r\n\r\nb");
             RawServer untilClose = new RawServer(n -> n == 0 ? "HTTP/1.1 200 OK\r\nX-Close-After: 1\r\n\r\nstreamed" : null);
             Http1 http = client()) {
            assertThat(body(http, close.target())).isEqualTo("a");
            assertThat(body(http, close.target())).isEqualTo("a");
            assertThat(close.connections.get()).isEqualTo(2);
            assertThat(body(http, brief.target())).isEqualTo("b");
            assertThat(body(http, brief.target())).isEqualTo("b");
            assertThat(brief.connections.get()).isEqualTo(2); // timeout=1 leaves no safe idle time
            assertThat(body(http, untilClose.target())).isEqualTo("streamed"); // no length: the body ends with the connection
        }
    }

    @Test
    void aBodyCutShortIsAnErrorNotAShortAnswer() throws Exception {
        try (RawServer s = new RawServer(n -> "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Close-After: 1\r\n\r\nabc");
             Http1 http = client()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> body(http, s.target())).isInstanceOf(IOException.class)
                    .hasMessageContaining("closed the connection");
        }
    }

    @Test
    void connectionsLeftIdleByABurstAreClosedOnceExpired() throws Exception {
        try (RawServer s = new RawServer(n -> "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=2\r\nContent-Length: 1\r\n\r\nx");
             Http1 http = client()) {
            Http1.Response a = http.send(s.target(), "GET", Map.of(), null);
            Http1.Response b = http.send(s.target(), "GET", Map.of(), null); // a burst of two: two connections
            b.body.readAllBytes();
            b.body.close();
            a.body.readAllBytes();
            a.body.close(); // a is the most recent: reused next, b waits at the tail
            assertThat(s.connections.get()).isEqualTo(2);
            for (int i = 0; i < 3; i++) { // timeout=2 leaves one second of idle time
                Thread.sleep(600);
                assertThat(body(http, s.target())).isEqualTo("x");
            }
            Thread.sleep(200);
            assertThat(s.connections.get()).isEqualTo(2); // a served every request
            assertThat(s.closedByClient.get()).isEqualTo(1); // b expired at the tail and was closed, no burst needed
        }
    }
}
