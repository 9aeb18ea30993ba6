package dev.warden.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A streamed call flushes to its client whenever the upstream has no further event at hand. */
class RouterStreamFlushTest {
    static String event(String content) {
        return "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content
                + "\"},\"finish_reason\":null}]}\n\n";
    }

    @Test
    void anEventIsFlushedBeforeTheUpstreamSendsTheNext(@TempDir Path dir) throws Exception {
        CountDownLatch firstSeen = new CountDownLatch(1);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                    int length = 0;
                    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                        if (line.toLowerCase().startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring(15).strip());
                        }
                    }
                    in.skip(length);
                    OutputStream out = s.getOutputStream();
                    // two events in one write, then nothing until the client has seen them: a router that
                    // waited for a third event before flushing would time out reading (read_ms 400)
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                            + event("one") + event(" two")).getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    firstSeen.await(10, TimeUnit.SECONDS);
                    out.write((event(" three") + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (Exception ignored) {
                    // the test fails on the router's side
                }
            });
            try (ModelFixture f = new ModelFixture(dir, null, Optional.empty(), "http://127.0.0.1:" + server.getLocalPort() + "/v1")) {
                List<List<String>> flushed = new ArrayList<>();
                RouterFaultTest.Sink sink = new RouterFaultTest.Sink() {
                    int sent;

                    @Override
                    public void flush() {
                        flushed.add(List.copyOf(data.subList(sent, data.size())));
                        sent = data.size();
                        if (text().contains("two")) {
                            firstSeen.countDown();
                        }
                    }
                };
                Router.CallRecord r = f.router().stream(ModelFixture.caller(), "coder", RouterFaultTest.request(true), sink);
                assertThat(r.outcome()).isEqualTo("ok");
                assertThat(sink.text()).isEqualTo("one two three");
                assertThat(sink.ended).isTrue();
                assertThat(flushed).isNotEmpty();
                assertThat(flushed.get(0)).allMatch(d -> !d.contains("three"));
            }
        }
    }
}
