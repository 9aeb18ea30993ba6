package dev.warden.cli;

import dev.warden.app.WardenApp;
import dev.warden.common.WardenException;
import dev.warden.job.JobState;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code warden jobs watch}: live progress in the terminal. With {@code --label} or
 * {@code --kind} it follows that batch: counts by state, a progress bar, the running jobs, and it
 * ends (exit 0 all succeeded, 1 otherwise) when every job of the batch has ended.
 */
@Command(name = "watch", description = "Live progress: counts by state, a progress bar for a batch (--label/--kind), running jobs. "
        + "Ends when every job of the batch has ended (exit 0 all succeeded, 1 some did not); without a filter, runs until interrupted.")
final class JobsWatch implements Callable<Integer> {
    @ParentCommand
    JobsCommand jobs;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Follow the jobs with this label (repeatable).")
    Map<String, String> labels = new java.util.LinkedHashMap<>();

    @Option(names = "--kind", paramLabel = "K", description = "Follow the jobs of this kind.")
    String kind;

    @Option(names = "--interval-ms", paramLabel = "MS", defaultValue = "500", description = "Refresh interval (default 500).")
    long intervalMs;

    @Option(names = "--once", description = "Print the current state once and exit.")
    boolean once;

    static final int MAX_JOBS = 100_000;

    @Override
    public Integer call() throws InterruptedException {
        if (intervalMs < 50 || intervalMs > 60_000) {
            throw WardenException.badInput("--interval-ms: must be between 50 and 60000");
        }
        boolean batch = !labels.isEmpty() || kind != null;
        PrintWriter out = jobs.out();
        boolean tty = System.console() != null && !once;
        try (WardenApp app = jobs.main.openApp()) {
            String last = "";
            while (true) {
                List<JobRow> rows = app.queue().list(new Tx.JobFilter(null, kind, labels, MAX_JOBS, 0));
                Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
                rows.forEach(r -> counts.merge(r.state(), 1, Integer::sum));
                String view = render(rows, counts, app.clock().millis(), batch);
                if (!view.equals(last)) {
                    out.print(tty ? "\033[H\033[2J" + view : view);
                    out.flush();
                    last = view;
                }
                long ended = rows.stream().filter(r -> r.state().isTerminal()).count();
                if (once || (batch && !rows.isEmpty() && ended == rows.size())) {
                    return batch && counts.getOrDefault(JobState.succeeded, 0) != rows.size() && !once ? 1 : 0;
                }
                Thread.sleep(intervalMs);
            }
        }
    }

    static String render(List<JobRow> rows, Map<JobState, Integer> counts, long now, boolean batch) {
        StringBuilder b = new StringBuilder();
        for (JobState s : JobState.values()) {
            b.append(s.name()).append('=').append(counts.getOrDefault(s, 0)).append(' ');
        }
        b.append('\n');
        if (batch) {
            int total = rows.size();
            long done = rows.stream().filter(r -> r.state().isTerminal()).count();
            int width = 40;
            int filled = total == 0 ? 0 : (int) (done * width / total);
            b.append('[').append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ").append(done).append('/').append(total)
                    .append(total == 0 ? "" : " (" + done * 100 / total + "%)").append('\n');
        }
        rows.stream().filter(r -> r.state() == JobState.running).limit(10).forEach(r -> b.append("  running ").append(r.id()).append(' ')
                .append(r.kind()).append(r.startedAt() == null ? "" : " for " + (now - r.startedAt()) / 1000 + " s").append('\n'));
        return b.toString();
    }
}
