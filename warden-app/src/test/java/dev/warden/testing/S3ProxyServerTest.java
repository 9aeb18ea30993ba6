package dev.warden.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test S3 server itself: it starts, refuses unsigned requests, and is gone after close(). */
class S3ProxyServerTest {
    @TempDir
    Path dir;

    @Test
    void startsWithAuthenticationOnAndStopsOnClose() throws Exception {
        S3ProxyServer s3 = S3ProxyServer.start(dir, "test-access", "test-secret-key");
        int port = s3.endpoint().getPort();
        try (s3) {
            assertThat(s3.endpoint().getHost()).isEqualTo("127.0.0.1");
            assertThat(s3.isAlive()).isTrue();
            HttpResponse<String> put = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(s3.endpoint().resolve("/bucket")).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(403);
            assertThat(put.body()).contains("AccessDenied");
            assertThat(dir.resolve("blobs/bucket")).doesNotExist();
        }
        assertThat(s3.isAlive()).isFalse();
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            }
        }).isInstanceOf(IOException.class);
        assertThat(Files.readString(dir.resolve("s3proxy.log"))).isNotBlank();
    }
}
