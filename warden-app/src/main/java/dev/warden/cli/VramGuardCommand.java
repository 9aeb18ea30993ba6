package dev.warden.cli;

import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.config.ConfigLoader;
import dev.warden.config.WardenConfig;
import dev.warden.health.VramGuard;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "vram-guard", description = {"Asks nvidia-smi for free VRAM and prints the verdict JSON "
        + "{ok, reason, message, threshold_mb, gpu_count, max_free_vram_mb}.",
        "Exit 0 ok, 10 BELOW_THRESHOLD, 20 the check could not be made (NVIDIA_SMI_MISSING, NVIDIA_SMI_ERROR, PARSE_ERROR)."})
final class VramGuardCommand implements Callable<Integer> {
    static final int BELOW_THRESHOLD = 10;
    static final int CANNOT_CHECK = 20;

    @ParentCommand
    Main main;

    @Option(names = "--min-free-mb", paramLabel = "N",
            description = "Free VRAM (MiB) some GPU must have (default: slots_require_vram.gpu.min_free_mb from the config, else 0).")
    Long minFreeMb;

    @Option(names = "--allow-no-nvidia-smi", description = "A machine without nvidia-smi passes (ok=true, reason NVIDIA_SMI_MISSING).")
    boolean allowMissing;

    @Override
    public Integer call() {
        if (minFreeMb != null && minFreeMb < 0) {
            throw WardenException.badInput("--min-free-mb: must be a non-negative integer (MiB), got " + minFreeMb);
        }
        long threshold = minFreeMb != null ? minFreeMb : configuredThreshold();
        VramGuard.Verdict v = VramGuard.fromSystemPath().check(threshold, allowMissing);
        main.spec.commandLine().getOut().println(Json.write(v.toJson()));
        return exitCode(v);
    }

    static int exitCode(VramGuard.Verdict v) {
        if (v.ok()) {
            return 0;
        }
        return v.reason() == VramGuard.Reason.BELOW_THRESHOLD ? BELOW_THRESHOLD : CANNOT_CHECK;
    }

    /** The gpu slot's threshold from the config, read without opening the store (the guard must work when it is down). */
    private long configuredThreshold() {
        Path dataDir = main.dataDir.toAbsolutePath().normalize();
        WardenConfig c = ConfigLoader.load(Optional.ofNullable(main.config), dataDir,
                List.of(dataDir.toString(), Path.of("").toAbsolutePath().toString()));
        WardenConfig.VramRequirement r = c.slotsRequireVram().get("gpu");
        return r == null ? 0 : r.minFreeMb();
    }
}
