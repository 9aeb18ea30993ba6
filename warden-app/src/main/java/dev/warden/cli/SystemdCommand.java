package dev.warden.cli;

import dev.warden.common.WardenException;
import dev.warden.health.SystemdUnits;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "systemd", description = "systemd units for this installation.", subcommands = {SystemdCommand.Install.class})
final class SystemdCommand implements Runnable {
    @ParentCommand
    Main main;

    @Override
    public void run() {
        main.spec.commandLine().getSubcommands().get("systemd").usage(main.spec.commandLine().getOut());
    }

    @Command(name = "install", description = {"Writes user units: warden.service (warden up), warden-canary.service and "
            + "warden-canary.timer (every 15 minutes; disabled until you enable it) into ~/.config/systemd/user/.",
            "Refuses to overwrite an existing unit without --force. Exit 0 written, 2 bad usage or a unit exists."})
    static final class Install implements Callable<Integer> {
        @ParentCommand
        SystemdCommand parent;

        @Option(names = "--user", description = "Install user units (required; system units: see deploy/systemd/).")
        boolean user;

        @Option(names = "--dir", paramLabel = "DIR", description = "Where to write the units (default ~/.config/systemd/user, "
                + "or $XDG_CONFIG_HOME/systemd/user).")
        Path dir;

        @Option(names = "--launcher", paramLabel = "PATH", description = "The warden launcher the units run "
                + "(default: the launcher of this checkout).")
        Path launcher;

        @Option(names = "--force", description = "Overwrite existing units.")
        boolean force;

        @Override
        public Integer call() {
            if (!user) {
                throw WardenException.badInput("--user: required (only user units are installed; for system units adapt deploy/systemd/)");
            }
            Path target = dir != null ? dir : SystemdUnits.defaultUserDir(System.getenv("XDG_CONFIG_HOME"), System.getProperty("user.home"));
            Path exe = launcher != null ? launcher.toAbsolutePath().normalize() : SystemdUnits.findLauncher()
                    .orElseThrow(() -> WardenException.badInput("--launcher: cannot tell where the warden launcher is; "
                            + "pass --launcher /path/to/warden"));
            Path dataDir = parent.main.dataDir.toAbsolutePath().normalize();
            List<Path> written = new SystemdUnits(exe, dataDir, parent.main.store, parent.main.config == null ? null
                    : parent.main.config.toAbsolutePath().normalize()).install(target, force);
            PrintWriter out = parent.main.spec.commandLine().getOut();
            written.forEach(p -> out.println("wrote " + p));
            out.println("""
                    Next:
                      systemctl --user daemon-reload
                      systemctl --user enable --now warden.service          # the plane: warden up
                      systemctl --user enable --now warden-canary.timer     # optional: canary every 15 minutes (disabled until enabled)
                      loginctl enable-linger "$USER"                        # keep user services running after you log out
                    Logs: journalctl --user -u warden.service; canary lines also in %s""".formatted(dataDir.resolve("canary.log")));
            return 0;
        }
    }
}
