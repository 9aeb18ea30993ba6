package dev.warden.cli;

import dev.warden.app.WardenApp;
import dev.warden.common.Json;
import dev.warden.common.WardenException;
import dev.warden.config.ConfigLoader;
import dev.warden.config.WardenConfig;
import dev.warden.exec.Sandbox;
import dev.warden.health.Doctor;
import dev.warden.health.ProviderProbes;
import dev.warden.ledger.Redactor;
import dev.warden.ledger.SecretScrubber;
import dev.warden.model.ProviderKeys;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "doctor", description = {"Checks the installation: store, data-dir permissions, disk, console bind, console token, "
        + "provider keys (masked), providers, bubblewrap, worker heartbeats, ledger, kill switch, VRAM (slots_require_vram).",
        "Each check is PASS, WARN or FAIL with a one-line remedy. Exit 0 all PASS, 10 some WARN, 20 some FAIL."})
final class DoctorCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--json", description = "Print JSON {status, checks: [{name, status, message, remedy}]}.")
    boolean json;

    @Override
    public Integer call() {
        WardenApp app;
        try {
            app = main.openApp();
        } catch (WardenException e) {
            throw e;
        } catch (RuntimeException e) {
            return withoutStore(e);
        }
        try (app) {
            Doctor.Report r = Doctor.run(new Doctor.Subject(app.dataDir(), Optional.of(app.store()), null, app.config(), app.clock(),
                    ProviderKeys.fromSystem(),
                    () -> ProviderProbes.probeAll(app.config().models(), ProviderKeys.fromSystem(), app.redactor(), CanaryCommand.PROBE_MAX_WAIT),
                    Sandbox.Bwrap::find, app.config().slotsRequireVram().isEmpty() ? Optional.empty() : Optional.of(app.vramGate()),
                    app.config().evidenceS3().map(x -> app.evidence().shared())));
            print(r, app.redactor());
            return r.exitCode();
        }
    }

    private int withoutStore(RuntimeException cause) {
        Path dataDir = main.dataDir.toAbsolutePath().normalize();
        WardenConfig config = ConfigLoader.load(Optional.ofNullable(main.config), dataDir,
                List.of(dataDir.toString(), Path.of("").toAbsolutePath().toString()));
        SecretScrubber secrets = new SecretScrubber();
        WardenApp.loadSecrets(secrets, config, dataDir, Optional.ofNullable(main.store));
        Redactor redactor = new Redactor(secrets);
        Doctor.Report r = Doctor.run(new Doctor.Subject(dataDir, Optional.empty(), redactor.scrub(String.valueOf(cause.getMessage())),
                config, main.clock, ProviderKeys.fromSystem(),
                () -> ProviderProbes.probeAll(config.models(), ProviderKeys.fromSystem(), redactor, CanaryCommand.PROBE_MAX_WAIT),
                Sandbox.Bwrap::find, Optional.empty(), Optional.empty()));
        print(r, redactor);
        return r.exitCode();
    }

    private void print(Doctor.Report r, Redactor redactor) {
        PrintWriter out = main.spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(redactor.redact(r.toJson())));
            return;
        }
        for (Doctor.Check c : r.checks()) {
            out.printf("%-5s %-14s %s%n", c.level(), c.name(), redactor.scrub(c.message()));
            if (!c.remedy().isEmpty()) {
                out.printf("%-5s %-14s remedy: %s%n", "", "", redactor.scrub(c.remedy()));
            }
        }
        out.println("doctor: " + r.overall() + " (" + r.checks().stream().filter(c -> c.level() != Doctor.Level.PASS).count()
                + " of " + r.checks().size() + " checks need attention)");
    }
}
