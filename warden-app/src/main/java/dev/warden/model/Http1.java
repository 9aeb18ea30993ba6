package dev.warden.model;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A minimal blocking HTTP/1.1 client for the upstream calls: one request per call on a pooled
 * keep-alive connection (plain or TLS with host name verification), written and read by the
 * calling (virtual) thread itself. Compared with {@code java.net.http} it has no selector thread,
 * executor or future between the caller and the socket, which on a small machine were several
 * thread wake-ups per call. The read timeout is the socket's: it bounds the wait for the response
 * head and every later read of the body or stream. No retries, no redirects, no proxy, exactly like
 * the {@code java.net.http} client it replaces was configured.
 */
final class Http1 implements AutoCloseable {
    /** Idle pooled connections older than this are closed rather than reused (unless the server said less). */
    static final long MAX_IDLE_NANOS = Duration.ofSeconds(30).toNanos();
    private static final int MAX_HEAD = 64 * 1024;

    private final int connectMillis;
    private final int readMillis;
    private final Map<Origin, ConcurrentLinkedDeque<Conn>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Http1(Duration connect, Duration read) {
        this.connectMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, connect.toMillis()));
        this.readMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, read.toMillis()));
    }

    /** Where a request goes: the pool key, the Host header and the request target. */
    record Target(Origin origin, String hostHeader, String requestTarget) {
        static Target of(URI uri) {
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new IllegalArgumentException("unsupported scheme in " + uri);
            }
            boolean tls = scheme.equals("https");
            String host = uri.getHost();
            if (host == null) {
                throw new IllegalArgumentException("no host in " + uri);
            }
            int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
            String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
            String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
            return new Target(new Origin(tls, bare, port), uri.getPort() > 0 ? host + ":" + uri.getPort() : host,
                    uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery());
        }
    }

    record Origin(boolean tls, String host, int port) {}

    /** A response whose head was read; its body is read from {@link #body}, which must be closed. */
    static final class Response {
        final int status;
        final Body body;

        Response(int status, Body body) {
            this.status = status;
            this.body = body;
        }
    }

    /** Sends a request ({@code body} null for a GET) and reads the response head. */
    Response send(Target t, String method, Map<String, String> headers, byte[] body) throws IOException {
        Conn c = acquire(t.origin());
        boolean ok = false;
        try {
            StringBuilder h = new StringBuilder(256).append(method).append(' ').append(t.requestTarget()).append(" HTTP/1.1\r\nHost: ")
                    .append(t.hostHeader()).append("\r\nUser-Agent: warden\r\nAccept: */*\r\n");
            headers.forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
            if (body != null) {
                h.append("Content-Length: ").append(body.length).append("\r\n");
            }
            h.append("\r\n");
            byte[] head = h.toString().getBytes(StandardCharsets.ISO_8859_1);
            byte[] all = head;
            if (body != null) { // one write, one segment for a small request
                all = new byte[head.length + body.length];
                System.arraycopy(head, 0, all, 0, head.length);
                System.arraycopy(body, 0, all, head.length, body.length);
            }
            c.out.write(all);
            c.out.flush();
            Response r = readResponse(c, method);
            ok = true;
            return r;
        } catch (SocketTimeoutException e) {
            throw timeout();
        } finally {
            if (!ok) {
                c.destroy();
            }
        }
    }

    private HttpTimeoutException timeout() {
        return new HttpTimeoutException("no data from upstream for " + readMillis + " ms");
    }

    private Response readResponse(Conn c, String method) throws IOException {
        while (true) {
            String statusLine = c.line();
            if (statusLine == null) {
                throw new IOException("the connection closed before a response");
            }
            if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
                throw new IOException("malformed status line");
            }
            int status;
            try {
                status = Integer.parseInt(statusLine.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new IOException("malformed status line");
            }
            long length = -1;
            boolean chunked = false;
            boolean close = statusLine.startsWith("HTTP/1.0");
            long keepAliveNanos = MAX_IDLE_NANOS;
            String line;
            while (!(line = c.line()).isEmpty()) {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = line.substring(0, colon).strip();
                String value = line.substring(colon + 1).strip();
                if (name.equalsIgnoreCase("Content-Length")) {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IOException("malformed Content-Length");
                    }
                } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                    chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                } else if (name.equalsIgnoreCase("Connection")) {
                    String v = value.toLowerCase(Locale.ROOT);
                    close = v.contains("close") || (close && !v.contains("keep-alive"));
                } else if (name.equalsIgnoreCase("Keep-Alive")) {
                    keepAliveNanos = keepAliveTimeout(value, keepAliveNanos);
                }
            }
            if (status >= 100 && status < 200) {
                continue; // an interim response (100 Continue, 103 Early Hints): the final one follows
            }
            c.keepAliveNanos = keepAliveNanos;
            Body b;
            if (method.equals("HEAD") || status == 204 || status == 304) {
                b = new Body(c, 0, false, close);
            } else if (chunked) {
                b = new Body(c, -1, true, close);
            } else if (length >= 0) {
                b = new Body(c, length, false, close);
            } else {
                b = new Body(c, -1, false, true); // until the connection closes
            }
            return new Response(status, b);
        }
    }

    /** The server's idle limit from {@code Keep-Alive: timeout=N}, less a second of margin. */
    private static long keepAliveTimeout(String value, long dflt) {
        for (String part : value.split(",")) {
            String p = part.strip();
            if (p.regionMatches(true, 0, "timeout=", 0, 8)) {
                try {
                    long s = Long.parseLong(p.substring(8).strip());
                    return Math.min(dflt, Math.max(0, s - 1) * 1_000_000_000L);
                } catch (NumberFormatException ignored) {
                    return dflt;
                }
            }
        }
        return dflt;
    }

    private Conn acquire(Origin o) throws IOException {
        ConcurrentLinkedDeque<Conn> q = idle.get(o);
        if (q != null) {
            Conn c;
            long now = System.nanoTime();
            while ((c = q.pollFirst()) != null) { // most recently used first: the least likely to be stale
                if (now - c.idleSince < c.keepAliveNanos && c.stillOpen()) {
                    return c;
                }
                c.destroy();
            }
        }
        return connect(o);
    }

    private Conn connect(Origin o) throws IOException {
        SocketChannel ch = SocketChannel.open();
        Socket s = ch.socket();
        try {
            s.setTcpNoDelay(true);
            try {
                s.connect(new InetSocketAddress(o.host(), o.port()), connectMillis);
            } catch (SocketTimeoutException e) {
                throw new HttpConnectTimeoutException("HTTP connect timed out");
            }
            s.setSoTimeout(readMillis);
            if (o.tls()) {
                SSLSocket tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(s, o.host(), o.port(), true);
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                p.setApplicationProtocols(new String[] {"http/1.1"});
                tls.setSSLParameters(p);
                try {
                    tls.startHandshake();
                } catch (SocketTimeoutException e) {
                    throw timeout();
                }
                s = tls;
            }
            return new Conn(o, ch, s);
        } catch (IOException | RuntimeException e) {
            try {
                s.close();
                ch.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw e;
        }
    }

    private void release(Conn c) {
        if (closed) {
            c.destroy();
            return;
        }
        long now = System.nanoTime();
        c.idleSince = now;
        ConcurrentLinkedDeque<Conn> q = idle.computeIfAbsent(c.origin, k -> new ConcurrentLinkedDeque<>());
        q.offerFirst(c);
        // reuse is most-recent-first, so connections left over from a burst sink to the tail: close
        // the expired ones there instead of holding their sockets until a larger burst reaches them
        Conn oldest;
        while ((oldest = q.peekLast()) != null && oldest != c && now - oldest.idleSince >= oldest.keepAliveNanos) {
            if (q.removeLastOccurrence(oldest)) {
                oldest.destroy();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (ConcurrentLinkedDeque<Conn> q : idle.values()) {
            Conn c;
            while ((c = q.pollFirst()) != null) {
                c.destroy();
            }
        }
    }

    /** One connection: its socket and buffered streams, reused while responses end cleanly. */
    private final class Conn {
        final Origin origin;
        final SocketChannel channel;
        final Socket socket;
        final BufferedInputStream in;
        final OutputStream out;
        volatile long idleSince;
        long keepAliveNanos = MAX_IDLE_NANOS;

        Conn(Origin origin, SocketChannel channel, Socket socket) throws IOException {
            this.origin = origin;
            this.channel = channel;
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 8192);
            this.out = socket.getOutputStream();
        }

        /**
         * Whether an idle connection can take a request: the server has not closed it meanwhile
         * (a common race with servers that drop idle keep-alive connections, which would fail the
         * call, and a POST is never retried). One non-blocking read of the raw socket: nothing to
         * read means open; end of stream, or bytes no request asked for, mean it is not usable.
         */
        boolean stillOpen() {
            try {
                if (socket.isClosed() || in.available() > 0) {
                    return false;
                }
                channel.configureBlocking(false);
                int n;
                try {
                    n = channel.read(java.nio.ByteBuffer.allocate(1));
                } finally {
                    channel.configureBlocking(true);
                }
                return n == 0;
            } catch (IOException e) {
                return false;
            }
        }

        /** A CRLF- (or LF-) terminated line of the head, without its end; null at EOF before any byte. */
        String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(64);
            int ch;
            int n = 0;
            while ((ch = in.read()) >= 0) {
                if (ch == '\n') {
                    byte[] bytes = b.toByteArray();
                    int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
                }
                if (++n > MAX_HEAD) {
                    throw new IOException("response head larger than " + MAX_HEAD + " bytes");
                }
                b.write(ch);
            }
            if (n == 0) {
                return null;
            }
            throw new IOException("the connection closed in the middle of the response head");
        }

        void destroy() {
            try {
                socket.close();
                channel.close();
            } catch (IOException ignored) {
                // dropping it
            }
        }
    }

    /**
     * A response body (by length, chunked, or until close). Closing it after its end returns the
     * connection to the pool; closing it earlier closes the connection.
     */
    final class Body extends InputStream {
        private final Conn c;
        private final boolean chunked;
        private final boolean closeAfter;
        private long remaining; // of the body (by length) or of the current chunk
        private boolean eof;
        private boolean done;

        Body(Conn c, long length, boolean chunked, boolean closeAfter) {
            this.c = c;
            this.chunked = chunked;
            this.closeAfter = closeAfter;
            this.remaining = chunked ? 0 : length;
            this.eof = !chunked && length == 0;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                throw new IOException("closed");
            }
            if (eof) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            try {
                if (chunked && remaining == 0) {
                    remaining = nextChunk();
                    if (remaining == 0) {
                        eof = true;
                        return -1;
                    }
                }
                int want = remaining < 0 ? len : (int) Math.min(len, remaining);
                int n = c.in.read(b, off, want);
                if (n < 0) {
                    if (remaining < 0) { // until close: this is the end
                        eof = true;
                        return -1;
                    }
                    throw new IOException("the upstream closed the connection in the middle of the response");
                }
                if (remaining > 0) {
                    remaining -= n;
                    if (remaining == 0 && !chunked) {
                        eof = true;
                    } else if (remaining == 0) {
                        crlf();
                    }
                }
                return n;
            } catch (SocketTimeoutException e) {
                throw timeout();
            }
        }

        private long nextChunk() throws IOException {
            String line = c.line();
            if (line == null) {
                throw new IOException("the upstream closed the connection in the middle of the response");
            }
            int semi = line.indexOf(';');
            long size;
            try {
                size = Long.parseLong((semi >= 0 ? line.substring(0, semi) : line).strip(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("malformed chunk size");
            }
            if (size < 0) {
                throw new IOException("malformed chunk size");
            }
            if (size == 0) {
                String trailer;
                do {
                    trailer = c.line();
                    if (trailer == null) {
                        throw new IOException("the upstream closed the connection in the middle of the response");
                    }
                } while (!trailer.isEmpty());
            }
            return size;
        }

        private void crlf() throws IOException {
            String end = c.line();
            if (end == null || !end.isEmpty()) {
                throw new IOException("malformed chunk end");
            }
        }

        /** Whether the body was read to its end (the connection can serve another request). */
        boolean atEnd() {
            return eof;
        }

        @Override
        public void close() {
            if (done) {
                return;
            }
            done = true;
            if (eof && !closeAfter) {
                release(c);
            } else {
                c.destroy();
            }
        }
    }
}
