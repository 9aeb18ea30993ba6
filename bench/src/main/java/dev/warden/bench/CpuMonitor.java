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
    /** Processes named this (e.g. {@code postgres}) are counted as a server the benchmark drives, not as disturbance. */
    private final String server;
    private final long server0;

    private CpuMonitor(long[] sys, long self, String server, long server0) {
        this.total0 = sys[0];
        this.idle0 = sys[1];
        this.self0 = self;
        this.server = server;
        this.server0 = server0;
    }

    static CpuMonitor start() {
        return start(null);
    }

    /** Also accounts the processes whose name is {@code serverComm} (a database server this benchmark uses). */
    static CpuMonitor start(String serverComm) {
        try {
            return new CpuMonitor(system(), self(), serverComm, serverComm == null ? 0 : server(serverComm));
        } catch (IOException | RuntimeException e) {
            return new CpuMonitor(new long[] {-1, -1}, -1, null, 0);
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
            double srv = server == null ? 0 : Math.max(0, server(server) - server0);
            double other = Math.max(0, busy - mine - srv);
            return String.format(Locale.ROOT, "CPU during this section: %.0f%% of all CPUs busy; this benchmark and its "
                    + "child processes %.0f%%, %sother processes %.0f%%%s.", 100 * busy / total, 100 * mine / total,
                    server == null ? "" : String.format(Locale.ROOT, "the %s server (all its processes) %.0f%%, ", server,
                            100 * srv / total),
                    100 * other / total, other / total > 0.15 ? " (**disturbed**: figures are pessimistic)" : "");
        } catch (IOException | RuntimeException e) {
            return "CPU use during this section: unknown.";
        }
    }

    /** Share of all CPUs used since the start by processes other than this JVM and the server (0..1; -1 unknown). */
    double otherShare() {
        try {
            if (total0 < 0) {
                return -1;
            }
            long[] sys = system();
            double total = sys[0] - total0;
            double busy = total - (sys[1] - idle0);
            double srv = server == null ? 0 : Math.max(0, server(server) - server0);
            return total <= 0 ? 0 : Math.max(0, busy - (self() - self0) - srv) / total;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Waits until other processes used under {@code maxShare} of the CPUs for a whole
     * {@code windowMs} window, at most {@code maxWaitMs}; returns false if the machine never got quiet.
     */
    static boolean awaitQuiet(String serverComm, double maxShare, long windowMs, long maxWaitMs) throws InterruptedException {
        long deadline = System.nanoTime() + maxWaitMs * 1_000_000;
        while (true) {
            CpuMonitor m = start(serverComm);
            Thread.sleep(windowMs);
            double other = m.otherShare();
            if (other >= 0 && other < maxShare) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            System.err.printf(Locale.ROOT, "bench: other processes use %.0f%% of the CPUs; waiting for a quiet machine%n",
                    100 * other);
        }
    }

    /** Short form for a table cell: shares of all CPUs used by this JVM, the server, and everything else. */
    String shares() {
        try {
            if (total0 < 0) {
                return "?";
            }
            long[] sys = system();
            double total = sys[0] - total0;
            double busy = total - (sys[1] - idle0);
            double mine = self() - self0;
            double srv = server == null ? 0 : Math.max(0, server(server) - server0);
            double other = Math.max(0, busy - mine - srv);
            return String.format(Locale.ROOT, "%.0f / %.0f / %.0f%%", 100 * mine / total, 100 * srv / total, 100 * other / total);
        } catch (IOException | RuntimeException e) {
            return "?";
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

    /**
     * CPU ticks of every process named {@code comm}: utime + stime of each, plus cutime + cstime of
     * those whose parent has another name (the postmaster, which reaps exited backends).
     */
    private static long server(String comm) {
        long sum = 0;
        java.util.Map<Long, String[]> procs = new java.util.HashMap<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String s = Files.readString(d.resolve("stat"));
                    String c = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
                    procs.put(Long.parseLong(name), new String[] {c, f[1], f[11], f[12], f[13], f[14]});
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        for (String[] p : procs.values()) {
            if (!p[0].equals(comm)) {
                continue;
            }
            sum += Long.parseLong(p[2]) + Long.parseLong(p[3]);
            String[] parent = procs.get(Long.parseLong(p[1]));
            if (parent == null || !parent[0].equals(comm)) {
                sum += Long.parseLong(p[4]) + Long.parseLong(p[5]);
            }
        }
        return sum;
    }

    /** utime + stime + cutime + cstime of this process (children count once they have been waited for). */
    private static long self() throws IOException {
        String s = Files.readString(Path.of("/proc/self/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
        // after "pid (comm) ", field 3 (state) is f[0]; utime is field 14 -> f[11]
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }
}
