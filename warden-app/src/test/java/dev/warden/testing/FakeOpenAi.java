package dev.warden.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A loopback OpenAI-compatible upstream for tests, on a plain {@link ServerSocket} so that it can
 * misbehave the way real providers do: any status, a connection reset before or in the middle of
 * a stream, a stall past the client's read timeout, malformed JSON, a stream without usage.
 * Each request takes the next scripted {@link Behavior} (or the default once the script is used up).
 */
public final class FakeOpenAi implements AutoCloseable {
    /** What the server does with one request. */
    public sealed interface Behavior permits Reply, Status, Reset, Stall, Malformed, StreamReply {}

    /** A 200 chat completion with {@code text}; usage reported unless {@code usage} is false. */
    public record Reply(String text, int promptTokens, int completionTokens, boolean usage) implements Behavior {}

    /** An error status with an OpenAI-format error body. */
    public record Status(int status, String message) implements Behavior {}

    /** Closes the connection with a TCP reset before any response. */
    public record Reset() implements Behavior {}

    /** Sends nothing for {@code millis}, then a normal reply (the client should have given up). */
    public record Stall(long millis) implements Behavior {}

    /** A 200 whose body is not JSON. */
    public record Malformed() implements Behavior {}

    /**
     * A 200 event stream of {@code tokens}; with {@code resetAfter} >= 0 the connection is dropped
     * after that many content events; usage sent at the end unless {@code usage} is false.
     */
    public record StreamReply(List<String> tokens, int resetAfter, boolean usage, int promptTokens) implements Behavior {}

    public static Reply reply(String text) {
        return new Reply(text, 10, 5, true);
    }

    public static StreamReply stream(String... tokens) {
        return new StreamReply(List.of(tokens), -1, true, 10);
    }

    /** A request as received: headers (lower-case names) and JSON body. */
    public record Received(String path, Map<String, String> headers, JsonNode body) {}

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final ConcurrentLinkedQueue<Behavior> script = new ConcurrentLinkedQueue<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final List<Socket> open = Collections.synchronizedList(new ArrayList<>());
    private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    private volatile int modelsStatus = 200;
    private volatile Function<JsonNode, Behavior> fallback = body -> body.path("stream").asBoolean(false)
            ? stream("hello", " from", " the fake upstream") : reply("hello from the fake upstream");

    public FakeOpenAi() {
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        threads.submit(this::acceptLoop);
    }

    /** The base URL ({@code http://127.0.0.1:PORT/v1}). */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
    }

    public FakeOpenAi then(Behavior... behaviors) {
        script.addAll(List.of(behaviors));
        return this;
    }

    /** What to do once the script is used up (default: a short reply). */
    public FakeOpenAi otherwise(Function<JsonNode, Behavior> f) {
        this.fallback = f;
        return this;
    }

    /** The status {@code GET /models} answers with (the probe of {@code warden models doctor}). */
    public FakeOpenAi modelsStatus(int status) {
        this.modelsStatus = status;
        return this;
    }

    /** Connections accepted so far (a client that reuses its connections opens one). */
    public int connections() {
        return accepted.get();
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    /** A port on loopback where nothing listens (a connection is refused). */
    public static int closedPort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                accepted.incrementAndGet();
                s.setTcpNoDelay(true);
                open.add(s);
                threads.submit(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            while (true) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                Map<String, String> headers = new LinkedHashMap<>();
                String h;
                while ((h = line(in)) != null && !h.isEmpty()) {
                    int colon = h.indexOf(':');
                    headers.put(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
                }
                int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
                byte[] body = in.readNBytes(length);
                String path = requestLine.split(" ")[1];
                JsonNode json = length > 0 ? Json.MAPPER.readTree(body) : Json.object();
                received.add(new Received(path, headers, json));
                if (path.endsWith("/models")) {
                    respond(out, modelsStatus, "application/json", modelsStatus == 200 ? "{\"object\":\"list\",\"data\":[]}"
                            : "{\"error\":{\"message\":\"models probe refused\"}}");
                    continue;
                }
                Behavior b = script.poll();
                if (b == null) {
                    b = fallback.apply(json);
                }
                if (!act(b, s, out, json)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client went away or the behaviour broke the connection on purpose
        } finally {
            open.remove(s);
        }
    }

    /** Performs a behaviour; false when the connection must not be reused. */
    private boolean act(Behavior b, Socket s, OutputStream out, JsonNode req) throws IOException {
        String model = req.path("model").asText("fake");
        switch (b) {
            case Reply r -> {
                respond(out, 200, "application/json", Json.write(completion(model, r.text(), r.usage() ? usage(r.promptTokens(), r.completionTokens()) : null)));
                return true;
            }
            case Status st -> {
                ObjectNode e = Json.object();
                e.putObject("error").put("message", st.message()).put("type", "fake_error").put("code", st.status());
                respond(out, st.status(), "application/json", Json.write(e));
                return true;
            }
            case Reset r -> {
                reset(s);
                return false;
            }
            case Stall st -> {
                try {
                    Thread.sleep(st.millis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                respond(out, 200, "application/json", Json.write(completion(model, "late", usage(10, 1))));
                return true;
            }
            case Malformed m -> {
                respond(out, 200, "application/json", "{\"id\": \"chatcmpl-1\", \"choices\": [ this is not json");
                return true;
            }
            case StreamReply sr -> {
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
                        + "Cache-Control: no-cache\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                chunk(out, "data: " + Json.write(delta(model, Json.object().put("role", "assistant").put("content", ""), null)) + "\n\n");
                int n = 0;
                for (String t : sr.tokens()) {
                    if (sr.resetAfter() >= 0 && n == sr.resetAfter()) {
                        drop(s);
                        return false;
                    }
                    chunk(out, "data: " + Json.write(delta(model, Json.object().put("content", t), null)) + "\n\n");
                    n++;
                }
                if (sr.resetAfter() >= 0) {
                    drop(s);
                    return false;
                }
                chunk(out, "data: " + Json.write(delta(model, Json.object(), "stop")) + "\n\n");
                if (sr.usage()) {
                    ObjectNode u = Json.object().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk").put("created", 1).put("model", model);
                    u.putArray("choices");
                    u.set("usage", usage(sr.promptTokens(), sr.tokens().size()));
                    chunk(out, "data: " + Json.write(u) + "\n\n");
                }
                chunk(out, "data: [DONE]\n\n");
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return true;
            }
        }
    }

    /**
     * Drops the connection in the middle of a response: what was sent is delivered (a reset would
     * let the kernel discard it unread), then the stream ends without its terminating chunk.
     */
    private static void drop(Socket s) throws IOException {
        try {
            // java.net.http drops body bytes it has not handed out yet once the connection fails:
            // give the client a moment to read what was sent, as a real stalled-then-dead peer would
            Thread.sleep(150);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        s.shutdownOutput();
        s.close();
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private static ObjectNode usage(int prompt, int completion) {
        return Json.object().put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    }

    private static ObjectNode completion(String model, String text, ObjectNode usage) {
        ObjectNode c = Json.object().put("id", "chatcmpl-fake").put("object", "chat.completion").put("created", 1).put("model", model);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
        choice.putObject("message").put("role", "assistant").put("content", text);
        if (usage != null) {
            c.set("usage", usage);
        }
        return c;
    }

    private static ObjectNode delta(String model, ObjectNode delta, String finish) {
        ObjectNode c = Json.object().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk").put("created", 1).put("model", model);
        ObjectNode choice = c.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        return c;
    }

    private static void chunk(OutputStream out, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(b.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void respond(OutputStream out, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: " + type + "\r\nContent-Length: " + b.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        synchronized (open) {
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        threads.shutdownNow();
    }
}
