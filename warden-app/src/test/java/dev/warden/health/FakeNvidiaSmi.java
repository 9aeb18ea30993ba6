package dev.warden.health;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Fake {@code nvidia-smi} executables (shell scripts) written into a directory a test puts on PATH. */
public final class FakeNvidiaSmi {
    private FakeNvidiaSmi() {}

    /** A script printing {@code stdout} and exiting 0 when called with nvidia-smi's exact query arguments. */
    public static Path printing(Path dir, String stdout) {
        return script(dir, """
                #!/bin/sh
                if [ "$1" != "--query-gpu=memory.total,memory.used" ] || [ "$2" != "--format=csv,noheader,nounits" ] || [ $# -ne 2 ]; then
                  echo "unexpected arguments: $*" >&2; exit 64
                fi
                cat <<'OUT'
                %sOUT
                """.formatted(stdout));
    }

    /** A script failing like nvidia-smi does without a driver. */
    public static Path failing(Path dir) {
        return script(dir, """
                #!/bin/sh
                echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running." >&2
                exit 9
                """);
    }

    public static Path script(Path dir, String text) {
        try {
            Files.createDirectories(dir);
            Path p = dir.resolve("nvidia-smi");
            Files.writeString(p, text);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
