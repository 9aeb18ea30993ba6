package dev.warden.web.gateway;

import dev.warden.common.ErrorCode;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.web.WebServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code POST /v1/chat/completions} as a Jetty handler placed ahead of the servlet layer
 * (inside the servlet context): the hottest route of the gateway skips the servlet request and
 * response wrappers, the session handler and Javalin's routing, which were the largest share of
 * the gateway's own CPU time. Everything else, {@code GET /v1/models} included, goes on to
 * Javalin. The response carries the same security headers, error bodies and limits as Javalin
 * gives every other route.
 */
public final class GatewayHandler extends Handler.Wrapper {
    private static final Logger LOG = LoggerFactory.getLogger(GatewayHandler.class);
    static final String PATH = "/v1/chat/completions";
    private static final String KEEP_ALIVE = "timeout=" + WebServer.KEEP_ALIVE_HINT_S;

    private final GatewayRoutes routes;
    private final Function<String, String> scrub;

    public GatewayHandler(GatewayRoutes routes, Function<String, String> scrub) {
        this.routes = routes;
        this.scrub = scrub;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (!HttpMethod.POST.is(request.getMethod()) || !PATH.equals(Request.getPathInContext(request))) {
            return super.handle(request, response, callback);
        }
        WebServer.securityHeaders(response.getHeaders()::put);
        response.getHeaders().put(HttpHeader.KEEP_ALIVE, KEEP_ALIVE);
        JettyExchange x = new JettyExchange(request, response);
        try {
            routes.chatCompletions(x);
            if (x.stream != null) {
                x.stream.close(); // the last chunk
            } else if (!x.responded) {
                x.respond(500, "application/json", internalError());
            }
            callback.succeeded();
        } catch (io.javalin.http.HttpResponseException e) {
            answer(x, response, callback, e.getStatus(), e.getStatus() == 413
                    ? errorBody("payload_too_large", "payload over 1 MiB refused") : errorBody("bad_request", e.getMessage()));
        } catch (WardenException e) {
            answer(x, response, callback, WebServer.statusOf(e.code()), errorBody(e.code().wireName(), scrub.apply(e.getMessage())));
        } catch (Throwable e) {
            LOG.warn("request POST {} failed: {}", PATH, scrub.apply(String.valueOf(e)));
            answer(x, response, callback, 500, internalError());
        }
        return true;
    }

    private static void answer(JettyExchange x, Response response, Callback callback, int status, byte[] body) {
        if (response.isCommitted()) {
            callback.failed(new IOException("the response failed after it began"));
            return;
        }
        try {
            x.respond(status, "application/json", body);
            callback.succeeded();
        } catch (IOException | RuntimeException e) {
            callback.failed(e);
        }
    }

    private static byte[] internalError() {
        return errorBody(ErrorCode.INTERNAL.wireName(), "internal error");
    }

    private static byte[] errorBody(String code, String message) {
        com.fasterxml.jackson.databind.node.ObjectNode err = Json.object();
        err.putObject("error").put("code", code).put("message", message);
        try {
            return Json.MAPPER.writeValueAsBytes(err);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The gateway's view of a Jetty request; writes block the calling (virtual) thread. */
    private static final class JettyExchange implements GatewayRoutes.Exchange {
        private final Request request;
        private final Response response;
        boolean responded;
        boolean bodyRead;
        OutputStream stream;

        JettyExchange(Request request, Response response) {
            this.request = request;
            this.response = response;
        }

        @Override
        public String header(String name) {
            return request.getHeaders().get(name);
        }

        @Override
        public String ip() {
            return Request.getRemoteAddr(request);
        }

        @Override
        public byte[] body() throws IOException {
            long length = request.getLength();
            if (length > WebServer.MAX_BODY) {
                throw new io.javalin.http.HttpResponseException(413, "payload too large");
            }
            InputStream in = Content.Source.asInputStream(request);
            byte[] b = in.readNBytes((int) (length >= 0 ? length : WebServer.MAX_BODY + 1));
            if (length < 0 && b.length > WebServer.MAX_BODY) {
                throw new io.javalin.http.HttpResponseException(413, "payload too large");
            }
            if (length >= 0 && b.length < length) {
                throw new IOException("the request body ended early");
            }
            bodyRead = true;
            return b;
        }

        @Override
        public void respond(int status, String contentType, byte[] body) throws IOException {
            responded = true;
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            if (!bodyRead && request.getLength() != 0) {
                // answered before the body was read (401, 429, 413): the rest of the body may still be
                // on its way, and Jetty then closes the connection after this response; say so, so the
                // client does not send its next request on a connection about to close
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
            Content.Sink.write(response, true, ByteBuffer.wrap(body));
        }

        @Override
        public OutputStream openStream(int status, String contentType, String cacheControl) {
            responded = true;
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, cacheControl);
            stream = new EventStream(response);
            return stream;
        }
    }

    /**
     * A streamed response body: writes collect in a buffer, {@link #flush} sends them in one
     * blocking write, {@link #close} sends the rest together with the end of the response. (Jetty's
     * own sink stream writes to the network on every {@code write}.)
     */
    private static final class EventStream extends OutputStream {
        private final Response response;
        private byte[] buf = new byte[2048];
        private int len;
        private boolean closed;

        EventStream(Response response) {
            this.response = response;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int n) throws IOException {
            if (closed) {
                throw new IOException("the response has ended");
            }
            if (len + n > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            }
            System.arraycopy(b, off, buf, len, n);
            len += n;
        }

        @Override
        public void flush() throws IOException {
            if (!closed && len > 0) {
                Content.Sink.write(response, false, ByteBuffer.wrap(buf, 0, len));
                len = 0;
            }
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                Content.Sink.write(response, true, ByteBuffer.wrap(buf, 0, len));
                len = 0;
            }
        }
    }
}
