package dev.warden.web;

import dev.warden.app.WardenApp;
import dev.warden.config.ProjectRegistry;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry's projects (and any other project recent jobs name) with their recent job counts. */
public final class ProjectSummary {
    public record Row(String id, ProjectRegistry.Project registered, long recentJobs, long failedRecently) {}

    static final int RECENT = 1000;

    private ProjectSummary() {}

    public static List<Row> of(WardenApp app) {
        Map<String, long[]> counts = new LinkedHashMap<>();
        for (JobRow r : app.queue().list(Tx.JobFilter.all(RECENT))) {
            long[] c = counts.computeIfAbsent(r.project() == null ? "default" : r.project(), k -> new long[2]);
            c[0]++;
            if (r.state() == dev.warden.job.JobState.failed || r.state() == dev.warden.job.JobState.dead) {
                c[1]++;
            }
        }
        List<Row> rows = new ArrayList<>();
        for (ProjectRegistry.Project p : app.projects().projects().values()) {
            long[] c = counts.getOrDefault(p.id(), new long[2]);
            rows.add(new Row(p.id(), p, c[0], c[1]));
        }
        counts.forEach((id, c) -> {
            if (!app.projects().projects().containsKey(id)) {
                rows.add(new Row(id, null, c[0], c[1]));
            }
        });
        return rows;
    }
}
