package dev.warden.health;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.common.Json;
import dev.warden.exec.ExecResult;
import dev.warden.exec.ProcessRunner;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VRAM guard (SPEC section 11): asks {@code nvidia-smi} how much memory each GPU has free and
 * says whether the largest free amount reaches a threshold. It fails closed: a missing
 * {@code nvidia-smi}, one that exits non-zero or prints something unreadable blocks, unless the
 * caller explicitly allows a machine without {@code nvidia-smi}.
 *
 * <p>{@link #sample()} runs the command once (argv only, no shell, a timeout, a clean environment);
 * {@link #verdict} turns one sample into a verdict for a threshold, so one run serves several slots.
 */
public final class VramGuard {
    public static final List<String> QUERY = List.of("--query-gpu=memory.total,memory.used", "--format=csv,noheader,nounits");
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_OUTPUT = 64 * 1024;

    public enum Reason { OK, BELOW_THRESHOLD, NVIDIA_SMI_MISSING, NVIDIA_SMI_ERROR, PARSE_ERROR }

    /** One GPU's memory in MiB (nvidia-smi's {@code nounits} unit). */
    public record Gpu(long totalMb, long usedMb) {
        public long freeMb() {
            return totalMb - usedMb;
        }
    }

    /** What one run of nvidia-smi said: the GPUs, or why there are none to judge. */
    public record Sample(Optional<Reason> problem, String message, List<Gpu> gpus) {
        static Sample of(List<Gpu> gpus) {
            return new Sample(Optional.empty(), "", List.copyOf(gpus));
        }

        static Sample failed(Reason r, String message) {
            return new Sample(Optional.of(r), message, List.of());
        }
    }

    /** The verdict JSON of SPEC section 11. {@code maxFreeVramMb} is null when nothing was measured. */
    public record Verdict(boolean ok, Reason reason, String message, long thresholdMb, int gpuCount, Long maxFreeVramMb) {
        public ObjectNode toJson() {
            ObjectNode n = Json.object().put("ok", ok).put("reason", reason.name()).put("message", message)
                    .put("threshold_mb", thresholdMb).put("gpu_count", gpuCount);
            if (maxFreeVramMb == null) {
                n.putNull("max_free_vram_mb");
            } else {
                n.put("max_free_vram_mb", maxFreeVramMb);
            }
            return n;
        }
    }

    private final Optional<Path> executable;
    private final Duration timeout;

    /** @param executable nvidia-smi, already located (empty: not installed) */
    public VramGuard(Optional<Path> executable, Duration timeout) {
        this.executable = executable;
        this.timeout = timeout;
    }

    /** A guard using the {@code nvidia-smi} found on this process's {@code PATH}. */
    public static VramGuard fromSystemPath() {
        return new VramGuard(findOnPath(System.getenv("PATH")), DEFAULT_TIMEOUT);
    }

    /** The first executable regular file named {@code nvidia-smi} in the {@code PATH} string's directories. */
    public static Optional<Path> findOnPath(String path) {
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue; // an empty PATH entry means the working directory: never trusted
            }
            Path p = Path.of(dir, "nvidia-smi");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p.toAbsolutePath());
            }
        }
        return Optional.empty();
    }

    public Optional<Path> executable() {
        return executable;
    }

    /** Runs nvidia-smi once. */
    public Sample sample() {
        if (executable.isEmpty()) {
            return Sample.failed(Reason.NVIDIA_SMI_MISSING, "nvidia-smi not found on PATH");
        }
        Path exe = executable.get();
        List<String> argv = new ArrayList<>();
        argv.add(exe.toString());
        argv.addAll(QUERY);
        ExecResult r;
        try {
            Path cwd = Path.of(System.getProperty("java.io.tmpdir"));
            r = ProcessRunner.run(argv, cwd, environment(), timeout.toMillis(), MAX_OUTPUT, "none", exe, () -> false);
        } catch (RuntimeException e) {
            return Sample.failed(Reason.NVIDIA_SMI_ERROR, "cannot run " + exe + ": " + e.getMessage());
        }
        if (r.timedOut()) {
            return Sample.failed(Reason.NVIDIA_SMI_ERROR, "nvidia-smi did not answer within " + timeout.toMillis() + " ms");
        }
        if (r.exitCode() != 0) {
            String why = firstLine(r.stderr().isBlank() ? r.stdout() : r.stderr());
            return Sample.failed(Reason.NVIDIA_SMI_ERROR, "nvidia-smi exited with " + r.exitCode() + (why.isEmpty() ? "" : ": " + why));
        }
        return parse(r.stdout());
    }

    /** Parses {@code memory.total, memory.used} lines (MiB, one per GPU). Anything else is a parse error. */
    public static Sample parse(String stdout) {
        List<Gpu> gpus = new ArrayList<>();
        int lineNo = 0;
        for (String raw : stdout.split("\\R")) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split(",");
            if (parts.length != 2) {
                return Sample.failed(Reason.PARSE_ERROR, "line " + lineNo + ": expected 'total, used', got '" + abbreviate(line) + "'");
            }
            long total;
            long used;
            try {
                total = Long.parseLong(parts[0].strip());
                used = Long.parseLong(parts[1].strip());
            } catch (NumberFormatException e) {
                return Sample.failed(Reason.PARSE_ERROR, "line " + lineNo + ": not two integers (MiB): '" + abbreviate(line) + "'");
            }
            if (total < 0 || used < 0 || used > total) {
                return Sample.failed(Reason.PARSE_ERROR, "line " + lineNo + ": impossible memory figures total=" + total + " used=" + used);
            }
            gpus.add(new Gpu(total, used));
        }
        if (gpus.isEmpty()) {
            return Sample.failed(Reason.PARSE_ERROR, "nvidia-smi printed no GPU lines");
        }
        return Sample.of(gpus);
    }

    /** The verdict for {@code thresholdMb}: ok when some GPU has at least that much free. */
    public static Verdict verdict(Sample s, long thresholdMb, boolean allowMissing) {
        if (s.problem().isPresent()) {
            Reason r = s.problem().get();
            boolean ok = r == Reason.NVIDIA_SMI_MISSING && allowMissing;
            String msg = ok ? s.message() + " (allowed: no GPU check on this machine)" : s.message();
            return new Verdict(ok, r, msg, thresholdMb, 0, null);
        }
        long max = s.gpus().stream().mapToLong(Gpu::freeMb).max().orElse(0);
        int n = s.gpus().size();
        if (max >= thresholdMb) {
            return new Verdict(true, Reason.OK, "max free VRAM " + max + " MiB on " + n + " GPU(s) >= " + thresholdMb + " MiB",
                    thresholdMb, n, max);
        }
        return new Verdict(false, Reason.BELOW_THRESHOLD, "max free VRAM " + max + " MiB on " + n + " GPU(s) < " + thresholdMb + " MiB",
                thresholdMb, n, max);
    }

    public Verdict check(long thresholdMb, boolean allowMissing) {
        return verdict(sample(), thresholdMb, allowMissing);
    }

    /** nvidia-smi needs no environment of ours: only a fixed PATH and the C locale (stable number format). */
    private static Map<String, String> environment() {
        return Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL", "C");
    }

    private static String firstLine(String s) {
        String line = s.strip().lines().findFirst().orElse("");
        return abbreviate(line);
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }
}
