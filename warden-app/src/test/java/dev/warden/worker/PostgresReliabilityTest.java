package dev.warden.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.app.WardenApp;
import dev.warden.job.JobSpec;
import dev.warden.job.JobState;
import dev.warden.ledger.Ledger;
import dev.warden.store.JobRow;
import dev.warden.store.Tx;
import dev.warden.testing.TestPostgres;
import dev.warden.testing.TestWarden;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 4 worker JVMs on one PostgreSQL database, 10,000 jobs, workers SIGKILLed and restarted at random
 * moments, every database connection cut twice mid-run (what a server restart does to the
 * clients), and the PostgreSQL server itself restarted mid-run ({@link TestPostgres#restart()}:
 * the embedded server always; a configured one where {@code WARDEN_TEST_PG_RESTART} names the
 * command, as CI does): every job ends succeeded, none ran twice at once, and the ledger verifies.
 */
class PostgresReliabilityTest {
    static final int JOBS = 10_000;
    /** Over how long the jobs come due: longer than the six kills, two cuts and a restart take. */
    static final Duration SPREAD = Duration.ofSeconds(25);
    static final Pattern LINE = Pattern.compile("(start|end) (job-\\w+) attempt=(\\d+) pid=(\\d+) t=(\\d+)");

    @TempDir
    Path dir;

    String url;
    final List<Process> workers = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : workers) {
            p.destroyForcibly();
            p.waitFor();
        }
        TestPostgres.drop(url);
    }

    private Process startWorker() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Xmx256m", "-cp", System.getProperty("java.class.path"), "dev.warden.cli.Main",
                "--data-dir", dir.resolve("data").toString(), "worker")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("workers.out").toFile()));
        pb.environment().put("WARDEN_STORE", url);
        Process p = pb.start();
        workers.add(p);
        return p;
    }

    /** Terminates every client connection to the test database but this one: the clients see a restart. */
    private void cutAllConnections() throws Exception {
        URI u = URI.create(url);
        Properties props = new Properties();
        for (String kv : u.getRawQuery().split("&")) {
            String[] p = kv.split("=", 2);
            props.setProperty(p[0], p[1]);
        }
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath(), props);
             Statement s = c.createStatement()) {
            // the clients' backends only: an autovacuum worker on the database is the server's own
            // (and a role without superuser rights, CI's, may not terminate it)
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    + "AND backend_type = 'client backend' AND usename = current_user AND pid <> pg_backend_pid()");
        }
    }

    @Test
    void tenThousandJobsSurviveKillsAndConnectionLoss() throws Exception {
        url = TestPostgres.freshDatabase();
        Path log = dir.resolve("side-effects.log");
        String cfg = """
                worker: {lease_s: 4, tick_ms: 250, poll_ms: 50, concurrency: 8}
                queue: {backoff_base_ms: 100, backoff_max_ms: 1000}
                policy: {paths: {read: [%s], write: [%s]}}
                """.formatted(dir, dir);
        Random random = new Random(7);
        try (WardenApp app = TestWarden.open(dir.resolve("data"), Clock.systemUTC(), Optional.of(url), cfg)) {
            List<JobSpec> specs = new ArrayList<>();
            // the jobs come due over SPREAD, so the run lasts through every kill, cut and restart
            // below however fast the workers drain
            java.time.Instant due = java.time.Instant.now().plusSeconds(2);
            for (int i = 0; i < JOBS; i++) {
                ObjectNode s = TestWarden.noop().put("max_attempts", 25)
                        .put("run_after", due.plusMillis(i * SPREAD.toMillis() / JOBS).toString());
                s.putObject("payload").put("sleep_ms", random.nextInt(4)).put("log", log.toString());
                s.putObject("policy").putObject("paths").putArray("write").add(log.toString());
                specs.add(app.parser().parse(s));
            }
            for (int i = 0; i < JOBS; i += 1000) {
                app.queue().enqueueAll(specs.subList(i, i + 1000), "test");
            }
            for (int i = 0; i < 4; i++) {
                startWorker();
            }
            Map<Long, Long> deaths = new java.util.HashMap<>();
            int kills = 0;
            int cuts = 0;
            boolean restartTried = false;
            long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
            while (!allDone(app) && System.nanoTime() < deadline) {
                Thread.sleep(1500 + random.nextInt(1500));
                if (kills < 6) {
                    List<Process> alive = workers.stream().filter(Process::isAlive).toList();
                    Process victim = alive.get(random.nextInt(alive.size()));
                    victim.destroyForcibly();
                    victim.waitFor();
                    deaths.put(victim.pid(), System.currentTimeMillis());
                    kills++;
                    startWorker();
                }
                if (cuts < 2 && kills % 3 == 0) {
                    cutAllConnections();
                    cuts++;
                } else if (!restartTried && cuts == 2) {
                    restartTried = true;
                    TestPostgres.restart();
                }
            }
            assertThat(allDone(app)).as("every job reached a terminal state").isTrue();
            assertThat(cuts).isEqualTo(2);
            assertThat(restartTried).as("a server restart was tried mid-run").isTrue();
            Map<JobState, Long> counts = app.queue().countByState();
            assertThat(counts.getOrDefault(JobState.succeeded, 0L)).as("%s", counts).isEqualTo(JOBS);

            // no attempt ran twice, and a job never ran in two places at once
            Map<String, List<long[]>> runs = new java.util.HashMap<>();
            Map<String, Long> open = new java.util.HashMap<>();
            Set<String> attempts = new HashSet<>();
            for (String l : Files.readAllLines(log)) {
                Matcher m = LINE.matcher(l);
                assertThat(m.matches()).as(l).isTrue();
                String key = m.group(2) + "#" + m.group(3) + "#" + m.group(4);
                long t = Long.parseLong(m.group(5));
                if (m.group(1).equals("start")) {
                    assertThat(attempts.add(m.group(2) + "#" + m.group(3))).as("attempt started once: %s", l).isTrue();
                    open.put(key, t);
                } else {
                    runs.computeIfAbsent(m.group(2), k -> new ArrayList<>()).add(new long[] {open.remove(key), t});
                }
            }
            open.forEach((key, start) -> {
                long pid = Long.parseLong(key.substring(key.lastIndexOf('#') + 1));
                long end = deaths.getOrDefault(pid, start); // killed, or stopped by its own worker at once
                runs.computeIfAbsent(key.substring(0, key.indexOf('#')), k -> new ArrayList<>()).add(new long[] {start, Math.max(start, end)});
            });
            for (Map.Entry<String, List<long[]>> e : runs.entrySet()) {
                List<long[]> rs = e.getValue();
                rs.sort((a, b) -> Long.compare(a[0], b[0]));
                for (int i = 1; i < rs.size(); i++) {
                    assertThat(rs.get(i)[0]).as("job %s never ran in two places at once", e.getKey())
                            .isGreaterThanOrEqualTo(rs.get(i - 1)[1]);
                }
            }
            assertThat(runs).hasSize(JOBS);
            assertThat(Ledger.verify(app.store(), Optional.empty()).ok()).isTrue();
        }
    }

    private static boolean allDone(WardenApp app) {
        try {
            Map<JobState, Long> c = app.queue().countByState();
            return c.getOrDefault(JobState.queued, 0L) + c.getOrDefault(JobState.running, 0L) == 0;
        } catch (RuntimeException e) {
            return false; // this process's own connections were cut too; ask again
        }
    }
}
