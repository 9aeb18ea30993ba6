package dev.warden.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The load generator's HTTP/1.1 client: keep-alive connections to one server, each request
 * written in one piece and its response read on the calling (platform) thread with blocking
 * socket calls. {@code java.net.http} costs the harness several thread hand-offs and tens of
 * microseconds of CPU per request; on two CPUs shared with the systems under test that CPU and
 * those wake-ups showed up as latency of whichever path was being measured.
 */
final class LoadClient implements AutoCloseable {
    /** A status and the body (de-chunked). */
    record Reply(int status, byte[] body) {}

    /** Connections idle longer than this are not reused (servers close idle ones after 30 s or more). */
    private static final long MAX_IDLE_NANOS = 20_000_000_000L;

    private final InetSocketAddress address;
    private final ConcurrentLinkedDeque<Conn> idle = new ConcurrentLinkedDeque<>();

    LoadClient(URI base) {
        this.address = new InetSocketAddress(base.getHost(), base.getPort());
    }

    /** A complete request: {@code POST path} with the given headers and JSON body. */
    static byte[] post(URI uri, String authorization, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                + "\r\nContent-Type: application/json\r\nAuthorization: Bearer " + authorization
                + "\r\nContent-Length: " + body.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    /** Sends {@code request} on an idle connection (or a new one) and reads the whole response. */
    Reply send(byte[] request) throws IOException {
        Conn c = idle.pollFirst();
        while (c != null && System.nanoTime() - c.lastUsed > MAX_IDLE_NANOS) {
            c.close(); // the server may be closing it: a fresh connection instead of a failed request
            c = idle.pollFirst();
        }
        if (c == null) {
            c = new Conn(address);
        }
        try {
            c.out.write(request);
            c.out.flush();
            Reply r = c.read();
            if (c.keepAlive) {
                c.lastUsed = System.nanoTime();
                idle.addFirst(c);
            } else {
                c.close();
            }
            return r;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    @Override
    public void close() {
        Conn c;
        while ((c = idle.pollFirst()) != null) {
            c.close();
        }
    }

    private static final class Conn {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        boolean keepAlive;
        long lastUsed = System.nanoTime();

        Conn(InetSocketAddress address) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(address, 5_000);
            socket.setSoTimeout(60_000);
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            out = socket.getOutputStream();
        }

        Reply read() throws IOException {
            String status = line();
            if (status.isEmpty()) {
                throw new IOException("the server closed the connection without a response");
            }
            int code = Integer.parseInt(status.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            keepAlive = true;
            for (String h = line(); !h.isEmpty(); h = line()) {
                int colon = h.indexOf(':');
                String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "connection" -> keepAlive = !value.equalsIgnoreCase("close");
                    default -> { }
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0;
                     size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
                    body.write(in.readNBytes(size));
                    line();
                }
                while (!line().isEmpty()) {
                    // trailers
                }
            } else if (length >= 0) {
                byte[] b = in.readNBytes((int) length);
                if (b.length < length) {
                    throw new IOException("the response body ended early");
                }
                body.write(b);
            } else {
                body.write(in.readAllBytes());
                keepAlive = false;
            }
            return new Reply(code, body.toByteArray());
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            int ch;
            while ((ch = in.read()) >= 0) {
                if (ch == '\n') {
                    int n = b.length();
                    return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
                }
                b.append((char) ch);
            }
            if (b.isEmpty()) {
                return "";
            }
            throw new IOException("the connection ended inside a line");
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
