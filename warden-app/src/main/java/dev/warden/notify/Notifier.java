package dev.warden.notify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.ledger.EventDraft;
import dev.warden.ledger.Ledger;
import dev.warden.ledger.Redactor;
import dev.warden.store.Store;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends notifications to the configured webhooks (SPEC section 13): outbound POST only,
 * rate-limited per check id, redacted, and recorded in the ledger ({@code notify.sent} /
 * {@code notify.failed}, with the webhook's origin only). {@link #submit} never blocks: a single
 * background thread does the sending, so a slow or dead receiver cannot hold up anything else.
 * In dry-run mode nothing is posted: each payload is printed instead (and nothing is recorded).
 */
public final class Notifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    static final int QUEUE_CAPACITY = 1000;
    private static final Notification STOP = new Notification("", "", "", "", null, null, java.time.Instant.EPOCH);

    /** One webhook's outcome for one notification. */
    public record Delivery(NotifyConfig.Webhook webhook, String outcome, WebhookTransport.Result result) {}

    private final NotifyConfig config;
    private final RateLimiter limiter;
    private final WebhookTransport transport;
    private final Redactor redactor;
    private final Optional<Store> store;
    private final Ledger ledger;
    private final String node;
    private final PrintWriter dryRunOut;
    private final BlockingQueue<Notification> queue = new LinkedBlockingQueue<>(QUEUE_CAPACITY);
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
    private Thread sender;
    private volatile boolean closed;

    /**
     * @param store     where {@code notify.sent}/{@code notify.failed} are recorded (empty: nowhere, e.g. the store is down)
     * @param dryRunOut where dry-run payloads are printed; null means post for real
     */
    public Notifier(NotifyConfig config, RateLimiter limiter, WebhookTransport transport, Redactor redactor,
                    Optional<Store> store, Ledger ledger, String node, PrintWriter dryRunOut) {
        this.config = config;
        this.limiter = limiter;
        this.transport = transport;
        this.redactor = redactor;
        this.store = store;
        this.ledger = ledger;
        this.node = node;
        this.dryRunOut = dryRunOut;
    }

    public NotifyConfig config() {
        return config;
    }

    public boolean dryRun() {
        return dryRunOut != null;
    }

    /** Queues {@code n} for the background sender; drops it (logged) when the queue is full. Never blocks. */
    public void submit(Notification n) {
        if (closed || !config.wantsAny(n.event())) {
            return;
        }
        startSender();
        pending.incrementAndGet();
        if (!queue.offer(n)) {
            pending.decrementAndGet();
            LOG.warn("notification queue full ({}); dropped {} ({})", QUEUE_CAPACITY, n.event(), n.checkId());
        }
    }

    /** Rate-limits, then sends to every webhook that wants the event, now, on the caller's thread. */
    public List<Delivery> send(Notification n) {
        if (!config.wantsAny(n.event())) {
            return List.of();
        }
        RateLimiter.Decision d = limiter.admit(n.checkId());
        if (!d.send()) {
            List<Delivery> out = new ArrayList<>();
            config.webhooks().stream().filter(w -> w.wants(n.event()))
                    .forEach(w -> out.add(new Delivery(w, "suppressed", null)));
            if (dryRunOut != null) {
                dryRunOut.println("NOTIFY dry-run " + n.event() + " check_id=" + n.checkId() + " suppressed (rate limit "
                        + limiter.window().toMinutes() + " min)");
                dryRunOut.flush();
            }
            return out;
        }
        return deliver(n, d.suppressedBefore());
    }

    /** Sends without rate limiting ({@code warden notify test}). */
    public List<Delivery> deliver(Notification n, int suppressedBefore) {
        String body = n.payload(node, suppressedBefore, redactor);
        List<Delivery> out = new ArrayList<>();
        for (NotifyConfig.Webhook w : config.webhooks()) {
            if (!w.wants(n.event())) {
                continue;
            }
            if (dryRunOut != null) {
                dryRunOut.println("NOTIFY dry-run POST " + w.display() + " " + body);
                dryRunOut.flush();
                out.add(new Delivery(w, "dry_run", null));
                continue;
            }
            WebhookTransport.Result r = transport.post(w.url(), body);
            out.add(new Delivery(w, r.delivered() ? "delivered" : "failed", r));
            recordOutcome(n, w, r, suppressedBefore);
        }
        return out;
    }

    private void recordOutcome(Notification n, NotifyConfig.Webhook w, WebhookTransport.Result r, int suppressed) {
        if (!r.delivered()) {
            LOG.warn("webhook {} failed for {} ({}): {}", w.display(), n.event(), n.checkId(), r.error());
        }
        if (store.isEmpty() || ledger == null) {
            return;
        }
        ObjectNode d = Json.object().put("event", n.event()).put("check_id", n.checkId()).put("webhook", w.display())
                .put("status", r.status()).put("latency_ms", r.latencyMs()).put("suppressed_since_last", suppressed);
        if (!r.delivered()) {
            d.put("error", r.error());
        }
        try {
            ledger.record(store.get(), r.delivered() ? EventDraft.info("notify.sent", "notify", n.corrId(), "notifier", d)
                    : EventDraft.warn("notify.failed", "notify", n.corrId(), "notifier", d));
        } catch (RuntimeException e) {
            LOG.warn("cannot record the notification outcome in the ledger: {}", redactor.scrub(e.toString()));
        }
    }

    private synchronized void startSender() {
        if (sender == null) {
            sender = Thread.ofPlatform().daemon().name("notify-sender").start(this::drain);
        }
    }

    private void drain() {
        while (true) {
            Notification n;
            try {
                n = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (n == STOP) {
                return;
            }
            try {
                send(n);
            } catch (RuntimeException e) {
                LOG.warn("notification {} ({}) not sent: {}", n.event(), n.checkId(), redactor.scrub(e.toString()));
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    /** True when every submitted notification has been handled (tests wait for it). */
    public boolean idle() {
        return pending.get() == 0;
    }

    /** Stops accepting, sends what is queued (for at most a few seconds), then stops. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = sender;
        }
        if (t != null) {
            queue.offer(STOP);
            try {
                t.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            t.interrupt();
        }
        transport.close();
    }
}
