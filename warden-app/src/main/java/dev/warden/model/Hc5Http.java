package dev.warden.model;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The upstream transport on Apache HttpClient 5 (classic, blocking, on the calling virtual
 * thread): pooled keep-alive connections, TLS with host name verification, the socket read
 * timeout, no automatic retries, no redirects, no cookies, no content decompression. Chosen over
 * {@link Http1} with {@code -Dwarden.upstream.http=hc5} (measured against it in the gateway
 * benchmark).
 */
final class Hc5Http implements AutoCloseable {
    private final CloseableHttpClient client;
    private final PoolingHttpClientConnectionManager pool;
    private final long readMillis;

    Hc5Http(Duration connect, Duration read) {
        this.readMillis = read.toMillis();
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(DefaultClientTlsStrategy.createSystemDefault())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(connect))
                        .setSocketTimeout(Timeout.of(read))
                        // a pooled connection idle this long is checked before reuse (the server may have closed it)
                        .setValidateAfterInactivity(TimeValue.ofMilliseconds(Long.getLong("warden.hc5.validateMs", 1000)))
                        .setTimeToLive(TimeValue.ofMinutes(5))
                        .build())
                .setMaxConnTotal(10_000)
                .setMaxConnPerRoute(10_000)
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(pool)
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableContentCompression()
                .disableAuthCaching()
                .setKeepAliveStrategy((response, context) -> TimeValue.ofSeconds(29))
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(Timeout.of(read))
                        .setRedirectsEnabled(false)
                        .build())
                .build();
    }

    /** A response: status and body; closing the body before its end closes the connection. */
    record Response(int status, InputStream body) {}

    Response send(URI uri, String method, Map<String, String> headers, byte[] body) throws IOException {
        ClassicRequestBuilder b = ClassicRequestBuilder.create(method).setUri(uri).addHeader("Accept", "*/*");
        headers.forEach((k, v) -> {
            if (!k.equalsIgnoreCase("Content-Type")) {
                b.addHeader(k, v);
            }
        });
        if (body != null) {
            b.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON));
        }
        ClassicHttpResponse resp;
        try {
            resp = client.executeOpen(null, b.build(), null);
        } catch (ConnectTimeoutException e) {
            throw new HttpConnectTimeoutException("HTTP connect timed out");
        } catch (SocketTimeoutException e) {
            throw timeout();
        }
        return new Response(resp.getCode(), new Body(resp));
    }

    private HttpTimeoutException timeout() {
        return new HttpTimeoutException("no data from upstream for " + readMillis + " ms");
    }

    /** The response body; read to its end, the connection goes back to the pool, closed earlier it is dropped. */
    private final class Body extends InputStream {
        private final ClassicHttpResponse resp;
        private final InputStream in;
        private boolean eof;
        private boolean closed;

        Body(ClassicHttpResponse resp) throws IOException {
            this.resp = resp;
            HttpEntity e = resp.getEntity();
            this.in = e == null ? InputStream.nullInputStream() : e.getContent();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("closed");
            }
            try {
                int n = in.read(b, off, len);
                if (n < 0) {
                    eof = true;
                }
                return n;
            } catch (SocketTimeoutException e) {
                throw timeout();
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (eof) {
                    in.close(); // at its end: releases the connection to the pool
                }
                resp.close(); // before its end: drops the connection
            } catch (IOException ignored) {
                // dropping it
            }
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
