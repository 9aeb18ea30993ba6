package dev.warden.health;

import dev.warden.common.WardenException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code warden systemd install --user}: user units made from the templates in
 * {@code deploy/systemd/} (packaged as resources under {@code systemd/}), with the launcher, the
 * data directory, the store and the config of this installation filled in. Nothing is enabled:
 * the canary timer in particular stays off until the operator enables it.
 */
public final class SystemdUnits {
    /** Unit file name → the command line arguments it runs. */
    static final Map<String, String> UNITS = new LinkedHashMap<>();

    static {
        UNITS.put("warden.service", "up");
        UNITS.put("warden-canary.service", "canary");
        UNITS.put("warden-canary.timer", null);
    }

    /** Optional environment for the services (PGPASSWORD, provider keys referenced as env:NAME); never written by the installer. */
    public static final String ENVIRONMENT_FILE = "%h/.config/warden/warden.env";

    private final Path launcher;
    private final Path dataDir;
    private final String storeUrl;
    private final Path config;

    /** @param storeUrl null for the default store; @param config null for the default config file */
    public SystemdUnits(Path launcher, Path dataDir, String storeUrl, Path config) {
        this.launcher = launcher;
        this.dataDir = dataDir;
        this.storeUrl = storeUrl == null || storeUrl.isBlank() ? null : storeUrl;
        this.config = config;
        if (this.storeUrl != null && (this.storeUrl.matches("(?i).*[?&]password=.*")
                || this.storeUrl.matches("^[a-z]+://[^/@]*:[^/@]*@.*"))) {
            throw WardenException.badInput("--store: the URL carries a password, which must not be written into a unit file; "
                    + "use a URL without it and put PGPASSWORD=… in " + ENVIRONMENT_FILE.replace("%h", "~") + " (mode 0600)");
        }
    }

    /** {@code $XDG_CONFIG_HOME/systemd/user}, or {@code ~/.config/systemd/user}. */
    public static Path defaultUserDir(String xdgConfigHome, String home) {
        if (xdgConfigHome != null && !xdgConfigHome.isBlank() && Path.of(xdgConfigHome).isAbsolute()) {
            return Path.of(xdgConfigHome, "systemd", "user");
        }
        return Path.of(home, ".config", "systemd", "user");
    }

    /**
     * The launcher script of the checkout this code runs from: the jar (or classes directory) is
     * {@code <root>/warden-app/target/…}, the launcher {@code <root>/warden}.
     */
    public static Optional<Path> findLauncher() {
        try {
            Path code = Path.of(SystemdUnits.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = code.getParent(); p != null; p = p.getParent()) {
                Path candidate = p.resolve("warden");
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate.toAbsolutePath().normalize());
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The text of each unit, in install order. */
    public Map<String, String> render() {
        Map<String, String> out = new LinkedHashMap<>();
        UNITS.forEach((name, args) -> out.put(name, render(name, template(name), args)));
        return out;
    }

    /**
     * Writes every unit into {@code dir}. Refuses, writing nothing, when one exists and
     * {@code force} is off. Returns the files written.
     */
    public List<Path> install(Path dir, boolean force) {
        Map<String, String> units = render();
        if (!force) {
            List<String> existing = new ArrayList<>();
            units.keySet().forEach(n -> {
                if (Files.exists(dir.resolve(n))) {
                    existing.add(dir.resolve(n).toString());
                }
            });
            if (!existing.isEmpty()) {
                throw WardenException.badInput("systemd install: " + String.join(", ", existing)
                        + " already exist" + (existing.size() == 1 ? "s" : "") + "; nothing written (--force overwrites)");
            }
        }
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, String> u : units.entrySet()) {
                Path target = dir.resolve(u.getKey());
                Path tmp = dir.resolve("." + u.getKey() + ".tmp");
                Files.writeString(tmp, u.getValue(), StandardCharsets.UTF_8);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                written.add(target);
            }
        } catch (IOException e) {
            throw WardenException.badInput("--dir: cannot write units into " + dir + ": " + e.getMessage());
        }
        return written;
    }

    private String render(String name, String template, String args) {
        StringBuilder b = new StringBuilder();
        b.append("# Written by 'warden systemd install --user' from deploy/systemd/").append(name).append('\n');
        for (String line : template.split("\n", -1)) {
            if (args == null) {
                b.append(line).append('\n');
                continue;
            }
            if (line.startsWith("WorkingDirectory=")) {
                b.append("WorkingDirectory=").append(escapePercent(launcher.getParent().toString())).append('\n');
            } else if (line.startsWith("Environment=WARDEN_DATA_DIR=")) {
                b.append("Environment=").append(quote("WARDEN_DATA_DIR=" + dataDir)).append('\n');
                if (storeUrl != null) {
                    b.append("Environment=").append(quote("WARDEN_STORE=" + storeUrl)).append('\n');
                }
                b.append("# PGPASSWORD, provider keys named env:NAME in warden.yaml, …: one VAR=value per line, chmod 600\n");
                b.append("EnvironmentFile=-").append(ENVIRONMENT_FILE).append('\n');
            } else if (line.startsWith("ExecStart=")) {
                b.append("ExecStart=").append(quote(launcher.toString()));
                if (config != null) {
                    b.append(" --config ").append(quote(config.toString()));
                }
                b.append(' ').append(args).append('\n');
            } else if (line.startsWith("# Install:") || line.startsWith("#          ") || line.startsWith("# Adjust WorkingDirectory")) {
                continue; // the template's manual install notes: this is the installed copy
            } else {
                b.append(line).append('\n');
            }
        }
        String s = b.toString();
        return s.endsWith("\n\n") ? s.substring(0, s.length() - 1) : s;
    }

    private static String template(String name) {
        try (InputStream in = SystemdUnits.class.getResourceAsStream("/systemd/" + name)) {
            if (in == null) {
                throw new IllegalStateException("unit template systemd/" + name + " is not packaged");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A systemd double-quoted word: backslash and quote escaped, {@code %} doubled (specifiers). */
    static String quote(String s) {
        return "\"" + escapePercent(s.replace("\\", "\\\\").replace("\"", "\\\"")) + "\"";
    }

    static String escapePercent(String s) {
        return s.replace("%", "%%");
    }
}
