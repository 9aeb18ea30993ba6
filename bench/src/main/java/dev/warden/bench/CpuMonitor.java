package dev.warden.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How busy the machine was during a section, split into this benchmark (with its finished child
 * processes) and everything else, from /proc/stat and /proc/self/stat (both in USER_HZ ticks).
 * A large "other" share means the figures were disturbed by another workload.
 */
final class CpuMonitor {
    private final long total0;
    private final long idle0;
    private final long self0;

    private CpuMonitor(long[] sys, long self) {
        this.total0 = sys[0];
        this.idle0 = sys[1];
        this.self0 = self;
    }

    static CpuMonitor start() {
        try {
            return new CpuMonitor(system(), self());
        } catch (IOException | RuntimeException e) {
            return new CpuMonitor(new long[] {-1, -1}, -1);
        }
    }

    String summary() {
        try {
            if (total0 < 0) {
                return "CPU use during this section: unknown.";
            }
            long[] sys = system();
            double total = sys[0] - total0;
            double busy = total - (sys[1] - idle0);
            double mine = self() - self0;
            double other = Math.max(0, busy - mine);
            return String.format(Locale.ROOT, "CPU during this section: %.0f%% of all CPUs busy; this benchmark and its "
                    + "child processes %.0f%%, other processes %.0f%%%s.", 100 * busy / total, 100 * mine / total,
                    100 * other / total, other / total > 0.15 ? " (**disturbed**: figures are pessimistic)" : "");
        } catch (IOException | RuntimeException e) {
            return "CPU use during this section: unknown.";
        }
    }

    /** {total, idle+iowait} from the first line of /proc/stat. */
    private static long[] system() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            total += Long.parseLong(f[i]);
        }
        return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    }

    /** utime + stime + cutime + cstime of this process (children count once they have been waited for). */
    private static long self() throws IOException {
        String s = Files.readString(Path.of("/proc/self/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
        // after "pid (comm) ", field 3 (state) is f[0]; utime is field 14 -> f[11]
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }
}
